//! users: accounts, authentication (access + refresh tokens), admin management.
//! Mounted at `/api/users/...`; this file is the route table.

mod domain;
mod handlers;
mod sessions;
mod config;
mod store;

/// The name users goes by in logs and health answers.
pub const SERVICE: &str = "users";

use spinshop_kit::{ApiRequest, ApiResponse, ApiResult, Method, method_not_allowed, no_route};

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/users", route);

/// The route table: every path of the service, and the handler behind it.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    use Method::*;
    match (&req.method, req.segments().as_slice()) {
        (Get, ["healthz"]) => spinshop_kit::health(req, SERVICE).await,
        (_, ["healthz"]) => method_not_allowed(&[Get]),

        (Post, ["auth", "register"]) => handlers::auth::register(req).await,
        (Post, ["auth", "login"]) => handlers::auth::login(req).await,
        (Get, ["auth", "introspect"]) => handlers::auth::introspect(req).await,
        (Post, ["auth", "refresh"]) => handlers::auth::refresh(req).await,
        (Post, ["auth", "logout"]) => handlers::auth::logout(req).await,
        (_, ["auth", "register" | "login" | "refresh" | "logout"]) => method_not_allowed(&[Post]),
        (_, ["auth", "introspect"]) => method_not_allowed(&[Get]),

        (Get, ["users", "me"]) => handlers::accounts::get_me(req).await,
        (Patch, ["users", "me"]) => handlers::accounts::update_me(req).await,
        (Delete, ["users", "me"]) => handlers::accounts::delete_me(req).await,
        (_, ["users", "me"]) => method_not_allowed(&[Get, Patch, Delete]),
        (Put, ["users", "me", "password"]) => handlers::accounts::change_password(req).await,
        (_, ["users", "me", "password"]) => method_not_allowed(&[Put]),

        (Get, ["users"]) => handlers::accounts::list_users(req).await,
        (_, ["users"]) => method_not_allowed(&[Get]),
        (Get, ["users", id]) => handlers::accounts::get_user(req, id).await,
        (Patch, ["users", id]) => handlers::accounts::update_user(req, id).await,
        (Delete, ["users", id]) => handlers::accounts::delete_user(req, id).await,
        (_, ["users", _]) => method_not_allowed(&[Get, Patch, Delete]),

        (Post, ["internal", "outbox", "flush"]) => {
            spinshop_kit::outbox::flush_endpoint(&store::OUTBOX, req).await
        }
        (_, ["internal", "outbox", "flush"]) => method_not_allowed(&[Post]),

        _ => no_route(req),
    }
}
