//! orders: placing (priced and reserved at products), validation, idempotency keys,
//! listing, visibility, cancelling, the internal payment transitions, concurrency and
//! what happens when products fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use spinshop_tests::{Response, Session, Shop, TestApp, one_item};

const ORDERS: &str = "/api/orders/orders";
/// The transitions payments drives, under orders' internal prefix.
const INTERNAL_ORDERS: &str = "/api/orders/internal/orders";

async fn place_with_key(app: &TestApp, session: &Session, body: &Value, key: &str) -> Response {
    app.request_to("POST", ORDERS)
        .bearer(&session.access_token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn placing_an_order_copies_prices_and_reserves_stock() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;

    let response = app
        .place_order(
            &customer,
            &json!({"items": [{"product_id": product, "qty": 2}],
                "shipping_address": "1 Main St", "notes": "ring twice"}),
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text());
    let order = response.json();
    assert_eq!(order["user_id"], customer.user_id);
    assert_eq!(order["status"], "pending");
    assert_eq!(order["payment_status"], "unpaid");
    assert_eq!(
        order["items"],
        json!([{"product_id": product, "name": "Keyboard", "qty": 2, "unit_price": 999, "line_total": 1998}])
    );
    assert_eq!(order["total"], 1998);
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["shipping_address"], "1 Main St");
    assert_eq!(order["notes"], "ring twice");
    assert!(order["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(app.stock_of(product).await, (5, 2, 3));

    // The price is the one of the moment the order was placed.
    let repriced = app
        .patch(
            &format!("/api/products/products/{product}"),
            &json!({"price": 1500}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(repriced.status, 200);
    let id = order["id"].as_i64().unwrap();
    let read = app
        .get(&format!("{ORDERS}/{id}"), Some(&customer.access_token))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["items"][0]["unit_price"], 999);
    assert_eq!(read.json()["total"], 1998);
}

#[tokio::test]
async fn the_callers_own_user_id_is_accepted_as_a_number_or_a_string() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    for user_id in [json!(customer.user_id), json!(customer.user_id.to_string())] {
        let body = json!({"user_id": user_id, "items": [{"product_id": product, "qty": 1}]});
        assert_eq!(app.place_order(&customer, &body).await.status, 201);
    }
}

#[tokio::test]
async fn a_user_id_other_than_the_callers_is_forbidden() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let body =
        json!({"user_id": customer.user_id + 1000, "items": [{"product_id": product, "qty": 1}]});
    let response = app.place_order(&customer, &body).await;
    assert_eq!(response.status, 403);
    assert_eq!(response.error_code(), "forbidden");
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
    assert_eq!(app.count("orders.orders").await, 0);
}

#[tokio::test]
async fn placing_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    let Shop { product, .. } = Shop::open(&app, 5).await;
    let response = app.post(ORDERS, &one_item(product, 1), None).await;
    assert_eq!(response.status, 401);
    let response = app
        .post(ORDERS, &one_item(product, 1), Some("not-a-token"))
        .await;
    assert_eq!(response.status, 401);
}

#[tokio::test]
async fn invalid_orders_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let many: Vec<Value> = (1..=51)
        .map(|id| json!({"product_id": id, "qty": 1}))
        .collect();
    let cases = [
        json!({}),
        json!({"items": []}),
        json!({"items": many}),
        json!({"items": [{"product_id": product, "qty": 0}]}),
        json!({"items": [{"product_id": product, "qty": 1001}]}),
        json!({"items": [{"product_id": product, "qty": 600}, {"product_id": product, "qty": 600}]}),
        json!({"items": [{"product_id": 0, "qty": 1}]}),
        json!({"items": [{"product_id": "abc", "qty": 1}]}),
        json!({"items": [{"product_id": product, "qty": 1.5}]}),
        json!({"items": [{"product_id": product, "qty": 1}], "notes": "n".repeat(1001)}),
        json!({"items": [{"product_id": product, "qty": 1}], "shipping_address": 42}),
        json!({"items": [{"product_id": product, "qty": 1}], "total": 1}),
        json!({"items": [[product, 1]]}),
        json!([[[product, 1]]]),
    ];
    for body in cases {
        let response = app.place_order(&customer, &body).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert_eq!(response.error_code(), "validation_error");
    }
    let response = place_with_key(&app, &customer, &one_item(product, 1), &"k".repeat(201)).await;
    assert_eq!(response.status, 400);
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
    assert_eq!(app.count("orders.orders").await, 0);
}

