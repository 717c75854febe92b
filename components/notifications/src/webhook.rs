//! The webhook: where the notify outbox delivers each event, signed. Its own module:
//! kit's outbox calls [`deliver`] after the ingest's response has gone and from a
//! dispatch, with no handler around it.
//!
//! Each claimed event is POSTed, its JSON byte for byte as queued, to
//! `notification_webhook_url` with a signature (see [`crate::domain::signature`]);
//! a 2xx answer delivers it, any other answer, or none within [`TIMEOUT`], is a
//! failed attempt that the outbox retries with backoff (see [`crate::outgoing`]). Every request made is
//! recorded in `notify.webhook_attempts`.

use std::time::{Duration, Instant};

use serde::Deserialize;
use spinshop_kit::ApiRequest;
use spinshop_kit::auth::now_seconds;
use spinshop_kit::client::post_url;
use spinshop_kit::pg::db::Db;
use spinshop_kit::pg::outbox::{Claimed, Delivery, Outbox};

use crate::SERVICE;
use crate::config::Config;
use crate::domain::signature::sign;
use crate::outgoing::{Sent, send_in_turn};
use crate::store::{self, NewAttempt};

/// The webhook queue: kit's outbox in the notify schema.
pub const OUTBOX: Outbox = Outbox::new("notify", SERVICE, deliver);

/// How long the webhook may take to accept the connection, then to start answering,
/// then between the parts of its answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The part of a queued event its headers name.
#[derive(Deserialize)]
struct Head {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Where deliveries go, and the key they are signed with.
struct Webhook {
    url: String,
    secret: String,
}

impl Webhook {
    /// The configured webhook; a reason when there is none to deliver to.
    async fn load() -> Result<Webhook, String> {
        let config = Config::get().await.map_err(|err| err.to_string())?;
        let url = config
            .webhook_url
            .clone()
            .ok_or("notification_webhook_url is not set")?;
        let secret = config
            .webhook_secret()
            .map_err(|_| "webhook_secret must be set, at least 16 characters")?
            .to_string();
        Ok(Webhook { url, secret })
    }

    /// POSTs one event; the attempt as it is to be recorded.
    async fn post(&self, head: &Head, body: &str) -> NewAttempt {
        let now = now_seconds();
        let timestamp = now.to_string();
        let signature = sign(&self.secret, now, body.as_bytes());
        let headers = [
            ("content-type", "application/json"),
            ("user-agent", "spinshop-notifications"),
            ("x-spinshop-event-id", head.id.as_str()),
            ("x-spinshop-event-type", head.kind.as_str()),
            ("x-spinshop-timestamp", timestamp.as_str()),
            ("x-spinshop-signature", signature.as_str()),
        ];
        let started = Instant::now();
        let outcome = post_url(&self.url, &headers, body.as_bytes(), TIMEOUT).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error) = match outcome {
            Ok(reply) if reply.is_success() => (Some(reply.status), None),
            Ok(reply) => (
                Some(reply.status),
                Some(format!("the webhook answered {}", reply.status)),
            ),
            Err(reason) => (None, Some(reason)),
        };
        NewAttempt {
            event_id: head.id.clone(),
            status_code,
            error,
            duration_ms,
        }
    }
}

/// The notify outbox's deliverer: [`deliver_to_webhook`], in the shape kit's outbox
/// takes.
fn deliver<'a>(
    _source: &'static str,
    request: &'a ApiRequest,
    batch: &'a [Claimed],
) -> Delivery<'a> {
    Box::pin(deliver_to_webhook(request, batch))
}

/// POSTs each claimed event, in order (see [`send_in_turn`]), answers for each, and
/// records every request made.
async fn deliver_to_webhook(request: &ApiRequest, batch: &[Claimed]) -> Vec<Result<(), String>> {
    let webhook = match Webhook::load().await {
        Ok(webhook) => webhook,
        Err(reason) => {
            eprintln!(
                "{SERVICE} {}: webhook deliveries wait: {reason}",
                request.request_id
            );
            return batch.iter().map(|_| Err(reason.to_string())).collect();
        }
    };
    let mut attempts = Vec::new();
    let outcomes = send_in_turn("the webhook", batch, async |row: &Claimed| {
        let head: Head = serde_json::from_str(&row.json)
            .map_err(|err| format!("a queued event is not an event: {err}"))?;
        let attempt = webhook.post(&head, &row.json).await;
        let sent = match (attempt.status_code, &attempt.error) {
            (Some(status), _) => Sent::Answered(status),
            (None, error) => Sent::Unreachable(error.clone().unwrap_or_default()),
        };
        if let Some(error) = &attempt.error {
            eprintln!(
                "{SERVICE} {}: webhook delivery of event {} failed: {error}",
                request.request_id, head.id
            );
        }
        attempts.push(attempt);
        Ok(sent)
    })
    .await;
    let recorded =
        async { store::record_attempts(&Db::connect(request).await?, &attempts).await }.await;
    if let Err(err) = recorded {
        eprintln!(
            "{SERVICE} {}: recording {} webhook attempts failed: {err}",
            request.request_id,
            attempts.len()
        );
    }
    outcomes
}
