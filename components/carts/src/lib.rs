//! carts: a cart per user, priced from the catalog when shown, checked out as an
//! order through orders. Mounted at `/api/carts/...`; this file is the route table.

mod domain;
mod handlers;
mod siblings;
mod store;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

/// The name carts gives itself on calls to siblings.
pub const SERVICE: &str = "carts";

/// The component's export. Only built for wasm: a native build (for unit tests)
/// can't link Spin's export names into a shared library.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(
    req: spin_sdk::http::IncomingRequest,
    response_out: spin_sdk::http::ResponseOutparam,
) {
    spinshop_kit::serve(req, response_out, "/api/carts", route).await
}

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(SERVICE),
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Get, ["cart"]) => handlers::get_cart(req),
        (Delete, ["cart"]) => handlers::clear_cart(req),
        (_, ["cart"]) => method_not_allowed(&[Get, Delete]),
        (Post, ["cart", "items"]) => handlers::add_item(req),
        (_, ["cart", "items"]) => method_not_allowed(&[Post]),
        (Patch, ["cart", "items", product_id]) => handlers::update_item(req, product_id),
        (Delete, ["cart", "items", product_id]) => handlers::remove_item(req, product_id),
        (_, ["cart", "items", _]) => method_not_allowed(&[Patch, Delete]),
        (Post, ["cart", "checkout"]) => handlers::checkout(req),
        (_, ["cart", "checkout"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
