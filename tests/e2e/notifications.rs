//! notifications: events delivered to its internal endpoint are stored once by id
//! however often they arrive, reach their user's inbox (newest first, read and
//! unread), and are POSTed, signed, to a webhook the test runs itself: every one,
//! in order per aggregate, also after the webhook was down for a while, with every
//! attempt recorded. Dispatch is for admins, sibling services and a scheduler's key.
//! Last, the same through the producers: what a customer does reaches their inbox,
//! also when notifications was down while they did it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use spinshop_tests::receiver::{Delivery, Receiver};
use spinshop_tests::{Response, Session, TestApp};

const EVENTS: &str = "/api/notifications/internal/events";
const INBOX: &str = "/api/notifications/notifications";
const DISPATCH: &str = "/api/notifications/dispatch";
const WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789";
const DISPATCH_KEY: &str = "test-dispatch-key-0123";

/// An event envelope as a producer's outbox sends it, with a fresh id.
fn event(
    kind: &str,
    (aggregate_type, aggregate_id): (&str, i64),
    sequence: i64,
    user_id: Option<i64>,
    data: Value,
) -> Value {
    let source = match aggregate_type {
        "user" => "users",
        "order" => "orders",
        _ => "payments",
    };
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "type": kind,
        "version": 1,
        "occurred_at": "2025-01-31T12:00:00.000000Z",
        "source": source,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "sequence": sequence,
        "user_id": user_id,
        "data": data,
    })
}

/// Delivers `events` as a producer does: one batch, with a service token.
async fn deliver(app: &TestApp, events: &[Value]) -> Response {
    app.post_internal(EVENTS, &json!({ "events": events }))
        .await
}

async fn deliver_ok(app: &TestApp, events: &[Value]) -> Value {
    let response = deliver(app, events).await;
    assert_eq!(response.status, 200, "deliver: {}", response.text());
    response.json()
}

async fn inbox(app: &TestApp, session: &Session, query: &str) -> Response {
    app.get(&format!("{INBOX}{query}"), Some(&session.access_token))
        .await
}

/// The ids of a JSON array of objects.
fn ids(items: &Value) -> Vec<Value> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item["id"].clone())
        .collect()
}

/// `WHERE event_id IN (...)` for these events, to count their rows.
fn of_events(events: &[Value]) -> String {
    let ids: Vec<String> = events
        .iter()
        .map(|event| format!("'{}'", event["id"].as_str().expect("an id")))
        .collect();
    format!("WHERE event_id IN ({})", ids.join(", "))
}

/// The notification the caller's inbox holds for `event`.
async fn notification_of(app: &TestApp, session: &Session, event: &Value) -> Value {
    let page = inbox(app, session, "?limit=100").await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()
        .as_array()
        .expect("an array")
        .iter()
        .find(|notification| notification["event_id"] == event["id"])
        .cloned()
        .unwrap_or_else(|| panic!("no notification for {}", event["id"]))
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/notifications/healthz", None).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({"ok": true, "service": "notifications", "db": "ok"})
    );
}

#[tokio::test]
async fn delivered_events_reach_their_user_s_inbox_newest_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.register("alice@example.com", "password-1").await;
    let for_admin = [
        event(
            "order.created",
            ("order", 42),
            1,
            Some(admin.user_id),
            json!({"order_id": 42, "total": 1998, "currency": "USD"}),
        ),
        event(
            "order.paid",
            ("order", 42),
            2,
            Some(admin.user_id),
            json!({"order_id": 42}),
        ),
        event(
            "payment.succeeded",
            ("payment", 7),
            1,
            Some(admin.user_id),
            json!({"payment_id": 7, "order_id": 42, "amount": 1998, "currency": "USD"}),
        ),
    ];
    let for_alice = event(
        "order.cancelled",
        ("order", 43),
        1,
        Some(alice.user_id),
        json!({"order_id": 43}),
    );
    let staff_only = event("order.refunded", ("order", 44), 1, None, json!({}));
    let mut batch = for_admin.to_vec();
    batch.extend([for_alice.clone(), staff_only.clone()]);
    assert_eq!(
        deliver_ok(&app, &batch).await,
        json!({"accepted": 5, "duplicates": 0})
    );

    let page = inbox(&app, &admin, "").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.header("x-total-count"), Some("3"));
    let items = page.json();
    let event_ids: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["event_id"])
        .collect();
    let newest_first: Vec<&Value> = for_admin.iter().rev().map(|event| &event["id"]).collect();
    assert_eq!(event_ids, newest_first);
    let newest = &items[0];
    assert_eq!(newest["type"], "payment.succeeded");
    assert_eq!(newest["user_id"], admin.user_id);
    assert_eq!(newest["title"], "Payment received");
    assert_eq!(
        newest["message"],
        "Payment of 19.98 USD for order #42 succeeded."
    );
    assert_eq!(newest["data"]["order_id"], 42);
    assert!(newest["read_at"].is_null());
    assert!(newest["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(items[1]["message"], "Order #42 is paid.");
    assert_eq!(items[2]["message"], "Order #42 was placed: 19.98 USD.");

    let second = inbox(&app, &admin, "?limit=1&offset=1").await;
    assert_eq!(second.header("x-total-count"), Some("3"));
    assert_eq!(second.json()[0]["event_id"], for_admin[1]["id"]);
    assert_eq!(inbox(&app, &admin, "?limit=0").await.status, 400);

    // Alice's inbox holds hers, and nothing of the admin's.
    let hers = inbox(&app, &alice, "?limit=100").await.json();
    let hers: Vec<&Value> = hers
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["event_id"])
        .collect();
    assert!(hers.contains(&&for_alice["id"]), "{hers:?}");
    assert!(for_admin.iter().all(|event| !hers.contains(&&event["id"])));
    // Only an admin reads someone else's.
    let other = format!("?user_id={}", admin.user_id);
    assert_eq!(inbox(&app, &alice, &other).await.status, 403);
    let as_admin = inbox(&app, &admin, &format!("?user_id={}", alice.user_id)).await;
    assert_eq!(as_admin.status, 200);
    assert!(
        as_admin
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["event_id"] == for_alice["id"])
    );
    // An event that names no user is stored, and reaches no inbox.
    let staff_only = std::slice::from_ref(&staff_only);
    assert_eq!(
        app.count(&format!("notify.events {}", of_events(staff_only)))
            .await,
        1
    );
    assert_eq!(
        app.count(&format!("notify.notifications {}", of_events(staff_only)))
            .await,
        0
    );
}

