//! Payment rules: what a valid idempotency key, payment request and card are, the
//! simulated gateway, and the shapes payments shows and reads from orders. One file
//! per aggregate.

mod charge;
mod order;
mod payment;

pub use charge::*;
pub use order::*;
pub use payment::*;

#[cfg(test)]
mod tests;
