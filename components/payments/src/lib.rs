//! payments: idempotent charges against orders through a simulated gateway, refunds.
//! Mounted at `/api/payments/...`; this file is the route table, with who may
//! call each route.

mod config;
mod domain;
mod handlers;
mod siblings;
mod store;

use handlers::{internal, pay, payments};
use spinshop_kit::Method::{Get, Post};
use spinshop_kit::http::routes::{Route, dispatch};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

/// The name payments gives itself on calls to siblings.
pub const SERVICE: &str = "payments";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/payments", route);

/// Every path of the service, who may call it, and the handler behind it.
const ROUTES: &[Route] = &[
    Route::health(),
    Route::signed_in(Post, "pay", |req, _, caller| {
        Box::pin(pay::pay(req, caller))
    }),
    Route::signed_in(Get, "payments", |req, _, caller| {
        Box::pin(payments::list_payments(req, caller))
    }),
    Route::signed_in(Get, "payments/{id}", |req, id, caller| {
        Box::pin(payments::get_payment(req, id[0], caller))
    }),
    Route::admin(Post, "payments/{id}/refund", |req, id, admin| {
        Box::pin(payments::refund_payment(req, id[0], admin))
    }),
    // Orders asks for the refund of a cancelled order's payment.
    Route::service(Post, "internal/refund-order", |req, _, orders| {
        Box::pin(internal::refund_order(req, orders))
    }),
    Route::outbox_flush(&store::OUTBOX),
];

/// Answers a request from `ROUTES`.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    dispatch(ROUTES, req).await
}
