//! users: accounts, authentication (access + refresh tokens), admin management.
//! Mounted at `/api/users/...`; this file is the route table, with who may call
//! each route.

mod budget;
mod config;
mod domain;
mod handlers;
pub mod password;
mod sessions;
mod store;

/// The email and password rules, which `spinshop migrate` applies to the first admin.
pub use domain::credentials;

/// The name users goes by in logs and health answers.
pub const SERVICE: &str = "users";

use handlers::{Me, accounts, auth, links};
use spinshop_kit::Method::{Delete, Get, Patch, Post, Put};
use spinshop_kit::http::routes::{Route, dispatch};
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

// The component's export. Only built for wasm: a native build (for unit tests)
// can't link Spin's export names into a shared library.
spinshop_kit::export_service!("/api/users", route);

/// Every path of the service, who may call it, and the handler behind it. A
/// signed-in caller is [`Me`]: users checks the session in its own database.
const ROUTES: &[Route<Me>] = &[
    Route::health(),
    Route::anyone(Post, "auth/register", |req, _| {
        Box::pin(auth::register(req))
    }),
    Route::anyone(Post, "auth/login", |req, _| Box::pin(auth::login(req))),
    // What every other service asks about its callers.
    Route::signed_in(Get, "auth/introspect", |_, _, me| {
        Box::pin(auth::introspect(me))
    }),
    Route::anyone(Post, "auth/refresh", |req, _| Box::pin(auth::refresh(req))),
    Route::anyone(Post, "auth/password-reset", |req, _| {
        Box::pin(links::request_password_reset(req))
    }),
    Route::anyone(Post, "auth/password-reset/confirm", |req, _| {
        Box::pin(links::confirm_password_reset(req))
    }),
    Route::anyone(Post, "auth/verify-email", |req, _| {
        Box::pin(links::verify_email(req))
    }),
    Route::signed_in(Post, "auth/verify-email/resend", |req, _, me| {
        Box::pin(links::resend_verification(req, me))
    }),
    Route::anyone(Post, "auth/logout", |req, _| Box::pin(auth::logout(req))),
    Route::signed_in(Get, "users/me", |_, _, me| Box::pin(accounts::get_me(me))),
    Route::signed_in(Patch, "users/me", |req, _, me| {
        Box::pin(accounts::update_me(req, me))
    }),
    Route::signed_in(Delete, "users/me", |req, _, me| {
        Box::pin(accounts::delete_me(req, me))
    }),
    Route::signed_in(Put, "users/me/password", |req, _, me| {
        Box::pin(accounts::change_password(req, me))
    }),
    Route::admin(Get, "users", |req, _, admin| {
        Box::pin(accounts::list_users(req, admin))
    }),
    // Anyone signed in may read their own account; an admin any.
    Route::signed_in(Get, "users/{id}", |req, id, me| {
        Box::pin(accounts::get_user(req, id[0], me))
    }),
    Route::admin(Patch, "users/{id}", |req, id, admin| {
        Box::pin(accounts::update_user(req, id[0], admin))
    }),
    Route::admin(Delete, "users/{id}", |req, id, admin| {
        Box::pin(accounts::delete_user(req, id[0], admin))
    }),
    Route::outbox_flush(&store::OUTBOX),
];

/// Answers a request from `ROUTES`.
pub async fn route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    dispatch(ROUTES, req).await
}
