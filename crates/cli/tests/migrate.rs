//! `spinshop migrate` against a real Postgres.

use spinshop_cli::migrate;

/// The local server's certificate (if it has TLS on, as Debian's does) is self-signed,
/// so the services' URLs say `sslmode=disable`; migrate takes the same URLs.
#[tokio::test]
async fn migrate_takes_urls_with_sslmode_disable() {
    let server = tokio::task::spawn_blocking(spinshop_local_pg::ensure_server)
        .await
        .expect("joins")
        .expect("a Postgres server");
    let url = format!("postgres://postgres@{server}/spinshop_cli_migrate_test?sslmode=disable");
    let no_migrations = std::env::temp_dir().join("spinshop-cli-no-migrations");
    std::fs::create_dir_all(&no_migrations).expect("a folder");
    migrate::create_database_if_missing(&url)
        .await
        .expect("creates the database");
    migrate::apply(&url, &no_migrations)
        .await
        .expect("connects and applies nothing");
}
