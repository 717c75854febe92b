//! The app under load and under a database fault, each on a Postgres server of the
//! test's own: 64 customers of mixed traffic get no 5xx and lose no acknowledged
//! write on a server sized like a default one (100 connections, less than the
//! services' pools may hold); and a Postgres restart in the middle of that load is
//! answered with 503 while the server is down, is over within 5 s of its return, and
//! leaves no half-made order or payment.

use std::time::{Duration, Instant};

use spinshop_cli::migrate;
use spinshop_tests::load::{self, Load, Target};
use spinshop_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, OwnPostgres, Session, TestApp, services_with_a_database,
};

/// Postgres' default `max_connections`.
const DEFAULT_MAX_CONNECTIONS: u32 = 100;
const CLIENTS: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_get_no_server_error_on_a_default_sized_postgres() {
    let _alone = spinshop_tests::alone().await;
    let Some(postgres) = OwnPostgres::start("default-size", DEFAULT_MAX_CONNECTIONS).await else {
        return;
    };
    let app = TestApp::spawn_on(&postgres).await;
    let target = Target::App(&app);
    let load = Load::prepare(&target, CLIENTS, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("preparing the load");

    let report = load.run(Duration::from_secs(5)).await;
    report.print();

    let errors = report.server_errors();
    assert!(
        errors.is_empty(),
        "{} server errors, the first: {:?}",
        errors.len(),
        errors.first()
    );
    assert!(!report.orders.is_empty() && !report.payments.is_empty());
    let db = app.db().await;
    assert_eq!(
        load::missing_in_database(&db, &report).await,
        [] as [String; 0]
    );
    assert_eq!(load::half_made(&db).await, [] as [String; 0]);
}

#[tokio::test]
async fn migrate_warns_about_a_server_smaller_than_the_pools() {
    let Some(postgres) = OwnPostgres::start("default-size", DEFAULT_MAX_CONNECTIONS).await else {
        return;
    };
    let url = format!("postgres://postgres@{}/postgres", postgres.address);
    // The pools `spinshop migrate` counts: one per service with a database.
    let services = services_with_a_database().len() as u32;
    let warning = migrate::check_connection_budget(&url, services)
        .await
        .expect("reading the server's limits")
        .expect("a warning for a default-sized server");
    let needed = migrate::max_connections_needed(services, 3);
    assert!(
        warning.contains(&format!("max_connections to {needed}")),
        "{warning}"
    );
    // The servers spinshop starts itself (`./dev up` without a server) are sized so.
    assert!(spinshop_local_pg::MAX_CONNECTIONS >= needed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_load_is_503_then_over_within_5_s_and_leaves_nothing_half_made() {
    let _alone = spinshop_tests::alone().await;
    let Some(postgres) = OwnPostgres::start("restarted", spinshop_local_pg::MAX_CONNECTIONS).await
    else {
        return;
    };
    let app = TestApp::spawn_on(&postgres).await;
    let target = Target::App(&app);
    let load = Load::prepare(&target, CLIENTS, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect("preparing the load");

    // Longer than a request waits for the database (3 s), so some get their 503.
    let outage = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let down = Instant::now();
        postgres.stop().await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        postgres.start_again().await;
        (down, Instant::now())
    };
    let (report, (down, back)) = tokio::join!(load.run(Duration::from_secs(18)), outage);
    report.print();
    let since_start = |at: Instant| at - report.started();
    let (down, back) = (since_start(down), since_start(back));
    println!("Postgres down at {down:?}, back at {back:?}");

    // While the server is away, requests fail within seconds and say so in the envelope.
    // The longest wait is an order the outage meets halfway: each of its steps in turn
    // (the caller's introspection, the placement, the reservation at products, giving
    // the placement up) may wait out the database's retry budget before it gives up,
    // on a machine that the 64 clients keep busy.
    let longest_wait = 4 * spinshop_kit::pg::db::RETRY_BUDGET + Duration::from_secs(4);
    for sample in report.server_errors() {
        assert_eq!(
            (&sample.outcome, sample.error_code.as_deref()),
            (&load::Outcome::Status(503), Some("unavailable")),
            "{sample:?}"
        );
        assert!(sample.latency < longest_wait, "{sample:?}");
    }
    assert!(
        report
            .server_errors()
            .iter()
            .any(|sample| sample.sent >= down && sample.sent < back),
        "the outage went unnoticed"
    );
    // Within 5 s of its return, service is back.
    let recovered = back + Duration::from_secs(5);
    let late: Vec<_> = report
        .samples
        .iter()
        .filter(|sample| sample.sent >= recovered)
        .collect();
    assert!(late.len() > 20, "too little traffic after the recovery");
    let late_errors: Vec<_> = late.iter().filter(|s| s.is_server_error()).collect();
    assert!(late_errors.is_empty(), "after recovery: {late_errors:?}");

    // Placements and charges that the outage cut short are taken over by later
    // requests once they are old enough (15 s), and finished or undone.
    let db = app.db().await;
    let sweepable = report.started() + back + Duration::from_secs(16);
    tokio::time::sleep_until(sweepable.into()).await;
    let customer = app
        .register("after-the-outage@example.com", "password-1")
        .await;
    let product = app
        .create_product(&app.admin().await, "Sweeper", 100, 1000)
        .await;
    let unfinished = || async {
        db.query_one(
            "SELECT (SELECT count(*) FROM orders.placements) \
                  + (SELECT count(*) FROM payments.payments WHERE settled_at IS NULL)",
            &[],
        )
        .await
        .expect("counting unfinished work")
        .get::<_, i64>(0)
    };
    println!(
        "placements and charges left unfinished: {}; half-made until taken over: {:#?}",
        unfinished().await,
        load::half_made(&db).await
    );
    for _ in 0..20 {
        if unfinished().await == 0 {
            break;
        }
        place_and_pay(&app, &customer, product).await;
    }
    assert_eq!(load::half_made(&db).await, [] as [String; 0]);
    assert_eq!(
        load::missing_in_database(&db, &report).await,
        [] as [String; 0]
    );
}

/// An order and its payment: each request also takes over work earlier requests left.
async fn place_and_pay(app: &TestApp, customer: &Session, product: i64) {
    let order = app.placed_order(customer, product, 1).await;
    app.paid(customer, &order, &format!("sweep-{}", order["id"]))
        .await;
}
