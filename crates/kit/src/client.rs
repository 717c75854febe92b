//! Calls from one component to a sibling's endpoints, the one way services talk.
//!
//! The target is reached by Spin's service chaining (`http://<component>.spin.internal`)
//! or, where the platform lacks chaining (Fermyon Cloud), by a self-request through the
//! public router; the `internal_mode` variable chooses. Every call carries the request
//! id and a short-lived service token, and has a timeout. A sibling that is down,
//! slow or failing becomes 503 `unavailable`, never a hang or a 500 with internals.
//!
//! Every call also carries the W3C trace context (`traceparent`, `tracestate`) of
//! the request being served, so a trace started in front of the app follows it from
//! service to service. When Spin itself exports traces it replaces these with the
//! context of its own span for the outgoing call, a child of the same trace.
//!
//! [`post_url`] is the one call to outside the app (a webhook): the same sending,
//! to an absolute URL, with only the headers its caller gives.

use std::time::Duration;

use crate::auth::{SERVICE_TOKEN_HEADER, issue_service_token};
use crate::config;
use crate::http::error::{ApiError, ApiResult};
pub use crate::http::method::Method;
use crate::http::request::ApiRequest;
use crate::sdk::{self, Outgoing};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How long a sibling may take to connect, to start answering, and between the
/// parts of its answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A sibling's answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body of a successful answer as `T`; a sibling's client error is relayed
    /// to our caller as it is; anything else is `unavailable`.
    pub fn into_json<T: DeserializeOwned>(self, service: &str) -> ApiResult<T> {
        if !self.is_success() {
            return Err(self.into_error(service));
        }
        serde_json::from_slice(&self.body).map_err(|err| {
            ApiError::internal(format!("{service} answered with unexpected JSON: {err}"))
        })
    }

    /// Success, for calls whose answer body doesn't matter; otherwise the error as
    /// [`Reply::into_error`] maps it.
    pub fn expect_success(self, service: &str) -> ApiResult<()> {
        if self.is_success() {
            Ok(())
        } else {
            Err(self.into_error(service))
        }
    }

    /// The error this answer stands for: 4xx relayed with the sibling's own envelope,
    /// 5xx and the rest as 503.
    pub fn into_error(self, service: &str) -> ApiError {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(body) if (400..500).contains(&self.status) && body.get("error").is_some() => {
                ApiError::Relayed {
                    status: self.status,
                    body,
                }
            }
            _ => ApiError::Unavailable(format!("{service} is unavailable")),
        }
    }
}

/// Who is calling: the component's name, the request being served (for its id) and,
/// when the sibling must see the user, their bearer token.
pub struct CallContext<'a> {
    pub service: &'static str,
    pub request: &'a ApiRequest,
    pub forward_bearer: bool,
}

impl<'a> CallContext<'a> {
    /// A call `service` makes on its own account while serving `request`: it carries
    /// the service token and the request id, not the caller's bearer token.
    pub fn own(service: &'static str, request: &'a ApiRequest) -> Self {
        CallContext {
            service,
            request,
            forward_bearer: false,
        }
    }

    /// A call made for the caller: it also forwards the caller's bearer token, so the
    /// sibling decides what the caller may see or do.
    pub fn for_caller(service: &'static str, request: &'a ApiRequest) -> Self {
        CallContext {
            service,
            request,
            forward_bearer: true,
        }
    }
}

