//! The entry every component's handler calls ([`export_service!`](crate::export_service)): request id, the
//! front door (CORS, rate limits: see [`crate::http::door`]), size limit, routing, error
//! rendering and logging, the same for every service, and the work that waits until
//! the response has gone.
//!
//! Every request leaves one line on the component's stdout once its response has
//! gone, a JSON object an operator's log pipeline can parse:
//!
//! ```text
//! {"service":"orders","request_id":"6f1c...","method":"POST","path":"/api/orders/orders","status":201,"duration_ms":41}
//! ```
//!
//! It holds what identifies the request and its outcome and nothing a caller sent
//! beyond the path: no headers (tokens), no query string (which could carry one), no
//! body. Errors worth a closer look also get a line of their own on stderr.

use std::io::Write;
use std::time::Duration;

use crate::auth::require_service;
use crate::http::door::Door;
use crate::http::error::{ApiError, ApiResult};
use crate::http::method::Method;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;
use crate::pg::outbox;
use crate::sdk::{self, Incoming};

/// Exports the component's HTTP handler: every request goes through [`serve`] with
/// `route`, the service's route table, under `prefix`, where the service is mounted.
/// Only built for wasm: a native build (for unit tests) can't link Spin's export names.
///
/// Bodies of up to [`MAX_BODY_BYTES`](crate::http::request::MAX_BODY_BYTES) are read;
/// a service with a route that takes more (see
/// [`Route::with_body_limit`](crate::http::routes::Route::with_body_limit)) says how
/// much its largest route takes, and each route still refuses more than its own limit:
///
/// ```ignore
/// spinshop_kit::export_service!("/api/orders", route);
/// spinshop_kit::export_service!("/api/products", route, max_body = largest_body_limit(ROUTES));
/// ```
#[macro_export]
macro_rules! export_service {
    ($prefix:expr, $route:path) => {
        $crate::export_service!(
            $prefix,
            $route,
            max_body = $crate::http::request::MAX_BODY_BYTES
        );
    };
    ($prefix:expr, $route:path, max_body = $max_body:expr) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            $crate::__export_service_for_build!($prefix, $route, $max_body);
        };
    };
}

/// An answer ready to send, and what is left to do once it has gone.
pub struct Served {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    after: Option<AfterResponse>,
}

/// The request an answer was for, kept for the log line and the outbox delivery.
struct AfterResponse {
    prefix: &'static str,
    request: ApiRequest,
    started: u64,
}

/// Runs `route` for a request to the service mounted at `prefix`. The front door
/// answers CORS preflights and refuses requests past a rate limit before any route
/// runs. A request under `<prefix>/internal/` must carry a valid service token
/// before any route sees it (403 otherwise). Errors become the JSON envelope;
/// internal ones are logged with the request id and rendered without detail.
///
/// Once the response has gone, [`Served::after_response`] logs the request and
/// delivers the events it recorded from the service's outbox: Spin keeps the
/// instance running until that is done, and the client already has its answer.
pub async fn serve(
    incoming: Incoming,
    prefix: &'static str,
    route: impl AsyncFnOnce(&ApiRequest) -> ApiResult<ApiResponse>,
) -> Served {
    let started = sdk::now_nanos();
    let req = ApiRequest::from_incoming(incoming, prefix);
    let response = match Door::load().await {
        Ok(door) => {
            let response = match door.preflight(&req) {
                Some(preflight) => preflight,
                None => match door.admit(&req).await {
                    Ok(()) => respond(&req, prefix, route).await,
                    Err(refused) => ApiResponse::from_error(&refused),
                },
            };
            door.decorate(&req, response)
        }
        Err(misconfigured) => error_response(&req, prefix, &misconfigured),
    };
    let mut served = Served::new(response, &req);
    served.after = Some(AfterResponse {
        prefix,
        request: req,
        started,
    });
    served
}

