//! notifications: receives the events the other services publish (each stored once),
//! fills every user's inbox, and POSTs each event, signed, to a webhook.
//! Mounted at `/api/notifications/...`; this file is the route table.

mod domain;
mod handlers;
mod config;
mod siblings;
mod store;
mod webhook;

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

/// How webhook deliveries are signed, for receivers written in Rust.
pub use domain::signature;

/// The name notifications gives itself on calls to siblings, in logs and as the
/// source of the webhook queue.
pub const SERVICE: &str = "notifications";

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/notifications", route);

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(req, SERVICE).await,
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Get, ["notifications"]) => handlers::notifications::list_notifications(req).await,
        (_, ["notifications"]) => method_not_allowed(&[Get]),
        (Get, ["notifications", "unread-count"]) => {
            handlers::notifications::unread_count(req).await
        }
        (_, ["notifications", "unread-count"]) => method_not_allowed(&[Get]),
        (Post, ["notifications", "read-all"]) => handlers::notifications::mark_all_read(req).await,
        (_, ["notifications", "read-all"]) => method_not_allowed(&[Post]),
        (Post, ["notifications", id, "read"]) => handlers::notifications::mark_read(req, id).await,
        (_, ["notifications", _, "read"]) => method_not_allowed(&[Post]),

        (Get, ["events"]) => handlers::events::list_events(req).await,
        (_, ["events"]) => method_not_allowed(&[Get]),
        (Get, ["events", id, "attempts"]) => handlers::events::list_attempts(req, id).await,
        (_, ["events", _, "attempts"]) => method_not_allowed(&[Get]),

        (Get | Post, ["dispatch"]) => handlers::dispatch::dispatch(req).await,
        (_, ["dispatch"]) => method_not_allowed(&[Get, Post]),

        (Post, ["internal", "events"]) => handlers::internal::receive_events(req).await,
        (_, ["internal", "events"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
