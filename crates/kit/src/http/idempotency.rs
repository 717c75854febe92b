//! The client's idempotency key, read the same way by every service that takes one.

use crate::http::error::{ApiError, ApiResult};
use crate::http::request::ApiRequest;

/// Keys longer than this are refused: they are stored and compared on every retry.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

/// A key of 1 to 200 characters, compared exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key in `X-Idempotency-Key`, or else in `Idempotency-Key`; `None` when the
    /// request carries neither. A key out of bounds answers `invalid()`, which names
    /// the header as the calling service documents it.
    pub fn from_request(
        req: &ApiRequest,
        invalid: impl FnOnce() -> ApiError,
    ) -> ApiResult<Option<IdempotencyKey>> {
        req.header("x-idempotency-key")
            .or_else(|| req.header("idempotency-key"))
            .map(|raw| IdempotencyKey::parse(raw).ok_or_else(invalid))
            .transpose()
    }

    pub fn parse(raw: &str) -> Option<IdempotencyKey> {
        let length = raw.chars().count();
        (1..=MAX_IDEMPOTENCY_KEY_CHARS)
            .contains(&length)
            .then(|| IdempotencyKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;

    fn refused() -> ApiError {
        ApiError::validation("bad key")
    }

    #[test]
    fn bounds_count_characters() {
        assert_eq!(IdempotencyKey::parse("k-1").unwrap().as_str(), "k-1");
        assert!(IdempotencyKey::parse(&"é".repeat(200)).is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_none());
        assert!(IdempotencyKey::parse("").is_none());
    }

    #[test]
    fn the_prefixed_header_comes_first() {
        let plain = ApiRequest::new(Method::Post, "/", b"", "").with_header("idempotency-key", "a");
        let key = IdempotencyKey::from_request(&plain, refused).unwrap();
        assert_eq!(key.unwrap().as_str(), "a");
        let both = plain.with_header("x-idempotency-key", "b");
        let key = IdempotencyKey::from_request(&both, refused).unwrap();
        assert_eq!(key.unwrap().as_str(), "b");
        let none = ApiRequest::new(Method::Post, "/", b"", "");
        assert_eq!(IdempotencyKey::from_request(&none, refused).unwrap(), None);
        let empty = ApiRequest::new(Method::Post, "/", b"", "").with_header("idempotency-key", "");
        assert!(IdempotencyKey::from_request(&empty, refused).is_err());
    }
}
