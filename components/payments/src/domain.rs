//! Payment rules: what a valid idempotency key, payment request and card are, the
//! simulated gateway, and the shapes payments shows and reads from orders.

use serde::{Deserialize, Serialize};
use serde_json::json;
use spinshop_kit::digest::sha256_hex;
pub use spinshop_kit::idempotency::IdempotencyKey;
use spinshop_kit::idempotency::MAX_IDEMPOTENCY_KEY_CHARS;
use spinshop_kit::request::{path_id, positive_id};
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

/// The one card number the simulated gateway declines.
pub const DECLINED_CARD: &str = "4000000000000002";

/// A payment's idempotency key, which every payment must carry.
pub fn idempotency_key(req: &ApiRequest) -> ApiResult<IdempotencyKey> {
    IdempotencyKey::from_request(req, invalid_idempotency_key)?.ok_or_else(invalid_idempotency_key)
}

fn invalid_idempotency_key() -> ApiError {
    ApiError::invalid_field(
        "X-Idempotency-Key",
        format!(
            "the X-Idempotency-Key header is required, 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"
        ),
    )
}

/// `POST /pay` as sent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayBody {
    #[serde(deserialize_with = "spinshop_kit::request::id")]
    pub order_id: i64,
    pub amount: i64,
    pub method: String,
    pub card: Option<CardBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardBody {
    pub number: String,
    pub exp_month: u32,
    pub exp_year: u32,
    pub cvc: String,
}

/// The only method the simulated gateway takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    Card,
}

impl PaymentMethod {
    pub fn parse(raw: &str) -> ApiResult<PaymentMethod> {
        match raw {
            "card" => Ok(PaymentMethod::Card),
            _ => Err(ApiError::invalid_field("method", "method must be \"card\"")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Card => "card",
        }
    }
}

/// A card that passed the checks a gateway makes before charging. It has no `Debug`
/// so its number and cvc can't end up in a log line.
pub struct Card {
    digits: String,
    exp_month: u32,
    exp_year: u32,
    cvc: String,
}

impl Card {
    pub fn parse(body: CardBody) -> ApiResult<Card> {
        let digits: String = body.number.chars().filter(|c| *c != ' ').collect();
        let well_formed = (12..=19).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && luhn_valid(&digits);
        if !well_formed {
            return Err(ApiError::invalid_field(
                "card.number",
                "card.number must be 12 to 19 digits (spaces allowed) with a valid check digit",
            ));
        }
        if !(1..=12).contains(&body.exp_month) {
            return Err(ApiError::invalid_field(
                "card.exp_month",
                "card.exp_month must be between 1 and 12",
            ));
        }
        if !(2000..=2099).contains(&body.exp_year) {
            return Err(ApiError::invalid_field(
                "card.exp_year",
                "card.exp_year must be a four-digit year from 2000 to 2099",
            ));
        }
        if !(3..=4).contains(&body.cvc.len()) || !body.cvc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid_field(
                "card.cvc",
                "card.cvc must be 3 or 4 digits",
            ));
        }
        Ok(Card {
            digits,
            exp_month: body.exp_month,
            exp_year: body.exp_year,
            cvc: body.cvc,
        })
    }

    /// The last four digits: all of the number payments ever keeps.
    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }
}

/// The Luhn check digit test every card number satisfies. `digits` is ASCII digits only.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment request that is valid by construction.
pub struct PaymentRequest {
    pub order_id: i64,
    pub amount: i64,
    pub method: PaymentMethod,
    pub card: Option<Card>,
}

impl PaymentRequest {
    pub fn parse(body: PayBody) -> ApiResult<PaymentRequest> {
        if body.amount < 0 {
            return Err(ApiError::invalid_field("amount", "amount must be >= 0"));
        }
        Ok(PaymentRequest {
            order_id: body.order_id,
            amount: body.amount,
            method: PaymentMethod::parse(&body.method)?,
            card: body.card.map(Card::parse).transpose()?,
        })
    }

