//! INTERNAL: where producers deliver their events and the mails they write.
//! `kit::http::service::serve` lets only callers with a service token reach it.

use serde::Serialize;
use spinshop_kit::contracts::{Event, EventBatch, MailBatch};
use spinshop_kit::http::routes::Service;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::SERVICE;
use crate::config::Config;
use crate::domain::{check_batch, check_mails, mails_about, notice, order_mail, order_of};
use crate::mail;
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

/// Writes the mail a new order event sends its customer (see
/// `domain::order_mail`), in the transaction that stores the event; 1 when one was
/// written. The mail's id is the event's, so it is written once. An event whose
/// customer's address notifications has not learnt (no `user.*` event of theirs
/// stored) mails nobody, and says so in the log, without the address.
async fn write_order_mail(
    db: &Db,
    config: &Config,
    event: &Event,
    kept_locally: bool,
) -> ApiResult<u64> {
    let Some(user_id) = event.user_id.filter(|_| mails_about(&event.kind)) else {
        return Ok(0);
    };
    let order = match order_of(event) {
        Ok(order) => Some(order),
        Err(Some(order_id)) => store::known_order(db, order_id).await?,
        Err(None) => None,
    };
    let Some(order) = order.filter(|order| order.id > 0) else {
        return Ok(0);
    };
    let Some(to) = store::known_address(db, user_id).await? else {
        eprintln!(
            "{SERVICE}: no mail for event {} ({}): user {user_id}'s address is not known",
            event.id, event.kind
        );
        return Ok(0);
    };
    let Some(mail) = order_mail(event, &order, &to, &config.shop) else {
        return Ok(0);
    };
    let written = store::insert_mail(db, &event.id, SERVICE, &mail, kept_locally).await?;
    Ok(u64::from(written))
}

/// `POST /internal/events`: stores a batch of events in one transaction, each once
/// by its id. A new event reaches its user's inbox, is queued for the webhook
/// when one is configured, and an order's event writes its customer's mail; a redelivered one changes nothing. Producers send a
/// batch again until it is answered 200, so a failure here loses nothing.
/// Redeliveries list their events in the same order, so two deliveries of one batch
/// at once wait for each other rather than deadlock.
pub async fn receive_events(req: &ApiRequest, _: Service) -> ApiResult<ApiResponse> {
    let batch: EventBatch = req.json()?;
    check_batch(&batch.events)?;
    let config = Config::get().await?;
    let to_webhook = config.webhook_url.is_some();
    let kept_locally = config.mail_api.is_none();
    let db = Db::connect(req).await?;
    let (received, mails) = db
        .transaction(async |db| {
            let (mut received, mut mails) = (Received::default(), 0);
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
                mails += write_order_mail(db, config, event, kept_locally).await?;
            }
            Ok((received, mails))
        })
        .await?;
    if !kept_locally && mails > 0 {
        mail::OUTBOX.note_written(&db);
    }
    ApiResponse::ok(&received)
}

/// `POST /internal/mail`: stores a batch of mails in one transaction, each once by
/// its id, queued for the mail API, or kept in the local mailbox when none is
/// configured. The mails are never logged: a reset link is a secret.
pub async fn receive_mail(req: &ApiRequest, producer: Service) -> ApiResult<ApiResponse> {
    let batch: MailBatch = req.json()?;
    check_mails(&batch.mails)?;
    let kept_locally = Config::get().await?.mail_api.is_none();
    let db = Db::connect(req).await?;
    let received = db
        .transaction(async |db| {
            let mut received = Received::default();
            for mail in &batch.mails {
                if store::insert_mail(db, &mail.id, producer.name(), &mail.data, kept_locally)
                    .await?
                {
                    received.accepted += 1;
                } else {
                    received.duplicates += 1;
                }
            }
            Ok(received)
        })
        .await?;
    if !kept_locally && received.accepted > 0 {
        mail::OUTBOX.note_written(&db);
    }
    ApiResponse::ok(&received)
}

fn anyhow_error(err: serde_json::Error) -> ApiError {
    ApiError::Internal(err.into())
}
