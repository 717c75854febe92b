//! carts: a cart per user, priced from the catalog when shown, checked out as an
//! order through orders. Mounted at `/api/carts/...`; this file is the route table,
//! with who may call each route.

mod domain;
mod handlers;
mod siblings;
mod store;

use spinshop_kit::Method::{Delete, Get, Patch, Post};
use spinshop_kit::http::routes::{Route, dispatch};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

/// The name carts gives itself on calls to siblings.
pub const SERVICE: &str = "carts";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/carts", route);

/// Every path of the service, who may call it, and the handler behind it.
const ROUTES: &[Route] = &[
    Route::health(),
    Route::signed_in(Get, "cart", |req, _, caller| {
        Box::pin(handlers::get_cart(req, caller))
    }),
    Route::signed_in(Delete, "cart", |req, _, caller| {
        Box::pin(handlers::clear_cart(req, caller))
    }),
    Route::signed_in(Post, "cart/items", |req, _, caller| {
        Box::pin(handlers::add_item(req, caller))
    }),
    Route::signed_in(Patch, "cart/items/{product_id}", |req, id, caller| {
        Box::pin(handlers::update_item(req, id[0], caller))
    }),
    Route::signed_in(Delete, "cart/items/{product_id}", |req, id, caller| {
        Box::pin(handlers::remove_item(req, id[0], caller))
    }),
    Route::signed_in(Post, "cart/checkout", |req, _, caller| {
        Box::pin(handlers::checkout(req, caller))
    }),
];

/// Answers a request from `ROUTES`.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    dispatch(ROUTES, req).await
}
