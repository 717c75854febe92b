//! Mail: every mail the shop writes reaches notifications' mail table once by id,
//! and is kept there (the local mailbox, which admins read) or sent to the mail API:
//! a test server here receives Resend's request, as Resend would, and a refused
//! request is tried again with backoff.

use serde_json::{Value, json};
use spinshop_tests::receiver::{Delivery, Receiver};
use spinshop_tests::{Session, TestApp};

const INTERNAL_MAIL: &str = "/api/notifications/internal/mail";
const MAILBOX: &str = "/api/notifications/mail";
const MAIL_API_KEY: &str = "re_test_key_0123456789";

/// A mail as a producer's outbox sends it, with a fresh id.
fn mail(to: &str, subject: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "to": to,
        "subject": subject,
        "text": format!("{subject}\n\nhttp://127.0.0.1:3000/#/reset?token=abc"),
        "html": format!("<p>{subject}</p>"),
    })
}

/// The mails to `to` in the local mailbox, newest first, as the admin reads them.
pub async fn mailbox(app: &TestApp, admin: &Session, to: &str) -> Vec<Value> {
    let path = format!("{MAILBOX}?to={}&limit=100", to.replace('+', "%2B"));
    let response = app.get(&path, admin.token()).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json().as_array().expect("a list").clone()
}

#[tokio::test]
async fn without_a_mail_api_mails_are_kept_once_in_the_local_mailbox_newest_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let first = mail("kim@example.com", "First");
    let second = mail("kim@example.com", "Second");
    let other = mail("lee@example.com", "Other");
    let delivered = app
        .post_internal(INTERNAL_MAIL, &json!({"mails": [first, second, other]}))
        .await;
    assert_eq!(delivered.status, 200, "{}", delivered.text());
    assert_eq!(delivered.json(), json!({"accepted": 3, "duplicates": 0}));
    // Delivered again (an answer lost): stored once.
    let again = app
        .post_internal(INTERNAL_MAIL, &json!({"mails": [first]}))
        .await;
    assert_eq!(again.json(), json!({"accepted": 0, "duplicates": 1}));

    let kept = mailbox(&app, &admin, "KIM@example.com").await;
    let subjects: Vec<&str> = kept
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["Second", "First"]);
    for (shown, sent) in kept.iter().zip([&second, &first]) {
        assert_eq!(shown["id"], sent["id"]);
        assert_eq!(shown["to"], "kim@example.com");
        assert_eq!(shown["text"], sent["text"]);
        assert_eq!(shown["html"], sent["html"]);
        assert_eq!(shown["status"], "local");
        assert_eq!(shown["attempts"], 0);
        assert!(shown["created_at"].as_str().unwrap().ends_with('Z'));
    }
    let all = app.get(MAILBOX, admin.token()).await;
    assert_eq!(all.header("x-total-count"), Some("3"));
}

#[tokio::test]
async fn the_local_mailbox_is_for_admins_and_the_mail_endpoint_for_services() {
    let app = TestApp::spawn().await;
    let customer = app.register("sam@example.com", "password-1").await;
    assert_eq!(app.get(MAILBOX, None).await.status, 401);
    let refused = app.get(MAILBOX, customer.token()).await;
    assert_eq!(refused.status, 403, "{}", refused.text());

    let body = json!({"mails": [mail("sam@example.com", "Hi")]});
    assert_eq!(app.post(INTERNAL_MAIL, &body, None).await.status, 403);
    let as_customer = app.post(INTERNAL_MAIL, &body, customer.token()).await;
    assert!(
        matches!(as_customer.status, 401 | 403),
        "{}",
        as_customer.text()
    );
    for bad in [
        json!({"mails": [{"id": "not-a-uuid", "to": "a@b.c", "subject": "s", "text": "t", "html": "h"}]}),
        json!({"mails": [mail("nobody", "s")]}),
        json!({"mails": [mail("a@b.c", " ")]}),
        json!({"mail": []}),
    ] {
        let refused = app.post_internal(INTERNAL_MAIL, &bad).await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.text());
    }
    assert_eq!(app.count("notify.mail WHERE source <> 'users'").await, 0);
}

/// An app that sends mail through Resend's API at `receiver`, retrying failures
/// after 50 ms, doubling up to 1 s.
pub async fn app_with_mail_api(receiver: &Receiver) -> TestApp {
    let url = format!("http://{}", receiver.address);
    TestApp::spawn_with_variables(&[
        ("mail_api_key", MAIL_API_KEY),
        ("mail_api_url", &url),
        ("mail_from", "Shop <shop@example.com>"),
        ("outbox_retry_base_ms", "50"),
        ("outbox_retry_max_seconds", "1"),
    ])
    .await
}

