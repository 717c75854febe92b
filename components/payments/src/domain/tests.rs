//! The payment rules, exercised through what the domain offers the handlers.

use spinshop_kit::ApiResult;

use super::charge::luhn_valid;
use super::*;

fn card(number: &str) -> ApiResult<Card> {
    Card::parse(number, 12, 2030, "123")
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
    assert!(Card::parse("4242424242424242", 13, 2030, "123").is_err());
    assert!(Card::parse("4242424242424242", 12, 2030, "12a").is_err());
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
fn only_a_pending_order_can_be_paid_and_only_its_total() {
    let check = |status, amount| check_payable(1, status, 999, amount);
    assert!(check(OrderStatus::Pending, 999).is_ok());
    assert_eq!(check(OrderStatus::Pending, 998).unwrap_err().status(), 422);
    for status in [
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ] {
        assert_eq!(check(status, 999).unwrap_err().code(), "invalid_state");
    }
}

#[test]
fn a_payment_event_reads_back_as_the_data_notifications_reads() {
    let payment = Payment {
        id: 9,
        order_id: 42,
        user_id: 7,
        amount: 1998,
        currency: "EUR".into(),
        status: PaymentStatus::Succeeded,
        method: "card".into(),
        card_last4: Some("4242".into()),
        created_at: "2026-12-07T10:00:00.000000Z".into(),
    };
    let recorded = serde_json::to_value(&payment).unwrap();
    assert_eq!(
        serde_json::from_value::<spinshop_kit::contracts::PaymentData>(recorded).unwrap(),
        spinshop_kit::contracts::PaymentData {
            id: 9,
            order_id: Some(42),
            amount: Some(1998),
            currency: Some("EUR".into()),
            status: Some("succeeded".into()),
            method: Some("card".into()),
            card_last4: Some("4242".into()),
            created_at: "2026-12-07T10:00:00.000000Z".into(),
        }
    );
}
