//! HTTP handlers: check who is calling, parse the request, do the work, respond.
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

use spinshop_kit::client::introspect;
use spinshop_kit::contracts::{OrderRefBody, ReserveBody};
use spinshop_kit::db::Db;
use spinshop_kit::paging::Paging;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::SERVICE;
use crate::domain::{
    ListFilter, NewProduct, ProductBody, ProductPatch, ProductPatchBody, ReservationRequest,
    ReservationStatus, Stock, StockBody, no_such_product, parse_product_id,
};
use crate::store::{self, Removal};

/// `GET /products?limit&offset&q&available&include_archived`: products in id order,
/// the total in `X-Total-Count`. `q` matches part of the name, ignoring case;
/// `available=true|false` keeps only products that can (or can't) be bought now.
/// Archived products are left out unless `include_archived=true`.
pub fn list_products(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let paging = Paging::from_request(req)?;
    let filter = ListFilter::parse(
        req.query("q"),
        req.query("available"),
        req.query("include_archived"),
    )?;
    let (products, total) = store::list_products(&Db::connect()?, &filter, paging)?;
    ApiResponse::page(&products, total)
}

/// `GET /products/{id}`: archived products too, so orders can still show them.
pub fn get_product(id: &str) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let product = store::find_product(&Db::connect()?, id)?.ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&product)
}

/// `POST /products` (admin) `{name, price, stock?, description?, currency?}` -> 201.
pub fn create_product(req: &ApiRequest) -> ApiResult<ApiResponse> {
    admin(req)?;
    let product = NewProduct::parse(req.json::<ProductBody>()?)?;
    ApiResponse::created(&store::insert_product(&Db::connect()?, &product)?)
}

/// `PUT /products/{id}` (admin): `{name, price, stock, description?, currency?}`
/// replaces them all (absent description: none, absent currency: USD). Stock below
/// the reserved units: 409.
pub fn replace_product(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    admin(req)?;
    let id = parse_product_id(id)?;
    let product = NewProduct::replacement(req.json::<ProductBody>()?)?;
    let replaced = store::replace_product(&Db::connect()?, id, &product)?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&replaced)
}

/// `PATCH /products/{id}` (admin): changes the fields sent; `"description": ""`
/// removes the description. Stock below the reserved units: 409.
pub fn update_product(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    admin(req)?;
    let id = parse_product_id(id)?;
    let patch = ProductPatch::parse(req.json::<ProductPatchBody>()?)?;
    let updated =
        store::update_product(&Db::connect()?, id, &patch)?.ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&updated)
}

/// `DELETE /products/{id}` (admin) -> 204. A product any reservation ever named
/// (open, committed or released: orders keep referring to it) is archived instead
/// of erased: it leaves the list, can't be reserved, and still reads by id.
/// Deleting an archived product again is a 204 that changes nothing.
pub fn delete_product(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    admin(req)?;
    let id = parse_product_id(id)?;
    match store::remove_product(&Db::connect()?, id)? {
        Removal::Deleted | Removal::Archived => Ok(ApiResponse::no_content()),
        Removal::NotFound => Err(no_such_product(id)),
    }
}

/// `GET /products/{id}/stock` -> `{product_id, stock, reserved, available}`, where
/// `available` is the number of units that can still be reserved.
pub fn get_stock(id: &str) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let level = store::stock_level(&Db::connect()?, id)?.ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&level)
}

/// `PUT /products/{id}/stock` (admin) `{stock}` -> 200 with the new level; below the
/// reserved units: 409.
pub fn set_stock(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    admin(req)?;
    let id = parse_product_id(id)?;
    let stock = Stock::parse(req.json::<StockBody>()?.stock)?;
    let level = store::set_stock(&Db::connect()?, id, stock)?.ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&level)
}

/// `POST /internal/reserve` `{order_id, items: [{product_id, qty}]}` -> 200
/// `{order_id, status, items, created_at, updated_at}`. All lines or none: a line
/// that can't be covered is 409 `insufficient_stock` with `{product_id, requested,
/// available}` (an archived product has none available), an unknown product 404.
/// A repeat for the same order returns the first reservation, whatever its state.
pub fn reserve(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let request = ReservationRequest::parse(req.json::<ReserveBody>()?)?;
    ApiResponse::ok(&store::reserve(&Db::connect()?, &request)?)
}

/// `POST /internal/release` `{order_id}` -> 200 with the released reservation.
/// Repeats succeed; an order nothing was reserved for is recorded as released, so a
/// late reserve for it holds nothing. A committed reservation: 409 `invalid_state`.
pub fn release(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let order_id = req.json::<OrderRefBody>()?.order_id;
    let reservation = store::release(&Db::connect()?, order_id)?;
    ApiResponse::ok(&reservation.ensure_status(ReservationStatus::Released)?)
}

/// `POST /internal/commit` `{order_id}` -> 200 with the committed reservation: its
/// units leave the shelf (`stock` and `reserved` both drop). Repeats succeed; no
/// reservation for the order: 404; a released one: 409 `invalid_state`.
pub fn commit(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let order_id = req.json::<OrderRefBody>()?.order_id;
    let reservation = store::commit(&Db::connect()?, order_id)?
        .ok_or_else(|| ApiError::not_found(format!("no reservation for order {order_id}")))?;
    ApiResponse::ok(&reservation.ensure_status(ReservationStatus::Committed)?)
}

/// Admin writes need an admin as users knows the account now: a live session and
/// the stored role, not the token's claim, so a demoted, logged-out or deleted
/// admin is refused at once, as in every service.
fn admin(req: &ApiRequest) -> ApiResult<()> {
    introspect(SERVICE, req)?.require_admin()
}
