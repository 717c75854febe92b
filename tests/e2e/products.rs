//! products: the catalog (who may change it, validation, search, availability,
//! archiving), stock levels, and the internal reservations orders hold: all or
//! nothing, idempotent per order, released or committed once, never oversold.

use serde_json::{Value, json};
use spinshop_kit::auth::SERVICE_TOKEN_HEADER;
use spinshop_tests::{Response, Session, TestApp};

const PRODUCTS: &str = "/api/products/products";

fn product_path(id: i64) -> String {
    format!("{PRODUCTS}/{id}")
}

fn stock_path(id: i64) -> String {
    format!("{PRODUCTS}/{id}/stock")
}

/// The ids of a page of the product list, in its order.
fn listed_ids(response: &Response) -> Vec<i64> {
    response
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("a page of products: {}", response.text()))
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

async fn create(app: &TestApp, admin: &Session, body: Value) -> Response {
    app.post(PRODUCTS, &body, Some(&admin.access_token)).await
}

async fn reserve(app: &TestApp, order_id: i64, items: Value) -> Response {
    app.post_internal(
        "/api/products/internal/reserve",
        &json!({"order_id": order_id, "items": items}),
    )
    .await
}

async fn release(app: &TestApp, order_id: i64) -> Response {
    app.post_internal(
        "/api/products/internal/release",
        &json!({"order_id": order_id}),
    )
    .await
}

async fn commit(app: &TestApp, order_id: i64) -> Response {
    app.post_internal(
        "/api/products/internal/commit",
        &json!({"order_id": order_id}),
    )
    .await
}

// Creating and reading ----------------------------------------------------------------

#[tokio::test]
async fn an_admin_creates_a_product_with_defaults() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = create(&app, &admin, json!({"name": "  Keyboard ", "price": 999})).await;
    assert_eq!(response.status, 201, "{}", response.text());
    let product = response.json();
    assert!(product["id"].as_i64().unwrap() > 0);
    assert_eq!(product["name"], "Keyboard");
    assert_eq!(product["description"], Value::Null);
    assert_eq!(product["price"], 999);
    assert_eq!(product["currency"], "USD");
    assert_eq!(product["stock"], 0);
    assert_eq!(product["reserved"], 0);
    assert_eq!(product["available"], false, "nothing on the shelf");
    assert_eq!(product["archived"], false);
    assert!(product["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(product["updated_at"].as_str().unwrap().ends_with('Z'));

    let full = create(
        &app,
        &admin,
        json!({"name": "Mouse", "price": 0, "stock": 3, "description": "wireless", "currency": "EUR"}),
    )
    .await;
    assert_eq!(full.status, 201);
    assert_eq!(full.json()["available"], true);
    assert_eq!(full.json()["currency"], "EUR");
    assert_eq!(full.json()["description"], "wireless");
}

#[tokio::test]
async fn creating_a_product_requires_an_admin() {
    let app = TestApp::spawn().await;
    let customer = app.register("carol@example.com", "password-1").await;
    let body = json!({"name": "Keyboard", "price": 999});

    let anonymous = app.post(PRODUCTS, &body, None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.error_code(), "unauthorized");
    let forged = app.post(PRODUCTS, &body, Some("not-a-token")).await;
    assert_eq!(forged.status, 401);
    let as_customer = app
        .post(PRODUCTS, &body, Some(&customer.access_token))
        .await;
    assert_eq!(as_customer.status, 403);
    assert_eq!(as_customer.error_code(), "forbidden");

    let list = app.get(PRODUCTS, None).await;
    assert_eq!(list.header("x-total-count"), Some("0"));
}

#[tokio::test]
async fn invalid_products_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cases = [
        (json!({"name": "", "price": 1}), "name"),
        (json!({"name": "   ", "price": 1}), "name"),
        (json!({"name": "x".repeat(201), "price": 1}), "name"),
        (json!({"name": "Keyboard", "price": -1}), "price"),
        (json!({"name": "Keyboard", "price": 9.99}), "price"),
        (json!({"name": "Keyboard", "price": "999"}), "price"),
        (
            json!({"name": "Keyboard", "price": 1, "stock": -1}),
            "stock",
        ),
        (
            json!({"name": "Keyboard", "price": 1, "currency": "usd"}),
            "currency",
        ),
        (
            json!({"name": "Keyboard", "price": 1, "currency": "DOLLAR"}),
            "currency",
        ),
        (
            json!({"name": "Keyboard", "price": 1, "description": "d".repeat(5001)}),
            "description",
        ),
    ];
    for (body, expected_field) in cases {
        let response = create(&app, &admin, body.clone()).await;
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert_eq!(response.error_code(), "validation_error");
        assert_eq!(response.error_field(), expected_field, "{body}");
        assert!(
            response.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(expected_field),
            "{body}: {}",
            response.text()
        );
    }

    let missing = create(&app, &admin, json!({"price": 1})).await;
    assert_eq!(missing.status, 400);
    assert!(missing.text().contains("name"), "{}", missing.text());
    let unknown = create(
        &app,
        &admin,
        json!({"name": "K", "price": 1, "colour": "red"}),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.text().contains("colour"));

    let list = app.get(PRODUCTS, None).await;
    assert_eq!(
        list.header("x-total-count"),
        Some("0"),
        "nothing was created"
    );
}