#[tokio::test]
async fn a_product_listed_twice_becomes_one_line() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let body =
        json!({"items": [{"product_id": product, "qty": 1}, {"product_id": product, "qty": 2}]});
    let response = app.place_order(&customer, &body).await;
    assert_eq!(response.status, 201);
    let items = response.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["qty"], 3);
    assert_eq!(app.stock_of(product).await, (5, 3, 2));
}

#[tokio::test]
async fn an_unknown_product_is_404() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let body =
        json!({"items": [{"product_id": product, "qty": 1}, {"product_id": 999_999, "qty": 1}]});
    let response = app.place_order(&customer, &body).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.error_code(), "not_found");
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
    assert_eq!(app.count("orders.orders").await, 0);
}

#[tokio::test]
async fn placing_an_order_beyond_stock_returns_409_and_reserves_nothing() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: plenty,
    } = Shop::open(&app, 10).await;
    let scarce = app.create_product(&admin, "Mouse", 500, 3).await;
    let body =
        json!({"items": [{"product_id": plenty, "qty": 2}, {"product_id": scarce, "qty": 5}]});
    let response = app.place_order(&customer, &body).await;
    assert_eq!(response.status, 409);
    assert_eq!(response.error_code(), "insufficient_stock");
    assert_eq!(app.stock_of(plenty).await, (10, 0, 10));
    assert_eq!(app.stock_of(scarce).await, (3, 0, 3));
    assert_eq!(app.count("orders.orders").await, 0);
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_order() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let first = place_with_key(&app, &customer, &one_item(product, 2), "order-1").await;
    assert_eq!(first.status, 201);
    let again = place_with_key(&app, &customer, &one_item(product, 2), "order-1").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(app.stock_of(product).await, (5, 2, 3));
    assert_eq!(app.count("orders.orders").await, 1);

    let other = place_with_key(&app, &customer, &one_item(product, 3), "order-1").await;
    assert_eq!(other.status, 409);
    assert_eq!(other.error_code(), "idempotency_key_reused");

    // Keys belong to a user: another user's identical key is a new order.
    let bob = app.register("bob@example.com", "password-1").await;
    let bobs = place_with_key(&app, &bob, &one_item(product, 1), "order-1").await;
    assert_eq!(bobs.status, 201);
    assert_ne!(bobs.json()["id"], first.json()["id"]);
    assert_eq!(app.stock_of(product).await, (5, 3, 2));
}

#[tokio::test]
async fn concurrent_twins_with_one_key_place_one_order() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 50).await;
    let body = one_item(product, 1);
    let responses =
        futures::future::join_all((0..10).map(|_| place_with_key(&app, &customer, &body, "twin")))
            .await;
    let ids: Vec<Value> = responses
        .iter()
        .map(|response| {
            assert!([200, 201].contains(&response.status), "{}", response.text());
            response.json()["id"].clone()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.count("orders.orders").await, 1);
    assert_eq!(app.stock_of(product).await, (50, 1, 49));
}

