//! The whole shopping flow across components, once with Spin's service chaining
//! (`http://<component>.spin.internal`) and once with self-requests through the public
//! router (Fermyon Cloud's way), the two values of `internal_mode`.

use serde_json::json;
use spinshop_tests::TestApp;

async fn order_pay_and_check_out(app: &TestApp) {
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Keyboard", 999, 5).await;
    let customer = app.register("flow@example.com", "password-1").await;
    let token = Some(customer.access_token.as_str());

    let placed = app
        .post(
            "/api/orders/orders",
            &json!({"user_id": customer.user_id, "items": [{"product_id": product, "qty": 2}]}),
            token,
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text());
    let order = placed.json();
    assert_eq!(order["total"], 1998);
    assert_eq!(order["items"][0]["name"], "Keyboard");

    let pay = json!({"order_id": order["id"].to_string(), "amount": 1998, "method": "card"});
    let request = |key: &str| {
        http::Request::builder()
            .method("POST")
            .uri("/api/payments/pay")
            .header("authorization", format!("Bearer {}", customer.access_token))
            .header("content-type", "application/json")
            .header("x-idempotency-key", key)
            .body(bytes::Bytes::from(pay.to_string()))
            .unwrap()
    };
    let paid = app.send(request("flow-1")).await;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let replay = app.send(request("flow-1")).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, paid.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));

    let order = app
        .get(&format!("/api/orders/orders/{}", order["id"]), token)
        .await
        .json();
    assert_eq!(order["status"], "paid");
    assert_eq!(order["payment_status"], "paid");
    let stock = app
        .get(&format!("/api/products/products/{product}/stock"), None)
        .await
        .json();
    assert_eq!(
        (stock["stock"].as_i64(), stock["reserved"].as_i64()),
        (Some(3), Some(0))
    );

    let added = app
        .post(
            "/api/carts/cart/items",
            &json!({"product_id": product, "qty": 1}),
            token,
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text());
    let checkout = app
        .request("POST", "/api/carts/cart/checkout", None, token)
        .await;
    assert_eq!(checkout.status, 201, "{}", checkout.text());
    assert_eq!(checkout.json()["total"], 999);
    let cart = app.get("/api/carts/cart", token).await.json();
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn the_flow_works_with_service_chaining() {
    let app = TestApp::spawn_with_variables(&[("internal_mode", "chaining")]).await;
    order_pay_and_check_out(&app).await;
}

#[tokio::test]
async fn the_flow_works_with_self_requests() {
    let app = TestApp::spawn_with_variables(&[("internal_mode", "self")]).await;
    order_pay_and_check_out(&app).await;
}

#[tokio::test]
async fn self_requests_to_internal_endpoints_still_need_the_service_token() {
    // In self mode internal endpoints are reachable through the public router, so the
    // service credential is all that protects them.
    let app = TestApp::spawn_with_variables(&[("internal_mode", "self")]).await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Mouse", 500, 3).await;
    let refused = app
        .post(
            "/api/products/reserve",
            &json!({"order_id": 1, "items": [{"product_id": product, "qty": 1}]}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(refused.status, 403);
    let stock = app
        .get(&format!("/api/products/products/{product}/stock"), None)
        .await
        .json();
    assert_eq!(stock["reserved"], 0);
}

#[tokio::test]
async fn internal_calls_carry_the_request_id_and_a_service_token() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", move |b| {
        b.intercept(move |outbound| {
            let header = |name: &str| {
                outbound
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            record.lock().unwrap().push((
                outbound.url.clone(),
                header("x-request-id"),
                header("x-service-token").is_some(),
            ));
            None
        })
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", 1500, 2).await;
    let customer = app.register("trace@example.com", "password-1").await;
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/orders/orders")
        .header("authorization", format!("Bearer {}", customer.access_token))
        .header("content-type", "application/json")
        .header("x-request-id", "trace-42")
        .body(bytes::Bytes::from(
            json!({"items": [{"product_id": product, "qty": 1}]}).to_string(),
        ))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-request-id"), Some("trace-42"));

    let seen = seen.lock().unwrap();
    let urls: Vec<&str> = seen.iter().map(|(url, _, _)| url.as_str()).collect();
    assert!(
        urls.iter()
            .any(|u| u.starts_with("http://users.spin.internal/api/users/auth/introspect")),
        "{urls:?}"
    );
    assert!(
        urls.iter()
            .any(|u| u.starts_with("http://products.spin.internal/api/products/reserve")),
        "{urls:?}"
    );
    for (url, request_id, has_token) in seen.iter() {
        assert_eq!(request_id.as_deref(), Some("trace-42"), "{url}");
        assert!(has_token, "{url} carries no service token");
    }
}
