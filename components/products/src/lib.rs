//! products: the catalog and its inventory, and the stock reservations orders hold.
//! Mounted at `/api/products/...`; this file is the route table (who may call each
//! route is described in `handlers`).

mod domain;
mod handlers;
mod store;

/// The name products goes by in service tokens, logs and health answers.
pub const SERVICE: &str = "products";

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/products", route);

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(req, SERVICE).await,
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Get, ["products"]) => handlers::products::list_products(req).await,
        (Post, ["products"]) => handlers::products::create_product(req).await,
        (_, ["products"]) => method_not_allowed(&[Get, Post]),
        (Get, ["products", id]) => handlers::products::get_product(req, id).await,
        (Put, ["products", id]) => handlers::products::replace_product(req, id).await,
        (Patch, ["products", id]) => handlers::products::update_product(req, id).await,
        (Delete, ["products", id]) => handlers::products::delete_product(req, id).await,
        (_, ["products", _]) => method_not_allowed(&[Get, Put, Patch, Delete]),
        (Get, ["products", id, "stock"]) => handlers::stock::get_stock(req, id).await,
        (Put, ["products", id, "stock"]) => handlers::stock::set_stock(req, id).await,
        (_, ["products", _, "stock"]) => method_not_allowed(&[Get, Put]),

        // Internal: called by orders with a service token, which `serve` checks.
        (Post, ["internal", "reserve"]) => handlers::internal::reserve(req).await,
        (Post, ["internal", "release"]) => handlers::internal::release(req).await,
        (Post, ["internal", "commit"]) => handlers::internal::commit(req).await,
        (_, ["internal", "reserve" | "release" | "commit"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