#[tokio::test]
async fn listing_shows_own_orders_newest_first_with_paging() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 100).await;
    let bob = app.register("bob@example.com", "password-1").await;
    let mut own = Vec::new();
    for qty in 1..=3 {
        own.push(app.placed_order(&customer, product, qty).await["id"].clone());
    }
    let bobs = app.placed_order(&bob, product, 1).await["id"].clone();

    let page = app
        .get(&format!("{ORDERS}?limit=2"), Some(&customer.access_token))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-total-count"), Some("3"));
    let ids: Vec<Value> = page
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(ids, [own[2].clone(), own[1].clone()]);
    let rest = app
        .get(
            &format!("{ORDERS}?limit=2&offset=2"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(rest.json()[0]["id"], own[0]);
    assert_eq!(rest.json()[0]["items"][0]["qty"], 1);

    let all = app.get(ORDERS, Some(&admin.access_token)).await;
    assert_eq!(all.header("x-total-count"), Some("4"));
    let filtered = app
        .get(
            &format!("{ORDERS}?user_id={}", bob.user_id),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(filtered.header("x-total-count"), Some("1"));
    assert_eq!(filtered.json()[0]["id"], bobs);

    let snooping = app
        .get(
            &format!("{ORDERS}?user_id={}", bob.user_id),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(snooping.status, 403);
}

#[tokio::test]
async fn another_users_order_is_404_and_the_admins_to_read() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let bob = app.register("bob@example.com", "password-1").await;
    let id = app.placed_order(&customer, product, 1).await["id"]
        .as_i64()
        .unwrap();

    let response = app
        .get(&format!("{ORDERS}/{id}"), Some(&bob.access_token))
        .await;
    assert_eq!(response.status, 404);
    let response = app
        .post(
            &format!("{ORDERS}/{id}/cancel"),
            &json!({}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(response.status, 404);
    let response = app
        .get(&format!("{ORDERS}/{id}"), Some(&admin.access_token))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["user_id"], customer.user_id);
    for missing in ["999999", "0", "abc"] {
        let response = app
            .get(&format!("{ORDERS}/{missing}"), Some(&customer.access_token))
            .await;
        assert_eq!(response.status, 404, "{missing}");
    }
}

#[tokio::test]
async fn cancelling_a_pending_order_releases_its_stock_once() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let id = app.placed_order(&customer, product, 2).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.stock_of(product).await, (5, 2, 3));

    let cancel = format!("{ORDERS}/{id}/cancel");
    let response = app
        .post(&cancel, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "cancelled");
    assert_eq!(app.stock_of(product).await, (5, 0, 5));

    let again = app
        .post(&cancel, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "invalid_state");
    assert_eq!(app.stock_of(product).await, (5, 0, 5));

    // A cancelled order can't be paid any more.
    let paid = app
        .post_internal(
            &format!("{INTERNAL_ORDERS}/{id}/paid"),
            &json!({"payment_id": 1}),
        )
        .await;
    assert_eq!(paid.status, 409);
    assert_eq!(paid.error_code(), "invalid_state");
}

#[tokio::test]
async fn paid_commits_the_stock_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let id = app.placed_order(&customer, product, 2).await["id"]
        .as_i64()
        .unwrap();
    let paid = format!("{INTERNAL_ORDERS}/{id}/paid");

    let response = app.post_internal(&paid, &json!({"payment_id": "7"})).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "paid");
    assert_eq!(response.json()["payment_status"], "paid");
    assert_eq!(app.stock_of(product).await, (3, 0, 3));

    let again = app.post_internal(&paid, &json!({"payment_id": 7})).await;
    assert_eq!(again.status, 200);
    assert_eq!(app.stock_of(product).await, (3, 0, 3));

    let another_payment = app.post_internal(&paid, &json!({"payment_id": 8})).await;
    assert_eq!(another_payment.status, 409);
    assert_eq!(another_payment.error_code(), "invalid_state");

    // Too late for a failure report: the order stays paid.
    let failed = app
        .post_internal(
            &format!("{INTERNAL_ORDERS}/{id}/payment-failed"),
            &json!({}),
        )
        .await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.json()["payment_status"], "paid");
}