#[tokio::test]
async fn an_event_delivered_again_is_stored_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let first = [
        event(
            "order.created",
            ("order", 5),
            1,
            Some(admin.user_id),
            json!({}),
        ),
        event(
            "order.paid",
            ("order", 5),
            2,
            Some(admin.user_id),
            json!({}),
        ),
    ];
    assert_eq!(
        deliver_ok(&app, &first).await,
        json!({"accepted": 2, "duplicates": 0})
    );
    assert_eq!(
        deliver_ok(&app, &first).await,
        json!({"accepted": 0, "duplicates": 2})
    );
    let third = event(
        "order.cancelled",
        ("order", 5),
        3,
        Some(admin.user_id),
        json!({}),
    );
    assert_eq!(
        deliver_ok(&app, &[first[1].clone(), third.clone()]).await,
        json!({"accepted": 1, "duplicates": 1})
    );
    let all = [first[0].clone(), first[1].clone(), third];
    assert_eq!(
        app.count(&format!("notify.events {}", of_events(&all)))
            .await,
        3
    );
    let page = inbox(&app, &admin, "").await;
    assert_eq!(page.header("x-total-count"), Some("3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_deliveries_of_one_batch_store_each_event_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let batch: Vec<Value> = (1..=3)
        .map(|sequence| {
            event(
                "order.paid",
                ("order", 10 + sequence),
                1,
                Some(admin.user_id),
                json!({}),
            )
        })
        .collect();
    let answers = futures::future::join_all((0..20).map(|_| deliver(&app, &batch))).await;
    let (mut accepted, mut duplicates) = (0, 0);
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.text());
        accepted += answer.json()["accepted"].as_i64().unwrap();
        duplicates += answer.json()["duplicates"].as_i64().unwrap();
    }
    assert_eq!((accepted, duplicates), (3, 57));
    assert_eq!(
        app.count(&format!("notify.events {}", of_events(&batch)))
            .await,
        3
    );
    assert_eq!(
        app.count(&format!("notify.notifications {}", of_events(&batch)))
            .await,
        3
    );
}

async fn unread_count(app: &TestApp, session: &Session) -> i64 {
    let response = app
        .get(
            &format!("{INBOX}/unread-count"),
            Some(&session.access_token),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["unread"].as_i64().unwrap()
}

#[tokio::test]
async fn reading_one_or_all_changes_the_unread_count() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let events: Vec<Value> = (1..=3)
        .map(|id| {
            event(
                "order.paid",
                ("order", id),
                1,
                Some(admin.user_id),
                json!({}),
            )
        })
        .collect();
    deliver_ok(&app, &events).await;
    assert_eq!(unread_count(&app, &admin).await, 3);

    let oldest = notification_of(&app, &admin, &events[0]).await;
    let path = format!("{INBOX}/{}/read", oldest["id"]);
    let read = app.post(&path, &json!({}), Some(&admin.access_token)).await;
    assert_eq!(read.status, 200, "{}", read.text());
    let read = read.json();
    assert_eq!(read["id"], oldest["id"]);
    let read_at = read["read_at"]
        .as_str()
        .expect("read_at is set")
        .to_string();
    // Reading it again keeps the first reading.
    let again = app.post(&path, &json!({}), Some(&admin.access_token)).await;
    assert_eq!(again.json()["read_at"], read_at.as_str());
    assert_eq!(unread_count(&app, &admin).await, 2);

    let unread_page = inbox(&app, &admin, "?unread=true").await;
    assert_eq!(unread_page.header("x-total-count"), Some("2"));
    assert!(!ids(&unread_page.json()).contains(&oldest["id"]));
    let read_page = inbox(&app, &admin, "?unread=false").await;
    assert_eq!(read_page.header("x-total-count"), Some("1"));
    assert_eq!(ids(&read_page.json()), [oldest["id"].clone()]);
    assert_eq!(inbox(&app, &admin, "?unread=maybe").await.status, 400);

    let all = format!("{INBOX}/read-all");
    let marked = app.post(&all, &json!({}), Some(&admin.access_token)).await;
    assert_eq!(marked.status, 200, "{}", marked.text());
    assert_eq!(marked.json(), json!({"marked": 2}));
    assert_eq!(unread_count(&app, &admin).await, 0);
    let marked = app.post(&all, &json!({}), Some(&admin.access_token)).await;
    assert_eq!(marked.json(), json!({"marked": 0}));
    assert_eq!(
        inbox(&app, &admin, "?unread=false")
            .await
            .header("x-total-count"),
        Some("3")
    );
}

