//! A payment: its states, and the payment as the API shows it and as it is recorded.

use serde::Serialize;

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
