use serde_json::{Value, json};
use spinshop_kit::contracts::Event;

use super::signature::{sign, verify};
use super::*;

const SECRET: &str = "whsec-test-0123456789";
const BODY: &[u8] = br#"{"id": "6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3d", "type": "order.paid"}"#;

fn event(kind: &str, aggregate_id: i64, data: Value) -> Event {
    Event {
        id: "6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3d".into(),
        kind: kind.into(),
        version: 1,
        occurred_at: "2025-01-31T12:00:00.000000Z".into(),
        source: "orders".into(),
        aggregate_type: "order".into(),
        aggregate_id,
        sequence: 1,
        user_id: Some(7),
        data,
    }
}

#[test]
fn signatures_match_an_independent_hmac_sha256() {
    // HMAC-SHA256("whsec-test-0123456789", "1700000000." + BODY), by Python's hmac module.
    assert_eq!(
        sign(SECRET, 1_700_000_000, BODY),
        "v1=f04049a7073b8e84d4ac84cc11c197c6e827d70e465f972814aaf5f314b792a4"
    );
    // The scheme, then 32 bytes in lowercase hex.
    let header = sign("key", 0, b"");
    assert!(header.starts_with("v1=") && header.len() == 3 + 64);
    assert!(
        header[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[test]
fn a_signature_verifies_only_for_its_body_timestamp_and_secret() {
    let header = sign(SECRET, 1_700_000_000, BODY);
    assert!(verify(SECRET, 1_700_000_000, BODY, &header));
    let tampered = br#"{"id": "6f1c0c5e-8a0e-4a57-9a3f-0d6a9e1b2c3d", "type": "order.cancelled"}"#;
    assert!(!verify(SECRET, 1_700_000_000, tampered, &header));
    assert!(!verify(SECRET, 1_700_000_001, BODY, &header));
    assert!(!verify("another-secret-0123", 1_700_000_000, BODY, &header));
    assert!(!verify(SECRET, 1_700_000_000, BODY, "v1=zz"));
    assert!(!verify(
        SECRET,
        1_700_000_000,
        BODY,
        header.trim_start_matches("v1=")
    ));
    assert!(!verify(SECRET, 1_700_000_000, BODY, ""));
    // A receiver rotating secrets may be sent several; one must match.
    let rotated = format!("v1=00ff, {header}");
    assert!(verify(SECRET, 1_700_000_000, BODY, &rotated));
}

#[test]
fn notices_read_from_the_type_and_the_data() {
    let paid = notice(&event("order.paid", 42, json!({})));
    assert_eq!(paid.title, "Order paid");
    assert_eq!(paid.message, "Order #42 is paid.");
    let placed = notice(&event(
        "order.created",
        42,
        json!({"total": 1998, "currency": "USD"}),
    ));
    assert_eq!(placed.message, "Order #42 was placed: 19.98 USD.");
    let payment = notice(&event(
        "payment.succeeded",
        9,
        json!({"order_id": "42", "amount": 1998, "currency": "EUR"}),
    ));
    assert_eq!(
        payment.message,
        "Payment of 19.98 EUR for order #42 succeeded."
    );
    let failed = notice(&event("payment.failed", 9, json!({})));
    assert_eq!(failed.message, "Payment #9 was declined.");
    let welcome = notice(&event("user.registered", 7, json!({"name": " Alice "})));
    assert_eq!(welcome.message, "Welcome, Alice! Your account is ready.");
    let unknown = notice(&event("order.shipped", 42, json!({})));
    assert_eq!(unknown.title, "Update");
    assert_eq!(
        unknown.message,
        "There is news about your order #42 (order.shipped)."
    );
}

#[test]
fn money_has_the_currency_s_decimals() {
    assert_eq!(format_money(1998, "USD"), "19.98 USD");
    assert_eq!(format_money(5, "USD"), "0.05 USD");
    assert_eq!(format_money(-250, "EUR"), "-2.50 EUR");
    assert_eq!(format_money(1500, "JPY"), "1500 JPY");
    assert_eq!(format_money(1234, "KWD"), "1.234 KWD");
}

#[test]
fn batches_hold_one_to_a_hundred_valid_events() {
    let good = event("order.paid", 42, json!({"order_id": 42}));
    assert!(check_batch(std::slice::from_ref(&good)).is_ok());
    assert!(check_batch(&[]).is_err());
    assert!(check_batch(&vec![good.clone(); MAX_BATCH_EVENTS]).is_ok());
    assert!(check_batch(&vec![good.clone(); MAX_BATCH_EVENTS + 1]).is_err());

    type Breaks = fn(&mut Event);
    let broken: [(&str, Breaks); 9] = [
        ("id", |e| e.id = "not-a-uuid".into()),
        ("type", |e| e.kind = "Order Paid".into()),
        ("version", |e| e.version = 0),
        ("occurred_at", |e| e.occurred_at = "yesterday".into()),
        ("source", |e| e.source = String::new()),
        ("aggregate_type", |e| e.aggregate_type = "Order!".into()),
        ("aggregate_id", |e| e.aggregate_id = 0),
        ("sequence", |e| e.sequence = -1),
        ("data", |e| e.data = json!([1, 2])),
    ];
    for (field, breaks) in broken {
        let mut bad = good.clone();
        breaks(&mut bad);
        let err = check_batch(&[good.clone(), bad]).unwrap_err();
        assert_eq!(err.status(), 400, "{field}");
        assert_eq!(
            err.body()["error"]["details"]["field"],
            format!("events[1].{field}"),
            "{field}"
        );
    }
    let mut no_user = good.clone();
    no_user.user_id = None;
    assert!(check_batch(&[no_user]).is_ok());
    let mut bad_user = good;
    bad_user.user_id = Some(0);
    assert!(check_batch(&[bad_user]).is_err());
}

#[test]
fn only_admins_read_another_user_s_inbox() {
    assert_eq!(inbox_owner(7, false, None).unwrap(), 7);
    assert_eq!(inbox_owner(7, false, Some(7)).unwrap(), 7);
    assert_eq!(inbox_owner(7, false, Some(8)).unwrap_err().status(), 403);
    assert_eq!(inbox_owner(1, true, None).unwrap(), 1);
    assert_eq!(inbox_owner(1, true, Some(8)).unwrap(), 8);
}

#[test]
fn the_dispatch_key_must_be_set_and_equal() {
    assert!(dispatch_key_matches("cron-key-0123", "cron-key-0123"));
    assert!(!dispatch_key_matches("cron-key-0123", "cron-key-0124"));
    assert!(!dispatch_key_matches("cron-key-0123", ""));
    assert!(!dispatch_key_matches("", ""));
}

#[test]
fn filters_accept_their_words_only() {
    assert_eq!(parse_unread_filter(None).unwrap(), None);
    assert_eq!(parse_unread_filter(Some("true")).unwrap(), Some(true));
    assert_eq!(parse_unread_filter(Some("false")).unwrap(), Some(false));
    assert_eq!(parse_unread_filter(Some("yes")).unwrap_err().status(), 400);
    for status in WebhookStatus::ALL {
        assert_eq!(WebhookStatus::parse(status.as_str()), Some(status));
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert_eq!(
        WebhookStatus::parse_filter(Some("lost"))
            .unwrap_err()
            .status(),
        400
    );
}

#[test]
fn an_order_mail_has_the_lines_the_total_and_a_link_to_the_order() {
    let placed = event(
        "order.created",
        42,
        json!({"id": 42, "user_id": 7, "status": "pending", "currency": "EUR", "total": 2497,
               "items": [{"product_id": 3, "name": "Mug", "qty": 2, "unit_price": 999, "line_total": 1998},
                         {"product_id": 4, "name": "Tea <green>", "qty": 1, "unit_price": 499, "line_total": 499}]}),
    );
    assert!(mails_about(&placed.kind));
    let order = order_of(&placed).unwrap();
    let shop = spinshop_kit::mail::Shop {
        name: "spinshop".into(),
        public_url: "http://shop".into(),
    };
    let mail = order_mail(&placed, &order, "bob@example.com", &shop).unwrap();
    assert_eq!(mail.to, "bob@example.com");
    assert_eq!(mail.subject, "spinshop: Order #42 received");
    assert!(mail.text.contains("Mug x 2  19.98 EUR"));
    assert!(mail.text.contains("Tea <green> x 1  4.99 EUR"));
    assert!(mail.text.contains("Total  24.97 EUR"));
    assert!(mail.text.contains("http://shop/#/orders/42"));
    assert!(mail.html.contains("Tea &lt;green&gt; x 1"));

    let failed = Event {
        aggregate_type: "payment".into(),
        ..event(
            "payment.failed",
            9,
            json!({"id": 9, "order_id": 42, "amount": 2497}),
        )
    };
    assert_eq!(order_of(&failed), Err(Some(42)));
    let mail = order_mail(&failed, &order, "bob@example.com", &shop).unwrap();
    assert!(mail.subject.contains("Payment for order #42 failed"));
    assert!(mail.text.contains("24.97 EUR was declined"));
    assert!(!mails_about("payment.succeeded") && !mails_about("user.registered"));
}
