//! Events: each change customers hear of is recorded in its service's outbox, in the
//! transaction of the change, and nothing is recorded for a change that fails.

use bytes::Bytes;
use serde_json::{Value, json};
use spinshop_tests::{Response, Session, TestApp};

const GOOD_CARD: &str = "4242 4242 4242 4242";
const DECLINED_CARD: &str = "4000000000000002";

/// The events in `schema`'s outbox, oldest first, as their envelopes.
async fn outbox(app: &TestApp, schema: &str) -> Vec<Value> {
    app.db()
        .await
        .query(
            &format!("SELECT event::text AS event FROM {schema}.outbox ORDER BY seq"),
            &[],
        )
        .await
        .expect("reading the outbox")
        .iter()
        .map(|row| serde_json::from_str(row.get("event")).expect("an event is JSON"))
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap_or_default())
        .collect()
}

async fn place_order(app: &TestApp, session: &Session, product: i64, qty: i64) -> Response {
    app.post(
        "/api/orders/orders",
        &json!({"items": [{"product_id": product, "qty": qty}]}),
        Some(&session.access_token),
    )
    .await
}

async fn pay(app: &TestApp, session: &Session, order: &Value, card: &str, key: &str) -> Response {
    let body = json!({
        "order_id": order["id"], "amount": order["total"], "method": "card",
        "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    });
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/payments/pay")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", session.access_token))
        .header("x-idempotency-key", key)
        .body(Bytes::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn every_change_records_its_event_with_the_envelope_in_its_own_outbox() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", 1500, 5).await;
    let pat = app.register("pat@example.com", "password-1").await;

    let order = place_order(&app, &pat, product, 2).await;
    assert_eq!(order.status, 201, "{}", order.text());
    let order = order.json();
    assert_eq!(
        pay(&app, &pat, &order, DECLINED_CARD, "k-1").await.status,
        402
    );
    assert_eq!(pay(&app, &pat, &order, GOOD_CARD, "k-2").await.status, 201);
    let cancel = app
        .post(
            &format!("/api/orders/orders/{}/cancel", order["id"]),
            &json!({}),
            Some(&pat.access_token),
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    let password = app
        .put(
            "/api/users/users/me/password",
            &json!({"current_password": "password-1", "new_password": "password-2"}),
            Some(&pat.access_token),
        )
        .await;
    assert_eq!(password.status, 204);

    let users = outbox(&app, "users").await;
    let pats: Vec<&Value> = users
        .iter()
        .filter(|event| event["user_id"] == pat.user_id)
        .collect();
    assert_eq!(
        pats.iter()
            .map(|event| event["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["user.registered", "user.password_changed"]
    );
    let registered = pats[0];
    assert_eq!(registered["source"], "users");
    assert_eq!(registered["version"], 1);
    assert_eq!(registered["aggregate_type"], "user");
    assert_eq!(registered["aggregate_id"], pat.user_id);
    assert_eq!(registered["sequence"], 1);
    assert_eq!(pats[1]["sequence"], 2);
    assert_eq!(registered["data"]["email"], "pat@example.com");
    assert!(
        !registered.to_string().contains("password-1")
            && !registered.to_string().contains("$argon2"),
        "no secret in an event: {registered}"
    );
    assert_eq!(registered["id"].as_str().map(str::len), Some(36));
    assert!(registered["occurred_at"].as_str().unwrap().ends_with('Z'));

    let orders = outbox(&app, "orders").await;
    assert_eq!(
        types(&orders),
        ["order.created", "order.paid", "order.cancelled"]
    );
    for (index, event) in orders.iter().enumerate() {
        assert_eq!(event["aggregate_type"], "order");
        assert_eq!(event["aggregate_id"], order["id"]);
        assert_eq!(event["sequence"], index as i64 + 1);
        assert_eq!(event["user_id"], pat.user_id);
    }
    assert_eq!(orders[0]["data"]["total"], 3000);
    assert_eq!(orders[1]["data"]["status"], "paid");
    assert_eq!(orders[2]["data"]["payment_status"], "refunded");

    let payments = outbox(&app, "payments").await;
    assert_eq!(
        types(&payments),
        ["payment.failed", "payment.succeeded", "payment.refunded"]
    );
    assert_eq!(payments[0]["data"]["status"], "failed");
    assert_eq!(payments[1]["data"]["card_last4"], "4242");
    assert_eq!(payments[2]["aggregate_id"], payments[1]["aggregate_id"]);
    assert_eq!(payments[2]["sequence"], 2);
    let ids: std::collections::HashSet<&str> = users
        .iter()
        .chain(&orders)
        .chain(&payments)
        .map(|event| event["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), users.len() + orders.len() + payments.len());
}

#[tokio::test]
async fn a_change_that_fails_records_no_event() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", 1500, 1).await;
    let pat = app.register("pat@example.com", "password-1").await;
    let users_before = app.count("users.outbox").await;

    let taken = app
        .post(
            "/api/users/auth/register",
            &json!({"email": "pat@example.com", "password": "password-9"}),
            None,
        )
        .await;
    assert_eq!(taken.status, 409);
    let wrong_password = app
        .put(
            "/api/users/users/me/password",
            &json!({"current_password": "not-it-at-all", "new_password": "password-2"}),
            Some(&pat.access_token),
        )
        .await;
    assert_eq!(wrong_password.status, 403);
    assert_eq!(app.count("users.outbox").await, users_before);

    assert_eq!(place_order(&app, &pat, product, 2).await.status, 409);
    assert_eq!(place_order(&app, &pat, 999_999, 1).await.status, 404);
    assert_eq!(app.count("orders.outbox").await, 0);

    let order = place_order(&app, &pat, product, 1).await.json();
    let mut wrong_amount = order.clone();
    wrong_amount["total"] = json!(1);
    assert_eq!(
        pay(&app, &pat, &wrong_amount, GOOD_CARD, "k-1")
            .await
            .status,
        422
    );
    assert_eq!(app.count("payments.outbox").await, 0);
    assert_eq!(pay(&app, &pat, &order, GOOD_CARD, "k-2").await.status, 201);
    assert_eq!(pay(&app, &pat, &order, GOOD_CARD, "k-3").await.status, 409);
    assert_eq!(app.count("payments.outbox").await, 1);
    assert_eq!(
        types(&outbox(&app, "orders").await),
        ["order.created", "order.paid"]
    );

    let refund = format!("/api/payments/payments/{}/refund", {
        let payments = outbox(&app, "payments").await;
        payments[0]["aggregate_id"].clone()
    });
    assert_eq!(
        app.post(&refund, &json!({}), Some(&admin.access_token))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post(&refund, &json!({}), Some(&admin.access_token))
            .await
            .status,
        409
    );
    assert_eq!(
        types(&outbox(&app, "payments").await),
        ["payment.succeeded", "payment.refunded"]
    );
    assert_eq!(
        types(&outbox(&app, "orders").await),
        ["order.created", "order.paid", "order.refunded"],
        "a refund repeated by payments is one event at orders"
    );
}
