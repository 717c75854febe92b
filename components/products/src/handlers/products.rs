//! The catalog: products as anyone reads them, and as admins create, change and
//! remove them.

use serde::Deserialize;
use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

use super::{no_such_product, parse_product_id};
use crate::domain::{ListFilter, NewProduct, ProductFields, ProductFieldsPatch, ProductPatch};
use crate::store::{self, Removal};

/// `POST /products` and `PUT /products/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductBody {
    name: String,
    price: i64,
    stock: Option<i64>,
    description: Option<String>,
    currency: Option<String>,
}

/// `PATCH /products/{id}`: only the fields present change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductPatchBody {
    name: Option<String>,
    /// `""` removes the description.
    description: Option<String>,
    price: Option<i64>,
    currency: Option<String>,
    stock: Option<i64>,
}

impl ProductBody {
    fn fields(&self) -> ProductFields<'_> {
        ProductFields {
            name: &self.name,
            price: self.price,
            stock: self.stock,
            description: self.description.as_deref(),
            currency: self.currency.as_deref(),
        }
    }
}

impl ProductPatchBody {
    fn fields(&self) -> ProductFieldsPatch<'_> {
        ProductFieldsPatch {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            price: self.price,
            currency: self.currency.as_deref(),
            stock: self.stock,
        }
    }
}

/// `GET /products?limit&offset&q&available&include_archived`: products in id order,
/// the total in `X-Total-Count`. `q` matches part of the name, ignoring case;
/// `available=true|false` keeps only products that can (or can't) be bought now.
/// Archived products are left out unless `include_archived=true`.
pub async fn list_products(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let paging = Paging::from_request(req)?;
    let filter = ListFilter::parse(
        req.query("q"),
        req.query("available"),
        req.query("include_archived"),
    )?;
    let (products, total) = store::list_products(&Db::connect(req).await?, &filter, paging).await?;
    ApiResponse::page(&products, total)
}

/// `GET /products/{id}`: archived products too, so orders can still show them.
pub async fn get_product(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let product = store::find_product(&Db::connect(req).await?, id)
        .await?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&product)
}

/// `POST /products` (admin) `{name, price, stock?, description?, currency?}` -> 201.
pub async fn create_product(req: &ApiRequest, _: Admin) -> ApiResult<ApiResponse> {
    let body: ProductBody = req.json()?;
    let product = NewProduct::parse(body.fields())?;
    ApiResponse::created(&store::insert_product(&Db::connect(req).await?, &product).await?)
}

/// `PUT /products/{id}` (admin): `{name, price, stock, description?, currency?}`
/// replaces them all (absent description: none, absent currency: USD). Stock below
/// the reserved units: 409.
pub async fn replace_product(req: &ApiRequest, id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let body: ProductBody = req.json()?;
    let product = NewProduct::replacement(body.fields())?;
    let replaced = store::replace_product(&Db::connect(req).await?, id, &product)
        .await?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&replaced)
}

/// `PATCH /products/{id}` (admin): changes the fields sent; `"description": ""`
/// removes the description. Stock below the reserved units: 409.
pub async fn update_product(req: &ApiRequest, id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let body: ProductPatchBody = req.json()?;
    let patch = ProductPatch::parse(body.fields())?;
    let updated = store::update_product(&Db::connect(req).await?, id, &patch)
        .await?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&updated)
}

/// `DELETE /products/{id}` (admin) -> 204. A product any reservation ever named
/// (open, committed or released: orders keep referring to it) is archived instead
/// of erased: it leaves the list, can't be reserved, and still reads by id.
/// Deleting an archived product again is a 204 that changes nothing.
pub async fn delete_product(req: &ApiRequest, id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    match store::remove_product(&Db::connect(req).await?, id).await? {
        Removal::Deleted | Removal::Archived => Ok(ApiResponse::no_content()),
        Removal::NotFound => Err(no_such_product(id)),
    }
}
