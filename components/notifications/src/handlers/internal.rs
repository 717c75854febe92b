//! INTERNAL: where producers deliver their events. `kit::http::service::serve` lets only callers
//! with a service token reach it.

use serde::Serialize;
use spinshop_kit::contracts::EventBatch;
use spinshop_kit::http::routes::Service;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::config::Config;
use crate::domain::{check_batch, notice};
use crate::store;
use crate::webhook::OUTBOX;

/// What became of a delivered batch.
#[derive(Debug, Default, Serialize)]
struct Received {
    /// Events stored now.
    accepted: u64,
    /// Events stored by an earlier delivery, left as they were.
    duplicates: u64,
}

/// `POST /internal/events`: stores a batch of events in one transaction, each once
/// by its id. A new event reaches its user's inbox, and is queued for the webhook
/// when one is configured; a redelivered one changes nothing. Producers send a
/// batch again until it is answered 200, so a failure here loses nothing.
/// Redeliveries list their events in the same order, so two deliveries of one batch
/// at once wait for each other rather than deadlock.
pub async fn receive_events(req: &ApiRequest, _: Service) -> ApiResult<ApiResponse> {
    let batch: EventBatch = req.json()?;
    check_batch(&batch.events)?;
    let to_webhook = Config::get().await?.webhook_url.is_some();
    let db = Db::connect(req).await?;
    let received = db
        .transaction(async |db| {
            let mut received = Received::default();
            for event in &batch.events {
                let envelope = serde_json::to_string(event).map_err(anyhow_error)?;
                if !store::insert_event(db, event, &envelope).await? {
                    received.duplicates += 1;
                    continue;
                }
                received.accepted += 1;
                if let Some(user_id) = event.user_id {
                    store::insert_notification(db, user_id, event, &notice(event)).await?;
                }
                if to_webhook {
                    OUTBOX.enqueue(db, event).await?;
                }
            }
            Ok(received)
        })
        .await?;
    ApiResponse::ok(&received)
}

fn anyhow_error(err: serde_json::Error) -> ApiError {
    ApiError::Internal(err.into())
}
