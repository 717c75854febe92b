//! The app's edges: bytes no text column can hold, paths no service serves, and
//! methods a path does not accept. Every answer under `/api/` is the JSON envelope
//! with an `x-request-id`, and a refused request changes nothing.

use serde_json::{Value, json};
use spinshop_tests::{Response, TestApp};

const NUL: &str = "a\u{0}b";

fn assert_refused(response: &Response, field: &str, what: &str) {
    assert_eq!(response.status, 400, "{what}: {}", response.text());
    assert_eq!(response.error_code(), "validation_error", "{what}");
    assert_eq!(
        response.json()["error"]["details"]["field"],
        field,
        "{what}"
    );
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let admin_token = Some(admin.access_token.as_str());
    let product = app.create_product(&admin, "Lamp", 1500, 5).await;
    let customer = app.register("nul@example.com", "password-1").await;
    let token = Some(customer.access_token.as_str());
    let before = [
        app.count("users.users").await,
        app.count("catalog.products").await,
        app.count("orders.orders").await,
    ];

    let register = app
        .post(
            "/api/users/auth/register",
            &json!({"email": format!("x{NUL}@example.com"), "password": "password-1"}),
            None,
        )
        .await;
    assert_refused(&register, "email", "register email");
    let register = app
        .post(
            "/api/users/auth/register",
            &json!({"email": "named@example.com", "password": "password-1", "name": NUL}),
            None,
        )
        .await;
    assert_refused(&register, "name", "register name");
    let login = app
        .post(
            "/api/users/auth/login",
            &json!({"email": NUL, "password": "password-1"}),
            None,
        )
        .await;
    assert_refused(&login, "email", "login email");
    let form_login = app
        .request_to("POST", "/api/users/auth/login")
        .body(
            "application/x-www-form-urlencoded",
            "username=a%00b&password=password-1",
        )
        .send()
        .await;
    assert_refused(&form_login, "username", "form login");
    let profile = app
        .patch("/api/users/users/me", &json!({"name": NUL}), token)
        .await;
    assert_refused(&profile, "name", "profile name");

    for (body, field) in [
        (json!({"name": NUL, "price": 100, "stock": 1}), "name"),
        (
            json!({"name": "Desk", "description": NUL, "price": 100, "stock": 1}),
            "description",
        ),
    ] {
        let created = app.post("/api/products/products", &body, admin_token).await;
        assert_refused(&created, field, "create product");
    }
    let edited = app
        .patch(
            &format!("/api/products/products/{product}"),
            &json!({"description": NUL}),
            admin_token,
        )
        .await;
    assert_refused(&edited, "description", "edit product");
    let search = app.get("/api/products/products?q=a%00b", None).await;
    assert_refused(&search, "q", "search");

    let order = |field: &str| {
        let mut body = json!({"items": [{"product_id": product, "qty": 1}]});
        body[field] = Value::from(NUL);
        body
    };
    for field in ["shipping_address", "notes"] {
        let placed = app.post("/api/orders/orders", &order(field), token).await;
        assert_refused(&placed, field, "place order");
    }

    let added = app.add_to_cart(&customer, product, 1).await;
    assert_eq!(added.status, 200, "{}", added.text());
    let checkout = app
        .post("/api/carts/cart/checkout", &json!({"notes": NUL}), token)
        .await;
    assert_refused(&checkout, "notes", "cart checkout");

    let after = [
        app.count("users.users").await,
        app.count("catalog.products").await,
        app.count("orders.orders").await,
    ];
    assert_eq!(before, after, "users, products and orders are unchanged");
    let lamp = app
        .get(&format!("/api/products/products/{product}"), None)
        .await
        .json();
    assert_eq!(lamp["reserved"], 0, "nothing was reserved: {lamp}");
    let cart = app.cart(&customer).await;
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(1), "{cart}");
}

#[tokio::test]
async fn api_paths_no_service_serves_answer_with_the_envelope() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("POST", "/api"),
        ("GET", "/api/nothing/here"),
        ("DELETE", "/api/../api/etc/passwd"),
        ("GET", "/api/users/no-such-route"),
    ] {
        let response = app.request(method, path, None, None).await;
        assert_eq!(response.status, 404, "{method} {path}: {}", response.text());
        assert_eq!(response.error_code(), "not_found", "{method} {path}");
        assert_eq!(
            response.header("content-type"),
            Some("application/json"),
            "{method} {path}"
        );
        assert!(
            response
                .header("x-request-id")
                .is_some_and(|id| !id.is_empty()),
            "{method} {path} has an x-request-id"
        );
    }
    // Outside /api/ the storefront answers: an unknown path is its HTML 404 page.
    for (method, path) in [
        ("GET", "/favicon.ico"),
        ("DELETE", "/wp-admin/../etc/passwd"),
    ] {
        let response = app.request(method, path, None, None).await;
        assert_eq!(response.status, 404, "{method} {path}");
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{method} {path}"
        );
        assert!(response.header("x-request-id").is_some());
    }
    // A caller's request id is kept, as on every other route.
    let response = app
        .request_to("GET", "/nowhere")
        .header("x-request-id", "trace-404")
        .send()
        .await;
    assert_eq!(response.header("x-request-id"), Some("trace-404"));
}

#[tokio::test]
async fn a_wrong_method_answers_405_with_the_methods_the_path_accepts() {
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        ("DELETE", "/api/users/healthz", "GET"),
        ("GET", "/api/users/auth/login", "POST"),
        ("POST", "/api/users/auth/introspect", "GET"),
        ("POST", "/api/users/users/me", "GET, PATCH, DELETE"),
        (
            "POST",
            "/api/products/products/1",
            "GET, PUT, PATCH, DELETE",
        ),
        ("POST", "/api/products/products/1/stock", "GET, PUT"),
        ("DELETE", "/api/orders/orders", "GET, POST"),
        ("GET", "/api/orders/orders/1/cancel", "POST"),
        ("PUT", "/api/payments/payments/1", "GET"),
        ("GET", "/api/payments/pay", "POST"),
        ("PUT", "/api/carts/cart", "GET, DELETE"),
        ("GET", "/api/carts/cart/items/1", "PATCH, DELETE"),
    ] {
        let response = app.request(method, path, None, None).await;
        assert_eq!(response.status, 405, "{method} {path}: {}", response.text());
        assert_eq!(
            response.error_code(),
            "method_not_allowed",
            "{method} {path}"
        );
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
        assert!(response.header("x-request-id").is_some(), "{method} {path}");
    }
}