#[tokio::test]
async fn another_user_s_notification_is_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.register("alice@example.com", "password-1").await;
    let bob = app.register("bob@example.com", "password-1").await;
    let hers = event(
        "order.paid",
        ("order", 3),
        1,
        Some(alice.user_id),
        json!({}),
    );
    deliver_ok(&app, std::slice::from_ref(&hers)).await;
    let notification = notification_of(&app, &alice, &hers).await;
    let path = format!("{INBOX}/{}/read", notification["id"]);

    for stranger in [&bob, &admin] {
        let response = app
            .post(&path, &json!({}), Some(&stranger.access_token))
            .await;
        assert_eq!(response.status, 404, "{}", response.text());
        assert_eq!(response.error_code(), "not_found");
    }
    // Bob's read-all leaves Alice's alone.
    app.post(
        &format!("{INBOX}/read-all"),
        &json!({}),
        Some(&bob.access_token),
    )
    .await;
    assert!(
        notification_of(&app, &alice, &hers).await["read_at"].is_null(),
        "another user's read-all marked it"
    );
    let mine = app.post(&path, &json!({}), Some(&alice.access_token)).await;
    assert_eq!(mine.status, 200);
    for missing in ["999999", "0", "abc"] {
        let response = app
            .post(
                &format!("{INBOX}/{missing}/read"),
                &json!({}),
                Some(&alice.access_token),
            )
            .await;
        assert_eq!(response.status, 404, "{missing}");
    }
    assert_eq!(app.get(INBOX, None).await.status, 401);
    let get_read = app.get(&path, Some(&alice.access_token)).await;
    assert_eq!(get_read.status, 405);
    assert_eq!(get_read.header("allow"), Some("POST"));
}

#[tokio::test]
async fn the_internal_endpoint_refuses_callers_without_the_service_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body =
        json!({"events": [event("order.paid", ("order", 1), 1, Some(admin.user_id), json!({}))]});
    let anonymous = app.post(EVENTS, &body, None).await;
    assert_eq!(anonymous.status, 403);
    assert_eq!(anonymous.error_code(), "forbidden");
    let as_admin = app.post(EVENTS, &body, Some(&admin.access_token)).await;
    assert_eq!(as_admin.status, 403);
    assert_eq!(app.count("notify.events").await, 0);
}

#[tokio::test]
async fn invalid_batches_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let good = event("order.paid", ("order", 1), 1, Some(1), json!({}));
    let with = |field: &str, value: Value| {
        let mut event = good.clone();
        event[field] = value;
        json!({ "events": [event] })
    };
    let too_many: Vec<Value> = (1..=101)
        .map(|id| event("order.paid", ("order", id), 1, Some(1), json!({})))
        .collect();
    let cases = [
        (json!({"events": []}), "events"),
        (json!({"events": too_many}), "events"),
        (with("id", json!("not-a-uuid")), "events[0].id"),
        (with("type", json!("Order Paid")), "events[0].type"),
        (
            with("occurred_at", json!("2025-02-30T00:00:00Z")),
            "events[0].occurred_at",
        ),
        (with("sequence", json!(0)), "events[0].sequence"),
        (with("data", json!("paid")), "events[0].data"),
        (with("surprise", json!(1)), "events[0]"),
    ];
    for (body, field) in cases {
        let response = app.post_internal(EVENTS, &body).await;
        assert_eq!(response.status, 400, "{field}: {}", response.text());
        assert_eq!(response.error_code(), "validation_error");
        let named = response.json()["error"]["details"]["field"].clone();
        assert!(
            named.as_str().is_some_and(|named| named.starts_with(field)),
            "{field}: {named}"
        );
    }
    let missing = app.post_internal(EVENTS, &json!({})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(app.count("notify.events").await, 0);
}

/// POST /dispatch with the `x-dispatch-key` header.
async fn dispatch_with_key(app: &TestApp, key: &str) -> Response {
    let request = http::Request::builder()
        .method("POST")
        .uri(DISPATCH)
        .header("x-dispatch-key", key)
        .body(Bytes::new())
        .unwrap();
    app.send(request).await
}

async fn dispatch_as(app: &TestApp, session: &Session) -> Value {
    let response = app
        .post(DISPATCH, &json!({}), Some(&session.access_token))
        .await;
    assert_eq!(response.status, 200, "dispatch: {}", response.text());
    response.json()
}