#[tokio::test]
async fn payment_failures_and_refunds_are_recorded() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let id = app.placed_order(&customer, product, 1).await["id"]
        .as_i64()
        .unwrap();

    for _ in 0..2 {
        let failed = app
            .post_internal(
                &format!("{INTERNAL_ORDERS}/{id}/payment-failed"),
                &json!({}),
            )
            .await;
        assert_eq!(failed.status, 200);
        assert_eq!(failed.json()["status"], "pending");
        assert_eq!(failed.json()["payment_status"], "failed");
    }
    // A failed attempt leaves the order open to another one.
    let paid = app
        .post_internal(
            &format!("{INTERNAL_ORDERS}/{id}/paid"),
            &json!({"payment_id": 2}),
        )
        .await;
    assert_eq!(paid.status, 200);
    assert_eq!(paid.json()["payment_status"], "paid");

    for _ in 0..2 {
        let refunded = app
            .post_internal(&format!("{INTERNAL_ORDERS}/{id}/refunded"), &json!({}))
            .await;
        assert_eq!(refunded.status, 200);
        assert_eq!(refunded.json()["payment_status"], "refunded");
    }
    let missing = app
        .post_internal(&format!("{INTERNAL_ORDERS}/999999/refunded"), &json!({}))
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_through_payments() {
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", |builder| {
        builder.intercept(|outbound| {
            outbound
                .url
                .ends_with("/api/payments/internal/refund-order")
                .then(|| {
                    http::Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(Bytes::from_static(br#"{"status":"refunded"}"#))
                        .unwrap()
                })
        })
    })
    .await
    else {
        return;
    };
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let id = app.placed_order(&customer, product, 1).await["id"]
        .as_i64()
        .unwrap();
    let paid = app
        .post_internal(
            &format!("{INTERNAL_ORDERS}/{id}/paid"),
            &json!({"payment_id": 3}),
        )
        .await;
    assert_eq!(paid.status, 200);

    let cancel = format!("{ORDERS}/{id}/cancel");
    let response = app
        .post(&cancel, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "cancelled");
    assert_eq!(response.json()["payment_status"], "refunded");
    let again = app
        .post(&cancel, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(again.status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_hundred_simultaneous_orders_for_ten_units_place_exactly_ten() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 10).await;
    let body = one_item(product, 1);
    let responses =
        futures::future::join_all((0..100).map(|_| app.place_order(&customer, &body))).await;

    let created = responses.iter().filter(|r| r.status == 201).count();
    for response in responses.iter().filter(|r| r.status != 201) {
        assert_eq!(response.status, 409, "{}", response.text());
        assert_eq!(response.error_code(), "insufficient_stock");
    }
    assert_eq!(created, 10);
    let pending_units: i64 = app
        .db()
        .await
        .query_one(
            "SELECT COALESCE(sum(i.qty), 0)::bigint FROM orders.order_items i \
             JOIN orders.orders o ON o.id = i.order_id WHERE o.status = 'pending'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending_units, 10);
    assert_eq!(
        app.stock_of(product).await,
        (10, pending_units, 10 - pending_units)
    );
}

#[tokio::test]
async fn products_unreachable_is_503_and_nothing_is_placed() {
    let Some(app) = TestApp::spawn_on_host("leaves out a component", |builder| {
        builder.without_component("products")
    })
    .await
    else {
        return;
    };
    let customer = app.register("alice@example.com", "password-1").await;
    let response = app.place_order(&customer, &one_item(1, 1)).await;
    assert_eq!(response.status, 503);
    assert_eq!(response.error_code(), "unavailable");
    assert_eq!(app.count("orders.orders").await, 0);
}

#[tokio::test]
async fn a_failing_reserve_is_503_and_leaves_no_reservation() {
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", |builder| {
        builder.intercept(|outbound| {
            outbound
                .url
                .ends_with("/api/products/internal/reserve")
                .then(|| {
                    http::Response::builder()
                        .status(500)
                        .body(Bytes::from_static(b"boom"))
                        .unwrap()
                })
        })
    })
    .await
    else {
        return;
    };
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let response = app.place_order(&customer, &one_item(product, 1)).await;
    assert_eq!(response.status, 503);
    assert_eq!(response.error_code(), "unavailable");
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
    assert_eq!(app.count("orders.orders").await, 0);
}

