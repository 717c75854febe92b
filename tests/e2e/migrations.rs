//! Migrations: every step goes up, down and up again (the stairway), re-running is
//! harmless, and each service's role sees only its own schema.

use spinshop_cli::migrate;
use spinshop_tests::{TestApp, workspace_root};

async fn schemas(app: &TestApp) -> Vec<String> {
    app.db()
        .await
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname IN \
             ('users', 'catalog', 'orders', 'payments', 'carts') ORDER BY nspname",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn every_migration_goes_up_down_and_up_again() {
    let app = TestApp::spawn().await;
    let url = app.superuser_url();
    let dir = workspace_root().join("migrations");
    let versions = migrate::versions(&dir).await.unwrap();
    assert!(versions.len() >= 2, "{versions:?}");

    migrate::revert(&url, &dir, 0).await.unwrap();
    assert!(
        schemas(&app).await.is_empty(),
        "reverting everything leaves no schema"
    );

    let mut previous = 0;
    for version in versions {
        migrate::apply_to(&url, &dir, version).await.unwrap();
        migrate::revert(&url, &dir, previous).await.unwrap();
        migrate::apply_to(&url, &dir, version).await.unwrap();
        previous = version;
    }
    let expected: Vec<String> = {
        let mut all = vec!["carts", "catalog", "orders", "payments", "users"];
        all.retain(|schema| {
            std::fs::read_dir(&dir).unwrap().any(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                name.ends_with(".up.sql") && name.contains(&format!("_{schema}"))
            })
        });
        all.into_iter().map(String::from).collect()
    };
    assert_eq!(schemas(&app).await, expected);
}

#[tokio::test]
async fn migrating_twice_changes_nothing_and_the_admin_is_created_once() {
    let app = TestApp::spawn().await;
    let url = app.superuser_url();
    let dir = workspace_root().join("migrations");
    migrate::apply(&url, &dir).await.unwrap();
    let created = migrate::ensure_admin(
        &url,
        spinshop_tests::ADMIN_EMAIL,
        "another-password",
        spinshop_tests::password_min_length(),
    )
    .await
    .unwrap();
    assert!(!created, "the admin already exists");
    assert_eq!(app.count("users.users WHERE role = 'admin'").await, 1);
    // The original password still works: the second run did not overwrite it.
    assert_eq!(
        app.login(spinshop_tests::ADMIN_EMAIL, spinshop_tests::ADMIN_PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn each_service_role_sees_only_its_own_schema() {
    let app = TestApp::spawn().await;
    let own_tables = [
        ("spinshop_users", "users.users"),
        ("spinshop_products", "catalog.products"),
    ];
    for (role, own) in own_tables {
        let db = app.connect_as(role).await;
        db.query(&format!("SELECT count(*) FROM {own}"), &[])
            .await
            .unwrap_or_else(|err| panic!("{role} reads {own}: {err}"));
        for (_, other) in own_tables.iter().filter(|(r, _)| *r != role) {
            let err = db
                .query(&format!("SELECT count(*) FROM {other}"), &[])
                .await
                .expect_err("another service's table must be out of reach");
            assert_eq!(
                err.code(),
                Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
                "{role} on {other}: {err}"
            );
        }
        // No role may change the schema itself.
        assert!(db.execute(&format!("DROP TABLE {own}"), &[]).await.is_err());
    }
}
