//! The payment rules, exercised through what the domain offers the handlers.

use serde_json::json;
use spinshop_kit::{ApiRequest, ApiResult};

use super::charge::luhn_valid;
use super::*;
use serde_json::Value;
use spinshop_kit::request::parse_json;

fn card_body(number: &str) -> Value {
    json!({ "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123" })
}

fn request(json: Value) -> ApiResult<PaymentRequest> {
    PaymentRequest::parse(parse_json(json.to_string().as_bytes())?)
}

fn card(number: &str) -> ApiResult<Card> {
    Card::parse(parse_json(card_body(number).to_string().as_bytes())?)
}

#[test]
fn keys_are_required_and_bounded() {
    let pay = || ApiRequest::new(spinshop_kit::Method::Post, "/api/payments/pay", b"", "");
    let key = idempotency_key(&pay().with_header("X-Idempotency-Key", "k-1")).unwrap();
    assert_eq!(key.as_str(), "k-1");
    let long = "k".repeat(201);
    for bad in [
        pay(),
        pay().with_header("x-idempotency-key", ""),
        pay().with_header("x-idempotency-key", &long),
    ] {
        assert_eq!(idempotency_key(&bad).unwrap_err().status(), 400);
    }
}

#[test]
fn luhn_accepts_real_test_cards_and_refuses_typos() {
    for good in [
        "4242424242424242",
        "4000000000000002",
        "5555555555554444",
        "378282246310005",
    ] {
        assert!(luhn_valid(good), "{good}");
    }
    for bad in ["4242424242424241", "4000000000000001", "1234567812345678"] {
        assert!(!luhn_valid(bad), "{bad}");
    }
}

#[test]
fn card_numbers_may_have_spaces_but_nothing_else() {
    assert_eq!(
        card("4242 4242 4242 4242")
            .ok()
            .map(|c| c.last4().to_string()),
        Some("4242".into())
    );
    for bad in [
        "4242-4242-4242-4242",
        "4242424242424241",
        "42424242",
        "",
        "４２４２424242424242",
    ] {
        let err = card(bad).err().expect(bad);
        assert_eq!(err.status(), 400, "{bad}");
        assert_eq!(err.body()["error"]["details"]["field"], "card.number");
    }
}

#[test]
fn card_expiry_and_cvc_are_checked() {
    let mut body = card_body("4242424242424242");
    body["exp_month"] = json!(13);
    assert!(Card::parse(parse_json(body.to_string().as_bytes()).unwrap()).is_err());
    let mut body = card_body("4242424242424242");
    body["cvc"] = json!("12a");
    assert!(Card::parse(parse_json(body.to_string().as_bytes()).unwrap()).is_err());
}

#[test]
fn the_gateway_declines_one_card_and_approves_the_rest() {
    assert_eq!(
        authorize(Some(&card("4000 0000 0000 0002").ok().unwrap())),
        Decision::Declined
    );
    assert_eq!(
        authorize(Some(&card("4242424242424242").ok().unwrap())),
        Decision::Approved
    );
    assert_eq!(authorize(None), Decision::Approved);
    assert_eq!(Decision::Declined.status(), PaymentStatus::Failed);
}

#[test]
fn requests_accept_string_ids_and_only_card_payments() {
    let parsed = request(json!({"order_id": "7", "amount": 999, "method": "card"}))
        .ok()
        .unwrap();
    assert_eq!(
        (parsed.order_id, parsed.amount, parsed.card_last4()),
        (7, 999, None)
    );
    assert!(request(json!({"order_id": 7, "amount": -1, "method": "card"})).is_err());
    assert!(request(json!({"order_id": 7, "amount": 1, "method": "cash"})).is_err());
    assert!(request(json!({"order_id": 7, "amount": 1, "method": "card", "tip": 1})).is_err());
}

#[test]
fn fingerprints_ignore_spelling_and_notice_changes() {
    let fingerprint =
        |body: &Value, secret: &str| request(body.clone()).ok().unwrap().fingerprint(secret);
    let plain = json!({"order_id": 7, "amount": 999, "method": "card", "card": card_body("4242424242424242")});
    let spelled = json!({"order_id": "7", "amount": 999, "method": "card", "card": card_body("4242 4242 4242 4242")});
    let other = json!({"order_id": 7, "amount": 998, "method": "card", "card": card_body("4242424242424242")});
    let secret = "secret-0123456789";
    assert_eq!(fingerprint(&plain, secret), fingerprint(&spelled, secret));
    assert_ne!(fingerprint(&plain, secret), fingerprint(&other, secret));
    assert_ne!(
        fingerprint(&plain, secret),
        fingerprint(&plain, "another-secret-0123")
    );
    assert_eq!(fingerprint(&plain, secret).len(), 64);
}

#[test]
fn only_a_pending_order_can_be_paid_and_only_its_total() {
    let order = |status| Order {
        id: 1,
        user_id: 2,
        status,
        total: 999,
        currency: "USD".into(),
    };
    assert!(order(OrderStatus::Pending).check_payable(999).is_ok());
    assert_eq!(
        order(OrderStatus::Pending)
            .check_payable(998)
            .unwrap_err()
            .status(),
        422
    );
    for status in [
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        assert_eq!(
            order(status).check_payable(999).unwrap_err().code(),
            "invalid_state"
        );
    }
}

#[test]
fn payments_show_last4_only_when_there_is_a_card_and_never_the_owner() {
    let payment = Payment {
        id: 1,
        order_id: 2,
        user_id: 3,
        amount: 999,
        currency: "USD".into(),
        status: PaymentStatus::Failed,
        method: "card".into(),
        card_last4: None,
        created_at: "2025-01-01T00:00:00.000000Z".into(),
    };
    let shown = serde_json::to_value(&payment).unwrap();
    assert!(shown.get("card_last4").is_none() && shown.get("user_id").is_none());
    assert_eq!(shown["status"], "failed");
    let err = declined(&payment);
    assert_eq!((err.status(), err.code()), (402, "payment_declined"));
    assert_eq!(err.body()["error"]["details"]["payment"]["id"], 1);
    assert!(
        payment.visible_to(3, false)
            && payment.visible_to(9, true)
            && !payment.visible_to(9, false)
    );
}
