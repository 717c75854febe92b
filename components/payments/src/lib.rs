//! payments: idempotent charges against orders through a simulated gateway, refunds.
//! Mounted at `/api/payments/...`; this file is the route table.

mod config;
mod domain;
mod handlers;
mod siblings;
mod store;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

/// The name payments gives itself on calls to siblings.
pub const SERVICE: &str = "payments";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/payments", route);

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(req, SERVICE).await,
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Post, ["pay"]) => handlers::pay::pay(req).await,
        (_, ["pay"]) => method_not_allowed(&[Post]),

        (Get, ["payments"]) => handlers::payments::list_payments(req).await,
        (_, ["payments"]) => method_not_allowed(&[Get]),
        (Get, ["payments", id]) => handlers::payments::get_payment(req, id).await,
        (_, ["payments", _]) => method_not_allowed(&[Get]),
        (Post, ["payments", id, "refund"]) => handlers::payments::refund_payment(req, id).await,
        (_, ["payments", _, "refund"]) => method_not_allowed(&[Post]),

        (Post, ["internal", "refund-order"]) => handlers::internal::refund_order(req).await,
        (_, ["internal", "refund-order"]) => method_not_allowed(&[Post]),

        (Post, ["internal", "outbox", "flush"]) => {
            spinshop_kit::outbox::flush_endpoint(&store::OUTBOX, req).await
        }
        (_, ["internal", "outbox", "flush"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
