//! `spinshop`: serve the app without Spin (in the Spin-compatible host), migrate its
//! database, or start a local Postgres for development.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use spinshop_cli::migrate;
use spinshop_host::App;

#[derive(Parser)]
#[command(
    name = "spinshop",
    about = "Serve spinshop without Spin, migrate its database, start a local Postgres"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application, like `spin up`.
    Up {
        /// The application manifest.
        #[arg(long, short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Where the default key-value store is kept (default: `.spin/key_value.log`
        /// beside the manifest, where Spin keeps its own).
        #[arg(long)]
        key_value_file: Option<PathBuf>,
        /// Requests a WASIp3 instance serves in all, as `spin up` takes it.
        #[arg(long, default_value_t = 128)]
        max_instance_reuse_count: usize,
        /// Requests a WASIp3 instance serves at once, as `spin up` takes it.
        #[arg(long, default_value_t = 16)]
        max_instance_concurrent_reuse_count: usize,
        /// Milliseconds an idle WASIp3 instance is kept (Spin's default: 1 s).
        #[arg(long, default_value_t = 1000)]
        idle_instance_timeout_ms: u64,
    },
    /// Apply database migrations.
    Migrate(migrate::MigrateArgs),
    /// Make sure a Postgres server runs (127.0.0.1:5432, or one of our own kept in
    /// `--data-dir`) and print its `host:port`.
    Postgres {
        #[arg(long, default_value = ".pgdata")]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Up {
            manifest,
            listen,
            key_value_file,
            max_instance_reuse_count,
            max_instance_concurrent_reuse_count,
            idle_instance_timeout_ms,
        } => {
            let key_value_file = key_value_file.unwrap_or_else(|| {
                manifest
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join(".spin/key_value.log")
            });
            let app = App::builder(&manifest)
                .key_value_file(key_value_file)
                .max_instance_reuse_count(max_instance_reuse_count)
                .max_instance_concurrent_reuse_count(max_instance_concurrent_reuse_count)
                .idle_instance_timeout(std::time::Duration::from_millis(idle_instance_timeout_ms))
                .build()
                .await?;
            app.serve(listen).await
        }
        Command::Migrate(args) => migrate::run(args).await,
        Command::Postgres { data_dir } => {
            let address =
                tokio::task::spawn_blocking(move || spinshop_local_pg::ensure_server_in(&data_dir))
                    .await??;
            println!("{address}");
            Ok(())
        }
    }
}
