//! payments: idempotent charges, the simulated gateway, replays, concurrent twins,
//! healing after a lost `/paid`, reading, listing and refunding payments.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use spinshop_tests::{Shop, TestApp, payment_for};

const GOOD_CARD: &str = "4242 4242 4242 4242";
const DECLINED_CARD: &str = "4000000000000002";
const PRICE: i64 = Shop::PRICE;

fn card(number: &str) -> Value {
    json!({"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"})
}

/// A payment's body for the whole of `order`, with the card `number`.
fn pay_body(order: &Value, number: &str) -> Value {
    let mut body = payment_for(order);
    body["card"] = card(number);
    body
}

#[tokio::test]
async fn paying_an_order_charges_it_marks_it_paid_and_commits_its_stock() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 2).await;

    let response = app
        .pay(&customer, Some("pay-1"), &pay_body(&placed, GOOD_CARD))
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert!(response.header("idempotent-replayed").is_none());
    let payment = response.json();
    assert!(payment["id"].as_i64().unwrap() > 0);
    assert_eq!(payment["order_id"], placed["id"]);
    assert_eq!(payment["amount"], 2 * PRICE);
    assert_eq!(payment["currency"], "USD");
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["method"], "card");
    assert_eq!(payment["card_last4"], "4242");
    assert!(payment["created_at"].as_str().unwrap().ends_with('Z'));

    let paid = app.order(&customer, &placed["id"]).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(app.stock_of(product).await, (3, 0, 3));
}

#[tokio::test]
async fn a_card_payment_without_card_details_succeeds_and_string_ids_are_accepted() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let body = json!({"order_id": placed["id"].to_string(), "amount": PRICE, "method": "card"});
    let response = app
        .pay(&customer, Some("plain-idempotency-key"), &body)
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert!(response.json().get("card_last4").is_none());
}

#[tokio::test]
async fn only_the_last_four_digits_of_a_card_are_stored() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let response = app
        .pay(&customer, Some("pay-1"), &pay_body(&placed, GOOD_CARD))
        .await;
    assert_eq!(response.status, 201);
    let db = app.db().await;
    for table in ["payments.payments", "payments.idempotency_keys"] {
        let rows = db
            .query(&format!("SELECT row_to_json(t)::text FROM {table} t"), &[])
            .await
            .unwrap();
        for row in rows {
            let stored: String = row.get(0);
            assert!(
                !stored.contains("4242424242424242") && !stored.contains("4242 4242"),
                "{stored}"
            );
            assert!(!stored.contains("\"123\""), "{stored}");
        }
    }
}

#[tokio::test]
async fn paying_needs_a_bearer_and_an_idempotency_key() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let body = payment_for(&placed);

    let response = app.pay(&customer, None, &body).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_error");
    let response = app.pay(&customer, Some(&"k".repeat(201)), &body).await;
    assert_eq!(response.status, 400);

    let anonymous = app.post("/api/payments/pay", &body, None).await;
    assert_eq!(anonymous.status, 401);

    // The other header name works too.
    let response = app
        .request_to("POST", "/api/payments/pay")
        .bearer(&customer.access_token)
        .header("idempotency-key", "plain-header")
        .json(&body)
        .send()
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
}

#[tokio::test]
async fn invalid_card_numbers_and_methods_are_400_and_charge_nothing() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    for number in ["4242424242424241", "4242-4242-4242-4242", "abc"] {
        let response = app
            .pay(&customer, Some(number), &pay_body(&placed, number))
            .await;
        assert_eq!(response.status, 400, "{number}: {}", response.text());
        assert_eq!(response.json()["error"]["details"]["field"], "card.number");
    }
    let mut cash = payment_for(&placed);
    cash["method"] = json!("cash");
    assert_eq!(app.pay(&customer, Some("cash"), &cash).await.status, 400);
    assert_eq!(app.count("payments.payments").await, 0);
}