/// Sends `body` (if any) to `path` on the `target` component and waits for the answer.
pub async fn call(
    caller: &CallContext<'_>,
    target: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> ApiResult<Reply> {
    call_with_headers(caller, target, method, path, body, &[]).await
}

/// [`call`] with headers of the caller's choosing added, e.g. the `Idempotency-Key`
/// that makes a retried call to a sibling safe.
pub async fn call_with_headers(
    caller: &CallContext<'_>,
    target: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    extra_headers: &[(&str, &str)],
) -> ApiResult<Reply> {
    let token = issue_service_token(
        &config::secret_var(config::INTERNAL_SECRET).await?,
        caller.service,
    )?;
    let authorization = caller
        .forward_bearer
        .then(|| caller.request.header("authorization"))
        .flatten();
    let body = body.map(|value| value.to_string().into_bytes());
    let headers = request_headers(
        &caller.request.request_id,
        &token,
        authorization,
        &trace_context(caller.request),
        body.is_some(),
        extra_headers,
    );
    let target_url = Target::from_mode(&config::var(config::INTERNAL_MODE).await?, target)?;
    let destination = Destination::sibling(&target_url, path);
    send(&destination, method, &headers, body.as_deref(), TIMEOUT)
        .await
        .map_err(|reason| {
            eprintln!(
                "{} {} -> {target} {path}: {reason}",
                caller.service, caller.request.request_id
            );
            ApiError::Unavailable(format!("{target} is unavailable"))
        })
}

/// The W3C trace context headers a call passes on.
const TRACE_CONTEXT_HEADERS: [&str; 2] = ["traceparent", "tracestate"];
/// A longer `tracestate` is dropped rather than passed on (the W3C limit is 32
/// entries; 512 characters is what propagators must at least accept).
const MAX_TRACESTATE_LEN: usize = 512;

/// The trace context of the request being served, as the headers a call passes on:
/// a well-formed `traceparent`, and its `tracestate` when not too long. Without a
/// valid `traceparent` nothing is passed on: a `tracestate` means nothing alone.
fn trace_context(request: &ApiRequest) -> Vec<(&'static str, &str)> {
    let [parent, state] = TRACE_CONTEXT_HEADERS;
    let Some(traceparent) = request.header(parent).filter(|v| is_traceparent(v)) else {
        return Vec::new();
    };
    let mut headers = vec![(parent, traceparent)];
    if let Some(tracestate) = request
        .header(state)
        .filter(|v| !v.is_empty() && v.len() <= MAX_TRACESTATE_LEN)
    {
        headers.push((state, tracestate));
    }
    headers
}

/// `version-trace_id-parent_id-flags` in lower-case hex (2, 32, 16 and 2 digits),
/// with ids not all zero and a version other than `ff`. A later version may append
/// fields after the flags, separated by `-`.
fn is_traceparent(value: &str) -> bool {
    let hex = |field: &str, len: usize| {
        field.len() == len
            && field
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let not_zero = |field: &str| field.bytes().any(|b| b != b'0');
    let mut fields = value.split('-');
    let (Some(version), Some(trace_id), Some(parent_id), Some(flags)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    let rest_allowed = version != "00" || fields.next().is_none();
    hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && not_zero(trace_id)
        && hex(parent_id, 16)
        && not_zero(parent_id)
        && hex(flags, 2)
        && rest_allowed
}

/// The headers of a call: request id, service token, the user's bearer when
/// forwarded, the trace context, and the caller's own. The caller's can't replace
/// the ones before them.
fn request_headers(
    request_id: &str,
    service_token: &str,
    authorization: Option<&str>,
    trace_context: &[(&str, &str)],
    has_body: bool,
    extra_headers: &[(&str, &str)],
) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        ("x-request-id".into(), request_id.as_bytes().to_vec()),
        (
            SERVICE_TOKEN_HEADER.into(),
            service_token.as_bytes().to_vec(),
        ),
        ("accept".into(), b"application/json".to_vec()),
    ];
    if let Some(authorization) = authorization {
        headers.push(("authorization".into(), authorization.as_bytes().to_vec()));
    }
    for (name, value) in trace_context {
        headers.push((name.to_string(), value.as_bytes().to_vec()));
    }
    if has_body {
        headers.push(("content-type".into(), b"application/json".to_vec()));
    }
    for (name, value) in extra_headers {
        let name = name.to_ascii_lowercase();
        if !headers.iter().any(|(taken, _)| *taken == name) {
            headers.push((name, value.as_bytes().to_vec()));
        }
    }
    headers
}

/// Where a sibling is reached.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// `http://<component>.spin.internal`
    Chained(String),
    /// A relative request through the app's own router.
    SelfRequest,
}

impl Target {
    fn from_mode(mode: &str, component: &str) -> ApiResult<Target> {
        match mode {
            "chaining" => Ok(Target::Chained(format!("{component}.spin.internal"))),
            "self" => Ok(Target::SelfRequest),
            other => Err(ApiError::internal(format!(
                "internal_mode must be \"chaining\" or \"self\", not {other:?}"
            ))),
        }
    }
}

/// Where a request goes: scheme, authority and path, however the caller named it.
#[derive(Debug)]
struct Destination<'a> {
    https: bool,
    authority: &'a str,
    path_with_query: String,
}

impl<'a> Destination<'a> {
    /// A sibling's path, on the target the deployment reaches siblings by.
    fn sibling(target: &'a Target, path: &str) -> Destination<'a> {
        // wasi-http needs an authority on every request; Spin reads an empty host as a
        // request to the app itself (without one, Spin refuses the URI as invalid).
        let authority = match target {
            Target::Chained(authority) => authority.as_str(),
            Target::SelfRequest => ":80",
        };
        Destination {
            https: false,
            authority,
            path_with_query: path.to_string(),
        }
    }

    /// An absolute `http://` or `https://` URL; its fragment, if any, is not sent.
    fn url(url: &'a str) -> Result<Destination<'a>, String> {
        let invalid = || format!("not an absolute http(s) URL: {url:?}");
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return Err(invalid()),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, path_with_query) = match rest.find(['/', '?']) {
            Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_string()),
            Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
            None => (rest, "/".to_string()),
        };
        if authority.is_empty() || authority.contains(char::is_whitespace) {
            return Err(invalid());
        }
        Ok(Destination {
            https,
            authority,
            path_with_query,
        })
    }
}

/// POSTs `body` to `url`, an absolute `http://` or `https://` URL outside the app
/// (which `allowed_outbound_hosts` must permit), with `headers` and no others, and
/// waits at most `timeout` to connect, then as long for the answer to start and for
/// each part of it. Any answer is a [`Reply`]; no answer is the reason, for logs.
pub async fn post_url(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Reply, String> {
    let destination = Destination::url(url)?;
    let headers: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes().to_vec()))
        .collect();
    send(&destination, Method::Post, &headers, Some(body), timeout).await
}

