//! The one error type every handler returns, and its one mapping to HTTP.

use serde_json::{Value, json};

/// An error a handler returns. Each variant knows its status and its public `code`;
/// the JSON envelope is rendered in one place ([`ApiError::body`]).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Validation {
        message: String,
        details: Option<Value>,
    },
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A 402: the payment was refused (`payment_declined`); `details` may carry what
    /// was recorded, e.g. the failed payment, so the client can show it.
    #[error("{message}")]
    PaymentRequired {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A 405; `allow` lists the methods the path does accept, for the `Allow` header.
    #[error("method not allowed; this path accepts {allow}")]
    MethodNotAllowed { allow: String },
    /// A 409 with a specific code: `conflict`, `email_taken`, `insufficient_stock`, ...
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// A client error with a code of its own: a link's token that can't be used (400
    /// `reset_token_used`), what an account may not do yet (403 `email_not_verified`).
    #[error("{message}")]
    Refused {
        status: u16,
        code: &'static str,
        message: String,
    },
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A 415: the body is not of a type the route takes (told by its content, e.g.
    /// an upload that is no image of an accepted format).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts, retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// A sibling's client error, passed on to our caller with its own status and envelope.
    #[error("{}", body["error"]["message"].as_str().unwrap_or("error from a sibling service"))]
    Relayed { status: u16, body: Value },
    /// A dependency (the database or a sibling service) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else. Logged with the request id, rendered without detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
            details: None,
        }
    }

    /// A 400 naming the offending field in `details.field`, so clients can point at it.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
            details: Some(json!({ "field": field })),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::Internal(anyhow::anyhow!(message.into()))
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Validation { .. } => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::PaymentRequired { .. } => 402,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Conflict { .. } => 409,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Unprocessable(_) => 422,
            ApiError::RateLimited { .. } => 429,
            ApiError::Internal(_) => 500,
            ApiError::Unavailable(_) => 503,
            ApiError::Relayed { status, .. } | ApiError::Refused { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Validation { .. } | ApiError::Unprocessable(_) => "validation_error",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict { code, .. }
            | ApiError::PaymentRequired { code, .. }
            | ApiError::Refused { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Relayed { body, .. } => {
                body["error"]["code"].as_str().unwrap_or("upstream_error")
            }
        }
    }

    /// The public JSON envelope. Internal errors say nothing about their cause.
    pub fn body(&self) -> Value {
        if let ApiError::Relayed { body, .. } = self {
            return body.clone();
        }
        let message = match self {
            ApiError::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        let mut error = json!({ "code": self.code(), "message": message });
        let details = match self {
            ApiError::Validation { details, .. }
            | ApiError::Conflict { details, .. }
            | ApiError::PaymentRequired { details, .. } => details.clone(),
            _ => None,
        };
        if let Some(details) = details {
            error["details"] = details;
        }
        json!({ "error": error })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = ApiError::Internal(anyhow::anyhow!("relation users.secret does not exist"));
        assert_eq!(err.status(), 500);
        assert_eq!(
            err.body(),
            json!({"error": {"code": "internal", "message": "internal error"}})
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        let err = ApiError::invalid_field("price", "price must be >= 0");
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.body(),
            json!({"error": {"code": "validation_error", "message": "price must be >= 0",
                             "details": {"field": "price"}}})
        );
    }

    #[test]
    fn conflicts_carry_their_own_code_and_details() {
        let err = ApiError::Conflict {
            code: "insufficient_stock",
            message: "not enough stock for product 7".into(),
            details: Some(json!({"product_id": 7})),
        };
        assert_eq!(err.status(), 409);
        assert_eq!(err.body()["error"]["code"], "insufficient_stock");
        assert_eq!(err.body()["error"]["details"]["product_id"], 7);
    }

    #[test]
    fn declined_payments_are_402_with_their_details() {
        let err = ApiError::PaymentRequired {
            code: "payment_declined",
            message: "the card was declined".into(),
            details: Some(json!({"payment": {"id": 3, "status": "failed"}})),
        };
        assert_eq!(err.status(), 402);
        assert_eq!(
            err.body(),
            json!({"error": {"code": "payment_declined", "message": "the card was declined",
                             "details": {"payment": {"id": 3, "status": "failed"}}}})
        );
    }
}
