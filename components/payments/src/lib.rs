//! payments: idempotent charges against orders through a simulated gateway, refunds.
//! Mounted at `/api/payments/...`; this file is the route table.

mod domain;
mod handlers;
mod siblings;
mod store;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

/// The name payments gives itself on calls to siblings.
pub const SERVICE: &str = "payments";

/// The component's export. Only built for wasm: a native build (for unit tests)
/// can't link Spin's export names into a shared library.
#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(
    req: spin_sdk::http::IncomingRequest,
    response_out: spin_sdk::http::ResponseOutparam,
) {
    spinshop_kit::serve(req, response_out, "/api/payments", route).await
}

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(SERVICE),
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Post, ["pay"]) => handlers::pay::pay(req),
        (_, ["pay"]) => method_not_allowed(&[Post]),

        (Get, ["payments"]) => handlers::payments::list_payments(req),
        (_, ["payments"]) => method_not_allowed(&[Get]),
        (Get, ["payments", id]) => handlers::payments::get_payment(req, id),
        (_, ["payments", _]) => method_not_allowed(&[Get]),
        (Post, ["payments", id, "refund"]) => handlers::payments::refund_payment(req, id),
        (_, ["payments", _, "refund"]) => method_not_allowed(&[Post]),

        (Post, ["internal", "refund-order"]) => handlers::internal::refund_order(req),
        (_, ["internal", "refund-order"]) => method_not_allowed(&[Post]),

        (Post, ["internal", "outbox", "flush"]) => {
            spinshop_kit::outbox::flush_endpoint(&store::OUTBOX, req)
        }
        (_, ["internal", "outbox", "flush"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