#[tokio::test]
async fn products_are_read_by_anyone_and_unknown_ids_are_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;

    let response = app.get(&product_path(id), None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["name"], "Keyboard");
    assert_eq!(response.json()["stock"], 5);
    assert_eq!(response.json()["available"], true);

    for path in [
        product_path(id + 1000),
        format!("{PRODUCTS}/abc"),
        format!("{PRODUCTS}/-1"),
    ] {
        let missing = app.get(&path, None).await;
        assert_eq!(missing.status, 404, "{path}");
        assert_eq!(missing.error_code(), "not_found");
    }
}

// Listing --------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_is_paged_newest_first_with_a_total() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            app.create_product(&admin, &format!("Item {n}"), 100 + n, 1)
                .await,
        );
    }

    let all = app.get(PRODUCTS, None).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.header("x-total-count"), Some("5"));
    ids.reverse();
    assert_eq!(listed_ids(&all), ids);

    let page = app.get(&format!("{PRODUCTS}?limit=2&offset=2"), None).await;
    assert_eq!(page.header("x-total-count"), Some("5"));
    assert_eq!(listed_ids(&page), ids[2..4]);

    let beyond = app.get(&format!("{PRODUCTS}?offset=50"), None).await;
    assert_eq!(beyond.json(), json!([]));
    assert_eq!(beyond.header("x-total-count"), Some("5"));
}

#[tokio::test]
async fn the_list_finds_names_by_a_word_or_its_start_ignoring_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app
        .create_product(&admin, "Mechanical Keyboard", 999, 1)
        .await;
    app.create_product(&admin, "Mouse", 500, 1).await;
    let keycap = app.create_product(&admin, "KEYCAP set", 300, 1).await;

    let response = app
        .get(&format!("{PRODUCTS}?q=key&sort=price_desc"), None)
        .await;
    assert_eq!(response.header("x-total-count"), Some("2"));
    assert_eq!(listed_ids(&response), [keyboard, keycap]);
    let word = app.get(&format!("{PRODUCTS}?q=KEYBOARD"), None).await;
    assert_eq!(listed_ids(&word), [keyboard]);

    let wildcard = app.get(&format!("{PRODUCTS}?q=%25"), None).await;
    assert_eq!(
        wildcard.header("x-total-count"),
        Some("0"),
        "% is a character, not a pattern"
    );
}