#[tokio::test]
async fn a_reservation_whose_answer_hangs_is_503_within_the_timeout_and_released() {
    let Some(app) = TestApp::spawn_on_host("holds a sibling's answer back", |builder| {
        // Products reserves the stock, and then its answer never comes.
        builder.delay_answers(|outbound| {
            outbound
                .url
                .ends_with("/api/products/internal/reserve")
                .then_some(Duration::from_secs(600))
        })
    })
    .await
    else {
        return;
    };
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let started = Instant::now();
    let response = app.place_order(&customer, &one_item(product, 2)).await;
    let took = started.elapsed();

    assert_eq!(response.status, 503, "{}", response.text());
    assert_eq!(response.error_code(), "unavailable");
    // The call to products times out after 10 s; the release takes a moment more.
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(13),
        "{took:?}"
    );
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
    assert_eq!(app.count("orders.orders").await, 0);
    let db = app.db().await;
    let reservation: String = db
        .query_one("SELECT status FROM catalog.reservations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(reservation, "released");
    assert_eq!(app.count("orders.placements").await, 0);
}

#[tokio::test]
async fn a_placement_cut_short_is_released_by_a_later_placement() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let db = app.db().await;
    // A placement whose request died after products reserved its stock, and before
    // the order was stored or the stock released.
    let abandoned: i64 = db
        .query_one(
            "INSERT INTO orders.placements (order_id, started_at) \
             VALUES (nextval(pg_get_serial_sequence('orders.orders', 'id')), \
                     now() - interval '1 minute') RETURNING order_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let reserved = app
        .post_internal(
            "/api/products/internal/reserve",
            &json!({"order_id": abandoned, "items": [{"product_id": product, "qty": 3}]}),
        )
        .await;
    assert_eq!(reserved.status, 200, "{}", reserved.text());
    assert_eq!(app.stock_of(product).await, (5, 3, 2));

    let response = app.place_order(&customer, &one_item(product, 1)).await;
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(app.stock_of(product).await, (5, 1, 4));
    assert_eq!(app.count("orders.placements").await, 0);
}

#[tokio::test]
async fn a_failure_after_reserving_releases_the_stock() {
    let app = TestApp::spawn().await;
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    // Orders can draw an id and products can reserve, but the order can't be stored.
    app.db()
        .await
        .execute(
            "REVOKE INSERT ON orders.order_items FROM spinshop_orders",
            &[],
        )
        .await
        .unwrap();
    let response = app.place_order(&customer, &one_item(product, 2)).await;
    assert_eq!(response.status, 500);
    assert_eq!(response.error_code(), "internal");
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
    assert_eq!(app.count("orders.orders").await, 0);
    assert_eq!(
        app.count("catalog.reservations WHERE status = 'released'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_failed_release_on_cancel_is_retried_by_cancelling_again() {
    let products_down = Arc::new(AtomicBool::new(false));
    let down = products_down.clone();
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", move |builder| {
        builder.intercept(move |outbound| {
            (down.load(Ordering::SeqCst)
                && outbound.url.ends_with("/api/products/internal/release"))
            .then(|| {
                http::Response::builder()
                    .status(503)
                    .body(Bytes::new())
                    .unwrap()
            })
        })
    })
    .await
    else {
        return;
    };
    let Shop {
        customer, product, ..
    } = Shop::open(&app, 5).await;
    let id = app.placed_order(&customer, product, 2).await["id"]
        .as_i64()
        .unwrap();
    let cancel = format!("{ORDERS}/{id}/cancel");

    products_down.store(true, Ordering::SeqCst);
    let response = app
        .post(&cancel, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(response.status, 503);
    assert_eq!(app.stock_of(product).await, (5, 2, 3));
    let order = app
        .get(&format!("{ORDERS}/{id}"), Some(&customer.access_token))
        .await
        .json();
    assert_eq!(order["status"], "cancelled");

    products_down.store(false, Ordering::SeqCst);
    let again = app
        .post(&cancel, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(app.stock_of(product).await, (5, 0, 5));
}
