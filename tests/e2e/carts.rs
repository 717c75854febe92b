//! carts: a cart per user at current catalog prices, item changes, and checkout
//! through orders that empties the cart only once the order exists.

use serde_json::{Value, json};
use spinshop_tests::{Response, Session, Shop, TestApp};

const CART: &str = "/api/carts/cart";
const ITEMS: &str = "/api/carts/cart/items";
const CHECKOUT: &str = "/api/carts/cart/checkout";

/// Checks the cart of `session` out, with no body.
async fn checkout(app: &TestApp, session: &Session) -> Response {
    app.request("POST", CHECKOUT, None, session.token()).await
}

async fn orders_of(app: &TestApp, session: &Session) -> Vec<Value> {
    let response = app
        .get("/api/orders/orders", Some(&session.access_token))
        .await;
    assert_eq!(response.status, 200);
    response.json().as_array().unwrap().clone()
}

fn qtys(cart: &Value) -> Vec<(i64, i64)> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["product_id"].as_i64().unwrap(),
                item["qty"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_new_users_cart_is_empty_and_needs_a_bearer() {
    let app = TestApp::spawn().await;
    let Shop { customer, .. } = Shop::open(&app, 10).await;
    assert_eq!(
        app.cart(&customer).await,
        json!({"items": [], "total": 0, "currency": "USD"})
    );
    assert_eq!(app.get(CART, None).await.status, 401);
    assert_eq!(app.get(CART, Some("not-a-token")).await.status, 401);
}

#[tokio::test]
async fn adding_items_prices_them_from_the_catalog_and_adds_up_repeats() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: keyboard,
    } = Shop::open(&app, 10).await;
    let mouse = app.create_product(&admin, "Mouse", 250, 10).await;

    let response = app.add_to_cart(&customer, keyboard, 2).await;
    assert_eq!(response.status, 200, "{}", response.text());
    app.add_to_cart(&customer, mouse, 1).await;
    let body = app.add_to_cart(&customer, keyboard, 3).await.json();
    assert_eq!(qtys(&body), [(keyboard, 5), (mouse, 1)]);
    assert_eq!(body["items"][0]["name"], "Keyboard");
    assert_eq!(body["items"][0]["unit_price"], 999);
    assert_eq!(body["items"][0]["line_total"], 5 * 999);
    assert_eq!(body["total"], 5 * 999 + 250);
    assert_eq!(body["currency"], "USD");
    assert_eq!(app.cart(&customer).await, body);
}

#[tokio::test]
async fn the_cart_shows_current_prices() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: keyboard,
    } = Shop::open(&app, 10).await;
    app.add_to_cart(&customer, keyboard, 2).await;
    let patched = app
        .patch(
            &format!("/api/products/products/{keyboard}"),
            &json!({"price": 1200}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let body = app.cart(&customer).await;
    assert_eq!(
        (
            body["items"][0]["unit_price"].as_i64(),
            body["total"].as_i64()
        ),
        (Some(1200), Some(2400))
    );
}

#[tokio::test]
async fn unknown_products_and_bad_quantities_are_refused() {
    let app = TestApp::spawn().await;
    let Shop {
        customer,
        product: keyboard,
        ..
    } = Shop::open(&app, 10).await;

    let unknown = app.add_to_cart(&customer, 999999, 1).await;
    assert_eq!(unknown.status, 404);
    for qty in [0, -1, 1001] {
        assert_eq!(
            app.add_to_cart(&customer, keyboard, qty).await.status,
            400,
            "qty {qty}"
        );
    }
    assert_eq!(app.add_to_cart(&customer, keyboard, 1000).await.status, 200);
    let beyond = app.add_to_cart(&customer, keyboard, 1).await;
    assert_eq!(beyond.status, 400);
    assert_eq!(beyond.json()["error"]["details"]["field"], "qty");
    assert_eq!(qtys(&app.cart(&customer).await), [(keyboard, 1000)]);
    let malformed = app
        .post(
            ITEMS,
            &json!({"product_id": keyboard}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(malformed.status, 400);
}

#[tokio::test]
async fn patching_sets_a_quantity_and_zero_removes_the_item() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: keyboard,
    } = Shop::open(&app, 10).await;
    let mouse = app.create_product(&admin, "Mouse", 250, 10).await;
    app.add_to_cart(&customer, keyboard, 2).await;
    let token = Some(customer.access_token.as_str());

    let set = app
        .patch(&format!("{ITEMS}/{keyboard}"), &json!({"qty": 7}), token)
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(qtys(&set.json()), [(keyboard, 7)]);
    assert_eq!(
        app.patch(&format!("{ITEMS}/{keyboard}"), &json!({"qty": 1001}), token)
            .await
            .status,
        400
    );
    assert_eq!(
        app.patch(&format!("{ITEMS}/{mouse}"), &json!({"qty": 1}), token)
            .await
            .status,
        404
    );

    let removed = app
        .patch(&format!("{ITEMS}/{keyboard}"), &json!({"qty": 0}), token)
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(qtys(&removed.json()), []);
    assert_eq!(
        app.patch(&format!("{ITEMS}/{keyboard}"), &json!({"qty": 0}), token)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn deleting_an_item_and_clearing_the_cart() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: keyboard,
    } = Shop::open(&app, 10).await;
    let mouse = app.create_product(&admin, "Mouse", 250, 10).await;
    app.add_to_cart(&customer, keyboard, 1).await;
    app.add_to_cart(&customer, mouse, 1).await;
    let token = Some(customer.access_token.as_str());

    assert_eq!(
        app.delete(&format!("{ITEMS}/{keyboard}"), token)
            .await
            .status,
        204
    );
    assert_eq!(qtys(&app.cart(&customer).await), [(mouse, 1)]);
    assert_eq!(
        app.delete(&format!("{ITEMS}/{keyboard}"), token)
            .await
            .status,
        404
    );
    assert_eq!(app.delete(&format!("{ITEMS}/abc"), token).await.status, 404);

    assert_eq!(app.delete(CART, token).await.status, 204);
    assert_eq!(app.cart(&customer).await["items"], json!([]));
}

#[tokio::test]
async fn carts_are_private() {
    let app = TestApp::spawn().await;
    let Shop {
        customer,
        product: keyboard,
        ..
    } = Shop::open(&app, 10).await;
    let other = app.register("sam@example.com", "password-1").await;
    app.add_to_cart(&customer, keyboard, 1).await;
    assert_eq!(app.cart(&other).await["items"], json!([]));
    assert_eq!(
        app.delete(&format!("{ITEMS}/{keyboard}"), Some(&other.access_token))
            .await
            .status,
        404
    );
    assert_eq!(qtys(&app.cart(&customer).await), [(keyboard, 1)]);
}

#[tokio::test]
async fn checkout_places_the_order_reserves_stock_and_empties_the_cart() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: keyboard,
    } = Shop::open(&app, 10).await;
    let mouse = app.create_product(&admin, "Mouse", 250, 10).await;
    app.add_to_cart(&customer, keyboard, 2).await;
    app.add_to_cart(&customer, mouse, 3).await;

    let response = checkout(&app, &customer).await;
    assert_eq!(response.status, 201, "{}", response.text());
    let order = response.json();
    assert_eq!(order["status"], "pending");
    assert_eq!(order["user_id"], customer.user_id);
    assert_eq!(order["total"], 2 * 999 + 3 * 250);
    assert_eq!(order["items"].as_array().unwrap().len(), 2);

    assert_eq!(app.stock_of(keyboard).await, (10, 2, 8));
    assert_eq!(app.stock_of(mouse).await, (10, 3, 7));
    assert_eq!(app.cart(&customer).await["items"], json!([]));
    assert_eq!(orders_of(&app, &customer).await.len(), 1);
}

