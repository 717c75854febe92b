//! Cart rules: quantities, how a cart is priced from the current catalog, and the
//! idempotency key a checkout places its order under. One file per aggregate.

mod cart;
mod checkout;

pub use cart::*;
pub use checkout::*;
