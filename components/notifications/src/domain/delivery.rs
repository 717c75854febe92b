//! Webhook delivery as staff see it: each event's state, and the attempts made.

use serde::Serialize;
use serde_json::Value;
use spinshop_kit::{ApiError, ApiResult};

/// Where an event stands with the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    /// Queued, not tried yet.
    Pending,
    /// Tried and refused or unanswered; tried again at `next_attempt_at`.
    Failed,
    Delivered,
    /// No webhook was configured when the event arrived.
    None,
}

impl WebhookStatus {
    pub const ALL: [WebhookStatus; 4] = [
        WebhookStatus::Pending,
        WebhookStatus::Failed,
        WebhookStatus::Delivered,
        WebhookStatus::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Pending => "pending",
            WebhookStatus::Failed => "failed",
            WebhookStatus::Delivered => "delivered",
            WebhookStatus::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<WebhookStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// `?status=` of the events list.
    pub fn parse_filter(raw: Option<&str>) -> ApiResult<Option<WebhookStatus>> {
        raw.map(|raw| {
            Self::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "status must be one of pending, failed, delivered, none",
                )
            })
        })
        .transpose()
    }
}

/// An event's webhook delivery.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookState {
    pub status: WebhookStatus,
    /// Requests made to the webhook for this event.
    pub attempts: i64,
    /// Why the last attempt failed, while the event is not delivered.
    pub last_error: Option<String>,
    /// When it is tried next, while it is not delivered.
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
}

/// A received event, as staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: i64,
    pub source: String,
    pub aggregate_type: String,
    pub aggregate_id: i64,
    pub sequence: i64,
    pub user_id: Option<i64>,
    pub occurred_at: String,
    pub received_at: String,
    pub data: Value,
    pub webhook: WebhookState,
}

/// One request made to the webhook.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub id: i64,
    pub event_id: String,
    pub attempted_at: String,
    /// The status the webhook answered; `None` when it did not answer.
    pub status_code: Option<i64>,
    /// Why the attempt failed (a refusing status, a timeout, a refused connection).
    pub error: Option<String>,
    pub duration_ms: i64,
}