#[tokio::test]
async fn dispatch_is_for_admins_services_and_the_scheduler_s_key() {
    let app = TestApp::spawn_with_variables(&[("dispatch_key", DISPATCH_KEY)]).await;
    let admin = app.admin().await;
    let customer = app.register("carol@example.com", "password-1").await;

    let anonymous = app.post(DISPATCH, &json!({}), None).await;
    assert_eq!(anonymous.status, 401);
    let as_customer = app
        .post(DISPATCH, &json!({}), Some(&customer.access_token))
        .await;
    assert_eq!(as_customer.status, 403);
    assert_eq!(as_customer.error_code(), "forbidden");
    assert_eq!(dispatch_with_key(&app, "not-the-key").await.status, 401);
    assert_eq!(dispatch_with_key(&app, "").await.status, 401);

    let report = dispatch_as(&app, &admin).await;
    let producers = report["producers"].as_object().expect("producers");
    assert_eq!(
        producers.keys().collect::<Vec<_>>(),
        ["orders", "payments", "users"]
    );
    for (service, flushed) in producers {
        // Each producer's report, or why it could not be had: never a failed dispatch.
        assert!(
            flushed.get("delivered").is_some() || flushed["error"].is_string(),
            "{service}: {flushed}"
        );
    }
    assert_eq!(
        report["webhooks"],
        json!({"delivered": 0, "failed": 0, "pending": 0, "pruned": 0})
    );
    assert_eq!(dispatch_with_key(&app, DISPATCH_KEY).await.status, 200);
    let as_service = app.post_internal(DISPATCH, &json!({})).await;
    assert_eq!(as_service.status, 200, "{}", as_service.text());

    let put = app
        .request("PUT", DISPATCH, None, Some(&admin.access_token))
        .await;
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, POST"));
}

/// A scheduler that can only name a path and query (Akamai Functions' cron jobs)
/// sends the key as `?key=`, and its request may be a GET.
#[tokio::test]
async fn a_scheduler_may_dispatch_with_the_key_in_the_query() {
    let app = TestApp::spawn_with_variables(&[("dispatch_key", DISPATCH_KEY)]).await;
    let by_get = app
        .get(&format!("{DISPATCH}?key={DISPATCH_KEY}"), None)
        .await;
    assert_eq!(by_get.status, 200, "{}", by_get.text());
    assert!(by_get.json()["producers"].is_object());
    let by_post = app
        .post(&format!("{DISPATCH}?key={DISPATCH_KEY}"), &json!({}), None)
        .await;
    assert_eq!(by_post.status, 200, "{}", by_post.text());

    let wrong = app.get(&format!("{DISPATCH}?key=not-the-key"), None).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(app.get(DISPATCH, None).await.status, 401);
    // Without a configured key, no key opens it.
    let keyless = TestApp::spawn().await;
    let refused = keyless.get(&format!("{DISPATCH}?key="), None).await;
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn without_a_webhook_events_are_stored_and_not_queued() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let sent = event(
        "order.paid",
        ("order", 8),
        1,
        Some(admin.user_id),
        json!({}),
    );
    deliver_ok(&app, std::slice::from_ref(&sent)).await;
    assert_eq!(app.count("notify.outbox").await, 0);

    let events = app
        .get("/api/notifications/events", Some(&admin.access_token))
        .await;
    assert_eq!(events.status, 200, "{}", events.text());
    assert_eq!(events.header("x-total-count"), Some("1"));
    let shown = &events.json()[0];
    assert_eq!(shown["id"], sent["id"]);
    assert_eq!(shown["type"], "order.paid");
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["source"], "orders");
    assert_eq!(shown["aggregate_type"], "order");
    assert_eq!(shown["aggregate_id"], 8);
    assert_eq!(shown["sequence"], 1);
    assert_eq!(shown["user_id"], admin.user_id);
    assert_eq!(shown["occurred_at"], "2025-01-31T12:00:00.000000Z");
    assert_eq!(
        shown["webhook"],
        json!({"status": "none", "attempts": 0, "last_error": null,
               "next_attempt_at": null, "delivered_at": null})
    );
    for (status, total) in [
        ("none", "1"),
        ("pending", "0"),
        ("failed", "0"),
        ("delivered", "0"),
    ] {
        let filtered = app
            .get(
                &format!("/api/notifications/events?status={status}"),
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(filtered.header("x-total-count"), Some(total), "{status}");
    }
}

#[tokio::test]
async fn only_admins_see_events_and_attempts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = app.register("dave@example.com", "password-1").await;
    let sent = event(
        "order.paid",
        ("order", 8),
        1,
        Some(customer.user_id),
        json!({}),
    );
    deliver_ok(&app, std::slice::from_ref(&sent)).await;
    let attempts = format!(
        "/api/notifications/events/{}/attempts",
        sent["id"].as_str().unwrap()
    );

    for path in ["/api/notifications/events", attempts.as_str()] {
        assert_eq!(app.get(path, None).await.status, 401, "{path}");
        let response = app.get(path, Some(&customer.access_token)).await;
        assert_eq!(response.status, 403, "{path}");
    }
    let listed = app.get(&attempts, Some(&admin.access_token)).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json(), json!([]));
    assert_eq!(listed.header("x-total-count"), Some("0"));
    let bad_status = app
        .get(
            "/api/notifications/events?status=lost",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(bad_status.status, 400);
    for unknown in [
        "/api/notifications/events/00000000-0000-4000-8000-000000000000/attempts",
        "/api/notifications/events/not-a-uuid/attempts",
    ] {
        let response = app.get(unknown, Some(&admin.access_token)).await;
        assert_eq!(response.status, 404, "{unknown}");
    }
}

