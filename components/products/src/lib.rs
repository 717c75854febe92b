//! products: the catalog and its inventory, and the stock reservations orders hold.
//! Mounted at `/api/products/...`; this file is the route table, with who may call
//! each route.

mod domain;
mod handlers;
mod store;

/// The product list's query and its two statements, for the search benchmark
/// (`tests/benches/catalog_search.rs`), which explains them as the service runs them.
pub mod listing {
    pub use crate::domain::{ListFilter, ListQuery, Sort};
    pub use crate::store::{list_facets_sql, list_page_sql};
}

/// The name products goes by in service tokens, logs and health answers.
pub const SERVICE: &str = "products";

use handlers::{categories, internal, products, stock};
use spinshop_kit::Method::{Delete, Get, Patch, Post, Put};
use spinshop_kit::http::routes::{Route, dispatch};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/products", route);

/// Every path of the service, who may call it, and the handler behind it.
const ROUTES: &[Route] = &[
    Route::health(),
    // Orders read names and prices here, as anyone may.
    Route::anyone(Get, "products", |req, _| {
        Box::pin(products::list_products(req))
    }),
    Route::admin(Post, "products", |req, _, admin| {
        Box::pin(products::create_product(req, admin))
    }),
    Route::anyone(Get, "products/{id}", |req, id| {
        Box::pin(products::get_product(req, id[0]))
    }),
    Route::admin(Put, "products/{id}", |req, id, admin| {
        Box::pin(products::replace_product(req, id[0], admin))
    }),
    Route::admin(Patch, "products/{id}", |req, id, admin| {
        Box::pin(products::update_product(req, id[0], admin))
    }),
    Route::admin(Delete, "products/{id}", |req, id, admin| {
        Box::pin(products::delete_product(req, id[0], admin))
    }),
    Route::anyone(Get, "categories", |req, _| {
        Box::pin(categories::list_categories(req))
    }),
    Route::admin(Post, "categories", |req, _, admin| {
        Box::pin(categories::create_category(req, admin))
    }),
    Route::admin(Patch, "categories/{slug}", |req, slug, admin| {
        Box::pin(categories::update_category(req, slug[0], admin))
    }),
    Route::admin(Delete, "categories/{slug}", |req, slug, admin| {
        Box::pin(categories::delete_category(req, slug[0], admin))
    }),
    Route::anyone(Get, "products/{id}/stock", |req, id| {
        Box::pin(stock::get_stock(req, id[0]))
    }),
    Route::admin(Put, "products/{id}/stock", |req, id, admin| {
        Box::pin(stock::set_stock(req, id[0], admin))
    }),
    // Orders holds, releases and commits stock for its orders.
    Route::service(Post, "internal/reserve", |req, _, orders| {
        Box::pin(internal::reserve(req, orders))
    }),
    Route::service(Post, "internal/release", |req, _, orders| {
        Box::pin(internal::release(req, orders))
    }),
    Route::service(Post, "internal/commit", |req, _, orders| {
        Box::pin(internal::commit(req, orders))
    }),
];

/// Answers a request from `ROUTES`.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    dispatch(ROUTES, req).await
}
