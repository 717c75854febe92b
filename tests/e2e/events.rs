//! Events: each change customers hear of is recorded in its service's outbox, in the
//! transaction of the change, and nothing is recorded for a change that fails.

use serde_json::{Value, json};
use spinshop_tests::{Response, Session, Shop, TestApp, one_item, payment_for};

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

/// Pays the whole of `order` as `session` with the card `number`, under `key`.
async fn pay(app: &TestApp, session: &Session, order: &Value, number: &str, key: &str) -> Response {
    let mut body = payment_for(order);
    body["card"] = json!({"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"});
    app.pay(session, Some(key), &body).await
}

#[tokio::test]
async fn every_change_records_its_event_with_the_envelope_in_its_own_outbox() {
    let app = TestApp::spawn().await;
    let Shop {
        customer: pat,
        product,
        ..
    } = Shop::open(&app, 5).await;

    let order = app.placed_order(&pat, product, 2).await;
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
            &json!({"current_password": Shop::PASSWORD, "new_password": "password-2"}),
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
    assert_eq!(registered["data"]["email"], Shop::CUSTOMER);
    assert!(
        !registered.to_string().contains(Shop::PASSWORD)
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
    assert_eq!(orders[0]["data"]["total"], 2 * Shop::PRICE);
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
    let Shop {
        admin,
        customer: pat,
        product,
    } = Shop::open(&app, 1).await;
    let users_before = app.count("users.outbox").await;

    let taken = app
        .post(
            "/api/users/auth/register",
            &json!({"email": Shop::CUSTOMER, "password": "password-9"}),
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

    assert_eq!(
        app.place_order(&pat, &one_item(product, 2)).await.status,
        409
    );
    assert_eq!(
        app.place_order(&pat, &one_item(999_999, 1)).await.status,
        404
    );
    assert_eq!(app.count("orders.outbox").await, 0);

    let order = app.placed_order(&pat, product, 1).await;
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
