//! notifications: receives the events the other services publish (each stored once),
//! fills every user's inbox, POSTs each event, signed, to a webhook, and sends the
//! shop's mails through a mail API (or keeps them in a local mailbox).
//! Mounted at `/api/notifications/...`; this file is the route table, with who may
//! call each route.

mod config;
mod domain;
mod handlers;
mod mail;
mod outgoing;
mod siblings;
mod store;
mod webhook;

use handlers::{dispatch, events, internal, mail as mailbox, notifications};
use spinshop_kit::Method::{Get, Post};
use spinshop_kit::http::routes::{self, Route};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

/// How webhook deliveries are signed, for receivers written in Rust.
pub use domain::signature;

/// The name notifications gives itself on calls to siblings, in logs and as the
/// source of the webhook queue.
pub const SERVICE: &str = "notifications";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/notifications", route);

/// Every path of the service, who may call it, and the handler behind it.
const ROUTES: &[Route] = &[
    Route::health(),
    Route::signed_in(Get, "notifications", |req, _, caller| {
        Box::pin(notifications::list_notifications(req, caller))
    }),
    Route::signed_in(Get, "notifications/unread-count", |req, _, caller| {
        Box::pin(notifications::unread_count(req, caller))
    }),
    Route::signed_in(Post, "notifications/read-all", |req, _, caller| {
        Box::pin(notifications::mark_all_read(req, caller))
    }),
    Route::signed_in(Post, "notifications/{id}/read", |req, id, caller| {
        Box::pin(notifications::mark_read(req, id[0], caller))
    }),
    Route::admin(Get, "events", |req, _, admin| {
        Box::pin(events::list_events(req, admin))
    }),
    Route::admin(Get, "events/{id}/attempts", |req, id, admin| {
        Box::pin(events::list_attempts(req, id[0], admin))
    }),
    Route::admin(Get, "mail", |req, _, admin| {
        Box::pin(mailbox::list_mail(req, admin))
    }),
    // A sibling, a scheduler with the dispatch key or an admin: the handler judges
    // whichever credential the request presents.
    Route::anyone(Get, "dispatch", |req, _| Box::pin(dispatch::dispatch(req))),
    Route::anyone(Post, "dispatch", |req, _| Box::pin(dispatch::dispatch(req))),
    // The services with an outbox deliver their events here.
    Route::service(Post, "internal/events", |req, _, producer| {
        Box::pin(internal::receive_events(req, producer))
    }),
    // The mails they write (a reset link), from the same outboxes.
    Route::service(Post, "internal/mail", |req, _, producer| {
        Box::pin(internal::receive_mail(req, producer))
    }),
];

/// Answers a request from `ROUTES`.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    routes::dispatch(ROUTES, req).await
}
