//! HTTP handlers, one file per resource: check who is calling, parse the request, do
//! the work, respond. Request bodies live beside their handlers.
//!
//! Who may call what:
//! - anyone: health, the product list and a product (orders read names and prices
//!   here), a product's stock;
//! - admins (a valid access token with the `admin` role): create, replace, update,
//!   delete products and set stock; no token 401, another role 403;
//! - sibling services (a valid service token, checked by `kit::serve` for every
//!   path under `/internal/`): reserve, release, commit; anyone else gets 403 and
//!   changes nothing.
//!
//! The caller is checked before the body is read, so someone who may not call an
//! endpoint learns nothing from its validation errors.

pub mod internal;
pub mod products;
pub mod stock;

use spinshop_kit::client::introspect;
use spinshop_kit::request::path_id;
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

use crate::SERVICE;
pub(super) use crate::domain::no_such_product;

/// Admin writes need an admin as users knows the account now: a live session and
/// the stored role, not the token's claim, so a demoted, logged-out or deleted
/// admin is refused at once, as in every service.
pub(super) async fn admin(req: &ApiRequest) -> ApiResult<()> {
    introspect(SERVICE, req).await?.require_admin()
}

/// A product id taken from the path; anything that is not one names no product.
pub(super) fn parse_product_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || no_such_product_raw(raw))
}

fn no_such_product_raw(id: &str) -> ApiError {
    ApiError::not_found(format!("no product with id {id}"))
}
