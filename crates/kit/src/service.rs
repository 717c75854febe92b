//! The entry every component's `#[http_component]` handler calls: request id, size
//! limit, routing, error rendering and logging, the same for every service.

use spin_sdk::http::{Method, Request, Response};

use crate::error::{ApiError, ApiResult};
use crate::request::ApiRequest;
use crate::response::ApiResponse;

/// Runs `route` for a request to the service mounted at `prefix` and renders its
/// outcome. Errors become the JSON envelope; internal ones are logged with the
/// request id and rendered without detail.
pub async fn serve(
    req: Request,
    prefix: &'static str,
    route: impl AsyncFnOnce(&ApiRequest) -> ApiResult<ApiResponse>,
) -> Response {
    let req = ApiRequest::from_spin(&req, prefix);
    let outcome = match req.check_body_size().and_then(|()| req.check_text()) {
        Ok(()) => route(&req).await,
        Err(err) => Err(err),
    };
    let response = outcome.unwrap_or_else(|err| {
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
    });
    into_spin(response, &req.request_id)
}

fn into_spin(response: ApiResponse, request_id: &str) -> Response {
    let mut builder = Response::builder();
    builder.status(response.status);
    for (name, value) in &response.headers {
        builder.header(name.as_str(), value.as_str());
    }
    builder.header("x-request-id", request_id);
    builder.body(response.body).build()
}

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