#[tokio::test]
async fn checking_out_an_empty_cart_is_400() {
    let app = TestApp::spawn().await;
    let Shop { customer, .. } = Shop::open(&app, 10).await;
    let response = checkout(&app, &customer).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_error");
}

#[tokio::test]
async fn a_checkout_beyond_stock_is_409_and_the_cart_stays() {
    let app = TestApp::spawn().await;
    let Shop {
        customer,
        product: keyboard,
        ..
    } = Shop::open(&app, 1).await;
    app.add_to_cart(&customer, keyboard, 2).await;
    let before = app.cart(&customer).await;

    let response = checkout(&app, &customer).await;
    assert_eq!(response.status, 409, "{}", response.text());
    assert_eq!(response.error_code(), "insufficient_stock");
    assert_eq!(app.cart(&customer).await, before);
    assert_eq!(app.stock_of(keyboard).await, (1, 0, 1));
    assert!(orders_of(&app, &customer).await.is_empty());
}

#[tokio::test]
async fn a_checkout_while_orders_is_down_is_503_and_the_cart_stays() {
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", |b| {
        b.intercept(|info| {
            (info.component_from == "carts" && info.url.ends_with("/api/orders/orders"))
                .then(spinshop_tests::unavailable_answer)
        })
    })
    .await
    else {
        return;
    };
    let Shop {
        customer,
        product: keyboard,
        ..
    } = Shop::open(&app, 5).await;
    app.add_to_cart(&customer, keyboard, 2).await;

    let response = checkout(&app, &customer).await;
    assert_eq!(response.status, 503);
    assert_eq!(qtys(&app.cart(&customer).await), [(keyboard, 2)]);
}

#[tokio::test]
async fn simultaneous_checkouts_of_one_cart_place_one_order() {
    let app = TestApp::spawn().await;
    let Shop {
        customer,
        product: keyboard,
        ..
    } = Shop::open(&app, 10).await;
    app.add_to_cart(&customer, keyboard, 2).await;

    let responses = futures::future::join_all((0..5).map(|_| checkout(&app, &customer))).await;
    let created: Vec<&Response> = responses.iter().filter(|r| r.status == 201).collect();
    assert!(
        !created.is_empty(),
        "{:?}",
        responses.iter().map(Response::text).collect::<Vec<_>>()
    );
    for response in &created {
        assert_eq!(response.json()["id"], created[0].json()["id"]);
    }
    assert_eq!(orders_of(&app, &customer).await.len(), 1);
    assert_eq!(app.stock_of(keyboard).await, (10, 2, 8));
    assert_eq!(app.cart(&customer).await["items"], json!([]));
}

#[tokio::test]
async fn a_product_that_vanished_is_shown_unavailable_and_left_out_of_the_total() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product: keyboard,
    } = Shop::open(&app, 10).await;
    let mouse = app.create_product(&admin, "Mouse", 250, 10).await;
    app.add_to_cart(&customer, keyboard, 1).await;
    app.add_to_cart(&customer, mouse, 2).await;
    // A product never reserved or ordered is erased, not archived.
    let deleted = app
        .delete(
            &format!("/api/products/products/{mouse}"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(deleted.status, 204);

    let body = app.cart(&customer).await;
    assert_eq!(body["total"], 999);
    let gone = &body["items"][1];
    assert_eq!(gone["product_id"], mouse);
    assert_eq!(
        (gone["available"].as_bool(), gone["line_total"].as_i64()),
        (Some(false), Some(0))
    );
    assert!(gone["unit_price"].is_null() && gone["name"].is_null());
}