async fn send(
    destination: &Destination<'_>,
    method: Method,
    headers: &[(String, Vec<u8>)],
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<Reply, String> {
    let request = Outgoing {
        method: &method,
        https: destination.https,
        authority: destination.authority,
        path_with_query: &destination.path_with_query,
        headers,
        body,
    };
    let (status, body) = sdk::send(&request, timeout).await?;
    Ok(Reply { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_chooses_chaining_or_self_requests() {
        assert_eq!(
            Target::from_mode("chaining", "products").unwrap(),
            Target::Chained("products.spin.internal".into())
        );
        assert_eq!(
            Target::from_mode("self", "products").unwrap(),
            Target::SelfRequest
        );
        assert!(Target::from_mode("carrier-pigeon", "products").is_err());
    }

    #[test]
    fn absolute_urls_split_into_scheme_authority_and_path() {
        let url = |raw| Destination::url(raw).map(|d| (d.authority, d.path_with_query));
        assert_eq!(
            url("https://hooks.example.com/spinshop?x=1#top").unwrap(),
            ("hooks.example.com", "/spinshop?x=1".to_string())
        );
        assert_eq!(
            url("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1:8080", "/".to_string())
        );
        assert_eq!(
            url("HTTP://example.com?x=1").unwrap(),
            ("example.com", "/?x=1".to_string())
        );
        assert!(Destination::url("https://a.example").unwrap().https);
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com",
            "http:///x",
            "http://a b/",
        ] {
            assert!(Destination::url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extra_headers_are_added_but_cannot_replace_the_credentials() {
        let headers = request_headers(
            "req-1",
            "service-token",
            Some("Bearer user"),
            &[],
            true,
            &[
                ("Idempotency-Key", "cart-7-v3"),
                ("X-Service-Token", "forged"),
            ],
        );
        let value = |name: &str| {
            let values: Vec<&[u8]> = headers
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.as_slice())
                .collect();
            assert_eq!(values.len(), 1, "{name}");
            values[0]
        };
        assert_eq!(value("x-request-id"), b"req-1");
        assert_eq!(value(SERVICE_TOKEN_HEADER), b"service-token");
        assert_eq!(value("authorization"), b"Bearer user");
        assert_eq!(value("content-type"), b"application/json");
        assert_eq!(value("idempotency-key"), b"cart-7-v3");
    }

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_trace_context_received_is_passed_on_to_siblings() {
        let request = ApiRequest::new(crate::Method::Get, "/api/orders/orders", b"", "")
            .with_header("Traceparent", TRACEPARENT)
            .with_header("tracestate", "vendor=opaque");
        let trace = trace_context(&request);
        let headers = request_headers(
            "req-1",
            "service-token",
            None,
            &trace,
            false,
            &[(
                "traceparent",
                "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-00",
            )],
        );
        let values = |name: &str| -> Vec<&[u8]> {
            headers
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.as_slice())
                .collect()
        };
        assert_eq!(values("traceparent"), [TRACEPARENT.as_bytes()]);
        assert_eq!(values("tracestate"), [b"vendor=opaque".as_slice()]);
    }

    #[test]
    fn a_malformed_trace_context_is_not_passed_on() {
        assert!(is_traceparent(TRACEPARENT));
        assert!(is_traceparent(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later-field"
        ));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        ] {
            assert!(!is_traceparent(bad), "{bad}");
        }
        let request = |traceparent: &str, tracestate: &str| {
            ApiRequest::new(crate::Method::Get, "/", b"", "")
                .with_header("traceparent", traceparent)
                .with_header("tracestate", tracestate)
        };
        assert!(trace_context(&request("not-a-trace", "vendor=x")).is_empty());
        let long_state = format!("v={}", "x".repeat(MAX_TRACESTATE_LEN));
        assert_eq!(
            trace_context(&request(TRACEPARENT, &long_state)),
            [("traceparent", TRACEPARENT)]
        );
    }

    #[test]
    fn client_errors_are_relayed_and_server_errors_become_unavailable() {
        let conflict = Reply {
            status: 409,
            body: br#"{"error":{"code":"insufficient_stock","message":"not enough"}}"#.to_vec(),
        };
        let err = conflict.into_error("products");
        assert_eq!(err.status(), 409);
        assert_eq!(err.code(), "insufficient_stock");

        let broken = Reply {
            status: 500,
            body: b"{}".to_vec(),
        };
        assert_eq!(broken.into_error("products").status(), 503);
    }

    #[test]
    fn expect_success_ignores_the_body_of_a_success() {
        let empty = Reply {
            status: 204,
            body: Vec::new(),
        };
        assert!(empty.expect_success("products").is_ok());
        let missing = Reply {
            status: 404,
            body: br#"{"error":{"code":"not_found","message":"no order 7"}}"#.to_vec(),
        };
        assert_eq!(
            missing.expect_success("products").unwrap_err().status(),
            404
        );
    }
}