#[tokio::test]
async fn the_notifications_role_sees_only_its_own_schema() {
    let app = TestApp::spawn().await;
    let notifications = app.connect_as("spinshop_notifications").await;
    for own in [
        "notify.events",
        "notify.notifications",
        "notify.outbox",
        "notify.webhook_attempts",
    ] {
        notifications
            .query(&format!("SELECT count(*) FROM {own}"), &[])
            .await
            .unwrap_or_else(|err| panic!("reading {own}: {err}"));
    }
    let err = notifications
        .query("SELECT count(*) FROM users.users", &[])
        .await
        .expect_err("another service's table must be out of reach");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    let users = app.connect_as("spinshop_users").await;
    assert!(
        users
            .query("SELECT count(*) FROM notify.events", &[])
            .await
            .is_err()
    );
    assert!(
        notifications
            .execute("DROP TABLE notify.events", &[])
            .await
            .is_err()
    );
}

// ---------------------------------------------------------------------------- webhooks

/// What the webhook tests read of a request the receiver got.
trait WebhookDelivery {
    fn event(&self) -> Value;
    fn signature_holds(&self) -> bool;
    fn verified(&self) -> Value;
}

impl WebhookDelivery for Delivery {
    fn event(&self) -> Value {
        self.json()
    }

    /// Whether the signature holds, checked as a receiver would: HMAC-SHA256 of
    /// "<timestamp>.<body>" with the shared secret, compared with the header.
    fn signature_holds(&self) -> bool {
        let timestamp = self.header("x-spinshop-timestamp");
        let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&self.body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        self.header("x-spinshop-signature") == format!("v1={hex}")
    }

    /// Checks the delivery as a receiver would (its signature, a timestamp close to
    /// now, the headers against the body); returns the event.
    fn verified(&self) -> Value {
        assert_eq!(self.header("content-type"), "application/json");
        let timestamp: i64 = self
            .header("x-spinshop-timestamp")
            .parse()
            .expect("a timestamp in seconds");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(
            (now - timestamp).abs() < 300,
            "a stale timestamp {timestamp}"
        );
        assert!(self.signature_holds(), "a bad signature");
        let event = self.event();
        assert_eq!(self.header("x-spinshop-event-id"), event["id"]);
        assert_eq!(self.header("x-spinshop-event-type"), event["type"]);
        event
    }
}

/// The requests `receiver` got for `event`, in the order they came.
fn for_event(receiver: &Receiver, event: &Value) -> Vec<Delivery> {
    receiver
        .deliveries()
        .into_iter()
        .filter(|delivery| delivery.event()["id"] == event["id"])
        .collect()
}

/// An app that POSTs every event to `receiver`, retrying failures after 50 ms,
/// doubling up to 1 s.
async fn app_with_webhook(address: SocketAddr) -> TestApp {
    let url = format!("http://{address}/hooks/spinshop?source=test");
    let origin = format!("http://{address}");
    TestApp::spawn_with_variables(&[
        ("notification_webhook_url", &url),
        ("notification_webhook_origin", &origin),
        ("webhook_secret", WEBHOOK_SECRET),
        ("outbox_retry_base_ms", "50"),
        ("outbox_retry_max_seconds", "1"),
    ])
    .await
}

/// The admin's view of `event`'s webhook delivery.
async fn webhook_state(app: &TestApp, admin: &Session, event: &Value) -> Value {
    let page = app
        .get(
            "/api/notifications/events?limit=100",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|shown| shown["id"] == event["id"])
        .map(|shown| shown["webhook"].clone())
        .unwrap_or_else(|| panic!("event {} is not listed", event["id"]))
}

/// The statuses the webhook answered each recorded attempt for `event` with.
async fn recorded_attempts(app: &TestApp, admin: &Session, event: &Value) -> Vec<Value> {
    let path = format!(
        "/api/notifications/events/{}/attempts?limit=100",
        event["id"].as_str().unwrap()
    );
    let response = app.get(&path, Some(&admin.access_token)).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json().as_array().unwrap().to_vec()
}

