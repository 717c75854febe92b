//! Reservations: the stock held for one order, from `reserved` to `released` or
//! `committed`, and what a valid request to hold it is.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use spinshop_kit::contracts::{ReserveBody, ReservedLine};
use spinshop_kit::limits::MAX_QTY;
use spinshop_kit::{ApiError, ApiResult};

/// Lines per reservation; an order is a handful of lines, not a bulk import.
pub const MAX_ITEMS: usize = 100;

/// Units of one product in one reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(units: i64, field: &str) -> ApiResult<Quantity> {
        if !(1..=MAX_QTY).contains(&units) {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be between 1 and {MAX_QTY}"),
            ));
        }
        Ok(Quantity(units))
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationLine {
    pub product_id: i64,
    pub qty: Quantity,
}

/// A valid request to hold stock for an order: 1 to 100 lines, each product once,
/// in product id order so concurrent reservations lock rows in the same order and
/// can't deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    pub order_id: i64,
    lines: Vec<ReservationLine>,
}

impl ReservationRequest {
    /// A product listed twice is refused rather than merged: the caller's order and
    /// the reservation would disagree about its lines.
    pub fn parse(body: ReserveBody) -> ApiResult<ReservationRequest> {
        if body.items.is_empty() {
            return Err(ApiError::invalid_field("items", "items must not be empty"));
        }
        if body.items.len() > MAX_ITEMS {
            return Err(ApiError::invalid_field(
                "items",
                format!("items must have at most {MAX_ITEMS} entries"),
            ));
        }
        let mut first_seen: HashMap<i64, usize> = HashMap::new();
        let mut lines = Vec::with_capacity(body.items.len());
        for (index, item) in body.items.iter().enumerate() {
            if let Some(first) = first_seen.insert(item.product_id, index) {
                return Err(ApiError::invalid_field(
                    &format!("items[{index}].product_id"),
                    format!(
                        "items[{index}].product_id repeats items[{first}].product_id ({}); \
                         list each product once",
                        item.product_id
                    ),
                ));
            }
            lines.push(ReservationLine {
                product_id: item.product_id,
                qty: Quantity::parse(item.qty, &format!("items[{index}].qty"))?,
            });
        }
        lines.sort_by_key(|line| line.product_id);
        Ok(ReservationRequest {
            order_id: body.order_id,
            lines,
        })
    }

    /// The lines in product id order.
    pub fn lines(&self) -> &[ReservationLine] {
        &self.lines
    }
}

/// A reservation moves from `reserved` to `released` or `committed`, never back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    Reserved,
    Released,
    Committed,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Reserved => "reserved",
            ReservationStatus::Released => "released",
            ReservationStatus::Committed => "committed",
        }
    }

    pub fn parse(raw: &str) -> Option<ReservationStatus> {
        match raw {
            "reserved" => Some(ReservationStatus::Reserved),
            "released" => Some(ReservationStatus::Released),
            "committed" => Some(ReservationStatus::Committed),
            _ => None,
        }
    }
}

/// The stock held for one order.
#[derive(Debug, Clone, Serialize)]
pub struct Reservation {
    pub order_id: i64,
    pub status: ReservationStatus,
    pub items: Vec<ReservedLine>,
    pub created_at: String,
    pub updated_at: String,
}

impl Reservation {
    /// After a release or commit the reservation must be in `wanted`; being in the
    /// other final state means the request came too late (409 `invalid_state`).
    /// Finding it already in `wanted` is a repeat, and succeeds.
    pub fn ensure_status(self, wanted: ReservationStatus) -> ApiResult<Reservation> {
        if self.status == wanted {
            return Ok(self);
        }
        Err(ApiError::Conflict {
            code: "invalid_state",
            message: format!(
                "the reservation for order {} is {} and can't become {}",
                self.order_id,
                self.status.as_str(),
                wanted.as_str()
            ),
            details: Some(json!({ "order_id": self.order_id, "status": self.status })),
        })
    }
}
