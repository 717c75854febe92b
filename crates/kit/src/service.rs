//! The entry every component's `#[http_component]` handler calls: request id, the
//! front door (CORS, rate limits: see [`crate::door`]), size limit, routing, error
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

use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{
    Fields, IncomingRequest, Method, OutgoingResponse, Request, ResponseOutparam,
};
use wasi::clocks::monotonic_clock;

use crate::auth::require_service;
use crate::door::Door;
use crate::error::{ApiError, ApiResult};
use crate::outbox;
use crate::request::ApiRequest;
use crate::response::ApiResponse;

/// Runs `route` for a request to the service mounted at `prefix` and sends its
/// outcome. The front door answers CORS preflights and refuses requests past a rate
/// limit before any route runs. A request under `<prefix>/internal/` must carry a
/// valid service token before any route sees it (403 otherwise). Errors become the
/// JSON envelope; internal ones are logged with the request id and rendered without
/// detail.
///
/// Once the response has gone, the events the request recorded are delivered from
/// the service's outbox: Spin keeps the instance running until this returns, and
/// the client already has its answer.
pub async fn serve(
    incoming: IncomingRequest,
    response_out: ResponseOutparam,
    prefix: &'static str,
    route: impl AsyncFnOnce(&ApiRequest) -> ApiResult<ApiResponse>,
) {
    let started = monotonic_clock::now();
    let req = match Request::try_from_incoming_request(incoming).await {
        Ok(req) => ApiRequest::from_spin(&req, prefix),
        Err(err) => {
            eprintln!("{prefix}: reading the request failed: {err}");
            let unreadable = ApiError::validation("the request could not be read");
            send(response_out, ApiResponse::from_error(&unreadable), "").await;
            return;
        }
    };
    let door = Door::from_variables();
    let response = match door.preflight(&req) {
        Some(preflight) => preflight,
        None => match door.admit(&req) {
            Ok(()) => respond(&req, prefix, route).await,
            Err(refused) => ApiResponse::from_error(&refused),
        },
    };
    let response = door.decorate(&req, response);
    let status = response.status;
    send(response_out, response, &req.request_id).await;
    let elapsed = Duration::from_nanos(monotonic_clock::now().saturating_sub(started));
    // A log that can't be written must not fail the request's remaining work.
    let _ = writeln!(
        std::io::stdout().lock(),
        "{}",
        access_log_line(prefix, &req, status, elapsed)
    );
    outbox::flush_recorded(&req);
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
fn service_name(prefix: &str) -> &str {
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
    let admitted = req
        .check_body_size()
        .and_then(|()| req.check_text())
        .and_then(|()| admit_internal(req, prefix));
    let outcome = match admitted {
        Ok(()) => route(req).await,
        Err(err) => Err(err),
    };
    outcome.unwrap_or_else(|err| {
        if matches!(err, ApiError::Internal(_) | ApiError::Unavailable(_)) {
            eprintln!(
                "{prefix} {} {} {} -> {}: {err:#}",
                req.request_id,
                req.method,
                req.path,
                err.status()
            );
        }
        ApiResponse::from_error(&err)
    })
}

/// A service's internal endpoints are those whose first segment is `internal`; only
/// sibling services, with their service token, may call them. The catch-all (no
/// prefix) has none.
fn admit_internal(req: &ApiRequest, prefix: &str) -> ApiResult<()> {
    if !prefix.is_empty() && req.segments().first() == Some(&INTERNAL_SEGMENT) {
        require_service(req)?;
    }
    Ok(())
}

/// Sends the response, body and all; the body is finished when this returns.
async fn send(response_out: ResponseOutparam, response: ApiResponse, request_id: &str) {
    let mut headers: Vec<(String, Vec<u8>)> = response
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into_bytes()))
        .collect();
    if !request_id.is_empty() {
        headers.push(("x-request-id".into(), request_id.as_bytes().to_vec()));
    }
    // No answer of the app is to be taken for another type than it says.
    if response.header("x-content-type-options").is_none() {
        headers.push(("x-content-type-options".into(), b"nosniff".to_vec()));
    }
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(response.status);
    if let Err(err) = response_out.set_with_body(outgoing, response.body).await {
        eprintln!("sending the response failed: {err}");
    }
}

/// The first path segment below a service's prefix that marks an internal endpoint:
/// `/api/<service>/internal/...`.
pub const INTERNAL_SEGMENT: &str = "internal";

/// `GET /api/<service>/healthz`: 200 when the service's database answers, else 503.
pub fn health(service: &str) -> ApiResult<ApiResponse> {
    let db_ok = crate::db::Db::connect().is_ok_and(|db| db.ping());
    let body = serde_json::json!({
        "ok": db_ok,
        "service": service,
        "db": if db_ok { "ok" } else { "unavailable" },
    });
    ApiResponse::json(if db_ok { 200 } else { 503 }, &body)
}

/// The answer for a path that exists but not with this method; `allowed` are the
/// methods it does accept, sent back in the `Allow` header.
pub fn method_not_allowed(allowed: &[Method]) -> ApiResult<ApiResponse> {
    let allow = allowed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::MethodNotAllowed { allow })
}

/// The answer for a path the service does not have.
pub fn no_route(req: &ApiRequest) -> ApiResult<ApiResponse> {
    Err(ApiError::not_found(format!("no route for {}", req.path)))
}

#[cfg(test)]
mod tests {
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
            let err = admit_internal(&post(path), "/api/products").unwrap_err();
            assert_eq!(err.status(), 403, "{path}");
        }
    }

    #[test]
    fn other_paths_are_left_to_the_routes() {
        for path in ["/api/products/products", "/api/products/products/internal"] {
            assert!(
                admit_internal(&post(path), "/api/products").is_ok(),
                "{path}"
            );
        }
        let web = ApiRequest::new(Method::Get, "/internal/x", b"", "");
        assert!(admit_internal(&web, "").is_ok());
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