/// The answer to a request that could not be read.
pub fn unreadable(prefix: &str, reason: &str) -> Served {
    eprintln!("{prefix}: reading the request failed: {reason}");
    let error = ApiError::validation("the request could not be read");
    Served::new(ApiResponse::from_error(&error), &ApiRequest::empty())
}

impl Served {
    fn new(response: ApiResponse, req: &ApiRequest) -> Served {
        let mut headers: Vec<(String, Vec<u8>)> = response
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone().into_bytes()))
            .collect();
        let has =
            |headers: &[(String, Vec<u8>)], name: &str| headers.iter().any(|(n, _)| n == name);
        if !req.request_id.is_empty() {
            headers.push(("x-request-id".into(), req.request_id.as_bytes().to_vec()));
        }
        // No answer of the app is to be taken for another type than it says.
        if !has(&headers, "x-content-type-options") {
            headers.push(("x-content-type-options".into(), b"nosniff".to_vec()));
        }
        // A body whose length is known says so: a client then needn't wait for the
        // connection to tell it where the answer ends.
        if has_length(response.status, &req.method) && !has(&headers, "content-length") {
            headers.push((
                "content-length".into(),
                response.body.len().to_string().into_bytes(),
            ));
        }
        Served {
            status: response.status,
            headers,
            body: response.body,
            after: None,
        }
    }

    /// What waits until the answer has gone: the request's log line, then the
    /// delivery of the events it recorded.
    pub async fn after_response(self) {
        let Some(after) = self.after else {
            return;
        };
        let elapsed = Duration::from_nanos(sdk::now_nanos().saturating_sub(after.started));
        // A log that can't be written must not fail the request's remaining work.
        let _ = writeln!(
            std::io::stdout().lock(),
            "{}",
            access_log_line(after.prefix, &after.request, self.status, elapsed)
        );
        outbox::flush_recorded(&after.request).await;
    }
}

/// Whether an answer carries a `content-length`: not one that has no body by its
/// status, nor the answer to a HEAD (which tells the length of a GET's body).
fn has_length(status: u16, method: &Method) -> bool {
    !(status < 200 || status == 204 || status == 304 || *method == Method::Head)
}

