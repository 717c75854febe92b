//! A charge request: its amount, method and card, the checks a gateway makes before
//! charging, and the simulated gateway itself.

use serde_json::json;
use spinshop_kit::digest::sha256_hex;
pub use spinshop_kit::http::idempotency::IdempotencyKey;
use spinshop_kit::{ApiError, ApiResult};

use super::PaymentStatus;

/// The one card number the simulated gateway declines.
pub const DECLINED_CARD: &str = "4000000000000002";

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
    pub fn parse(number: &str, exp_month: u32, exp_year: u32, cvc: &str) -> ApiResult<Card> {
        let digits: String = number.chars().filter(|c| *c != ' ').collect();
        let well_formed = (12..=19).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && luhn_valid(&digits);
        if !well_formed {
            return Err(ApiError::invalid_field(
                "card.number",
                "card.number must be 12 to 19 digits (spaces allowed) with a valid check digit",
            ));
        }
        if !(1..=12).contains(&exp_month) {
            return Err(ApiError::invalid_field(
                "card.exp_month",
                "card.exp_month must be between 1 and 12",
            ));
        }
        if !(2000..=2099).contains(&exp_year) {
            return Err(ApiError::invalid_field(
                "card.exp_year",
                "card.exp_year must be a four-digit year from 2000 to 2099",
            ));
        }
        if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid_field(
                "card.cvc",
                "card.cvc must be 3 or 4 digits",
            ));
        }
        Ok(Card {
            digits,
            exp_month,
            exp_year,
            cvc: cvc.to_string(),
        })
    }

    /// The last four digits: all of the number payments ever keeps.
    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }
}

/// The Luhn check digit test every card number satisfies. `digits` is ASCII digits only.
pub(super) fn luhn_valid(digits: &str) -> bool {
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

/// An amount to charge, in minor units: never negative.
pub fn parse_amount(raw: i64) -> ApiResult<i64> {
    if raw < 0 {
        return Err(ApiError::invalid_field("amount", "amount must be >= 0"));
    }
    Ok(raw)
}

/// A payment request, made of parts that are each valid by construction.
pub struct PaymentRequest {
    pub order_id: i64,
    pub amount: i64,
    pub method: PaymentMethod,
    pub card: Option<Card>,
}

impl PaymentRequest {
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
