//! The order as payments reads it from orders, and when it can be paid.

use serde::Deserialize;
pub use spinshop_kit::contracts::OrderStatus;
use spinshop_kit::{ApiError, ApiResult};

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
