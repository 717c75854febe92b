//! When an order, as orders shows it, can be paid.

pub use spinshop_kit::contracts::OrderStatus;
use spinshop_kit::{ApiError, ApiResult};

/// Whether order `order_id` (in `status`, for `total`) can be paid `amount` now:
/// pending, and for exactly its total.
pub fn check_payable(order_id: i64, status: OrderStatus, total: i64, amount: i64) -> ApiResult<()> {
    if status != OrderStatus::Pending {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("order {order_id} is not pending"),
        ));
    }
    if amount != total {
        return Err(ApiError::Unprocessable(format!(
            "amount {amount} does not match the order total {total}"
        )));
    }
    Ok(())
}