/// The log line of one request: the service, the request id, the method, the path
/// (never the query string), the status and the time until the response had gone,
/// in this order.
fn access_log_line(prefix: &str, req: &ApiRequest, status: u16, elapsed: Duration) -> String {
    #[derive(serde::Serialize)]
    struct RequestLog<'a> {
        service: &'a str,
        request_id: &'a str,
        method: String,
        path: &'a str,
        status: u16,
        duration_ms: u128,
    }
    let line = RequestLog {
        service: service_name(prefix),
        request_id: &req.request_id,
        method: req.method.to_string(),
        path: logged_path(&req.path),
        status,
        duration_ms: elapsed.as_millis(),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// The service mounted at `prefix` (`/api/orders` -> `orders`); the catch-all, with
/// no prefix, is the `web` component.
pub(crate) fn service_name(prefix: &str) -> &str {
    match prefix.rsplit('/').next() {
        Some(name) if !name.is_empty() => name,
        _ => "web",
    }
}

/// Paths are the caller's text: a long one is cut (on a character boundary) so one
/// request can't write an unbounded line.
fn logged_path(path: &str) -> &str {
    const MAX: usize = 256;
    if path.len() <= MAX {
        return path;
    }
    let mut end = MAX;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

async fn respond(
    req: &ApiRequest,
    prefix: &'static str,
    route: impl AsyncFnOnce(&ApiRequest) -> ApiResult<ApiResponse>,
) -> ApiResponse {
    let admitted = match req.check_body_size().and_then(|()| req.check_text()) {
        Ok(()) => admit_internal(req, prefix).await,
        Err(err) => Err(err),
    };
    let outcome = match admitted {
        Ok(()) => route(req).await,
        Err(err) => Err(err),
    };
    outcome.unwrap_or_else(|err| error_response(req, prefix, &err))
}

/// The envelope for `err`; an internal error or an unavailable dependency is logged
/// with the request id first, since its answer says nothing of the cause.
fn error_response(req: &ApiRequest, prefix: &str, err: &ApiError) -> ApiResponse {
    if matches!(err, ApiError::Internal(_) | ApiError::Unavailable(_)) {
        eprintln!(
            "{prefix} {} {} {} -> {}: {err:#}",
            req.request_id,
            req.method,
            req.path,
            err.status()
        );
    }
    ApiResponse::from_error(err)
}

/// A service's internal endpoints are those whose first segment is `internal`; only
/// sibling services, with their service token, may call them. The catch-all (no
/// prefix) has none.
async fn admit_internal(req: &ApiRequest, prefix: &str) -> ApiResult<()> {
    if !prefix.is_empty() && req.segments().first() == Some(&INTERNAL_SEGMENT) {
        require_service(req).await?;
    }
    Ok(())
}

/// The first path segment below a service's prefix that marks an internal endpoint:
/// `/api/<service>/internal/...`.
pub(crate) const INTERNAL_SEGMENT: &str = "internal";

/// `GET /api/<service>/healthz`: 200 when the service's database answers, else 503.
pub async fn health(req: &ApiRequest, service: &str) -> ApiResult<ApiResponse> {
    let db_ok = match crate::pg::db::Db::connect(req).await {
        Ok(db) => db.ping().await,
        Err(_) => false,
    };
    let body = serde_json::json!({
        "ok": db_ok,
        "service": service,
        "db": if db_ok { "ok" } else { "unavailable" },
    });
    ApiResponse::json(if db_ok { 200 } else { 503 }, &body)
}

/// The answer for a path the service does not have.
pub fn no_route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    Err(ApiError::not_found(format!("no route for {}", req.path)))
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    fn post(path: &str) -> ApiRequest {
        ApiRequest::new(Method::Post, path, b"{}", "/api/products")
    }

    #[test]
    fn internal_paths_need_a_service_token() {
        for path in [
            "/api/products/internal/reserve",
            "/api/products/internal/anything",
            "/api/products//internal/reserve",
        ] {
            let err = block_on(admit_internal(&post(path), "/api/products")).unwrap_err();
            assert_eq!(err.status(), 403, "{path}");
        }
    }

    #[test]
    fn other_paths_are_left_to_the_routes() {
        for path in ["/api/products/products", "/api/products/products/internal"] {
            assert!(
                block_on(admit_internal(&post(path), "/api/products")).is_ok(),
                "{path}"
            );
        }
        let web = ApiRequest::new(Method::Get, "/internal/x", b"", "");
        assert!(block_on(admit_internal(&web, "")).is_ok());
    }

    #[test]
    fn each_request_logs_one_json_line_without_query_or_headers() {
        let req = ApiRequest::new(
            Method::Post,
            "/api/orders/orders?access_token=secret-in-query",
            br#"{"password":"secret-in-body"}"#,
            "/api/orders",
        )
        .with_header("authorization", "Bearer secret-in-header");
        let line = access_log_line("/api/orders", &req, 201, Duration::from_micros(41_700));
        assert!(line.starts_with(r#"{"service":"orders","request_id":"test","#));
        assert!(!line.contains('\n'));
        assert!(!line.contains("secret"), "{line}");
        let logged: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            logged,
            serde_json::json!({
                "service": "orders",
                "request_id": "test",
                "method": "POST",
                "path": "/api/orders/orders",
                "status": 201,
                "duration_ms": 41,
            })
        );
    }

    #[test]
    fn the_catch_all_logs_as_web_and_long_paths_are_cut() {
        assert_eq!(service_name(""), "web");
        assert_eq!(service_name("/api/users"), "users");
        let long = format!("/{}", "é".repeat(300));
        let cut = logged_path(&long);
        assert!(cut.len() <= 256 && long.starts_with(cut));
        assert_eq!(logged_path("/api/users/healthz"), "/api/users/healthz");
    }
}
