//! A product's stock: anyone reads the level, admins set the units on the shelf.

use serde::Deserialize;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

use super::{no_such_product, parse_product_id};
use crate::domain::Stock;
use crate::store;

/// `PUT /products/{id}/stock`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockBody {
    stock: i64,
}

/// `GET /products/{id}/stock` -> `{product_id, stock, reserved, available}`, where
/// `available` is the number of units that can still be reserved.
pub async fn get_stock(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let level = store::stock_level(&Db::connect(req).await?, id)
        .await?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&level)
}

/// `PUT /products/{id}/stock` (admin) `{stock}` -> 200 with the new level; below the
/// reserved units: 409.
pub async fn set_stock(req: &ApiRequest, id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let stock = Stock::parse(req.json::<StockBody>()?.stock)?;
    let level = store::set_stock(&Db::connect(req).await?, id, stock)
        .await?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&level)
}