    /// What a repeat of this request must match to be "the same request" under its
    /// idempotency key: the normalised request (an id sent as `"7"` or `7`, a card
    /// number with or without spaces, are the same), hashed with `secret` mixed in.
    /// Keyed because the request holds a card number and cvc: a plain SHA-256 of
    /// them could be brute-forced back from the stored hash.
    pub fn fingerprint(&self, secret: &str) -> String {
        let card = self.card.as_ref().map(|card| {
            json!({
                "number": card.digits,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "cvc": card.cvc,
            })
        });
        let normalised = json!({
            "order_id": self.order_id,
            "amount": self.amount,
            "method": self.method.as_str(),
            "card": card,
        });
        sha256_hex(&[secret.as_bytes(), &[0u8], normalised.to_string().as_bytes()])
    }

    pub fn card_last4(&self) -> Option<&str> {
        self.card.as_ref().map(Card::last4)
    }
}

/// What the simulated gateway answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Declined,
}

impl Decision {
    pub fn status(self) -> PaymentStatus {
        match self {
            Decision::Approved => PaymentStatus::Succeeded,
            Decision::Declined => PaymentStatus::Failed,
        }
    }
}

/// The simulated gateway, deterministic so tests and demos can choose the outcome:
/// [`DECLINED_CARD`] is declined; any other (already validated) card, or a card
/// payment with no card details, is approved.
pub fn authorize(card: Option<&Card>) -> Decision {
    match card {
        Some(card) if card.digits == DECLINED_CARD => Decision::Declined,
        _ => Decision::Approved,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Succeeded,
    Failed,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentStatus> {
        match raw {
            "succeeded" => Some(PaymentStatus::Succeeded),
            "failed" => Some(PaymentStatus::Failed),
            "refunded" => Some(PaymentStatus::Refunded),
            _ => None,
        }
    }
}

/// A payment as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Payment {
    pub id: i64,
    pub order_id: i64,
    /// Who paid: the order's owner. Used for access checks, not shown.
    #[serde(skip)]
    pub user_id: i64,
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_last4: Option<String>,
    pub created_at: String,
}

impl Payment {
    /// Whether `user_id` may see this payment (admins may see every payment).
    pub fn visible_to(&self, user_id: i64, is_admin: bool) -> bool {
        is_admin || self.user_id == user_id
    }
}

/// A payment about to be recorded.
pub struct NewPayment<'a> {
    pub user_id: i64,
    pub order_id: i64,
    pub idempotency_key: &'a IdempotencyKey,
    pub request_hash: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub status: PaymentStatus,
    pub method: PaymentMethod,
    pub card_last4: Option<&'a str>,
}

/// The order states payments cares about, as orders reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Paid,
    Fulfilled,
    Cancelled,
}

/// The part of an order (from `GET /api/orders/orders/{id}`) a payment needs.
#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub status: OrderStatus,
    pub total: i64,
    pub currency: String,
}

impl Order {
    /// Whether this order can be paid `amount` now: pending, and for exactly its total.
    pub fn check_payable(&self, amount: i64) -> ApiResult<()> {
        if self.status != OrderStatus::Pending {
            return Err(ApiError::conflict(
                "invalid_state",
                format!("order {} is not pending", self.id),
            ));
        }
        if amount != self.total {
            return Err(ApiError::Unprocessable(format!(
                "amount {amount} does not match the order total {}",
                self.total
            )));
        }
        Ok(())
    }
}

/// The 402 a declined payment answers, naming the failed payment it recorded.
pub fn declined(payment: &Payment) -> ApiError {
    ApiError::PaymentRequired {
        code: "payment_declined",
        message: "the card was declined".into(),
        details: Some(json!({ "payment": payment })),
    }
}

/// The 409 for a charge whose order was cancelled before it could be marked paid:
/// the charge was refunded, so the key's final answer is this conflict.
pub fn refunded_before_paid(payment: &Payment) -> ApiError {
    ApiError::Conflict {
        code: "invalid_state",
        message: format!(
            "order {} can no longer be paid; payment {} was refunded",
            payment.order_id, payment.id
        ),
        details: Some(json!({ "payment": payment })),
    }
}

/// A path id; anything that is not a positive integer names no payment.
pub fn parse_id(raw: &str, what: &str) -> ApiResult<i64> {
    path_id(raw, || {
        ApiError::not_found(format!("no {what} with id {raw}"))
    })
}

/// `?order_id=` of the payments list, when given.
pub fn parse_order_filter(raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|raw| {
        positive_id(raw).ok_or_else(|| {
            ApiError::invalid_field("order_id", "order_id must be a positive integer")
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
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
}
