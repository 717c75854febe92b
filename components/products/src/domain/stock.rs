//! A product's stock: the units on the shelf an admin sets, and the level the API
//! shows with what reservations hold of it.

use serde::Serialize;
use serde_json::json;
use spinshop_kit::{ApiError, ApiResult};

use super::Quantity;

/// Bounds stock so `reserved + qty` and order arithmetic stay far from overflow.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// Units on the shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i64);

impl Stock {
    pub fn parse(units: i64) -> ApiResult<Stock> {
        if !(0..=MAX_STOCK).contains(&units) {
            return Err(ApiError::invalid_field(
                "stock",
                format!("stock must be an integer from 0 to {MAX_STOCK}"),
            ));
        }
        Ok(Stock(units))
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

/// `GET /products/{id}/stock`. Here `available` counts the units that can still be
/// reserved (none once the product is archived), as in `insufficient_stock` details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    pub product_id: i64,
    pub stock: i64,
    pub reserved: i64,
    pub available: i64,
}

impl StockLevel {
    pub fn new(product_id: i64, stock: i64, reserved: i64, archived: bool) -> StockLevel {
        StockLevel {
            product_id,
            stock,
            reserved,
            available: if archived {
                0
            } else {
                (stock - reserved).max(0)
            },
        }
    }

    /// The 409 for a reservation line this level can't cover.
    pub fn insufficient_for(&self, requested: Quantity) -> ApiError {
        ApiError::Conflict {
            code: "insufficient_stock",
            message: format!(
                "insufficient stock for product {}: requested {}, available {}",
                self.product_id,
                requested.units(),
                self.available
            ),
            details: Some(json!({
                "product_id": self.product_id,
                "requested": requested.units(),
                "available": self.available,
            })),
        }
    }

    /// The 409 for setting stock below what open reservations hold.
    pub fn below_reserved(&self, requested: Stock) -> ApiError {
        ApiError::Conflict {
            code: "conflict",
            message: format!(
                "stock of product {} can't be set to {}: {} units are reserved for open orders",
                self.product_id,
                requested.units(),
                self.reserved
            ),
            details: Some(json!({
                "product_id": self.product_id,
                "stock": requested.units(),
                "reserved": self.reserved,
            })),
        }
    }
}
