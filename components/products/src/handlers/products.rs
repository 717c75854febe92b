//! The catalog: products as anyone reads them, and as admins create, change and
//! remove them.

use serde::{Deserialize, Serialize};
use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::request::nullable;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

use super::{no_such_product, parse_product_id};
use crate::domain::{
    Facets, ListFilter, ListQuery, NewProduct, Product, ProductFields, ProductFieldsPatch,
    ProductPatch, Sort,
};
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
    /// A category's slug; absent or null: none.
    category: Option<String>,
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
    /// null takes the product out of its category.
    #[serde(default, deserialize_with = "nullable")]
    category: Option<Option<String>>,
}

impl ProductBody {
    fn fields(&self) -> ProductFields<'_> {
        ProductFields {
            name: &self.name,
            price: self.price,
            stock: self.stock,
            description: self.description.as_deref(),
            currency: self.currency.as_deref(),
            category: self.category.as_deref(),
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
            category: self.category.as_ref().map(Option::as_deref),
        }
    }
}

/// `GET /products`: a page of products, the number the query matches (`total`,
/// also in `X-Total-Count`), and its facets.
#[derive(Serialize)]
struct ProductPage {
    items: Vec<Product>,
    total: i64,
    facets: Facets,
}

/// `GET /products?limit&offset&q&category&sort&min_price&max_price&available&include_archived`.
/// `q` is a full-text search (`websearch_to_tsquery` syntax), or, when nothing
/// matches its words, a search for names that come close; `category` a slug (a top-level one includes the categories
/// under it); `min_price`/`max_price` cents, both included; `sort` relevance,
/// price_asc, price_desc or newest (default: relevance with `q`, else newest);
/// `available=true|false` keeps only products that can (or can't) be bought now;
/// archived products are left out unless `include_archived=true`. The answer is a
/// JSON array, the total in `X-Total-Count`.
pub async fn list_products(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let (filter, sort, paging) = list_query(req)?;
    let (items, total) =
        store::list_products(&Db::connect(req).await?, &filter, sort, paging).await?;
    Ok(ApiResponse::ok(&items)?.with_header("x-total-count", &total.to_string()))
}

/// `GET /search`: the same query as `GET /products`, answered with the page, the
/// total and the facets for the query (what a shop's search page shows at once).
pub async fn search_products(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let (filter, sort, paging) = list_query(req)?;
    let (items, total, facets) =
        store::search_products(&Db::connect(req).await?, &filter, sort, paging).await?;
    let page = ProductPage {
        items,
        total,
        facets,
    };
    Ok(ApiResponse::ok(&page)?.with_header("x-total-count", &total.to_string()))
}

fn list_query(req: &ApiRequest) -> ApiResult<(ListFilter, Sort, Paging)> {
    let paging = Paging::from_request(req)?;
    let (filter, sort) = ListFilter::parse(&ListQuery {
        q: req.query("q"),
        category: req.query("category"),
        sort: req.query("sort"),
        min_price: req.query("min_price"),
        max_price: req.query("max_price"),
        available: req.query("available"),
        include_archived: req.query("include_archived"),
    })?;
    Ok((filter, sort, paging))
}

/// `GET /products/{id}`: archived products too, so orders can still show them.
pub async fn get_product(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let product = store::find_product(&Db::connect(req).await?, id)
        .await?
        .ok_or_else(|| no_such_product(id))?;
    ApiResponse::ok(&product)
}

/// `POST /products` (admin) `{name, price, stock?, description?, currency?, category?}`
/// -> 201. An unknown category: 400.
pub async fn create_product(req: &ApiRequest, _: Admin) -> ApiResult<ApiResponse> {
    let body: ProductBody = req.json()?;
    let product = NewProduct::parse(body.fields())?;
    ApiResponse::created(&store::insert_product(&Db::connect(req).await?, &product).await?)
}

/// `PUT /products/{id}` (admin): `{name, price, stock, description?, currency?,
/// category?}` replaces them all (absent description or category: none, absent
/// currency: USD). Stock below the reserved units: 409.
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
/// removes the description, `"category": null` the category. Stock below the
/// reserved units: 409.
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
