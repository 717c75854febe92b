//! products: the catalog and its inventory, and the stock reservations orders hold.
//! Mounted at `/api/products/...`; this file is the route table, with who may call
//! each route.

mod domain;
mod handlers;
mod store;

/// The image rules, which `spinshop migrate --demo` shares for the demo catalog's pictures.
pub use domain::image;

/// The product list's query and its two statements, for the search benchmark
/// (`tests/benches/catalog_search.rs`), which explains them as the service runs them.
pub mod listing {
    pub use crate::domain::{ListFilter, ListQuery, Sort};
    pub use crate::store::{list_facets_sql, list_page_sql};
}

/// The name products goes by in service tokens, logs and health answers.
pub const SERVICE: &str = "products";

use domain::image::MAX_IMAGE_BYTES;
use handlers::{categories, images, internal, products, stock};
use spinshop_kit::Method::{Delete, Get, Patch, Post, Put};
use spinshop_kit::http::routes::{Route, dispatch};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

// The component's export, reading bodies as large as an image upload. Only built for
// wasm: a native build (for unit tests) can't link Spin's export names into a shared
// library.
spinshop_kit::export_service!(
    "/api/products",
    route,
    max_body = spinshop_kit::http::routes::largest_body_limit(ROUTES)
);

/// Every path of the service, who may call it, and the handler behind it.
const ROUTES: &[Route] = &[
    Route::health(),
    // Orders read names and prices here, as anyone may.
    Route::anyone(Get, "products", |req, _| {
        Box::pin(products::list_products(req))
    }),
    Route::anyone(Get, "search", |req, _| {
        Box::pin(products::search_products(req))
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
    // The body is the image file itself, not JSON.
    Route::admin(Post, "products/{id}/images", |req, id, admin| {
        Box::pin(images::upload_image(req, id[0], admin))
    })
    .with_body_limit(MAX_IMAGE_BYTES),
    Route::admin(
        Patch,
        "products/{id}/images/{image_id}",
        |req, ids, admin| Box::pin(images::update_image(req, ids, admin)),
    ),
    Route::admin(
        Delete,
        "products/{id}/images/{image_id}",
        |req, ids, admin| Box::pin(images::delete_image(req, ids, admin)),
    ),
    // The storefront's pictures, named by their content hash.
    Route::anyone(Get, "images/{file}", |req, name| {
        Box::pin(images::serve_image(req, name[0]))
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
