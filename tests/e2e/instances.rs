//! Instance reuse: on Spin 4 a WASIp3 instance serves up to sixteen requests at once
//! (Spin's default `--max-instance-concurrent-reuse-count`), so what belongs to one
//! request must never reach another served beside it. Sixteen customers place and pay
//! orders at the same moment; each gets their own caller, body, transaction, events
//! and request id back. In the test host the test also checks that the requests did
//! share instances (real Spin doesn't say how it placed them).

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use spinshop_tests::build::Build;
use spinshop_tests::{Response, Session, Shop, TestApp, payment_for};

const CUSTOMERS: i64 = 16;
const ARRIVAL_GAP: Duration = Duration::from_millis(5);

/// Customer `n`'s request, sent `n` gaps after the first one (so it arrives while an
/// instance waits on the earlier ones' I/O and can take it; a burst that arrives all
/// at once finds every instance busy and starts one for each request, in Spin as in
/// the test host), with a request id of its own, which the answer must echo.
async fn as_customer(
    app: &TestApp,
    method: &str,
    path: &str,
    session: &Session,
    n: usize,
    body: Option<Value>,
) -> Response {
    tokio::time::sleep(ARRIVAL_GAP * n as u32).await;
    let id = format!("{}-{n}", path.rsplit('/').next().unwrap_or_default());
    let mut request = app
        .request_to(method, path)
        .bearer(&session.access_token)
        .header("x-request-id", &id);
    if let Some(body) = body {
        request = request.json(&body).header("x-idempotency-key", &id);
    }
    let response = request.send().await;
    assert_eq!(
        response.header("x-request-id"),
        Some(id.as_str()),
        "{method} {path} answered with another request's id"
    );
    response
}

/// Sends one request to the service at `path`, so that an instance of it is ready.
async fn warm_up(app: &TestApp, path: &str, admin: &Session) {
    let response = app.get(path, admin.token()).await;
    assert!(response.status < 500, "{path}: {}", response.text());
}

/// Checks that the test host served `requests` requests of `component` in fewer
/// instances, with requests at once in one instance. How many at once depends on
/// how busy the machine is (on a quiet one, most of them; beside a parallel build,
/// a handful), so only sharing is asserted.
fn assert_instances_shared(app: &TestApp, component: &str, requests: usize) {
    if Build::chosen() != Build::Wasip3 {
        return;
    }
    let Some(stats) = app.instance_stats(component) else {
        return;
    };
    assert!(
        stats.started < requests,
        "{component}: {requests} requests took {} instances",
        stats.started
    );
    assert!(
        stats.most_at_once >= 2,
        "{component}: too few requests at once in one instance: {stats:?}"
    );
}

#[tokio::test]
async fn sixteen_customers_at_once_each_get_only_their_own_caller_body_transaction_and_events() {
    let app = &TestApp::spawn().await;
    let Shop { admin, product, .. } = Shop::open(app, 1000).await;
    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        customers.push(
            app.register(&format!("buyer{n}@example.com"), "password-1")
                .await,
        );
    }

    let me =
        join_all(customers.iter().enumerate().map(|(n, customer)| {
            as_customer(app, "GET", "/api/users/users/me", customer, n, None)
        }))
        .await;
    for (response, customer) in me.iter().zip(&customers) {
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.json()["id"], customer.user_id);
        assert_eq!(response.json()["email"], customer.email.as_str());
    }

    // Customer n orders n + 1 units: each order must carry its own caller and body.
    // An instance of orders is up and idle, so the first finds it there.
    warm_up(app, "/api/orders/orders", &admin).await;
    let placed = join_all(customers.iter().enumerate().map(|(n, customer)| {
        let body = json!({"items": [{"product_id": product, "qty": n + 1}]});
        as_customer(app, "POST", "/api/orders/orders", customer, n, Some(body))
    }))
    .await;
    let mut orders = Vec::new();
    for (n, (response, customer)) in placed.iter().zip(&customers).enumerate() {
        assert_eq!(response.status, 201, "{}", response.text());
        let order = response.json();
        assert_eq!(order["user_id"], customer.user_id);
        assert_eq!(order["items"][0]["qty"], n as i64 + 1);
        assert_eq!(order["total"], (n as i64 + 1) * Shop::PRICE);
        orders.push(order);
    }
    assert_instances_shared(app, "orders", CUSTOMERS as usize);

    warm_up(app, "/api/payments/payments", &admin).await;
    let paid = join_all(
        customers
            .iter()
            .zip(&orders)
            .enumerate()
            .map(|(n, (customer, order))| {
                let body = payment_for(order);
                as_customer(app, "POST", "/api/payments/pay", customer, n, Some(body))
            }),
    )
    .await;
    for (response, order) in paid.iter().zip(&orders) {
        assert_eq!(response.status, 201, "{}", response.text());
        assert_eq!(response.json()["order_id"], order["id"]);
        assert_eq!(response.json()["amount"], order["total"]);
    }
    assert_instances_shared(app, "payments", CUSTOMERS as usize);

    // Every transaction committed what its own request asked for, and no more.
    let sold: i64 = (1..=CUSTOMERS).sum();
    assert_eq!(app.stock_of(product).await, (1000 - sold, 0, 1000 - sold));
    for (customer, order) in customers.iter().zip(&orders) {
        let read = app.order(customer, &order["id"]).await;
        assert_eq!(read["status"], "paid");
        assert_eq!(read["total"], order["total"]);
    }

    // Each order's events name its own customer and total.
    let db = app.db().await;
    let rows = db
        .query(
            "SELECT event::text FROM orders.outbox WHERE event->>'type' = 'order.created'",
            &[],
        )
        .await
        .expect("reading the outbox");
    assert_eq!(rows.len(), CUSTOMERS as usize);
    for row in rows {
        let event: Value = serde_json::from_str(row.get(0)).expect("an event");
        let order = orders
            .iter()
            .find(|order| order["id"] == event["aggregate_id"])
            .expect("an event of a placed order");
        assert_eq!(event["user_id"], order["user_id"]);
        assert_eq!(event["data"]["total"], order["total"]);
    }
}
