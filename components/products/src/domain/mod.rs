//! Catalog rules: what a valid product, stock level and reservation request are,
//! values that are valid by construction, and the catalog's aggregates as the API
//! shows them. One file per aggregate.

mod category;
mod facets;
mod filter;
pub mod image;
mod product;
mod reservation;
mod stock;

pub use category::*;
pub use facets::*;
pub use filter::*;
pub use product::*;
pub use reservation::*;
pub use stock::*;

#[cfg(test)]
mod tests;
