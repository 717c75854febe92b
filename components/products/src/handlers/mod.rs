//! HTTP handlers, one file per resource: parse the request, do the work, respond.
//! Request bodies live beside their handlers. Who may call each is the route table's
//! (`lib.rs`): a handler for admins takes the `Admin` the check gives, one for
//! sibling services the `Service`, and the check runs before the body is read.

pub mod categories;
pub mod images;
pub mod internal;
pub mod products;
pub mod stock;

use spinshop_kit::http::request::path_id;
use spinshop_kit::{ApiError, ApiResult};

pub(super) use crate::domain::no_such_product;

/// A product id taken from the path; anything that is not one names no product.
pub(super) fn parse_product_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || no_such_product_raw(raw))
}

fn no_such_product_raw(id: &str) -> ApiError {
    ApiError::not_found(format!("no product with id {id}"))
}
