//! carts: a cart per user, priced from the catalog when shown, checked out as an
//! order through orders. Mounted at `/api/carts/...`; this file is the route table.

mod domain;
mod handlers;
mod siblings;
mod store;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

/// The name carts gives itself on calls to siblings.
pub const SERVICE: &str = "carts";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/carts", route);

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(req, SERVICE).await,
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Get, ["cart"]) => handlers::get_cart(req).await,
        (Delete, ["cart"]) => handlers::clear_cart(req).await,
        (_, ["cart"]) => method_not_allowed(&[Get, Delete]),
        (Post, ["cart", "items"]) => handlers::add_item(req).await,
        (_, ["cart", "items"]) => method_not_allowed(&[Post]),
        (Patch, ["cart", "items", product_id]) => handlers::update_item(req, product_id).await,
        (Delete, ["cart", "items", product_id]) => handlers::remove_item(req, product_id).await,
        (_, ["cart", "items", _]) => method_not_allowed(&[Patch, Delete]),
        (Post, ["cart", "checkout"]) => handlers::checkout(req).await,
        (_, ["cart", "checkout"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