/// Checks a request to the mail API as Resend would take it; the mail it carries.
pub fn resend_request(delivery: &Delivery) -> Value {
    assert_eq!(delivery.method, http::Method::POST);
    assert_eq!(delivery.target, "/emails");
    assert_eq!(
        delivery.header("authorization"),
        format!("Bearer {MAIL_API_KEY}")
    );
    assert_eq!(delivery.header("content-type"), "application/json");
    let body = delivery.json();
    assert_eq!(body["from"], "Shop <shop@example.com>");
    let to = body["to"].as_array().expect("to is a list");
    assert_eq!(to.len(), 1);
    for field in ["subject", "text", "html"] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}"
        );
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_api_gets_resends_request_and_a_refused_mail_is_sent_again() {
    let receiver = Receiver::start(500).await;
    let app = app_with_mail_api(&receiver).await;
    let admin = app.admin().await;
    let sent = mail("ann@example.com", "Your order");
    let delivered = app
        .post_internal(INTERNAL_MAIL, &json!({"mails": [sent]}))
        .await;
    assert_eq!(delivered.status, 200, "{}", delivered.text());

    // Tried right after notifications stored it: refused.
    receiver
        .wait_for("a first attempt", |got| !got.is_empty())
        .await;
    let shown = wait_for_status(&app, &admin, "ann@example.com", "failed").await;
    assert!(
        shown["last_error"].as_str().unwrap().contains("500"),
        "{shown}"
    );
    assert!(shown["next_attempt_at"].is_string());
    // Still refused at the next dispatch, after the backoff; then accepted.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    dispatch(&app, &admin).await;
    receiver
        .wait_for("a second attempt", |got| got.len() >= 2)
        .await;
    receiver.answer(200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    dispatch(&app, &admin).await;
    receiver
        .wait_for("an accepted attempt", |got| {
            got.iter().any(|delivery| delivery.answered == 200)
        })
        .await;

    let requests = receiver.deliveries();
    for request in &requests {
        let body = resend_request(request);
        assert_eq!(body["to"], json!(["ann@example.com"]));
        assert_eq!(body["subject"], sent["subject"]);
        assert_eq!(body["text"], sent["text"]);
        assert_eq!(body["html"], sent["html"]);
        // The same key each time: Resend sends a retried mail once.
        assert_eq!(request.header("idempotency-key"), sent["id"]);
    }
    let shown = wait_for_status(&app, &admin, "ann@example.com", "sent").await;
    assert!(shown["sent_at"].is_string());
    assert_eq!(shown["attempts"].as_i64(), Some(requests.len() as i64));
    assert_eq!(shown["last_error"], Value::Null);
}

async fn dispatch(app: &TestApp, admin: &Session) {
    let dispatched = app
        .post("/api/notifications/dispatch", &json!({}), admin.token())
        .await;
    assert_eq!(dispatched.status, 200, "{}", dispatched.text());
}

/// Waits up to 10 s for the newest mail to `to` to reach `status`; that mail.
async fn wait_for_status(app: &TestApp, admin: &Session, to: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let shown = mailbox(app, admin, to).await[0].clone();
        if shown["status"] == status {
            return shown;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {status}: {shown}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

// ------------------------------------------------------------------ one-time links

const RESET: &str = "/api/users/auth/password-reset";
const CONFIRM: &str = "/api/users/auth/password-reset/confirm";
const VERIFY: &str = "/api/users/auth/verify-email";
const RESEND: &str = "/api/users/auth/verify-email/resend";

/// The newest mail to `to` whose link opens the storefront's `view` (`reset`,
/// `verify`), once it has reached the mailbox; the token its link carries.
pub async fn mailed_token(app: &TestApp, admin: &Session, to: &str, view: &str) -> String {
    let marker = format!("/#/{view}?token=");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mails = mailbox(app, admin, to).await;
        if let Some(mail) = mails
            .iter()
            .find(|mail| mail["text"].as_str().unwrap().contains(&marker))
        {
            let text = mail["text"].as_str().unwrap();
            let html = mail["html"].as_str().unwrap();
            let start = text.find(&marker).unwrap() + marker.len();
            let token: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(token.len() >= 32, "a long token: {token}");
            assert!(html.contains(&format!("{marker}{token}")), "{html}");
            assert!(mail["subject"].as_str().unwrap().starts_with("spinshop"));
            return token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {view} link reached {to}: {mails:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn ask_for_reset(app: &TestApp, email: &str) -> spinshop_tests::Response {
    app.post(RESET, &json!({"email": email}), None).await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> spinshop_tests::Response {
    app.post(
        CONFIRM,
        &json!({"token": token, "new_password": password}),
        None,
    )
    .await
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ada = app.register("ada@example.com", "password-1").await;
    let other_device = app.login("ada@example.com", "password-1").await.json();

    let asked = ask_for_reset(&app, "Ada@Example.com").await;
    assert_eq!(asked.status, 202, "{}", asked.text());
    let token = mailed_token(&app, &admin, "ada@example.com", "reset").await;

    let too_short = confirm(&app, &token, "short").await;
    assert_eq!(too_short.status, 400);
    assert_eq!(too_short.error_field(), "new_password");
    let done = confirm(&app, &token, "new-password-9").await;
    assert_eq!(done.status, 204, "{}", done.text());

    // Every session ended: access tokens and refresh tokens alike.
    for (access, refresh) in [
        (ada.access_token.as_str(), ada.refresh_token.as_str()),
        (
            other_device["access_token"].as_str().unwrap(),
            other_device["refresh_token"].as_str().unwrap(),
        ),
    ] {
        assert_eq!(
            app.get("/api/users/users/me", Some(access)).await.status,
            401
        );
        let refreshed = app
            .post(
                "/api/users/auth/refresh",
                &json!({"refresh_token": refresh}),
                None,
            )
            .await;
        assert_eq!(refreshed.status, 401);
    }
    assert_eq!(app.login("ada@example.com", "password-1").await.status, 401);
    let login = app.login("ada@example.com", "new-password-9").await;
    assert_eq!(login.status, 200);
    // Following the link proved the address.
    assert_eq!(login.json()["user"]["email_verified"], true);

    let again = confirm(&app, &token, "another-password-1").await;
    assert_eq!(again.status, 400);
    assert_eq!(again.error_code(), "reset_token_used");
    assert_eq!(
        app.login("ada@example.com", "new-password-9").await.status,
        200
    );
}

#[tokio::test]
async fn the_reset_form_answers_alike_for_addresses_with_and_without_an_account() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.register("bea@example.com", "password-1").await;
    let started = std::time::Instant::now();
    let known = ask_for_reset(&app, "bea@example.com").await;
    let known_took = started.elapsed();
    let started = std::time::Instant::now();
    let unknown = ask_for_reset(&app, "nobody@example.com").await;
    let unknown_took = started.elapsed();

    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known.body, unknown.body);
    // Neither answers before the floor both wait for.
    for took in [known_took, unknown_took] {
        assert!(took >= std::time::Duration::from_millis(400), "{took:?}");
    }
    mailed_token(&app, &admin, "bea@example.com", "reset").await;
    app.settle_outboxes().await;
    assert!(mailbox(&app, &admin, "nobody@example.com").await.is_empty());
    assert_eq!(ask_for_reset(&app, "not an address").await.status, 400);
}

#[tokio::test]
async fn expired_superseded_and_forged_reset_tokens_are_refused_with_their_codes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.register("cy@example.com", "password-1").await;
    ask_for_reset(&app, "cy@example.com").await;
    let first = mailed_token(&app, &admin, "cy@example.com", "reset").await;
    ask_for_reset(&app, "cy@example.com").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let second = loop {
        let token = mailed_token(&app, &admin, "cy@example.com", "reset").await;
        if token != first {
            break token;
        }
        assert!(std::time::Instant::now() < deadline, "no second link");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };

    let superseded = confirm(&app, &first, "new-password-1").await;
    assert_eq!(superseded.status, 400);
    assert_eq!(superseded.error_code(), "reset_token_superseded");

    // 30 minutes pass.
    app.db()
        .await
        .execute(
            "UPDATE users.account_tokens SET expires_at = now() - interval '1 second' \
             WHERE purpose = 'password_reset' AND superseded_at IS NULL",
            &[],
        )
        .await
        .unwrap();
    let expired = confirm(&app, &second, "new-password-1").await;
    assert_eq!(expired.status, 400);
    assert_eq!(expired.error_code(), "reset_token_expired");

    let forged = confirm(&app, &"ab".repeat(32), "new-password-1").await;
    assert_eq!(forged.status, 400);
    assert_eq!(forged.error_code(), "reset_token_invalid");
    assert_eq!(app.login("cy@example.com", "password-1").await.status, 200);
    let stored: Vec<String> = app
        .db()
        .await
        .query("SELECT token_hash FROM users.account_tokens", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        !stored.contains(&first) && !stored.contains(&second),
        "tokens are stored hashed"
    );
}

#[tokio::test]
async fn reset_requests_are_limited_per_address_asked_about() {
    let app = TestApp::spawn_with_variables(&[("account_mails_per_hour", "2")]).await;
    for _ in 0..2 {
        assert_eq!(ask_for_reset(&app, "dee@example.com").await.status, 202);
    }
    let limited = ask_for_reset(&app, "dee@example.com").await;
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert!(limited.header("retry-after").is_some());
    // Another address is counted on its own (and the client address allows more).
    assert_eq!(ask_for_reset(&app, "eve@example.com").await.status, 202);
}

#[tokio::test]
async fn registration_mails_a_verification_link_and_a_new_email_waits_for_its_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let fay = app.register("fay@example.com", "password-1").await;
    let me = app.get("/api/users/users/me", fay.token()).await.json();
    assert_eq!(me["email_verified"], false);

    let token = mailed_token(&app, &admin, "fay@example.com", "verify").await;
    let verified = app.post(VERIFY, &json!({"token": token}), None).await;
    assert_eq!(verified.status, 200, "{}", verified.text());
    assert_eq!(verified.json()["email_verified"], true);
    let again = app.post(VERIFY, &json!({"token": token}), None).await;
    assert_eq!(again.error_code(), "verify_token_used");
    let forged = app.post(VERIFY, &json!({"token": "nope"}), None).await;
    assert_eq!(
        (forged.status, forged.error_code()),
        (400, "verify_token_invalid".to_string())
    );
    let nothing_to_do = app.post(RESEND, &json!({}), fay.token()).await;
    assert_eq!(nothing_to_do.status, 409);

    // A new address: the account keeps its email until the new one is verified.
    let changed = app
        .patch(
            "/api/users/users/me",
            &json!({"email": "fay2@example.com"}),
            fay.token(),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["email"], "fay@example.com");
    assert_eq!(changed.json()["pending_email"], "fay2@example.com");
    assert_eq!(
        app.login("fay2@example.com", "password-1").await.status,
        401
    );
    let token = mailed_token(&app, &admin, "fay2@example.com", "verify").await;
    let verified = app.post(VERIFY, &json!({"token": token}), None).await;
    assert_eq!(verified.status, 200, "{}", verified.text());
    assert_eq!(verified.json()["email"], "fay2@example.com");
    assert_eq!(verified.json()["pending_email"], Value::Null);
    assert_eq!(verified.json()["email_verified"], true);
    assert_eq!(
        app.login("fay2@example.com", "password-1").await.status,
        200
    );
    assert_eq!(app.login("fay@example.com", "password-1").await.status, 401);
}

#[tokio::test]
async fn verification_links_can_be_sent_again_a_few_times_an_hour() {
    let app = TestApp::spawn_with_variables(&[("account_mails_per_hour", "2")]).await;
    let admin = app.admin().await;
    let gus = app.register("gus@example.com", "password-1").await;
    let first = mailed_token(&app, &admin, "gus@example.com", "verify").await;
    assert_eq!(app.post(RESEND, &json!({}), None).await.status, 401);
    for _ in 0..2 {
        let sent = app.post(RESEND, &json!({}), gus.token()).await;
        assert_eq!(sent.status, 202, "{}", sent.text());
    }
    let limited = app.post(RESEND, &json!({}), gus.token()).await;
    assert_eq!(limited.status, 429);
    app.settle_outboxes().await;
    let newest = mailed_token(&app, &admin, "gus@example.com", "verify").await;
    assert_ne!(newest, first);
    let old = app.post(VERIFY, &json!({"token": first}), None).await;
    assert_eq!(old.error_code(), "verify_token_superseded");
    assert_eq!(
        app.post(VERIFY, &json!({"token": newest}), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_shop_may_require_a_verified_email_to_order() {
    let app = TestApp::spawn_with_variables(&[("orders_require_verified_email", "true")]).await;
    let shop = spinshop_tests::Shop::open(&app, 5).await;
    let body = spinshop_tests::one_item(shop.product, 1);
    let refused = app.place_order(&shop.customer, &body).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.error_code(), "email_not_verified");

    let token = mailed_token(&app, &shop.admin, &shop.customer.email, "verify").await;
    assert_eq!(
        app.post(VERIFY, &json!({"token": token}), None)
            .await
            .status,
        200
    );
    let placed = app.place_order(&shop.customer, &body).await;
    assert_eq!(placed.status, 201, "{}", placed.text());
}

// ------------------------------------------------------------------ order mails

/// Waits until the customer has a mail whose subject ends with `subject`; that mail.
async fn mail_about(app: &TestApp, admin: &Session, to: &str, subject: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mails = mailbox(app, admin, to).await;
        if let Some(mail) = mails
            .iter()
            .find(|mail| mail["subject"].as_str().unwrap().ends_with(subject))
        {
            return mail.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail \"{subject}\" to {to}: {mails:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Checks that `mail` shows the order's lines, its total and a link to it.
fn shows_the_order(mail: &Value, order: &Value) {
    let text = mail["text"].as_str().unwrap();
    let html = mail["html"].as_str().unwrap();
    let line = &order["items"][0];
    let amount = |minor: i64| format!("{}.{:02} USD", minor / 100, minor % 100);
    let row = format!(
        "{} x {}  {}",
        line["name"].as_str().unwrap(),
        line["qty"],
        amount(line["line_total"].as_i64().unwrap())
    );
    assert!(text.contains(&row), "{row} in {text}");
    let total = format!("Total  {}", amount(order["total"].as_i64().unwrap()));
    assert!(text.contains(&total), "{total} in {text}");
    let link = format!("http://127.0.0.1:3000/#/orders/{}", order["id"]);
    assert!(text.contains(&link) && html.contains(&link), "{link}");
}

#[tokio::test]
async fn an_order_mails_its_customer_when_placed_paid_refused_cancelled_and_refunded() {
    let app = TestApp::spawn().await;
    let spinshop_tests::Shop {
        admin,
        customer,
        product,
    } = spinshop_tests::Shop::open(&app, 5).await;
    let to = customer.email.clone();

    let order = app.placed_order(&customer, product, 2).await;
    shows_the_order(
        &mail_about(
            &app,
            &admin,
            &to,
            &format!("Order #{} received", order["id"]),
        )
        .await,
        &order,
    );

    let mut declined = spinshop_tests::payment_for(&order);
    declined["card"] =
        json!({"number": "4000000000000002", "exp_month": 12, "exp_year": 2030, "cvc": "123"});
    assert_eq!(app.pay(&customer, Some("k-1"), &declined).await.status, 402);
    let failed = mail_about(
        &app,
        &admin,
        &to,
        &format!("Payment for order #{} failed", order["id"]),
    )
    .await;
    shows_the_order(&failed, &order);

    let payment = app.paid(&customer, &order, "k-2").await;
    shows_the_order(
        &mail_about(
            &app,
            &admin,
            &to,
            &format!("Order #{} is paid", order["id"]),
        )
        .await,
        &order,
    );
    let refund = format!("/api/payments/payments/{}/refund", payment["id"]);
    let refunded = app.post(&refund, &json!({}), admin.token()).await;
    assert_eq!(refunded.status, 200, "{}", refunded.text());
    shows_the_order(
        &mail_about(
            &app,
            &admin,
            &to,
            &format!("Order #{} is refunded", order["id"]),
        )
        .await,
        &order,
    );

    let second = app.placed_order(&customer, product, 1).await;
    let cancel = app
        .post(
            &format!("/api/orders/orders/{}/cancel", second["id"]),
            &json!({}),
            customer.token(),
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    shows_the_order(
        &mail_about(
            &app,
            &admin,
            &to,
            &format!("Order #{} is cancelled", second["id"]),
        )
        .await,
        &second,
    );

    // Each event mails once, however often it is delivered (a dispatch redelivers nothing).
    let dispatched = app
        .post("/api/notifications/dispatch", &json!({}), admin.token())
        .await;
    assert_eq!(dispatched.status, 200);
    let mails = mailbox(&app, &admin, &to).await;
    let about_first = mails
        .iter()
        .filter(|mail| {
            mail["subject"]
                .as_str()
                .unwrap()
                .contains(&format!("#{} ", order["id"]))
        })
        .count();
    assert_eq!(about_first, 4, "{mails:?}");
}
