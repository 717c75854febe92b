//! Bounds more than one service enforces alike.

/// The most units of one product a reservation, an order line or a cart line holds.
pub const MAX_QTY: i64 = 1000;
