//! Mixed load against a running spinshop: many customers at once browsing, logging
//! in, ordering, paying and checking out carts (see `spinshop_tests::load`).
//!
//!     cargo bench -p spinshop-tests --bench load -- \
//!         --clients 64 --seconds 60 --base-url http://127.0.0.1:3000 \
//!         [--database-url postgres://postgres@127.0.0.1:5432/spinshop] \
//!         [--admin-email admin@spinshop.local --admin-password change-me-admin]
//!
//! Runs against `./dev up` or a real `spin up`. Prints status counts and latency
//! percentiles per route, then looks for every order and payment that was answered
//! 201: in the database when `--database-url` (a superuser URL) is given, where it
//! also looks for half-made orders and payments, otherwise through the API. Exits
//! non-zero on any 5xx, hang or broken connection, or any acknowledged write missing.

use std::process::ExitCode;
use std::time::Duration;

use spinshop_tests::load::{self, Load, Target};

struct Args {
    clients: usize,
    seconds: u64,
    base_url: String,
    database_url: Option<String>,
    admin_email: String,
    admin_password: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        clients: 64,
        seconds: 60,
        base_url: "http://127.0.0.1:3000".into(),
        database_url: None,
        admin_email: "admin@spinshop.local".into(),
        admin_password: "change-me-admin".into(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        // `cargo bench` passes `--bench` to every bench binary.
        if flag == "--bench" {
            continue;
        }
        let value = given
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |value: &str| {
            value
                .parse()
                .map_err(|_| format!("{flag} takes a number, not {value}"))
        };
        match flag.as_str() {
            "--clients" => args.clients = number(&value)? as usize,
            "--seconds" => args.seconds = number(&value)?,
            "--base-url" => args.base_url = value,
            "--database-url" => args.database_url = Some(value),
            "--admin-email" => args.admin_email = value,
            "--admin-password" => args.admin_password = value,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("load: {err}");
            ExitCode::from(2)
        }
    }
}

/// True when the run saw no server error and lost no acknowledged write.
async fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let target = Target::from_base_url(&args.base_url).await?;
    let load = Load::prepare(
        &target,
        args.clients,
        &args.admin_email,
        &args.admin_password,
    )
    .await?;
    println!(
        "{} clients for {} s against {}",
        args.clients, args.seconds, args.base_url
    );
    let report = load.run(Duration::from_secs(args.seconds)).await;
    report.print();

    let mut problems = match &args.database_url {
        Some(url) => {
            let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .map_err(|err| format!("connecting to the database: {err}"))?;
            tokio::spawn(connection);
            let mut problems = load::missing_in_database(&db, &report).await;
            problems.extend(load::half_made(&db).await);
            problems
        }
        None => load.missing_through_api(&report).await,
    };
    problems.truncate(20);
    if problems.is_empty() {
        println!("every acknowledged order and payment is there");
    }
    for problem in &problems {
        println!("{problem}");
    }
    Ok(problems.is_empty() && report.server_errors().is_empty())
}
