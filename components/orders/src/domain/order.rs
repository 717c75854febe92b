//! An order: the states it and its payment move through, its lines, the order as
//! the API shows it, and whose orders a caller may list.

use serde::{Deserialize, Serialize};
pub use spinshop_kit::contracts::OrderStatus;
use spinshop_kit::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Unpaid,
    Paid,
    Failed,
    Refunded,
}

impl PaymentStatus {
    pub(super) const ALL: [PaymentStatus; 4] = [
        PaymentStatus::Unpaid,
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// One line of a placed order, with the name and price the product had then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: i64,
    pub name: String,
    pub qty: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    pub total: i64,
    pub currency: String,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
    pub payment_status: PaymentStatus,
    /// The payment that paid the order: a repeated `/paid` must name the same one.
    #[serde(skip)]
    pub payment_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl Order {
    /// Orders are visible to their owner and to admins only; to anyone else they
    /// don't exist (404, so ids can't be probed).
    pub fn visible_to(&self, user_id: i64, is_admin: bool) -> bool {
        is_admin || self.user_id == user_id
    }

    /// Whether the order ever held stock that was never committed: cancelled before
    /// it was paid, its reservation is released (again, if an earlier release failed).
    pub fn holds_uncommitted_stock(&self) -> bool {
        self.payment_id.is_none()
    }
}

/// Whose orders a listing shows (`None`: everyone's). Customers see their own, and
/// asking for someone else's is refused; admins see all, or one user's on request.
pub fn list_scope(caller: i64, is_admin: bool, requested: Option<i64>) -> ApiResult<Option<i64>> {
    match requested {
        _ if is_admin => Ok(requested),
        Some(user_id) if user_id != caller => Err(ApiError::Forbidden(
            "only admins may list another user's orders".into(),
        )),
        _ => Ok(Some(caller)),
    }
}