#[tokio::test]
async fn a_repeat_with_the_same_key_replays_the_first_response() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let body = pay_body(&placed, GOOD_CARD);

    let first = app.pay(&customer, Some("pay-1"), &body).await;
    assert_eq!(first.status, 201);
    let again = app.pay(&customer, Some("pay-1"), &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(app.count("payments.payments").await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_409() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    app.paid(&customer, &placed, "pay-1").await;

    let other = app
        .pay(&customer, Some("pay-1"), &pay_body(&placed, GOOD_CARD))
        .await;
    assert_eq!(other.status, 409);
    assert_eq!(other.error_code(), "idempotency_key_reused");
    assert_eq!(app.count("payments.payments").await, 1);
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let other = app.register("sam@example.com", "password-1").await;
    let mine = app.placed_order(&customer, product, 1).await;
    let theirs = app.placed_order(&other, product, 1).await;
    app.paid(&customer, &mine, "same").await;
    app.paid(&other, &theirs, "same").await;
}

#[tokio::test]
async fn a_declined_card_is_402_and_the_order_stays_payable_with_a_new_key() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let declined_body = pay_body(&placed, DECLINED_CARD);

    let declined = app.pay(&customer, Some("try-1"), &declined_body).await;
    assert_eq!(declined.status, 402, "{}", declined.text());
    let body = declined.json();
    assert_eq!(body["error"]["code"], "payment_declined");
    assert_eq!(body["error"]["details"]["payment"]["status"], "failed");
    assert_eq!(body["error"]["details"]["payment"]["card_last4"], "0002");

    let pending = app.order(&customer, &placed["id"]).await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["payment_status"], "failed");

    let replay = app.pay(&customer, Some("try-1"), &declined_body).await;
    assert_eq!(replay.status, 402);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, declined.body);

    let paid = app
        .pay(&customer, Some("try-2"), &pay_body(&placed, GOOD_CARD))
        .await;
    assert_eq!(paid.status, 201, "{}", paid.text());
    assert_eq!(app.order(&customer, &placed["id"]).await["status"], "paid");
}

#[tokio::test]
async fn an_amount_other_than_the_total_is_422() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let mut body = payment_for(&placed);
    body["amount"] = json!(PRICE - 1);
    let response = app.pay(&customer, Some("pay-1"), &body).await;
    assert_eq!(response.status, 422);
    assert_eq!(response.error_code(), "validation_error");
    assert_eq!(app.count("payments.payments").await, 0);
    // The refusal released the key: corrected, the same key pays.
    let fixed = app
        .pay(&customer, Some("pay-1"), &payment_for(&placed))
        .await;
    assert_eq!(fixed.status, 201, "{}", fixed.text());
}

#[tokio::test]
async fn a_paid_order_cannot_be_paid_again() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    app.paid(&customer, &placed, "pay-1").await;
    let again = app
        .pay(&customer, Some("pay-2"), &payment_for(&placed))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "invalid_state");
    assert_eq!(app.count("payments.payments").await, 1);
}

#[tokio::test]
async fn another_users_order_and_an_unknown_order_are_404_and_an_admin_cannot_pay() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
        ..
    } = Shop::open(&app, 5).await;
    let stranger = app.register("eve@example.com", "password-1").await;
    let placed = app.placed_order(&customer, product, 1).await;
    let response = app
        .pay(&stranger, Some("steal"), &payment_for(&placed))
        .await;
    assert_eq!(response.status, 404);
    assert_eq!(
        response.json()["error"]["message"],
        format!("no order with id {}", placed["id"])
    );
    let response = app.pay(&admin, Some("staff"), &payment_for(&placed)).await;
    assert_eq!(response.status, 403, "{}", response.text());
    let unknown = json!({"order_id": 999999, "amount": PRICE, "method": "card"});
    assert_eq!(app.pay(&customer, Some("nope"), &unknown).await.status, 404);
    assert_eq!(app.count("payments.payments").await, 0);
}

