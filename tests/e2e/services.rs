//! What every service does alike, each a table-driven test over the services: their
//! health, their internal prefix, their lists' paging and their request bodies. The
//! health and internal-prefix tables come from spin.toml, so a service is covered
//! as soon as it is declared there.

use bytes::Bytes;
use serde_json::{Value, json};
use spinshop_kit::auth::{SERVICE_TOKEN_HEADER, issue_service_token};
use spinshop_tests::{Session, Shop, TestApp, components, route_prefix, services_with_a_database};

/// spinshop's services with a database: the tables read from spin.toml must hold at
/// least these, so a manifest misread can't leave them empty.
const KNOWN_SERVICES: [&str; 6] = [
    "users",
    "products",
    "orders",
    "payments",
    "carts",
    "notifications",
];

/// The services with a database, read from spin.toml, each with its health path.
fn health_paths() -> Vec<(String, String)> {
    let services = services_with_a_database();
    for known in KNOWN_SERVICES {
        assert!(
            services.iter().any(|service| service == known),
            "{known} is missing from {services:?}"
        );
    }
    services
        .into_iter()
        .map(|service| {
            let path = format!("{}/healthz", route_prefix(&service));
            (service, path)
        })
        .collect()
}

#[tokio::test]
async fn every_service_with_a_database_reports_it_in_its_health() {
    let app = TestApp::spawn().await;
    for (service, path) in health_paths() {
        let response = app.get(&path, None).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        assert_eq!(
            response.json(),
            json!({"ok": true, "service": service, "db": "ok"}),
            "{path}"
        );
    }
}

/// Each service in turn loses its database; the others keep theirs.
#[tokio::test]
async fn a_services_health_is_503_when_its_database_is_unreachable_and_only_its_own() {
    let services = health_paths();
    for (service, path) in &services {
        let unreachable = format!(
            "postgres://spinshop_{service}@127.0.0.1:5432/no_such_database?sslmode=disable"
        );
        let variable = format!("{service}_db_url");
        let app = TestApp::spawn_with_variables(&[(variable.as_str(), unreachable.as_str())]).await;
        let response = app.get(path, None).await;
        assert_eq!(response.status, 503, "{path}: {}", response.text());
        assert_eq!(response.json()["ok"], false, "{path}");
        assert_eq!(response.json()["service"], service.as_str(), "{path}");
        for (other, other_path) in services.iter().filter(|(other, _)| other != service) {
            let response = app.get(other_path, None).await;
            assert_eq!(
                response.status,
                200,
                "{other} while {service} has no database: {}",
                response.text()
            );
        }
    }
}

/// Internal endpoints answer siblings only: every credential that is not a valid
/// service token in its header is refused with 403 before a handler runs, on every
/// endpoint, and changes nothing. So is any path under a service's internal prefix,
/// endpoint or not.
#[tokio::test]
async fn internal_endpoints_refuse_every_caller_without_the_service_token() {
    let app = TestApp::spawn().await;
    let Shop {
        admin,
        customer,
        product,
    } = Shop::open(&app, 5).await;
    let order = app.placed_order(&customer, product, 1).await;
    let id = order["id"].as_i64().expect("an order id");
    assert_eq!(app.stock_of(product).await, (5, 1, 4));

    let bearer = |session: &Session| ("authorization", format!("Bearer {}", session.access_token));
    let wrong_secret = issue_service_token("another-internal-secret-0123456789", "orders")
        .expect("a service token");
    let attempts: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![bearer(&customer)],
        vec![bearer(&admin)],
        vec![(SERVICE_TOKEN_HEADER, admin.access_token.clone())],
        vec![(SERVICE_TOKEN_HEADER, wrong_secret)],
        vec![(SERVICE_TOKEN_HEADER, String::new())],
        vec![(
            "authorization",
            format!("Bearer {}", app.service_token("orders")),
        )],
    ];
    let mut calls: Vec<(String, Value)> = vec![
        (
            "/api/products/internal/reserve".into(),
            json!({"order_id": id + 1, "items": [{"product_id": product, "qty": 2}]}),
        ),
        (
            "/api/products/internal/release".into(),
            json!({"order_id": id}),
        ),
        (
            "/api/products/internal/commit".into(),
            json!({"order_id": id}),
        ),
        (
            "/api/payments/internal/refund-order".into(),
            json!({"order_id": id}),
        ),
    ];
    calls.push((
        "/api/notifications/internal/events".into(),
        json!({"events": [{
            "id": "6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3d", "type": "order.paid", "version": 1,
            "occurred_at": "2025-01-31T12:00:00Z", "source": "orders",
            "aggregate_type": "order", "aggregate_id": id, "sequence": 9,
            "user_id": customer.user_id, "data": {},
        }]}),
    ));
    calls.push((
        "/api/notifications/internal/mail".into(),
        json!({"mails": [{
            "id": "6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3e", "to": customer.email,
            "subject": "s", "text": "t", "html": "h",
        }]}),
    ));
    for transition in ["paid", "payment-failed", "refunded"] {
        calls.push((
            format!("/api/orders/internal/orders/{id}/{transition}"),
            json!({"payment_id": 1}),
        ));
    }
    for component in components() {
        let prefix = route_prefix(&component);
        if !prefix.is_empty() {
            calls.push((format!("{prefix}/internal/no-such-endpoint"), json!({})));
        }
    }

    for headers in &attempts {
        for (path, body) in &calls {
            let mut request = app.request_to("POST", path).json(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await;
            assert_eq!(
                response.status,
                403,
                "{path} with {headers:?}: {}",
                response.text()
            );
            assert_eq!(
                response.error_code(),
                "forbidden",
                "{path} with {headers:?}"
            );
        }
    }

    assert_eq!(app.stock_of(product).await, (5, 1, 4), "nothing changed");
    assert_eq!(
        app.count("notify.events WHERE event_id = '6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3d'")
            .await,
        0
    );
    assert_eq!(
        app.count("notify.mail WHERE mail_id = '6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3e'")
            .await,
        0
    );
    assert_eq!(app.count("catalog.reservations").await, 1);
    let order = app.order(&customer, &order["id"]).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["payment_status"], "unpaid");
    // With the service token the same call goes through.
    let committed = app
        .post_internal("/api/products/internal/commit", &json!({"order_id": id}))
        .await;
    assert_eq!(committed.status, 200, "{}", committed.text());
    assert_eq!(committed.json()["status"], "committed");
}

