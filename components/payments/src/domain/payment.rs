//! A payment: its states, the payment as the API shows it and as it is recorded,
//! and the answers that name one.

use serde::Serialize;
use serde_json::json;
use spinshop_kit::request::{path_id, positive_id};
use spinshop_kit::{ApiError, ApiResult};

use super::{IdempotencyKey, PaymentMethod};

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