/// Waits up to 10 s for `event`'s webhook state to reach `status`.
async fn wait_for_state(app: &TestApp, admin: &Session, event: &Value, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = webhook_state(app, admin, event).await;
        if state["status"] == status {
            return state;
        }
        assert!(Instant::now() < deadline, "{} stayed {state}", event["id"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_receives_every_event_signed_and_each_attempt_is_recorded() {
    let receiver = Receiver::start(204).await;
    let app = app_with_webhook(receiver.address).await;
    let admin = app.admin().await;
    let sent = [
        event(
            "order.created",
            ("order", 1),
            1,
            Some(admin.user_id),
            json!({"order_id": 1, "total": 500, "currency": "USD"}),
        ),
        event(
            "payment.succeeded",
            ("payment", 2),
            1,
            Some(admin.user_id),
            json!({"order_id": 1, "amount": 500}),
        ),
        event("order.refunded", ("order", 3), 1, None, json!({})),
    ];
    deliver_ok(&app, &sent).await;
    // Sent once the ingest has answered, without a dispatch.
    receiver
        .wait_for("three events", |got| got.len() >= 3)
        .await;
    for event in &sent {
        let state = wait_for_state(&app, &admin, event, "delivered").await;
        assert_eq!(state["attempts"], 1);
        assert!(state["delivered_at"].is_string());
        assert!(state["last_error"].is_null() && state["next_attempt_at"].is_null());
        let requests = for_event(&receiver, event);
        assert_eq!(
            requests.len(),
            1,
            "{} sent {} times",
            event["id"],
            requests.len()
        );
        assert_eq!(requests[0].verified(), *event, "the event exactly as sent");
        let attempts = recorded_attempts(&app, &admin, event).await;
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0]["event_id"], event["id"]);
        assert_eq!(attempts[0]["status_code"], 204);
        assert!(attempts[0]["error"].is_null());
        assert!(attempts[0]["duration_ms"].as_i64().unwrap() >= 0);
    }
    assert_eq!(receiver.deliveries().len(), 3);
    // The signature covers the body byte for byte: one more space breaks it.
    let mut tampered = receiver.deliveries()[0].clone();
    let mut body = tampered.body.to_vec();
    body.push(b' ');
    tampered.body = Bytes::from(body);
    assert!(!tampered.signature_holds());
    // Redelivering an event sends nothing again.
    deliver_ok(&app, &sent).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.deliveries().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_was_down_gets_every_event_in_order_once_it_is_back() {
    let receiver = Receiver::start(503).await;
    let app = app_with_webhook(receiver.address).await;
    let admin = app.admin().await;
    let order: Vec<Value> = ["order.created", "order.paid", "order.refunded"]
        .into_iter()
        .zip(1..)
        .map(|(kind, sequence)| {
            event(
                kind,
                ("order", 42),
                sequence,
                Some(admin.user_id),
                json!({"order_id": 42}),
            )
        })
        .collect();
    let other = event(
        "payment.failed",
        ("payment", 9),
        1,
        Some(admin.user_id),
        json!({}),
    );
    // As the producers send them: one batch at a time, the order's events in turn.
    deliver_ok(&app, &[order[0].clone(), other.clone()]).await;
    deliver_ok(&app, &order[1..2]).await;
    deliver_ok(&app, &order[2..3]).await;
    receiver
        .wait_for("the first attempts", |got| got.len() >= 2)
        .await;

    // Down: the first event of each aggregate is tried, the order's later ones wait.
    let state = wait_for_state(&app, &admin, &order[0], "failed").await;
    assert_eq!(state["last_error"], "the webhook answered 503");
    assert!(state["next_attempt_at"].is_string());
    assert!(state["attempts"].as_i64().unwrap() >= 1);
    wait_for_state(&app, &admin, &other, "failed").await;
    for waiting in &order[1..] {
        assert_eq!(
            webhook_state(&app, &admin, waiting).await["status"],
            "pending"
        );
        assert!(for_event(&receiver, waiting).is_empty());
    }
    // Still down at the next dispatch: it fails again, and nothing is lost.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = dispatch_as(&app, &admin).await;
    assert_eq!(report["webhooks"]["delivered"], 0);
    assert!(
        report["webhooks"]["failed"].as_i64().unwrap() >= 2,
        "{report}"
    );
    assert_eq!(report["webhooks"]["pending"], 4);

    // Back: the next dispatch delivers everything, the order's events in order.
    receiver.answer(200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = dispatch_as(&app, &admin).await;
    assert_eq!(report["webhooks"]["delivered"], 4, "{report}");
    assert_eq!(report["webhooks"]["pending"], 0);

    let deliveries = receiver.deliveries();
    let of_order = |delivery: &Delivery| {
        let event = delivery.event();
        (event["aggregate_type"] == "order" && event["aggregate_id"] == 42)
            .then(|| event["sequence"].as_i64().unwrap())
    };
    let accepted: Vec<i64> = deliveries
        .iter()
        .filter(|delivery| delivery.answered == 200)
        .filter_map(of_order)
        .collect();
    assert_eq!(accepted, [1, 2, 3]);
    // No event of the order went out before the one ahead of it was taken.
    let first_sent = |sequence| {
        deliveries
            .iter()
            .position(|d| of_order(d) == Some(sequence))
    };
    let taken = |sequence| {
        deliveries
            .iter()
            .position(|d| d.answered == 200 && of_order(d) == Some(sequence))
    };
    assert!(first_sent(2) > taken(1) && first_sent(3) > taken(2));

    for event in order.iter().chain([&other]) {
        let requests = for_event(&receiver, event);
        let answered: Vec<u16> = requests.iter().map(|request| request.answered).collect();
        assert_eq!(answered.iter().filter(|status| **status == 200).count(), 1);
        assert_eq!(answered.last(), Some(&200), "{answered:?}");
        for request in &requests {
            assert_eq!(request.verified(), *event);
        }
        // Every request made is recorded, with what it was answered.
        let recorded: Vec<Value> = recorded_attempts(&app, &admin, event)
            .await
            .iter()
            .map(|attempt| attempt["status_code"].clone())
            .collect();
        let expected: Vec<Value> = answered.iter().map(|status| json!(status)).collect();
        assert_eq!(recorded, expected, "{}", event["type"]);
        let state = webhook_state(&app, &admin, event).await;
        assert_eq!(state["status"], "delivered");
        assert_eq!(state["attempts"], requests.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_webhook_leaves_events_failed_with_the_reason() {
    // A port that was just free: nothing listens there.
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let app = app_with_webhook(address).await;
    let admin = app.admin().await;
    let sent = [
        event(
            "order.paid",
            ("order", 1),
            1,
            Some(admin.user_id),
            json!({}),
        ),
        event(
            "order.paid",
            ("order", 2),
            1,
            Some(admin.user_id),
            json!({}),
        ),
    ];
    deliver_ok(&app, &sent).await;
    let tried = wait_for_state(&app, &admin, &sent[0], "failed").await;
    assert!(tried["last_error"].is_string());
    let attempts = recorded_attempts(&app, &admin, &sent[0]).await;
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0]["status_code"].is_null());
    assert!(
        attempts[0]["error"]
            .as_str()
            .is_some_and(|error| !error.is_empty())
    );
    // Once the webhook can't be reached, the rest of the batch waits for the next try.
    let skipped = wait_for_state(&app, &admin, &sent[1], "failed").await;
    assert_eq!(skipped["attempts"], 0);
    assert!(
        skipped["last_error"]
            .as_str()
            .is_some_and(|error| error.starts_with("not sent")),
        "{skipped}"
    );
    // Both are still in the inbox: the webhook never holds it up.
    assert_eq!(
        inbox(&app, &admin, "").await.header("x-total-count"),
        Some("2")
    );
}

// ----------------------------------------------------------------- from the producers

const PRICE: i64 = 999;
const OUTBOXES: [&str; 3] = ["users.outbox", "orders.outbox", "payments.outbox"];

/// Places an order for one unit of `product` and pays it; the order.
async fn order_and_pay(app: &TestApp, session: &Session, product: i64, key: &str) -> Value {
    let placed = app
        .post(
            "/api/orders/orders",
            &json!({"items": [{"product_id": product, "qty": 2}]}),
            Some(&session.access_token),
        )
        .await;
    assert_eq!(placed.status, 201, "place: {}", placed.text());
    let order = placed.json();
    let pay = json!({"order_id": order["id"], "amount": order["total"], "method": "card"});
    let request = http::Request::builder()
        .method("POST")
        .uri("/api/payments/pay")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", session.access_token))
        .header("x-idempotency-key", key)
        .body(Bytes::from(pay.to_string()))
        .unwrap();
    let paid = app.send(request).await;
    assert_eq!(paid.status, 201, "pay: {}", paid.text());
    order
}

/// The mails users recorded in its outbox (reset and verification links): they leave
/// with its events but are stored as mails, not events (see mail.rs).
async fn recorded_mails(app: &TestApp) -> i64 {
    app.count("users.outbox WHERE event->>'type' = 'mail'")
        .await
}

/// Rows recorded in the producers' outboxes (events, and users' mails), and those of
/// them not delivered yet.
async fn recorded_and_undelivered(app: &TestApp) -> (i64, i64) {
    let (mut recorded, mut undelivered) = (0, 0);
    for outbox in OUTBOXES {
        recorded += app.count(outbox).await;
        undelivered += app
            .count(&format!("{outbox} WHERE delivered_at IS NULL"))
            .await;
    }
    (recorded, undelivered)
}

/// Waits up to 10 s until every event that could be sent has been tried once: the
/// earliest undelivered event of each aggregate (the later ones wait for it).
async fn wait_until_tried(app: &TestApp) {
    let untried = |outbox: &str| {
        format!(
            "{outbox} c WHERE c.delivered_at IS NULL AND c.attempts = 0 AND NOT EXISTS ( \
               SELECT 1 FROM {outbox} p WHERE p.aggregate_type = c.aggregate_type \
                 AND p.aggregate_id = c.aggregate_id AND p.sequence < c.sequence \
                 AND p.delivered_at IS NULL)"
        )
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    for outbox in OUTBOXES {
        while app.count(&untried(outbox)).await > 0 {
            assert!(Instant::now() < deadline, "{outbox}: events never tried");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits up to 10 s for the caller's inbox to hold notifications of all `types`.
async fn wait_for_inbox(app: &TestApp, session: &Session, types: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = inbox(app, session, "?limit=100").await;
        assert_eq!(page.status, 200, "{}", page.text());
        let items = page.json().as_array().unwrap().to_vec();
        if types
            .iter()
            .all(|kind| items.iter().any(|item| item["type"] == *kind))
        {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the inbox never held {types:?}: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_customer_does_reaches_their_inbox() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", PRICE, 5).await;
    let pat = app.register("pat@example.com", "password-1").await;
    let order = order_and_pay(&app, &pat, product, "pay-1").await;
    let id = &order["id"];

    let items = wait_for_inbox(
        &app,
        &pat,
        &[
            "user.registered",
            "order.created",
            "order.paid",
            "payment.succeeded",
        ],
    )
    .await;
    let message = |kind: &str| {
        items
            .iter()
            .find(|item| item["type"] == kind)
            .map(|item| item["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(message("user.registered"), "Your account is ready.");
    assert_eq!(
        message("order.created"),
        format!("Order #{id} was placed: 19.98 USD.")
    );
    assert_eq!(message("order.paid"), format!("Order #{id} is paid."));
    assert_eq!(
        message("payment.succeeded"),
        format!("Payment of 19.98 USD for order #{id} succeeded.")
    );
    // Each event once, newest first, and none of another user's.
    assert_eq!(items.len(), 4, "{items:?}");
    let ids: Vec<i64> = items
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "{ids:?}");
    assert!(
        inbox(&app, &admin, "")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty(),
        "the admin's inbox holds the customer's events"
    );
}

/// An app whose producers find notifications answering 503 while `down` holds, with
/// failed deliveries due again after 50 ms (at most 1 s).
async fn app_with_notifications_down(down: &Arc<std::sync::atomic::AtomicBool>) -> Option<TestApp> {
    let down = down.clone();
    TestApp::spawn_on_host("uses an outbound interceptor", move |builder| {
        builder
            .variable("outbox_retry_base_ms", "50")
            .variable("outbox_retry_max_seconds", "1")
            .intercept(move |outbound| {
                (down.load(Ordering::SeqCst)
                    && outbound.url.contains("/api/notifications/internal/"))
                .then(spinshop_tests::unavailable_answer)
            })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_notifications_is_down_actions_succeed_and_a_dispatch_delivers_every_event_later() {
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let Some(app) = app_with_notifications_down(&down).await else {
        return;
    };
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", PRICE, 5).await;
    let pat = app.register("pat@example.com", "password-1").await;
    order_and_pay(&app, &pat, product, "pay-1").await;
    wait_until_tried(&app).await;

    let (recorded, undelivered) = recorded_and_undelivered(&app).await;
    assert!(recorded >= 4, "{recorded} events recorded");
    assert_eq!(undelivered, recorded, "nothing reached notifications");
    assert_eq!(app.count("notify.events").await, 0);
    assert_eq!(
        inbox(&app, &pat, "").await.header("x-total-count"),
        Some("0")
    );

    // Back: the next dispatch makes every producer deliver what it kept.
    down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = dispatch_as(&app, &admin).await;
    let delivered: i64 = ["users", "orders", "payments"]
        .iter()
        .map(|service| {
            report["producers"][service]["delivered"]
                .as_i64()
                .unwrap_or_else(|| panic!("{service}: {report}"))
        })
        .sum();
    assert_eq!(delivered, recorded, "{report}");
    assert_eq!(recorded_and_undelivered(&app).await, (recorded, 0));
    // pat's verification mail left with the events, and is a mail.
    let events = recorded - recorded_mails(&app).await;
    assert_eq!(app.count("notify.events").await, events);
    assert_eq!(app.count("notify.mail WHERE source = 'users'").await, 1);
    let items = wait_for_inbox(
        &app,
        &pat,
        &[
            "user.registered",
            "order.created",
            "order.paid",
            "payment.succeeded",
        ],
    )
    .await;
    assert_eq!(items.len() as i64, events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_dispatches_at_once_deliver_each_event_once() {
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let Some(app) = app_with_notifications_down(&down).await else {
        return;
    };
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", PRICE, 50).await;
    let mut customers = Vec::new();
    for n in 0..3 {
        let customer = app
            .register(&format!("customer-{n}@example.com"), "password-1")
            .await;
        order_and_pay(&app, &customer, product, &format!("pay-{n}")).await;
        customers.push(customer);
    }
    wait_until_tried(&app).await;
    let (recorded, undelivered) = recorded_and_undelivered(&app).await;
    assert_eq!(undelivered, recorded);

    down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let empty = json!({});
    let reports = futures::future::join_all(
        (0..20).map(|_| app.post(DISPATCH, &empty, Some(&admin.access_token))),
    )
    .await;
    let mut delivered = 0;
    for report in &reports {
        assert_eq!(report.status, 200, "{}", report.text());
        for service in ["users", "orders", "payments"] {
            delivered += report.json()["producers"][service]["delivered"]
                .as_i64()
                .unwrap_or(0);
        }
    }
    // Every event was sent once: concurrent flushes never claim the same row.
    assert_eq!(delivered, recorded);
    assert_eq!(recorded_and_undelivered(&app).await, (recorded, 0));
    let events = recorded - recorded_mails(&app).await;
    assert_eq!(app.count("notify.events").await, events);
    assert_eq!(app.count("notify.notifications").await, events);
    // Each verification mail stored once, however many flushes ran.
    assert_eq!(app.count("notify.mail WHERE source = 'users'").await, 3);
    for customer in &customers {
        let page = inbox(&app, customer, "").await;
        assert_eq!(page.header("x-total-count"), Some("4"), "{}", page.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_s_events_reach_the_webhook_in_the_order_they_happened() {
    let receiver = Receiver::start(200).await;
    let app = app_with_webhook(receiver.address).await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", PRICE, 5).await;
    let pat = app.register("pat@example.com", "password-1").await;
    let order = order_and_pay(&app, &pat, product, "pay-1").await;
    let cancelled = app
        .post(
            &format!("/api/orders/orders/{}/cancel", order["id"]),
            &json!({}),
            Some(&pat.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    app.settle_outboxes().await;

    let of_order = |delivery: &Delivery| {
        let event = delivery.verified();
        (event["aggregate_type"] == "order" && event["aggregate_id"] == order["id"])
            .then(|| (event["sequence"].as_i64().unwrap(), event["type"].clone()))
    };
    receiver
        .wait_for("the order's events", |got| {
            got.iter()
                .filter_map(of_order)
                .any(|(_, kind)| kind == "order.cancelled")
        })
        .await;
    let seen: Vec<(i64, Value)> = receiver.deliveries().iter().filter_map(of_order).collect();
    let sequences: Vec<i64> = seen.iter().map(|(sequence, _)| *sequence).collect();
    assert_eq!(
        sequences,
        (1..=seen.len() as i64).collect::<Vec<_>>(),
        "{seen:?}"
    );
    let kinds: Vec<&Value> = seen.iter().map(|(_, kind)| kind).collect();
    assert_eq!(
        kinds[..3],
        ["order.created", "order.paid", "order.cancelled"]
    );
}
