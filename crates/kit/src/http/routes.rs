//! A service's route table: every route is a method, a path pattern and a handler,
//! and the kind of handler says who may call it.
//!
//! - [`Route::anyone`]: no check; the handler gets the request and the path's
//!   parameters.
//! - [`Route::signed_in`]: a signed-in user, identified by the service's
//!   [`Principal`] (for every service but users, kit's [`Caller`], which asks users
//!   whether the account and its session are live); the handler gets it.
//! - [`Route::admin`]: the same, with the admin role; the handler gets an [`Admin`].
//! - [`Route::service`]: a sibling service with a valid service token; the handler
//!   gets a [`Service`].
//! - [`Route::outbox_flush`]: a sibling service, for the outbox's flush.
//!
//! [`Admin`] and [`Service`] can only be made here, by the check, and [`Caller`] only
//! by introspection: a handler that needs its caller can't be written without the
//! check running first, before the body is read (so someone who may not call a
//! route learns nothing from its validation errors).
//!
//! A route takes a body of up to [`MAX_BODY_BYTES`] (JSON), unless it says it takes
//! more ([`Route::with_body_limit`], e.g. an image's bytes); a larger body answers 413
//! before the caller is checked.
//!
//! A path pattern is segments below the service's prefix, `{name}` standing for any
//! one segment (`products/{id}/stock`); the values stand in [`Params`] in order. The
//! first route whose pattern matches the path decides: when no route with that
//! pattern takes the request's method, the answer is 405 with an `Allow` header
//! listing the methods of those routes, in the table's order. A path no pattern
//! matches is 404.

use std::future::Future;
use std::pin::Pin;

use crate::auth::{Caller, require_service};
use crate::http::error::{ApiError, ApiResult};
use crate::http::method::Method;
use crate::http::request::{ApiRequest, MAX_BODY_BYTES};
use crate::http::response::ApiResponse;
use crate::pg::outbox::{Outbox, flush_endpoint};

/// What a handler returns: its answer, to be awaited.
pub type Reply<'r> = Pin<Box<dyn Future<Output = ApiResult<ApiResponse>> + 'r>>;

