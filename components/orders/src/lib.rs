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

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/orders", route);

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(req, SERVICE).await,
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Get, ["orders"]) => handlers::orders::list_orders(req).await,
        (Post, ["orders"]) => handlers::orders::place_order(req).await,
        (_, ["orders"]) => method_not_allowed(&[Get, Post]),
        (Get, ["orders", id]) => handlers::orders::get_order(req, id).await,
        (_, ["orders", _]) => method_not_allowed(&[Get]),
        (Post, ["orders", id, "cancel"]) => handlers::orders::cancel_order(req, id).await,
        (_, ["orders", _, "cancel"]) => method_not_allowed(&[Post]),

        // Internal: called by payments with a service token, which `serve` checks.
        (Get, ["internal", "orders", id]) => handlers::internal::get_order(req, id).await,
        (_, ["internal", "orders", _]) => method_not_allowed(&[Get]),
        (Post, ["internal", "orders", id, "paid"]) => handlers::internal::mark_paid(req, id).await,
        (Post, ["internal", "orders", id, "payment-failed"]) => {
            handlers::internal::mark_payment_failed(req, id).await
        }
        (Post, ["internal", "orders", id, "refunded"]) => {
            handlers::internal::mark_refunded(req, id).await
        }
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
            spinshop_kit::outbox::flush_endpoint(&store::OUTBOX, req).await
        }
        (_, ["internal", "outbox", "flush"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