#[tokio::test]
async fn the_list_filters_on_availability() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let in_stock = app.create_product(&admin, "In stock", 100, 3).await;
    let empty = app.create_product(&admin, "Empty shelf", 100, 0).await;
    let all_reserved = app.create_product(&admin, "All reserved", 100, 2).await;
    assert_eq!(
        reserve(&app, 1, json!([{"product_id": all_reserved, "qty": 2}]))
            .await
            .status,
        200
    );

    assert_eq!(
        listed_ids(&app.get(&format!("{PRODUCTS}?available=true"), None).await),
        [in_stock]
    );
    assert_eq!(
        listed_ids(
            &app.get(&format!("{PRODUCTS}?available=false&sort=price_asc"), None)
                .await
        ),
        [empty, all_reserved]
    );
    let reserved_out = app.get(&product_path(all_reserved), None).await.json();
    assert_eq!(reserved_out["available"], false);
    assert_eq!(reserved_out["reserved"], 2);
}

// Updating -------------------------------------------------------------------------------

#[tokio::test]
async fn put_replaces_every_field_and_requires_the_stock() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = create(
        &app,
        &admin,
        json!({"name": "Keyboard", "price": 999, "stock": 5, "description": "clicky", "currency": "EUR"}),
    )
    .await
    .json();
    let id = created["id"].as_i64().unwrap();

    let replaced = app
        .put(
            &product_path(id),
            &json!({"name": "Quiet keyboard", "price": 1299, "stock": 7}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    let product = replaced.json();
    assert_eq!(product["name"], "Quiet keyboard");
    assert_eq!(product["price"], 1299);
    assert_eq!(product["stock"], 7);
    assert_eq!(
        product["description"],
        Value::Null,
        "replaced by its default"
    );
    assert_eq!(product["currency"], "USD", "replaced by its default");
    assert_eq!(product["created_at"], created["created_at"]);

    let without_stock = app
        .put(
            &product_path(id),
            &json!({"name": "K", "price": 1}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(without_stock.status, 400);
    assert_eq!(without_stock.error_field(), "stock");

    let missing = app
        .put(
            &product_path(id + 1000),
            &json!({"name": "K", "price": 1, "stock": 1}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = create(
        &app,
        &admin,
        json!({"name": "Keyboard", "price": 999, "stock": 5, "description": "clicky"}),
    )
    .await
    .json()["id"]
        .as_i64()
        .unwrap();

    let patched = app
        .patch(
            &product_path(id),
            &json!({"price": 899}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let product = patched.json();
    assert_eq!(product["price"], 899);
    assert_eq!(product["name"], "Keyboard");
    assert_eq!(product["description"], "clicky");
    assert_eq!(product["stock"], 5);

    let cleared = app
        .patch(
            &product_path(id),
            &json!({"description": ""}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(cleared.json()["description"], Value::Null);

    let restocked = app
        .patch(
            &product_path(id),
            &json!({"stock": 0, "name": "Old keyboard"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(restocked.json()["stock"], 0);
    assert_eq!(restocked.json()["available"], false);
    assert_eq!(restocked.json()["name"], "Old keyboard");

    let empty = app
        .patch(&product_path(id), &json!({}), Some(&admin.access_token))
        .await;
    assert_eq!(empty.status, 400);
    let invalid = app
        .patch(
            &product_path(id),
            &json!({"currency": "eur"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.error_field(), "currency");
    let missing = app
        .patch(
            &product_path(id + 1000),
            &json!({"price": 1}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn changing_the_catalog_requires_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = app.register("dave@example.com", "password-1").await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    let body = json!({"name": "Hacked", "price": 1, "stock": 0});

    for token in [None, Some(customer.access_token.as_str())] {
        let expected = if token.is_none() { 401 } else { 403 };
        assert_eq!(
            app.put(&product_path(id), &body, token).await.status,
            expected
        );
        assert_eq!(
            app.patch(&product_path(id), &body, token).await.status,
            expected
        );
        assert_eq!(app.delete(&product_path(id), token).await.status, expected);
        assert_eq!(
            app.put(&stock_path(id), &json!({"stock": 0}), token)
                .await
                .status,
            expected
        );
    }
    let product = app.get(&product_path(id), None).await.json();
    assert_eq!(product["name"], "Keyboard");
    assert_eq!(product["stock"], 5);
}

// Deleting and archiving --------------------------------------------------------------------

#[tokio::test]
async fn deleting_a_never_reserved_product_erases_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;

    let response = app
        .delete(&product_path(id), Some(&admin.access_token))
        .await;
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
    assert_eq!(app.get(&product_path(id), None).await.status, 404);
    assert_eq!(
        app.delete(&product_path(id), Some(&admin.access_token))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn deleting_a_product_with_an_open_reservation_archives_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    assert_eq!(
        reserve(&app, 7, json!([{"product_id": id, "qty": 2}]))
            .await
            .status,
        200
    );

    let response = app
        .delete(&product_path(id), Some(&admin.access_token))
        .await;
    assert_eq!(response.status, 204);

    let product = app.get(&product_path(id), None).await;
    assert_eq!(product.status, 200, "archived products still read by id");
    assert_eq!(product.json()["archived"], true);
    assert_eq!(product.json()["available"], false);
    assert_eq!(
        product.json()["reserved"],
        2,
        "the open reservation is kept"
    );
    assert_eq!(app.stock_of(id).await, (5, 2, 0));

    assert_eq!(
        app.get(PRODUCTS, None).await.header("x-total-count"),
        Some("0")
    );
    let with_archived = app
        .get(&format!("{PRODUCTS}?include_archived=true"), None)
        .await;
    assert_eq!(with_archived.header("x-total-count"), Some("1"));

    let refused = reserve(&app, 8, json!([{"product_id": id, "qty": 1}])).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.error_code(), "insufficient_stock");
    assert_eq!(refused.json()["error"]["details"]["available"], 0);

    // The open reservation can still be paid for.
    assert_eq!(commit(&app, 7).await.status, 200);
    assert_eq!(app.stock_of(id).await, (3, 0, 0));
    assert_eq!(
        app.delete(&product_path(id), Some(&admin.access_token))
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn deleting_a_product_with_a_committed_reservation_archives_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    assert_eq!(
        reserve(&app, 7, json!([{"product_id": id, "qty": 1}]))
            .await
            .status,
        200
    );
    assert_eq!(commit(&app, 7).await.status, 200);

    assert_eq!(
        app.delete(&product_path(id), Some(&admin.access_token))
            .await
            .status,
        204
    );
    let product = app.get(&product_path(id), None).await.json();
    assert_eq!(product["archived"], true);
    assert_eq!(product["available"], false);
    assert_eq!(product["stock"], 4);
}

// Stock ------------------------------------------------------------------------------------

#[tokio::test]
async fn stock_is_read_by_anyone_and_set_by_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;

    let level = app.get(&stock_path(id), None).await;
    assert_eq!(level.status, 200);
    assert_eq!(
        level.json(),
        json!({"product_id": id, "stock": 5, "reserved": 0, "available": 5})
    );

    let set = app
        .put(
            &stock_path(id),
            &json!({"stock": 12}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(
        set.json(),
        json!({"product_id": id, "stock": 12, "reserved": 0, "available": 12})
    );

    let negative = app
        .put(
            &stock_path(id),
            &json!({"stock": -1}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(negative.status, 400);
    assert_eq!(negative.error_field(), "stock");
    let missing = app
        .put(
            &stock_path(id + 1000),
            &json!({"stock": 1}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(app.get(&stock_path(id + 1000), None).await.status, 404);
}

#[tokio::test]
async fn stock_below_what_is_reserved_is_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;
    assert_eq!(
        reserve(&app, 1, json!([{"product_id": id, "qty": 3}]))
            .await
            .status,
        200
    );

    let set = app
        .put(
            &stock_path(id),
            &json!({"stock": 2}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(set.status, 409, "{}", set.text());
    assert_eq!(set.error_code(), "conflict");
    assert_eq!(set.json()["error"]["details"]["reserved"], 3);
    let patched = app
        .patch(
            &product_path(id),
            &json!({"stock": 1}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(patched.status, 409);
    let replaced = app
        .put(
            &product_path(id),
            &json!({"name": "K", "price": 1, "stock": 0}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(replaced.status, 409);
    assert_eq!(
        app.get(&product_path(id), None).await.json()["name"],
        "Keyboard"
    );
    assert_eq!(app.stock_of(id).await, (5, 3, 2));

    let exactly_reserved = app
        .put(
            &stock_path(id),
            &json!({"stock": 3}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(exactly_reserved.status, 200);
    assert_eq!(app.stock_of(id).await, (3, 3, 0));
}

// Reservations -------------------------------------------------------------------------------

#[tokio::test]
async fn reserving_holds_stock_for_every_item() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let mouse = app.create_product(&admin, "Mouse", 500, 2).await;

    let response = reserve(
        &app,
        41,
        json!([{"product_id": mouse, "qty": 2}, {"product_id": keyboard, "qty": 3}]),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let reservation = response.json();
    assert_eq!(reservation["order_id"], 41);
    assert_eq!(reservation["status"], "reserved");
    let mut items = reservation["items"].as_array().unwrap().clone();
    items.sort_by_key(|item| item["product_id"].as_i64());
    assert_eq!(
        items,
        [
            json!({"product_id": keyboard, "qty": 3, "name": "Keyboard", "price": 999, "currency": "USD"}),
            json!({"product_id": mouse, "qty": 2, "name": "Mouse", "price": 500, "currency": "USD"})
        ]
    );
    assert_eq!(app.stock_of(keyboard).await, (5, 3, 2));
    assert_eq!(app.stock_of(mouse).await, (2, 2, 0));
    assert_eq!(
        app.get(&product_path(mouse), None).await.json()["available"],
        false
    );
}

#[tokio::test]
async fn reserving_beyond_stock_returns_409_and_holds_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let mouse = app.create_product(&admin, "Mouse", 500, 2).await;

    let response = reserve(
        &app,
        42,
        json!([{"product_id": keyboard, "qty": 1}, {"product_id": mouse, "qty": 3}]),
    )
    .await;
    assert_eq!(response.status, 409, "{}", response.text());
    assert_eq!(response.error_code(), "insufficient_stock");
    assert_eq!(
        response.json()["error"]["details"],
        json!({"product_id": mouse, "requested": 3, "available": 2})
    );
    assert!(response.text().contains(&format!("product {mouse}")));
    assert_eq!(
        app.stock_of(keyboard).await,
        (5, 0, 5),
        "the keyboard line was rolled back"
    );
    assert_eq!(app.stock_of(mouse).await, (2, 0, 2));
    assert_eq!(app.count("catalog.reservations").await, 0);

    // The same order may try again once the shortfall is fixed.
    app.put(
        &stock_path(mouse),
        &json!({"stock": 3}),
        Some(&admin.access_token),
    )
    .await;
    let retry = reserve(
        &app,
        42,
        json!([{"product_id": keyboard, "qty": 1}, {"product_id": mouse, "qty": 3}]),
    )
    .await;
    assert_eq!(retry.status, 200);
    assert_eq!(app.stock_of(mouse).await, (3, 3, 0));
}

#[tokio::test]
async fn reserving_an_unknown_product_is_404_and_holds_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let response = reserve(
        &app,
        43,
        json!([{"product_id": keyboard, "qty": 1}, {"product_id": keyboard + 1000, "qty": 1}]),
    )
    .await;
    assert_eq!(response.status, 404);
    assert_eq!(response.error_code(), "not_found");
    assert_eq!(app.stock_of(keyboard).await, (5, 0, 5));
    assert_eq!(app.count("catalog.reservations").await, 0);
}

#[tokio::test]
async fn reserving_twice_for_one_order_returns_the_first_reservation() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let first = reserve(&app, 44, json!([{"product_id": keyboard, "qty": 2}])).await;
    assert_eq!(first.status, 200);

    let again = reserve(&app, 44, json!([{"product_id": keyboard, "qty": 2}])).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), first.json());
    let different = reserve(&app, 44, json!([{"product_id": keyboard, "qty": 5}])).await;
    assert_eq!(different.status, 200);
    assert_eq!(
        different.json()["items"],
        json!([{"product_id": keyboard, "qty": 2, "name": "Keyboard", "price": 999, "currency": "USD"}])
    );
    assert_eq!(app.stock_of(keyboard).await, (5, 2, 3), "held once");
}

#[tokio::test]
async fn order_and_product_ids_may_be_numeric_strings() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let response = app
        .post_internal(
            "/api/products/internal/reserve",
            &json!({"order_id": "45", "items": [{"product_id": keyboard.to_string(), "qty": 1}]}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["order_id"], 45);
    let released = app
        .post_internal("/api/products/internal/release", &json!({"order_id": "45"}))
        .await;
    assert_eq!(released.status, 200);
    assert_eq!(released.json()["status"], "released");
}

#[tokio::test]
async fn invalid_reservations_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5000).await;
    let cases = [
        (json!({"order_id": 1, "items": []}), "items"),
        (
            json!({"order_id": 1, "items": [{"product_id": keyboard, "qty": 0}]}),
            "items[0].qty",
        ),
        (
            json!({"order_id": 1, "items": [{"product_id": keyboard, "qty": 1001}]}),
            "items[0].qty",
        ),
        (
            json!({"order_id": 1, "items": [{"product_id": keyboard, "qty": 1}, {"product_id": keyboard, "qty": 1}]}),
            "items[1].product_id",
        ),
        (
            json!({"order_id": "abc", "items": [{"product_id": keyboard, "qty": 1}]}),
            "order_id",
        ),
        (
            json!({"order_id": 0, "items": [{"product_id": keyboard, "qty": 1}]}),
            "order_id",
        ),
        (
            json!({"order_id": 1, "items": [{"product_id": keyboard, "qty": "1"}]}),
            "items[0].qty",
        ),
    ];
    for (body, expected_field) in cases {
        let response = app
            .post_internal("/api/products/internal/reserve", &body)
            .await;
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert_eq!(
            response.error_field(),
            expected_field,
            "{body}: {}",
            response.text()
        );
    }
    let missing = app
        .post_internal("/api/products/internal/reserve", &json!({"order_id": 1}))
        .await;
    assert_eq!(missing.status, 400);
    assert!(missing.text().contains("items"));
    assert_eq!(app.stock_of(keyboard).await, (5000, 0, 5000));
    assert_eq!(app.count("catalog.reservations").await, 0);
}

#[tokio::test]
async fn releasing_returns_the_reserved_units_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    let mouse = app.create_product(&admin, "Mouse", 500, 2).await;
    reserve(
        &app,
        60,
        json!([{"product_id": keyboard, "qty": 3}, {"product_id": mouse, "qty": 1}]),
    )
    .await;
    reserve(&app, 61, json!([{"product_id": keyboard, "qty": 1}])).await;

    let released = release(&app, 60).await;
    assert_eq!(released.status, 200, "{}", released.text());
    assert_eq!(released.json()["status"], "released");
    assert_eq!(released.json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.stock_of(keyboard).await,
        (5, 1, 4),
        "order 61 keeps its unit"
    );
    assert_eq!(app.stock_of(mouse).await, (2, 0, 2));

    let again = release(&app, 60).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["status"], "released");
    assert_eq!(app.stock_of(keyboard).await, (5, 1, 4), "returned once");

    let repeat_reserve = reserve(&app, 60, json!([{"product_id": keyboard, "qty": 3}])).await;
    assert_eq!(
        repeat_reserve.json()["status"],
        "released",
        "a released order holds nothing again"
    );
    assert_eq!(app.stock_of(keyboard).await, (5, 1, 4));
}

#[tokio::test]
async fn releasing_an_unknown_order_prevents_a_late_reservation() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;

    let released = release(&app, 70).await;
    assert_eq!(released.status, 200);
    assert_eq!(released.json()["status"], "released");
    assert_eq!(released.json()["items"], json!([]));

    let late = reserve(&app, 70, json!([{"product_id": keyboard, "qty": 2}])).await;
    assert_eq!(late.status, 200);
    assert_eq!(late.json()["status"], "released");
    assert_eq!(app.stock_of(keyboard).await, (5, 0, 5));
}

#[tokio::test]
async fn committing_takes_the_units_off_the_shelf_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    reserve(&app, 80, json!([{"product_id": keyboard, "qty": 2}])).await;
    reserve(&app, 81, json!([{"product_id": keyboard, "qty": 1}])).await;

    let committed = commit(&app, 80).await;
    assert_eq!(committed.status, 200, "{}", committed.text());
    assert_eq!(committed.json()["status"], "committed");
    assert_eq!(app.stock_of(keyboard).await, (3, 1, 2));

    let again = commit(&app, 80).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["status"], "committed");
    assert_eq!(app.stock_of(keyboard).await, (3, 1, 2), "taken once");
}

#[tokio::test]
async fn finished_reservations_refuse_the_other_ending() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let keyboard = app.create_product(&admin, "Keyboard", 999, 5).await;
    reserve(&app, 90, json!([{"product_id": keyboard, "qty": 2}])).await;
    reserve(&app, 91, json!([{"product_id": keyboard, "qty": 1}])).await;
    commit(&app, 90).await;
    release(&app, 91).await;

    let release_committed = release(&app, 90).await;
    assert_eq!(release_committed.status, 409);
    assert_eq!(release_committed.error_code(), "invalid_state");
    let commit_released = commit(&app, 91).await;
    assert_eq!(commit_released.status, 409);
    assert_eq!(commit_released.error_code(), "invalid_state");
    let commit_unknown = commit(&app, 92).await;
    assert_eq!(commit_unknown.status, 404);
    assert_eq!(app.stock_of(keyboard).await, (3, 0, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_simultaneous_reservations_for_ten_units_hold_exactly_ten() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Hot item", 100, 10).await;

    let responses = futures::future::join_all(
        (1..=50)
            .map(|order_id| reserve(&app, order_id, json!([{"product_id": product, "qty": 1}]))),
    )
    .await;

    let held = responses.iter().filter(|r| r.status == 200).count();
    for response in responses.iter().filter(|r| r.status != 200) {
        assert_eq!(response.status, 409, "{}", response.text());
        assert_eq!(response.error_code(), "insufficient_stock");
    }
    assert_eq!(held, 10);
    assert_eq!(app.stock_of(product).await, (10, 10, 0));
    let (stock, reserved, open): (i64, i64, i64) = {
        let row = app
            .db()
            .await
            .query_one(
                "SELECT p.stock, p.reserved, \
                   (SELECT count(*) FROM catalog.reservations WHERE status = 'reserved') \
                 FROM catalog.products p WHERE p.id = $1",
                &[&product],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!((stock, reserved, open), (10, 10, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn simultaneous_repeats_of_one_reservation_hold_stock_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Hot item", 100, 10).await;

    let responses = futures::future::join_all(
        (0..20).map(|_| reserve(&app, 99, json!([{"product_id": product, "qty": 3}]))),
    )
    .await;
    for response in &responses {
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.json()["status"], "reserved");
    }
    assert_eq!(app.stock_of(product).await, (10, 3, 7));

    let releases = futures::future::join_all((0..10).map(|_| release(&app, 99))).await;
    assert!(releases.iter().all(|r| r.status == 200));
    assert_eq!(app.stock_of(product).await, (10, 0, 10), "returned once");
}

// Routing -------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_methods_are_405_and_unknown_paths_404() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let id = app.create_product(&admin, "Keyboard", 999, 5).await;

    for (method, path) in [
        ("DELETE", PRODUCTS.to_string()),
        ("POST", product_path(id)),
        ("DELETE", stock_path(id)),
        ("POST", "/api/products/healthz".to_string()),
    ] {
        let response = app
            .request(method, &path, None, Some(&admin.access_token))
            .await;
        assert_eq!(response.status, 405, "{method} {path}");
        assert_eq!(response.error_code(), "method_not_allowed");
    }
    // Under the internal prefix the service token is checked first: without it any
    // method is 403; with it a wrong method is 405.
    let token = app.service_token("orders");
    for path in [
        "/api/products/internal/reserve",
        "/api/products/internal/commit",
    ] {
        let response = app.get(path, Some(&admin.access_token)).await;
        assert_eq!(response.status, 403, "GET {path}");
        let response = app
            .request_to("GET", path)
            .header(SERVICE_TOKEN_HEADER, &token)
            .send()
            .await;
        assert_eq!(response.status, 405, "GET {path} with the service token");
        assert_eq!(response.error_code(), "method_not_allowed");
    }
    for path in [
        "/api/products",
        "/api/products/nothing",
        &format!("{}/extra", stock_path(id)),
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.error_code(), "not_found");
    }
}

/// Admin rights come from the account as users knows it now, not from the token:
/// a demoted admin, one who logged out and one whose account is gone are refused at
/// once, while their tokens have not expired.
#[tokio::test]
async fn admins_who_were_demoted_logged_out_or_deleted_can_no_longer_change_the_catalog() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let promote = |email: &'static str| {
        let app = &app;
        let admin = &admin;
        async move {
            let user = app.register(email, "password-1").await;
            let path = format!("/api/users/users/{}", user.user_id);
            let promoted = app
                .patch(&path, &json!({"role": "admin"}), Some(&admin.access_token))
                .await;
            assert_eq!(promoted.status, 200, "{}", promoted.text());
            let login = app.login(email, "password-1").await;
            assert_eq!(login.status, 200, "{}", login.text());
            (
                path,
                spinshop_tests::session_from(&login.json(), email, "password-1"),
            )
        }
    };
    let create = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/api/products/products",
                &json!({"name": "Lamp", "price": 100, "stock": 1}),
                Some(&token),
            )
            .await
            .status
        }
    };

    let (demoted_path, demoted) = promote("demoted@example.com").await;
    assert_eq!(create(demoted.access_token.clone()).await, 201);
    let demotion = app
        .patch(
            &demoted_path,
            &json!({"role": "customer"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(demotion.status, 200, "{}", demotion.text());
    assert_eq!(create(demoted.access_token.clone()).await, 403);

    let (_, leaving) = promote("leaving@example.com").await;
    let logout = app
        .post(
            "/api/users/auth/logout",
            &json!({"refresh_token": leaving.refresh_token}),
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(create(leaving.access_token.clone()).await, 401);

    let (deleted_path, deleted) = promote("deleted@example.com").await;
    let deletion = app.delete(&deleted_path, Some(&admin.access_token)).await;
    assert_eq!(deletion.status, 204, "{}", deletion.text());
    assert_eq!(create(deleted.access_token.clone()).await, 401);

    let products = app.get("/api/products/products", None).await;
    assert_eq!(listed_ids(&products).len(), 1, "{}", products.text());
}