/// The values of a path's `{name}` segments, in the pattern's order.
pub type Params<'r> = &'r [&'r str];

/// A signed-in caller as a service knows them.
pub trait Principal: Sized {
    /// Who is calling; 401 without a valid access token and a live session.
    fn identify(req: &ApiRequest) -> impl Future<Output = ApiResult<Self>>;

    fn is_admin(&self) -> bool;
}

impl Principal for Caller {
    /// Introspection at users, under the name of the service the request came to.
    async fn identify(req: &ApiRequest) -> ApiResult<Caller> {
        crate::auth::introspect(req.service(), req).await
    }

    fn is_admin(&self) -> bool {
        Caller::is_admin(self)
    }
}

/// A caller with the admin role, as the service knows them now.
pub struct Admin<C = Caller>(C);

impl<C> Admin<C> {
    pub fn caller(&self) -> &C {
        &self.0
    }
}

/// A sibling service that presented a valid service token.
pub struct Service {
    name: String,
}

impl Service {
    /// The calling service's name, as its token says.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A handler anyone may call.
pub type Open = for<'r> fn(&'r ApiRequest, Params<'r>) -> Reply<'r>;
/// A handler given who called, `G`: a signed-in user, an [`Admin`], a [`Service`].
pub type Guarded<G> = for<'r> fn(&'r ApiRequest, Params<'r>, G) -> Reply<'r>;

/// A route's handler, of the kind that says who may call it.
pub enum Handler<C: 'static> {
    Anyone(Open),
    SignedIn(Guarded<C>),
    Admin(Guarded<Admin<C>>),
    Service(Guarded<Service>),
    /// The outbox's flush, for sibling services (see [`Route::outbox_flush`]).
    Flush(&'static Outbox),
}

/// One row of a route table.
pub struct Route<C: 'static = Caller> {
    pub method: Method,
    pub path: &'static str,
    pub handler: Handler<C>,
    /// The largest body the route takes, in bytes.
    pub body_limit: usize,
}

impl<C: Principal> Route<C> {
    pub const fn anyone(method: Method, path: &'static str, handler: Open) -> Route<C> {
        Route {
            method,
            path,
            handler: Handler::Anyone(handler),
            body_limit: MAX_BODY_BYTES,
        }
    }

    pub const fn signed_in(method: Method, path: &'static str, handler: Guarded<C>) -> Route<C> {
        Route {
            method,
            path,
            handler: Handler::SignedIn(handler),
            body_limit: MAX_BODY_BYTES,
        }
    }

    pub const fn admin(method: Method, path: &'static str, handler: Guarded<Admin<C>>) -> Route<C> {
        Route {
            method,
            path,
            handler: Handler::Admin(handler),
            body_limit: MAX_BODY_BYTES,
        }
    }

    pub const fn service(
        method: Method,
        path: &'static str,
        handler: Guarded<Service>,
    ) -> Route<C> {
        Route {
            method,
            path,
            handler: Handler::Service(handler),
            body_limit: MAX_BODY_BYTES,
        }
    }

    /// `POST internal/outbox/flush`, in every service that records events: a sibling
    /// with a service token has `outbox` deliver what is due now
    /// ([`crate::pg::outbox::flush_endpoint`]).
    pub const fn outbox_flush(outbox: &'static Outbox) -> Route<C> {
        Route {
            method: Method::Post,
            path: "internal/outbox/flush",
            handler: Handler::Flush(outbox),
            body_limit: MAX_BODY_BYTES,
        }
    }

    /// The same route, taking bodies of up to `bytes` (say, an image's bytes) rather
    /// than [`MAX_BODY_BYTES`]. The service's export must read that much: see
    /// [`largest_body_limit`] and [`crate::export_service!`].
    pub const fn with_body_limit(mut self, bytes: usize) -> Route<C> {
        self.body_limit = bytes;
        self
    }

    /// `GET healthz`, which every service has: 200 when its database answers, else
    /// 503 ([`crate::http::service::health`]).
    pub const fn health() -> Route<C> {
        Route::anyone(Method::Get, "healthz", |req, _| {
            Box::pin(crate::http::service::health(req, req.service()))
        })
    }

    /// Checks the caller as the route requires, then runs its handler.
    async fn run(&self, req: &ApiRequest, params: Params<'_>) -> ApiResult<ApiResponse> {
        match &self.handler {
            Handler::Anyone(handler) => handler(req, params).await,
            Handler::SignedIn(handler) => handler(req, params, C::identify(req).await?).await,
            Handler::Admin(handler) => {
                let caller = C::identify(req).await?;
                if !caller.is_admin() {
                    return Err(ApiError::Forbidden("admin role required".into()));
                }
                handler(req, params, Admin(caller)).await
            }
            Handler::Service(handler) => {
                let name = require_service(req).await?;
                handler(req, params, Service { name }).await
            }
            Handler::Flush(outbox) => {
                require_service(req).await?;
                flush_endpoint(outbox, req).await
            }
        }
    }
}

/// The largest body any of `routes` takes, and never less than [`MAX_BODY_BYTES`]:
/// what the service's export must read (`export_service!(.., max_body = ..)`).
pub const fn largest_body_limit<C>(routes: &[Route<C>]) -> usize {
    let mut largest = MAX_BODY_BYTES;
    let mut index = 0;
    while index < routes.len() {
        if routes[index].body_limit > largest {
            largest = routes[index].body_limit;
        }
        index += 1;
    }
    largest
}

/// Answers `req` from `routes` (see the module's documentation).
pub async fn dispatch<C: Principal>(
    routes: &[Route<C>],
    req: &ApiRequest,
) -> ApiResult<ApiResponse> {
    let segments = req.segments();
    let Some(first) = routes
        .iter()
        .find(|route| captures(route.path, &segments).is_some())
    else {
        return crate::http::service::no_route(req);
    };
    let path = first.path;
    let same_path = move || routes.iter().filter(move |route| route.path == path);
    match same_path().find(|route| route.method == req.method) {
        Some(route) => {
            req.check_body_within(route.body_limit)?;
            let params = captures(route.path, &segments).unwrap_or_default();
            route.run(req, &params).await
        }
        None => Err(ApiError::MethodNotAllowed {
            allow: same_path()
                .map(|route| route.method.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The values of `pattern`'s `{name}` segments when `segments` match it.
fn captures<'p>(pattern: &str, segments: &[&'p str]) -> Option<Vec<&'p str>> {
    let mut parts = pattern.split('/').filter(|part| !part.is_empty());
    let mut params = Vec::new();
    for segment in segments {
        let part = parts.next()?;
        if part.starts_with('{') && part.ends_with('}') {
            params.push(*segment);
        } else if part != *segment {
            return None;
        }
    }
    parts.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    /// Anyone may call; the answer names the parameters it got.
    fn echo<'r>(_: &'r ApiRequest, params: Params<'r>) -> Reply<'r> {
        Box::pin(async move { ApiResponse::json(200, &params.join(",")) })
    }

    fn refused<'r>(_: &'r ApiRequest, _: Params<'r>, _: Admin) -> Reply<'r> {
        Box::pin(async { Ok(ApiResponse::no_content()) })
    }

    const ROUTES: &[Route] = &[
        Route::anyone(Method::Get, "things", echo),
        Route::admin(Method::Post, "things", refused),
        Route::anyone(Method::Get, "things/mine", echo),
        Route::anyone(Method::Get, "things/{id}", echo),
        Route::admin(Method::Delete, "things/{id}", refused),
        Route::anyone(Method::Get, "things/{id}/parts/{part}", echo),
    ];

    fn answer(method: Method, path: &str) -> ApiResult<ApiResponse> {
        block_on(dispatch(
            ROUTES,
            &ApiRequest::new(method, path, b"", "/api/things"),
        ))
    }

    #[test]
    fn patterns_match_whole_paths_and_capture_their_parameters() {
        assert_eq!(captures("things/{id}", &["things", "7"]), Some(vec!["7"]));
        assert_eq!(captures("things/{id}", &["things"]), None);
        assert_eq!(captures("things/{id}", &["things", "7", "x"]), None);
        assert_eq!(captures("things", &["other"]), None);
        let answer = answer(Method::Get, "/api/things/things/7/parts/a").unwrap();
        assert_eq!(answer.body, br#""7,a""#);
    }

    #[test]
    fn a_wrong_method_is_405_with_the_methods_of_the_first_matching_pattern() {
        let err = answer(Method::Put, "/api/things/things/7").unwrap_err();
        assert_eq!(err.status(), 405);
        assert!(matches!(err, ApiError::MethodNotAllowed { ref allow } if allow == "GET, DELETE"));
        let err = answer(Method::Delete, "/api/things/things/mine").unwrap_err();
        assert!(matches!(err, ApiError::MethodNotAllowed { ref allow } if allow == "GET"));
        let err = answer(Method::Head, "/api/things/things").unwrap_err();
        assert!(matches!(err, ApiError::MethodNotAllowed { ref allow } if allow == "GET, POST"));
    }

    #[test]
    fn each_route_holds_bodies_to_its_own_limit() {
        const BIG: &[Route] = &[
            Route::anyone(Method::Post, "small", echo),
            Route::anyone(Method::Post, "big", echo).with_body_limit(2 * MAX_BODY_BYTES),
        ];
        assert_eq!(largest_body_limit(BIG), 2 * MAX_BODY_BYTES);
        assert_eq!(largest_body_limit(ROUTES), MAX_BODY_BYTES);
        let body = vec![b'x'; MAX_BODY_BYTES + 1];
        let post = |path: &str| {
            block_on(dispatch(
                BIG,
                &ApiRequest::new(Method::Post, path, &body, "/api/things"),
            ))
        };
        let refused = post("/api/things/small").unwrap_err();
        assert_eq!(refused.status(), 413);
        assert!(matches!(refused, ApiError::PayloadTooLarge { limit } if limit == MAX_BODY_BYTES));
        assert_eq!(post("/api/things/big").unwrap().status, 200);
    }

    #[test]
    fn an_unknown_path_is_404_and_an_admin_route_needs_a_caller() {
        assert_eq!(
            answer(Method::Get, "/api/things/nothing")
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            answer(Method::Post, "/api/things/things")
                .unwrap_err()
                .status(),
            401
        );
    }
}