/// Every list pages with `?limit=` (1 to 100) and `?offset=` (0 or more), and
/// refuses anything else, like a malformed filter of its own, with 400.
#[tokio::test]
async fn every_list_refuses_bad_paging_and_bad_filters_with_400() {
    let app = TestApp::spawn().await;
    let Shop {
        admin, customer, ..
    } = Shop::open(&app, 5).await;
    let paging = [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=ten",
        "offset=-1",
    ];
    let lists: [(&str, Option<&Session>, &[&str]); 7] = [
        ("/api/users/users", Some(&admin), &[]),
        (
            "/api/products/products",
            None,
            &[
                "available=yes",
                "include_archived=1",
                "sort=cheapest",
                "min_price=-1",
                "max_price=ten",
                "category=Not%20a%20slug",
            ],
        ),
        ("/api/orders/orders", Some(&customer), &["user_id=abc"]),
        ("/api/payments/payments", Some(&customer), &["order_id=x"]),
        (
            "/api/notifications/notifications",
            Some(&customer),
            &["unread=maybe", "user_id=abc"],
        ),
        ("/api/notifications/events", Some(&admin), &["status=lost"]),
        ("/api/notifications/mail", Some(&admin), &[]),
    ];
    for (path, session, filters) in lists {
        let token = session.map(|session| session.access_token.as_str());
        let fine = app.get(&format!("{path}?limit=100&offset=0"), token).await;
        assert_eq!(fine.status, 200, "{path}: {}", fine.text());
        for query in paging.iter().chain(filters) {
            let response = app.get(&format!("{path}?{query}"), token).await;
            assert_eq!(response.status, 400, "{path}?{query}: {}", response.text());
            assert_eq!(response.error_code(), "validation_error", "{path}?{query}");
        }
    }
}

/// Every service's JSON endpoints refuse a body that is not JSON with 400, and one
/// over a mebibyte with 413, before they act on it.
#[tokio::test]
async fn every_service_refuses_malformed_and_oversized_bodies() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app, 5).await;
    let (admin, customer) = (Some(&shop.admin), Some(&shop.customer));
    // Each with what it needs besides a body: a caller, an idempotency key.
    let endpoints: [(&str, Option<&Session>, Option<&str>); 5] = [
        ("/api/users/auth/register", None, None),
        ("/api/products/products", admin, None),
        ("/api/orders/orders", customer, None),
        ("/api/payments/pay", customer, Some("bodies")),
        ("/api/carts/cart/items", customer, None),
    ];
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(1024 * 1024 + 1));
    for (path, session, key) in endpoints {
        let post = |body: Bytes| {
            let mut request = app.request_to("POST", path).body("application/json", body);
            if let Some(session) = session {
                request = request.bearer(&session.access_token);
            }
            if let Some(key) = key {
                request = request.header("x-idempotency-key", key);
            }
            request.send()
        };
        let malformed = post(Bytes::from_static(b"{\"email\": ")).await;
        assert_eq!(malformed.status, 400, "{path}: {}", malformed.text());
        assert_eq!(malformed.error_code(), "validation_error", "{path}");
        let oversized = post(Bytes::from(huge.clone())).await;
        assert_eq!(oversized.status, 413, "{path}: {}", oversized.text());
        assert_eq!(oversized.error_code(), "payload_too_large", "{path}");
    }
    assert_eq!(
        app.count("users.users").await,
        2,
        "the admin and the customer"
    );
    assert_eq!(app.count("catalog.products").await, 1);
    assert_eq!(app.count("orders.orders").await, 0);
    assert_eq!(app.count("payments.payments").await, 0);
    assert_eq!(app.cart(&shop.customer).await["items"], json!([]));
}
