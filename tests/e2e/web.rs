//! The front of the shop: the `web` component's built-in files (types, ETags and 304s,
//! caching, gzip, HEAD), the catch-all (the JSON envelope under `/api/`, an HTML page
//! elsewhere), the headers every page carries, and the front door every component
//! applies (CORS, rate limits per route class, per address and per user).

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::json;
use spinshop_tests::{Response, TestApp, workspace_root};

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    send(app, "GET", path, headers).await
}

async fn send(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Bytes::new()).expect("a request"))
        .await
}

/// The storefront's asset URLs, as the page names them (`/assets/v<version>/...`).
fn asset_url(index: &str, file: &str) -> String {
    let start = index
        .find("/assets/v")
        .expect("the page loads versioned assets");
    let version = &index[start..].split('/').nth(2).expect("a version segment");
    format!("/assets/{version}/{file}")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip body");
    out
}

#[tokio::test]
async fn the_storefront_is_served_as_html_that_browsers_revalidate() {
    let app = TestApp::spawn().await;
    let page = app.get("/", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let etag = page.header("etag").expect("an ETag");
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );
    assert!(page.text().contains("<title>spinshop</title>"));
    assert!(page.header("x-request-id").is_some());

    // The same page again: 304, no body, the same ETag.
    let again = get_with(&app, "/", &[("if-none-match", etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag));
    // A stale ETag gets the page.
    let stale = get_with(&app, "/", &[("if-none-match", "\"not-this-one\"")]).await;
    assert_eq!(stale.status, 200);
}

#[tokio::test]
async fn assets_have_their_types_and_versioned_ones_are_kept_for_a_year() {
    let app = TestApp::spawn().await;
    let index = app.get("/", None).await.text();
    for (file, content_type) in [
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let url = asset_url(&index, file);
        let asset = app.get(&url, None).await;
        assert_eq!(asset.status, 200, "{url}");
        assert_eq!(asset.header("content-type"), Some(content_type), "{url}");
        assert_eq!(
            asset.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{url}"
        );
        // The same file at its unversioned URL must be revalidated.
        let plain = app.get(&format!("/assets/{file}"), None).await;
        assert_eq!(plain.header("cache-control"), Some("no-cache"));
        assert_eq!(plain.body, asset.body);
    }
    let swagger = app
        .get("/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js", None)
        .await;
    assert_eq!(swagger.status, 200);
    assert_eq!(
        swagger.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn the_api_document_is_served_raw_and_rendered_at_docs() {
    let app = TestApp::spawn().await;
    let yaml = app.get("/docs/openapi.yaml", None).await;
    assert_eq!(yaml.status, 200);
    assert_eq!(yaml.header("content-type"), Some("application/yaml"));
    let on_disk = std::fs::read(workspace_root().join("docs/openapi.yaml")).expect("the file");
    assert_eq!(yaml.body.as_ref(), on_disk.as_slice());

    for path in ["/docs", "/docs/"] {
        let docs = app.get(path, None).await;
        assert_eq!(docs.status, 200, "{path}");
        assert_eq!(
            docs.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = docs.text();
        assert!(html.contains("swagger-ui-bundle.js"), "{html}");
        assert!(!html.contains("<script>"), "no inline script");
    }
}

#[tokio::test]
async fn text_is_gzipped_for_clients_that_take_it() {
    let app = TestApp::spawn().await;
    let plain = app.get("/docs/openapi.yaml", None).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));

    let zipped = get_with(
        &app,
        "/docs/openapi.yaml",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some("application/yaml"));
    assert!(zipped.body.len() < plain.body.len() / 3, "well compressed");
    assert_eq!(gunzip(&zipped.body), plain.body.as_ref());
    // Another representation, another strong ETag; either revalidates.
    let gzip_etag = zipped.header("etag").expect("an ETag");
    assert_ne!(Some(gzip_etag), plain.header("etag"));
    let revalidated = get_with(
        &app,
        "/docs/openapi.yaml",
        &[("accept-encoding", "gzip"), ("if-none-match", gzip_etag)],
    )
    .await;
    assert_eq!(revalidated.status, 304);

    // Refused by weight: the file as it is.
    let refused = get_with(
        &app,
        "/docs/openapi.yaml",
        &[("accept-encoding", "gzip;q=0")],
    )
    .await;
    assert_eq!(refused.header("content-encoding"), None);
}

#[tokio::test]
async fn head_answers_the_headers_without_the_body() {
    let app = TestApp::spawn().await;
    let head = send(&app, "HEAD", "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(head.header("etag").is_some());
    assert!(head.body.is_empty());
    let missing = send(&app, "HEAD", "/nothing-here", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn unknown_paths_get_the_envelope_under_api_and_a_page_elsewhere() {
    let app = TestApp::spawn().await;
    for path in ["/api/nothing", "/api/nothing/here", "/api"] {
        let answer = app.get(path, None).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.error_code(), "not_found", "{path}");
        assert!(answer.header("x-request-id").is_some());
    }
    let page = app.get("/no/such/page", None).await;
    assert_eq!(page.status, 404);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text().contains("couldn't find that page"));

    let post = app.post("/", &json!({}), None).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_eq!(post.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/docs", "/no-such-page", "/docs/openapi.yaml"] {
        let answer = app.get(path, None).await;
        let csp = answer
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"));
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
    }
    // The services' answers are not to be sniffed either.
    let products = app.get("/api/products/products", None).await;
    assert_eq!(products.header("x-content-type-options"), Some("nosniff"));
}

const SHOP: &str = "https://shop.example";
const EVIL: &str = "https://evil.example";

#[tokio::test]
async fn cross_origin_calls_are_refused_unless_the_origin_is_listed() {
    // Same-origin by default: a foreign page can't read any answer.
    let app = TestApp::spawn().await;
    let answer = get_with(&app, "/api/products/products", &[("origin", SHOP)]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), None);
    let preflight = send(
        &app,
        "OPTIONS",
        "/api/carts/cart/items",
        &[("origin", SHOP), ("access-control-request-method", "POST")],
    )
    .await;
    assert_eq!(preflight.status, 403);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_listed_origin_may_call_every_service() {
    let app = TestApp::spawn_with_variables(&[(
        "cors_allowed_origins",
        "https://shop.example, http://localhost:5173",
    )])
    .await;
    for path in [
        "/api/users/auth/login",
        "/api/products/products",
        "/api/carts/cart/items",
        "/api/orders/orders",
        "/api/payments/pay",
    ] {
        let preflight = send(
            &app,
            "OPTIONS",
            path,
            &[
                ("origin", SHOP),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ],
        )
        .await;
        assert_eq!(preflight.status, 204, "{path}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some(SHOP));
        let headers = preflight
            .header("access-control-allow-headers")
            .expect("allowed headers");
        assert!(headers.contains("authorization") && headers.contains("content-type"));
        assert!(
            preflight
                .header("access-control-allow-methods")
                .is_some_and(|m| m.contains("POST"))
        );
        assert!(
            preflight
                .header("vary")
                .is_some_and(|v| v.contains("origin"))
        );
    }

    let listed = get_with(&app, "/api/products/products", &[("origin", SHOP)]).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.header("access-control-allow-origin"), Some(SHOP));
    assert!(
        listed
            .header("access-control-expose-headers")
            .is_some_and(|h| h.contains("x-total-count"))
    );

    let other = get_with(&app, "/api/products/products", &[("origin", EVIL)]).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
    assert!(other.header("vary").is_some_and(|v| v.contains("origin")));
    let refused = send(
        &app,
        "OPTIONS",
        "/api/products/products",
        &[
            ("origin", EVIL),
            ("access-control-request-method", "DELETE"),
        ],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "forbidden");
}

/// Waits for the start of a fixed window of `seconds`, so a burst of requests falls
/// into one window.
async fn wait_for_a_fresh_window(seconds: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let into = now.as_millis() as u64 % (seconds * 1000);
    tokio::time::sleep(Duration::from_millis(seconds * 1000 - into + 50)).await;
}

fn retry_after(answer: &Response) -> u64 {
    answer
        .header("retry-after")
        .expect("a retry-after header")
        .parse()
        .expect("whole seconds")
}

const WINDOW: u64 = 10;
const LIMITS: &[(&str, &str)] = &[
    ("rate_limit_window_seconds", "10"),
    ("rate_limit_reads", "4"),
    ("rate_limit_writes", "3"),
    ("rate_limit_auth", "2"),
];

#[tokio::test]
async fn reads_past_the_limit_get_429_until_the_window_ends() {
    let app = TestApp::spawn_with_variables(LIMITS).await;
    wait_for_a_fresh_window(WINDOW).await;
    for n in 1..=4 {
        let answer = app.get("/api/products/products", None).await;
        assert_eq!(answer.status, 200, "read {n}");
    }
    let refused = app.get("/api/products/products/1", None).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.error_code(), "rate_limited");
    assert_eq!(refused.header("content-type"), Some("application/json"));
    let wait = retry_after(&refused);
    assert!((1..=WINDOW).contains(&wait), "retry-after {wait}");

    // The storefront's files are not counted: the shop still opens.
    assert_eq!(app.get("/", None).await.status, 200);
    // Another route class has its own count.
    let login = app
        .post(
            "/api/users/auth/login",
            &json!({"email": "nobody@example.com", "password": "wrong-password"}),
            None,
        )
        .await;
    assert_eq!(login.status, 401);

    // Once the window has passed, reads are served again.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(100)).await;
    assert_eq!(app.get("/api/products/products", None).await.status, 200);
}

#[tokio::test]
async fn auth_and_writes_have_limits_of_their_own() {
    let app = TestApp::spawn_with_variables(LIMITS).await;
    let admin = app.admin().await;
    wait_for_a_fresh_window(WINDOW).await;
    let wrong = json!({"email": "nobody@example.com", "password": "wrong-password"});
    for _ in 0..2 {
        let answer = app.post("/api/users/auth/login", &wrong, None).await;
        assert_eq!(answer.status, 401);
    }
    let refused = app.post("/api/users/auth/login", &wrong, None).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.error_code(), "rate_limited");
    assert!(refused.header("retry-after").is_some());

    for n in 1..=3 {
        let answer = app
            .post(
                "/api/products/products",
                &json!({"name": format!("Item {n}"), "price": 100}),
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(answer.status, 201, "write {n}: {}", answer.text());
    }
    let refused = app
        .post(
            "/api/products/products",
            &json!({"name": "One too many", "price": 100}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(refused.status, 429);
    // Reads are still within their own limit.
    assert_eq!(app.get("/api/products/products", None).await.status, 200);
}

#[tokio::test]
async fn password_hashing_has_one_budget_for_the_whole_shop() {
    // A millisecond a second: one hash spends it.
    let app = TestApp::spawn_with_variables(&[("password_hash_ms_per_second", "1")]).await;
    app.register("alice@example.com", "alice-password-1").await;
    wait_for_a_fresh_window(1).await;
    // Right passwords, so no failure is counted: whatever refuses is the budget. Two
    // logins in one second are enough, unless the machine is very slow.
    let mut refused = None;
    for _ in 0..10 {
        let answer = app.login("alice@example.com", "alice-password-1").await;
        if answer.status == 429 {
            refused = Some(answer);
            break;
        }
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    let refused = refused.expect("a second login within a second is refused");
    assert_eq!(refused.error_code(), "rate_limited");
    assert_eq!(retry_after(&refused), 1);
    // Signing up hashes a password too: it draws from the same budget.
    let signup = app
        .post(
            "/api/users/auth/register",
            &json!({"email": "bob@example.com", "password": "bob-password-1"}),
            None,
        )
        .await;
    if signup.status != 201 {
        assert_eq!(signup.status, 429, "{}", signup.text());
    }
    // Nothing else is refused, and a second later logins are served again.
    assert_eq!(app.get("/api/products/products", None).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = app.login("alice@example.com", "alice-password-1").await;
    assert_eq!(later.status, 200, "{}", later.text());
}

#[tokio::test]
async fn a_user_is_limited_across_addresses_and_an_address_across_users() {
    let app = TestApp::spawn_with_variables(LIMITS).await;
    let alice = app.register("alice@example.com", "alice-password-1").await;
    let reason = "it sends requests from several client addresses";
    let from = |last: u8| SocketAddr::from(([10, 0, 0, last], 40000));
    let cart = |token: &str| {
        http::Request::get("/api/carts/cart")
            .header("authorization", format!("Bearer {token}"))
            .body(Bytes::new())
            .expect("a request")
    };
    wait_for_a_fresh_window(WINDOW).await;
    // One user from four addresses: the user's count runs out.
    for n in 1..=4u8 {
        let Some(answer) = app
            .send_from(cart(&alice.access_token), from(n), reason)
            .await
        else {
            return;
        };
        assert_eq!(answer.status, 200, "read {n}");
    }
    let Some(refused) = app
        .send_from(cart(&alice.access_token), from(5), reason)
        .await
    else {
        return;
    };
    assert_eq!(refused.status, 429);
    // Another user (here: no user) from a fresh address is served.
    let anonymous = http::Request::get("/api/products/products")
        .body(Bytes::new())
        .expect("a request");
    let Some(other) = app.send_from(anonymous, from(6), reason).await else {
        return;
    };
    assert_eq!(other.status, 200);
}

/// `rate_limit_clients = "user"` with `rate_limit_user_keys` (Fermyon Cloud's
/// defaults): addresses are not counted at all, and users share a bounded number of
/// counters, those whose ids are equal modulo the number sharing one limit.
#[tokio::test]
async fn users_alone_may_be_counted_in_a_bounded_number_of_shared_counters() {
    let mut limits = LIMITS.to_vec();
    limits.extend([
        ("rate_limit_clients", "user"),
        ("rate_limit_user_keys", "1"),
    ]);
    let app = TestApp::spawn_with_variables(&limits).await;
    let alice = app.register("alice@example.com", "alice-password-1").await;
    let bob = app.register("bob@example.com", "bob-password-1").await;
    wait_for_a_fresh_window(WINDOW).await;
    // No address is counted: anonymous reads go past the limit of 4.
    for n in 1..=6 {
        let answer = app.get("/api/products/products", None).await;
        assert_eq!(answer.status, 200, "anonymous read {n}");
    }
    // One counter for every user: Alice's two reads and Bob's two spend it.
    for (who, n) in [(&alice, 1), (&alice, 2), (&bob, 1), (&bob, 2)] {
        let answer = app.get("/api/carts/cart", Some(&who.access_token)).await;
        assert_eq!(answer.status, 200, "read {n}: {}", answer.text());
    }
    let refused = app.get("/api/carts/cart", Some(&bob.access_token)).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.error_code(), "rate_limited");
}

#[tokio::test]
async fn calls_between_components_are_not_counted() {
    let app = TestApp::spawn_with_variables(LIMITS).await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", 1500, 10).await;
    let shopper = app.register("sam@example.com", "sam-password-1").await;
    wait_for_a_fresh_window(WINDOW).await;
    // Adding to the cart asks products for the price and users who the caller is:
    // those sibling calls carry service tokens and cost the shopper nothing.
    for qty in 1..=3 {
        let answer = app
            .post(
                "/api/carts/cart/items",
                &json!({"product_id": product, "qty": qty}),
                Some(&shopper.access_token),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    // The reads the shopper makes are all still there.
    for n in 1..=4 {
        let answer = app
            .get("/api/carts/cart", Some(&shopper.access_token))
            .await;
        assert_eq!(answer.status, 200, "read {n}");
    }
    // A service token passes even past the address's limit.
    let token = app.service_token("orders");
    let internal = get_with(
        &app,
        &format!("/api/products/products/{product}"),
        &[("x-service-token", &token)],
    )
    .await;
    assert_eq!(internal.status, 200);
    assert_eq!(
        app.get(&format!("/api/products/products/{product}"), None)
            .await
            .status,
        429
    );
}

/// Every answer of a known length says it, so a client on a kept-alive connection never
/// waits on the network to learn where a body ends: on Spin 4 a WASIp3 answer streamed
/// without `content-length` stalled about 40 ms on every request of such a connection.
#[tokio::test]
async fn answers_on_a_kept_alive_connection_say_their_length_and_do_not_stall() {
    let app = TestApp::spawn().await;
    let shop = spinshop_tests::Shop::open(&app, 5).await;
    let address = app.http_address().await;
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("a connection to the app");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("an HTTP/1.1 connection");
    tokio::spawn(connection);
    let paths = [
        "/api/products/products".to_string(),
        format!("/api/products/products/{}", shop.product),
        "/api/products/products/999999".to_string(),
        "/api/nowhere".to_string(),
        "/api/products/healthz".to_string(),
        "/".to_string(),
    ];
    let mut times = Vec::new();
    for _ in 0..5 {
        for path in &paths {
            let request = http::Request::get(path.as_str())
                .header(http::header::HOST, address.to_string())
                .body(http_body_util::Full::new(Bytes::new()))
                .expect("a request");
            let started = std::time::Instant::now();
            let response = sender.send_request(request).await.expect("an answer");
            let length = response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .expect("the body")
                .to_bytes();
            times.push(started.elapsed());
            assert_eq!(length, Some(body.len()), "GET {path}: content-length");
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(
        median < Duration::from_millis(40),
        "the answers on one connection took {median:?} (median): a stall on every request"
    );
}
