//! A notification as its owner reads it, and the inbox's filter.

use serde::Serialize;
use serde_json::Value;
use spinshop_kit::{ApiError, ApiResult};

/// A notification as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    /// The event it was made from.
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub message: String,
    /// The event's data, for links (an order id, an amount).
    pub data: Value,
    pub read_at: Option<String>,
    pub created_at: String,
}

/// `?unread=`: `true` lists unread notifications only, `false` read ones only.
pub fn parse_unread_filter(raw: Option<&str>) -> ApiResult<Option<bool>> {
    match raw {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_field(
            "unread",
            "unread must be true or false",
        )),
    }
}