#[tokio::test]
async fn twenty_simultaneous_requests_with_one_key_charge_once_and_answer_alike() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let body = pay_body(&placed, GOOD_CARD);

    let responses =
        futures::future::join_all((0..20).map(|_| app.pay(&customer, Some("one-key"), &body)))
            .await;
    for response in &responses {
        assert_eq!(response.status, 201, "{}", response.text());
        assert_eq!(response.body, responses[0].body);
    }
    let replayed = responses
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 19);
    assert_eq!(app.count("payments.payments").await, 1);
}

#[tokio::test]
async fn a_charge_whose_paid_notice_failed_heals_when_retried_with_its_key() {
    let fail_paid_once = Arc::new(AtomicBool::new(true));
    let trigger = fail_paid_once.clone();
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", move |b| {
        b.intercept(move |info| {
            let is_paid_notice = info.component_from == "payments" && info.url.ends_with("/paid");
            (is_paid_notice && trigger.swap(false, Ordering::SeqCst))
                .then(spinshop_tests::unavailable_answer)
        })
    })
    .await
    else {
        return;
    };
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let body = pay_body(&placed, GOOD_CARD);

    let failed = app.pay(&customer, Some("heal-me"), &body).await;
    assert_eq!(failed.status, 503, "{}", failed.text());
    assert_eq!(failed.error_code(), "unavailable");
    assert!(
        !fail_paid_once.load(Ordering::SeqCst),
        "the /paid call was made"
    );
    assert_eq!(
        app.count("payments.payments").await,
        1,
        "the charge was recorded"
    );
    assert_eq!(
        app.order(&customer, &placed["id"]).await["status"],
        "pending"
    );

    let healed = app.pay(&customer, Some("heal-me"), &body).await;
    assert_eq!(healed.status, 201, "{}", healed.text());
    assert!(healed.header("idempotent-replayed").is_none());
    assert_eq!(
        app.count("payments.payments").await,
        1,
        "the retry did not charge again"
    );
    assert_eq!(app.order(&customer, &placed["id"]).await["status"], "paid");

    let replay = app.pay(&customer, Some("heal-me"), &body).await;
    assert_eq!((replay.status, &replay.body), (201, &healed.body));
}

#[tokio::test]
async fn a_charge_left_unsettled_is_settled_by_a_later_payment() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let forgotten = app.placed_order(&customer, product, 2).await;
    // A charge recorded by a request that died before telling orders, a minute ago.
    let charge: i64 = app
        .db()
        .await
        .query_one(
            "INSERT INTO payments.payments (user_id, order_id, idempotency_key, request_hash, \
                 amount, currency, status, method, created_at) \
             VALUES ($1, $2, 'lost', 'lost', $3, 'USD', 'succeeded', 'card', \
                     now() - interval '1 minute') RETURNING id",
            &[
                &customer.user_id,
                &forgotten["id"].as_i64().unwrap(),
                &forgotten["total"].as_i64().unwrap(),
            ],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        app.order(&customer, &forgotten["id"]).await["status"],
        "pending"
    );

    let next = app.placed_order(&customer, product, 1).await;
    let paid = app.pay(&customer, Some("next"), &payment_for(&next)).await;
    assert_eq!(paid.status, 201, "{}", paid.text());

    assert_eq!(
        app.order(&customer, &forgotten["id"]).await["status"],
        "paid"
    );
    let db = app.db().await;
    let paid_by: i64 = db
        .query_one(
            "SELECT payment_id FROM orders.orders WHERE id = $1",
            &[&forgotten["id"].as_i64().unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(paid_by, charge);
    assert_eq!(
        app.count("payments.payments WHERE settled_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_payment_is_shown_to_its_owner_and_admins_only() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let stranger = app.register("eve@example.com", "password-1").await;
    let placed = app.placed_order(&customer, product, 1).await;
    let payment = app.paid(&customer, &placed, "pay-1").await;
    let path = format!("/api/payments/payments/{}", payment["id"]);

    let own = app.get(&path, Some(&customer.access_token)).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.json(), payment);
    assert_eq!(app.get(&path, Some(&admin.access_token)).await.status, 200);
    assert_eq!(
        app.get(&path, Some(&stranger.access_token)).await.status,
        404
    );
    assert_eq!(app.get(&path, None).await.status, 401);
    for missing in [
        "/api/payments/payments/999999",
        "/api/payments/payments/abc",
    ] {
        assert_eq!(
            app.get(missing, Some(&admin.access_token)).await.status,
            404
        );
    }
}

#[tokio::test]
async fn an_orders_payments_are_listed_for_its_owner_and_admins() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let stranger = app.register("eve@example.com", "password-1").await;
    let placed = app.placed_order(&customer, product, 1).await;
    app.pay(&customer, Some("try-1"), &pay_body(&placed, DECLINED_CARD))
        .await;
    app.paid(&customer, &placed, "try-2").await;
    let path = format!("/api/payments/payments?order_id={}", placed["id"]);

    let own = app.get(&path, Some(&customer.access_token)).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.header("x-total-count"), Some("2"));
    let statuses: Vec<Value> = own
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("succeeded"), json!("failed")],
        "newest first"
    );

    let admins = app.get(&path, Some(&admin.access_token)).await;
    assert_eq!(admins.header("x-total-count"), Some("2"));
    let strangers = app.get(&path, Some(&stranger.access_token)).await;
    assert_eq!((strangers.status, strangers.json()), (200, json!([])));
    assert_eq!(strangers.header("x-total-count"), Some("0"));
}

