//! Speaking HTTP to a test app: one builder for any request (headers, a bearer, the
//! service token, a JSON or raw body), a helper per method for the plain ones, and
//! the answer with what tests read from it.

use bytes::Bytes;
use serde_json::Value;

use crate::{Backend, INTERNAL_SECRET, TestApp};

pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "status {} body is not JSON ({err}): {}",
                self.status,
                self.text()
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text, for assertion messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error code of an error envelope.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The field a 400 names in its details.
    pub fn error_field(&self) -> String {
        self.json()["error"]["details"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// A request being put together, for whatever the per-method helpers don't say:
/// `app.request_to("POST", path).bearer(token).header("idempotency-key", key)
/// .json(&body).send().await`.
#[must_use = "a request is only made by `send`"]
pub struct RequestBuilder<'a> {
    app: &'a TestApp,
    request: http::request::Builder,
    body: Bytes,
}

impl RequestBuilder<'_> {
    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.request = self.request.header(name, value.as_ref());
        self
    }

    /// `authorization: Bearer <token>`, as a signed-in user sends it.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// A valid service token, as a sibling component sends it.
    pub fn service_token(self) -> Self {
        let token = self.app.service_token("tests");
        self.header(spinshop_kit::auth::SERVICE_TOKEN_HEADER, token)
    }

    /// `body` as JSON, with its content type.
    pub fn json(self, body: &Value) -> Self {
        let bytes = serde_json::to_vec(body).expect("a serialisable body");
        self.body("application/json", bytes)
    }

    /// A body of any bytes, e.g. a malformed one or a form.
    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.request = self.request.header("content-type", content_type);
        self.body = body.into();
        self
    }

    pub async fn send(self) -> Response {
        let request = self.request.body(self.body).expect("a valid request");
        self.app.send(request).await
    }
}

impl TestApp {
    /// A request to build, see [`RequestBuilder`].
    pub fn request_to(&self, method: &str, path: &str) -> RequestBuilder<'_> {
        RequestBuilder {
            app: self,
            request: http::Request::builder().method(method).uri(path),
            body: Bytes::new(),
        }
    }

    /// A request with an optional JSON body, as the user of `token` if there is one.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Response {
        let mut request = self.request_to(method, path);
        if let Some(token) = token {
            request = request.bearer(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await
    }

    pub async fn send(&self, request: http::Request<Bytes>) -> Response {
        let response = match &self.backend {
            Backend::Host(app) => app.handle(request).await,
            Backend::Spin(spin) => spin.send(request).await,
        };
        let (parts, body) = response.into_parts();
        Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    /// Sends `request` as if from `client` (its address is what Spin reports in
    /// `spin-client-addr`); only the test host can pretend so, and on Spin this reports
    /// the test skipped, for `reason`, and answers `None`.
    pub async fn send_from(
        &self,
        request: http::Request<Bytes>,
        client: std::net::SocketAddr,
        reason: &str,
    ) -> Option<Response> {
        let Backend::Host(app) = &self.backend else {
            crate::report_skipped(crate::ON_REAL_SPIN, reason);
            return None;
        };
        let (parts, body) = app.handle_from(request, client).await.into_parts();
        Some(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request("GET", path, None, token).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        self.request("POST", path, Some(body), token).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        self.request("PATCH", path, Some(body), token).await
    }

    pub async fn put(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        self.request("PUT", path, Some(body), token).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request("DELETE", path, None, token).await
    }

    /// A service token for `service`, signed as the app's siblings sign theirs.
    pub fn service_token(&self, service: &str) -> String {
        spinshop_kit::auth::issue_service_token(INTERNAL_SECRET, service).expect("a service token")
    }

    /// POSTs to an internal endpoint with the service credential.
    pub async fn post_internal(&self, path: &str, body: &Value) -> Response {
        self.request_to("POST", path)
            .service_token()
            .json(body)
            .send()
            .await
    }
}
