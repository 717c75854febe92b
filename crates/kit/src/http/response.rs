//! Responses as handlers build them, turned into Spin responses in one place.

use serde::Serialize;

use crate::http::error::{ApiError, ApiResult};

/// `Cache-Control` for an answer whose URL names its content (a version, a content
/// hash): kept for a year by browsers and caches, never asked for again.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json<T: Serialize>(status: u16, value: &T) -> ApiResult<Self> {
        let body = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
        Ok(ApiResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        })
    }

    pub fn ok<T: Serialize>(value: &T) -> ApiResult<Self> {
        Self::json(200, value)
    }

    pub fn created<T: Serialize>(value: &T) -> ApiResult<Self> {
        Self::json(201, value)
    }

    /// A page of a list: the items as a JSON array, the total in `X-Total-Count`.
    pub fn page<T: Serialize>(items: &[T], total: i64) -> ApiResult<Self> {
        Ok(Self::json(200, &items)?.with_header("x-total-count", &total.to_string()))
    }

    /// A 200 with a body of any bytes (an image, a file), of `content_type`.
    pub fn bytes(content_type: &str, body: Vec<u8>) -> Self {
        ApiResponse {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    /// A 304: the client's copy, named in `If-None-Match`, is the current one. It
    /// carries no body and no content type; the caller adds the validators and
    /// caching headers a 200 would have had.
    pub fn not_modified() -> Self {
        ApiResponse {
            status: 304,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn no_content() -> Self {
        ApiResponse {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn from_error(err: &ApiError) -> Self {
        let response = ApiResponse {
            status: err.status(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: err.body().to_string().into_bytes(),
        };
        match err {
            ApiError::RateLimited {
                retry_after_seconds,
            } => response.with_header("retry-after", &retry_after_seconds.to_string()),
            ApiError::MethodNotAllowed { allow } => response.with_header("allow", allow),
            _ => response,
        }
    }
}
