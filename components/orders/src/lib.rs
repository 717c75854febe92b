//! orders: placing orders (priced and reserved at products), listing and cancelling
//! them, and the INTERNAL reads and transitions payments drives (paid, payment failed,
//! refunded).
//! Mounted at `/api/orders/...`; this file is the route table, with who may
//! call each route.

mod domain;
mod handlers;
mod siblings;
mod store;

use handlers::{internal, orders};
use spinshop_kit::Method::{Get, Post};
use spinshop_kit::http::routes::{Route, dispatch};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

/// The name orders goes by in service tokens, logs and health answers.
pub const SERVICE: &str = "orders";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/orders", route);

/// Every path of the service, who may call it, and the handler behind it.
const ROUTES: &[Route] = &[
    Route::health(),
    Route::signed_in(Get, "orders", |req, _, caller| {
        Box::pin(orders::list_orders(req, caller))
    }),
    Route::signed_in(Post, "orders", |req, _, caller| {
        Box::pin(orders::place_order(req, caller))
    }),
    Route::signed_in(Get, "orders/{id}", |req, id, caller| {
        Box::pin(orders::get_order(req, id[0], caller))
    }),
    Route::signed_in(Post, "orders/{id}/cancel", |req, id, caller| {
        Box::pin(orders::cancel_order(req, id[0], caller))
    }),
    // Payments reads an order to charge and tells orders how the payment went.
    Route::service(Get, "internal/orders/{id}", |req, id, payments| {
        Box::pin(internal::get_order(req, id[0], payments))
    }),
    Route::service(Post, "internal/orders/{id}/paid", |req, id, payments| {
        Box::pin(internal::mark_paid(req, id[0], payments))
    }),
    Route::service(
        Post,
        "internal/orders/{id}/payment-failed",
        |req, id, payments| Box::pin(internal::mark_payment_failed(req, id[0], payments)),
    ),
    Route::service(
        Post,
        "internal/orders/{id}/refunded",
        |req, id, payments| Box::pin(internal::mark_refunded(req, id[0], payments)),
    ),
    Route::outbox_flush(&store::OUTBOX),
];

/// Answers a request from `ROUTES`.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    dispatch(ROUTES, req).await
}
