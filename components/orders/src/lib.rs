//! orders: placing orders (priced and reserved at products), listing and cancelling
//! them, and the INTERNAL reads and transitions payments drives (paid, payment failed,
//! refunded).
//! Mounted at `/api/orders/...`; this file is the route table.

mod domain;
mod handlers;
mod siblings;
mod store;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

/// The name orders goes by in service tokens, logs and health answers.
pub const SERVICE: &str = "orders";

/// The component's export. Only built for wasm: a native build (for unit tests)
/// can't link Spin's export names into a shared library.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(
    req: spin_sdk::http::IncomingRequest,
    response_out: spin_sdk::http::ResponseOutparam,
) {
    spinshop_kit::serve(req, response_out, "/api/orders", route).await
}

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(SERVICE),
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Get, ["orders"]) => handlers::orders::list_orders(req),
        (Post, ["orders"]) => handlers::orders::place_order(req),
        (_, ["orders"]) => method_not_allowed(&[Get, Post]),
        (Get, ["orders", id]) => handlers::orders::get_order(req, id),
        (_, ["orders", _]) => method_not_allowed(&[Get]),
        (Post, ["orders", id, "cancel"]) => handlers::orders::cancel_order(req, id),
        (_, ["orders", _, "cancel"]) => method_not_allowed(&[Post]),

        // Internal: called by payments with a service token, which `serve` checks.
        (Get, ["internal", "orders", id]) => handlers::internal::get_order(id),
        (_, ["internal", "orders", _]) => method_not_allowed(&[Get]),
        (Post, ["internal", "orders", id, "paid"]) => handlers::internal::mark_paid(req, id),
        (Post, ["internal", "orders", id, "payment-failed"]) => {
            handlers::internal::mark_payment_failed(id)
        }
        (Post, ["internal", "orders", id, "refunded"]) => handlers::internal::mark_refunded(id),
        (
            _,
            [
                "internal",
                "orders",
                _,
                "paid" | "payment-failed" | "refunded",
            ],
        ) => method_not_allowed(&[Post]),

        (Post, ["internal", "outbox", "flush"]) => {
            spinshop_kit::outbox::flush_endpoint(&store::OUTBOX, req)
        }
        (_, ["internal", "outbox", "flush"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