#[tokio::test]
async fn an_admin_refunds_a_payment_once() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let payment = app.paid(&customer, &placed, "pay-1").await;
    let path = format!("/api/payments/payments/{}/refund", payment["id"]);

    let by_customer = app
        .post(&path, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(by_customer.status, 403);

    let refunded = app.post(&path, &json!({}), Some(&admin.access_token)).await;
    assert_eq!(refunded.status, 200, "{}", refunded.text());
    assert_eq!(refunded.json()["status"], "refunded");
    assert_eq!(
        app.order(&customer, &placed["id"]).await["payment_status"],
        "refunded"
    );

    let twice = app.post(&path, &json!({}), Some(&admin.access_token)).await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.error_code(), "invalid_state");
    let missing = app
        .post(
            "/api/payments/payments/999999/refund",
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn a_failed_payment_cannot_be_refunded() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let declined = app
        .pay(&customer, Some("try-1"), &pay_body(&placed, DECLINED_CARD))
        .await;
    let id = &declined.json()["error"]["details"]["payment"]["id"];
    let response = app
        .post(
            &format!("/api/payments/payments/{id}/refund"),
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(response.status, 409);
    assert_eq!(response.error_code(), "invalid_state");
}

#[tokio::test]
async fn refund_order_is_internal_and_idempotent() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let unpaid = app.placed_order(&customer, product, 1).await;
    app.paid(&customer, &placed, "pay-1").await;
    let body = json!({"order_id": placed["id"]});

    let public = app
        .post(
            "/api/payments/internal/refund-order",
            &body,
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(public.status, 403);

    let refunded = app
        .post_internal("/api/payments/internal/refund-order", &body)
        .await;
    assert_eq!(refunded.status, 200, "{}", refunded.text());
    assert_eq!(refunded.json()["status"], "refunded");
    let again = app
        .post_internal("/api/payments/internal/refund-order", &body)
        .await;
    assert_eq!((again.status, again.json()), (200, refunded.json()));

    let nothing = app
        .post_internal(
            "/api/payments/internal/refund-order",
            &json!({"order_id": unpaid["id"]}),
        )
        .await;
    assert_eq!(nothing.status, 404);
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_its_payment() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let placed = app.placed_order(&customer, product, 1).await;
    let payment = app.paid(&customer, &placed, "pay-1").await;
    let cancel = app
        .post(
            &format!("/api/orders/orders/{}/cancel", placed["id"]),
            &json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    let shown = app
        .get(
            &format!("/api/payments/payments/{}", payment["id"]),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(shown.json()["status"], "refunded");
}
