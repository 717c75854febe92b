//! Order rules: what a valid order request is, how it is priced from the catalog's
//! answers, the states an order moves through, and the order as the API shows it.
//! One file per aggregate.

mod order;
mod placement;

pub use order::*;
pub use placement::*;

#[cfg(test)]
mod tests;
