//! The transactional outbox: how an event leaves a service.
//!
//! A service records an event with [`Outbox::record`] inside the transaction that
//! makes the change it reports, so the two commit or roll back together: no event
//! without its change, no change without its event. The row waits in the service's
//! own `<schema>.outbox` table until `flush` delivers it: right after the response
//! that committed it (see [`Served::after_response`](crate::http::service::Served::after_response)),
//! and whenever a dispatch asks.
//!
//! Delivery is at least once. A flush claims due rows with a short lease (so
//! concurrent flushes don't send the same row twice), lets the connection go, hands
//! the events to a deliverer, then marks each delivered, or failed with an attempt
//! count and a next-attempt time that backs off exponentially up to a cap. Events of
//! one aggregate leave in the order they happened: a row is claimed only once every
//! earlier event of its aggregate is delivered. Every service's outbox table has the
//! same shape (see the outbox migrations), so the SQL lives here once.
//!
//! The same delivery serves queues of other rows than events ([`Outbox::queue`]):
//! notifications' mail table has the outbox's delivery columns and is flushed by this
//! code to the mail API. A service's mail to be sent (a reset link) is recorded in
//! its event outbox as a [`MAIL`] row ([`Outbox::record_mail`]), so it commits with
//! what causes it, and [`to_notifications`] hands it to notifications' mail endpoint
//! rather than to its events.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::client::{CallContext, Method, call};
use crate::config;
use crate::contracts::{Event, FlushReport, MAIL, Mail, MailBatch, MailData};
use crate::http::error::{ApiError, ApiResult};
use crate::http::request::ApiRequest;
use crate::pg::db::{Db, Param, text};

/// Rows one claim takes; a flush claims again until nothing is due.
const BATCH: i64 = 50;
/// Claims one flush makes at most, so a flush ends even while events keep coming.
const MAX_ROUNDS: usize = 20;
/// How long a claimed row is kept from other flushes: longer than a delivery can take.
const LEASE_SECONDS: i64 = 60;
/// The version of every event type's `data` shape today.
const EVENT_VERSION: i64 = 1;

/// An event about to be recorded.
pub struct NewEvent<'a> {
    /// e.g. `order.paid`
    pub kind: &'a str,
    /// e.g. `order`
    pub aggregate_type: &'a str,
    pub aggregate_id: i64,
    /// The user whose inbox it reaches.
    pub user_id: Option<i64>,
    pub data: Value,
}

/// A claimed row: the event as it will be sent, and how often sending it failed.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub seq: i64,
    /// The envelope's JSON, byte for byte as recorded (webhook signatures cover it).
    pub json: String,
    pub attempts: i64,
}

/// The pause before another attempt after `attempts` failed ones: `base` doubling
/// per attempt, never more than `cap`.
pub(crate) fn retry_delay(attempts: i64, base: Duration, cap: Duration) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.saturating_mul(1 << doublings).min(cap)
}

/// The retry and retention settings, from the component's variables
/// (`outbox_retry_base_ms`, `outbox_retry_max_seconds`, `outbox_retention_hours`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub retention_hours: i64,
}

/// The variables [`Policy`] is read from.
pub(crate) const OUTBOX_RETRY_BASE_MS: &str = "outbox_retry_base_ms";
pub(crate) const OUTBOX_RETRY_MAX_SECONDS: &str = "outbox_retry_max_seconds";
pub(crate) const OUTBOX_RETENTION_HOURS: &str = "outbox_retention_hours";

static POLICY: config::PerInstance<Policy> = config::PerInstance::new();

impl Policy {
    /// The policy, read once per instance.
    pub async fn load() -> ApiResult<Policy> {
        POLICY
            .get_or_load(async || {
                Ok(Policy {
                    retry_base: Duration::from_millis(
                        config::parsed_var(OUTBOX_RETRY_BASE_MS).await?,
                    ),
                    retry_cap: Duration::from_secs(
                        config::parsed_var(OUTBOX_RETRY_MAX_SECONDS).await?,
                    ),
                    retention_hours: config::parsed_var(OUTBOX_RETENTION_HOURS).await?,
                })
            })
            .await
            .copied()
    }
}

/// Flushes the outbox this request recorded events in, if any: what
/// [`crate::http::service`] does once the response has gone, so the client doesn't wait
/// for the delivery. A failure is logged; the rows stay pending for the next flush.
pub(crate) async fn flush_recorded(request: &ApiRequest) {
    let recorded = request.recorded_outbox().take();
    for outbox in recorded {
        if let Err(err) = outbox.flush(request, Scope::AfterResponse).await {
            eprintln!(
                "{} {}: delivering {}.{} after the response failed: {err}",
                outbox.source, request.request_id, outbox.schema, outbox.table
            );
        }
    }
}

/// `POST /api/<service>/internal/outbox/flush`: delivers what is due now and
/// answers with a [`FlushReport`]; the route ([`crate::http::routes::Route::outbox_flush`])
/// admits only service callers.
pub(crate) async fn flush_endpoint(
    outbox: &Outbox,
    request: &ApiRequest,
) -> ApiResult<crate::ApiResponse> {
    crate::ApiResponse::ok(&outbox.flush(request, Scope::Dispatch).await?)
}

/// Delivers a batch to notifications: its events to `POST
/// /api/notifications/internal/events` and its [`MAIL`] rows to `POST
/// /api/notifications/internal/mail`, one call each (notifications stores each call's
/// rows all or none), so a mail never reaches the events, their inboxes or webhook.
pub fn to_notifications<'a>(
    source: &'static str,
    request: &'a ApiRequest,
    batch: &'a [Claimed],
) -> Delivery<'a> {
    Box::pin(async move {
        let rows = batch
            .iter()
            .map(|row| serde_json::from_str::<Event>(&row.json))
            .collect::<Result<Vec<Event>, _>>();
        let rows = match rows {
            Ok(rows) => rows,
            Err(err) => {
                let reason = format!("an outbox row is not an event: {err}");
                return batch.iter().map(|_| Err(reason.clone())).collect();
            }
        };
        let (mails, events): (Vec<&Event>, Vec<&Event>) =
            rows.iter().partition(|event| event.kind == MAIL);
        let events_outcome = if events.is_empty() {
            Ok(())
        } else {
            let body = serde_json::json!({ "events": events });
            post_to_notifications(source, request, "internal/events", &body).await
        };
        let mails_outcome = if mails.is_empty() {
            Ok(())
        } else {
            match mail_batch(&mails) {
                Ok(body) => post_to_notifications(source, request, "internal/mail", &body).await,
                Err(reason) => Err(reason),
            }
        };
        rows.iter()
            .map(|row| match row.kind == MAIL {
                true => mails_outcome.clone(),
                false => events_outcome.clone(),
            })
            .collect()
    })
}

/// The mails recorded as [`MAIL`] rows, each with its row's id.
fn mail_batch(rows: &[&Event]) -> Result<Value, String> {
    let mails = rows
        .iter()
        .map(|row| {
            let data = MailData::deserialize(&row.data)
                .map_err(|err| format!("a mail row has no mail: {err}"))?;
            Ok(Mail {
                id: row.id.clone(),
                data,
            })
        })
        .collect::<Result<Vec<Mail>, String>>()?;
    serde_json::to_value(MailBatch { mails }).map_err(|err| err.to_string())
}

async fn post_to_notifications(
    source: &'static str,
    request: &ApiRequest,
    path: &str,
    body: &Value,
) -> Result<(), String> {
    let context = CallContext::own(source, request);
    let reply = call(
        &context,
        "notifications",
        Method::Post,
        &format!("/api/notifications/{path}"),
        Some(body),
    )
    .await
    .map_err(|err| err.to_string())?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(format!("notifications answered {} to {path}", reply.status))
    }
}

/// Hands a claimed batch to where it goes, as the service named first, answering
/// for each row in order.
pub type Deliver = for<'a> fn(&'static str, &'a ApiRequest, &'a [Claimed]) -> Delivery<'a>;

/// A delivery under way: its outcome for each row of the batch, in order.
pub type Delivery<'a> = Pin<Box<dyn Future<Output = Vec<Result<(), String>>> + 'a>>;

/// One service's outbox: the `outbox` and `outbox_sequences` tables of its schema,
/// and where its events go; or another queue with the outbox's delivery columns.
#[derive(Clone, Copy)]
pub struct Outbox {
    schema: &'static str,
    table: &'static str,
    source: &'static str,
    deliver: Deliver,
    /// What a claim hands the deliverer of each row, as SQL over the row `o`.
    payload: &'static str,
    /// Whether rows leave in their aggregate's order (events do).
    ordered: bool,
}

impl Outbox {
    /// The outbox in `schema`, whose events name `source` as the service they came
    /// from and are delivered by `deliver`.
    pub const fn new(schema: &'static str, source: &'static str, deliver: Deliver) -> Outbox {
        Outbox {
            schema,
            table: "outbox",
            source,
            deliver,
            payload: "o.event::text",
            ordered: true,
        }
    }

    /// A queue of other rows than events, in `schema.table`: it has the outbox's
    /// `seq` and delivery columns (`attempts`, `next_attempt_at`, `leased_until`,
    /// `last_error`, `delivered_at`), leaves in `seq` order with no aggregate order,
    /// and hands `deliver` the text `payload` (SQL over the row `o`) makes of each
    /// row. Only the delivery methods apply to it ([`Outbox::flush`]); its rows are
    /// written by its service's own SQL.
    pub const fn queue(
        schema: &'static str,
        table: &'static str,
        payload: &'static str,
        source: &'static str,
        deliver: Deliver,
    ) -> Outbox {
        Outbox {
            schema,
            table,
            source,
            deliver,
            payload,
            ordered: false,
        }
    }

    /// Whether `other` is this outbox (the same table).
    pub(crate) fn is(&self, other: &Outbox) -> bool {
        self.schema == other.schema && self.table == other.table
    }

    /// Notes, in `db`'s request, that rows written to this queue by the service's own
    /// SQL are to be delivered once the response has gone.
    pub fn note_written(&self, db: &Db) {
        db.note_recorded(*self);
    }

    /// Records `mail` in the caller's transaction, as a [`MAIL`] row of
    /// `user_id`'s: it is delivered to notifications' mail queue, never as an event.
    pub async fn record_mail(&self, db: &Db, user_id: i64, mail: &MailData) -> ApiResult<()> {
        self.record(
            db,
            NewEvent {
                kind: MAIL,
                aggregate_type: MAIL,
                aggregate_id: user_id,
                user_id: None,
                data: serde_json::to_value(mail).map_err(anyhow::Error::from)?,
            },
        )
        .await
    }

    /// Delivers what is due now (see `flush`), on behalf of `request`.
    pub async fn flush(&self, request: &ApiRequest, scope: Scope) -> ApiResult<FlushReport> {
        let policy = Policy::load().await?;
        flush(
            self,
            request,
            &policy,
            scope,
            async |batch: &[Claimed]| (self.deliver)(self.source, request, batch).await,
        )
        .await
    }

    /// Records `event` in the caller's transaction. Its sequence is the next of its
    /// aggregate's: the counter row is locked until the transaction ends, so two
    /// changes to one aggregate number their events in commit order.
    pub async fn record(&self, db: &Db, event: NewEvent<'_>) -> ApiResult<()> {
        let sql = format!(
            "WITH next AS ( \
               INSERT INTO {s}.outbox_sequences (aggregate_type, aggregate_id, last_sequence) \
               VALUES ($1::text, $2::bigint, 1) \
               ON CONFLICT (aggregate_type, aggregate_id) \
               DO UPDATE SET last_sequence = {s}.outbox_sequences.last_sequence + 1 \
               RETURNING last_sequence) \
             INSERT INTO {s}.outbox (event_id, aggregate_type, aggregate_id, sequence, event) \
             SELECT $3::text::uuid, $1::text, $2::bigint, next.last_sequence, jsonb_build_object( \
               'id', $3::text, 'type', $4::text, 'version', $5::bigint, \
               'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
               'source', $6::text, 'aggregate_type', $1::text, 'aggregate_id', $2::bigint, \
               'sequence', next.last_sequence, 'user_id', $7::bigint, 'data', $8::text::jsonb) \
             FROM next",
            s = self.schema
        );
        let event_id = uuid::Uuid::new_v4().to_string();
        let user_id = event.user_id.map_or(Param::DbNull, Param::Int64);
        db.execute(
            &sql,
            &[
                text(event.aggregate_type),
                event.aggregate_id.into(),
                text(&event_id),
                text(event.kind),
                EVENT_VERSION.into(),
                text(self.source),
                user_id,
                text(&event.data.to_string()),
            ],
        )
        .await?;
        db.note_recorded(*self);
        Ok(())
    }

    /// Queues an event that was recorded elsewhere, as it is (same id and sequence),
    /// for delivery onwards; an event already queued is left as it is. Call it in
    /// the transaction that stores the event.
    pub async fn enqueue(&self, db: &Db, event: &Event) -> ApiResult<()> {
        let sql = format!(
            "INSERT INTO {s}.outbox (event_id, aggregate_type, aggregate_id, sequence, event) \
             VALUES ($1::text::uuid, $2, $3, $4, $5::text::jsonb) ON CONFLICT (event_id) DO NOTHING",
            s = self.schema
        );
        let json = serde_json::to_string(event).map_err(anyhow::Error::from)?;
        db.execute(
            &sql,
            &[
                text(&event.id),
                text(&event.aggregate_type),
                event.aggregate_id.into(),
                event.sequence.into(),
                text(&json),
            ],
        )
        .await?;
        db.note_recorded(*self);
        Ok(())
    }

    /// Claims up to `BATCH` due rows, each the earliest undelivered event of its
    /// aggregate, oldest first.
    pub async fn claim(&self, db: &Db) -> ApiResult<Vec<Claimed>> {
        let in_order = if self.ordered {
            format!(
                "AND NOT EXISTS ( \
                   SELECT 1 FROM {s}.{t} p \
                   WHERE p.aggregate_type = c.aggregate_type AND p.aggregate_id = c.aggregate_id \
                     AND p.sequence < c.sequence AND p.delivered_at IS NULL)",
                s = self.schema,
                t = self.table
            )
        } else {
            String::new()
        };
        let sql = format!(
            "UPDATE {s}.{t} o SET leased_until = now() + make_interval(secs => $2::float8) \
             WHERE o.seq IN ( \
               SELECT c.seq FROM {s}.{t} c \
               WHERE c.delivered_at IS NULL AND c.next_attempt_at <= now() \
                 AND (c.leased_until IS NULL OR c.leased_until < now()) {in_order} \
               ORDER BY c.seq LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING o.seq, {payload} AS event, o.attempts::bigint AS attempts",
            s = self.schema,
            t = self.table,
            payload = self.payload
        );
        let rows = db
            .query(&sql, &[BATCH.into(), (LEASE_SECONDS as f64).into()])
            .await?;
        let mut claimed = rows.map(|row| {
            Ok(Claimed {
                seq: row.get("seq")?,
                json: row.get("event")?,
                attempts: row.get("attempts")?,
            })
        })?;
        claimed.sort_by_key(|row| row.seq);
        Ok(claimed)
    }

    pub(crate) async fn mark_delivered(&self, db: &Db, seqs: &[i64]) -> ApiResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE {s}.{t} SET delivered_at = now(), leased_until = NULL, last_error = NULL, \
             attempts = attempts + 1 WHERE seq = ANY($1)",
            s = self.schema,
            t = self.table
        );
        db.execute(
            &sql,
            &[Param::ArrayInt64(
                seqs.iter().map(|seq| Some(*seq)).collect(),
            )],
        )
        .await?;
        Ok(())
    }

    /// Records a failed attempt: the row waits `retry_delay` before it is due again.
    pub(crate) async fn mark_failed(
        &self,
        db: &Db,
        row: &Claimed,
        error: &str,
        policy: &Policy,
    ) -> ApiResult<()> {
        let delay = retry_delay(row.attempts + 1, policy.retry_base, policy.retry_cap);
        let sql = format!(
            "UPDATE {s}.{t} SET attempts = attempts + 1, last_error = $2, leased_until = NULL, \
             next_attempt_at = now() + make_interval(secs => $3::float8) WHERE seq = $1",
            s = self.schema,
            t = self.table
        );
        let error: String = error.chars().take(500).collect();
        db.execute(
            &sql,
            &[row.seq.into(), text(&error), delay.as_secs_f64().into()],
        )
        .await?;
        Ok(())
    }

    /// Deletes delivered rows older than the retention; the sequence counters stay.
    pub(crate) async fn prune(&self, db: &Db, policy: &Policy) -> ApiResult<u64> {
        let sql = format!(
            "DELETE FROM {s}.{t} WHERE delivered_at < now() - make_interval(hours => $1::int)",
            s = self.schema,
            t = self.table
        );
        let hours = i32::try_from(policy.retention_hours)
            .map_err(|_| ApiError::internal(format!("{OUTBOX_RETENTION_HOURS} out of range")))?;
        Ok(db.execute(&sql, &[hours.into()]).await?)
    }

    /// Rows not delivered yet.
    pub async fn pending(&self, db: &Db) -> ApiResult<u64> {
        let sql = format!(
            "SELECT count(*) AS pending FROM {s}.{t} WHERE delivered_at IS NULL",
            s = self.schema,
            t = self.table
        );
        let pending: i64 = db
            .query(&sql, &[])
            .await?
            .first()
            .map(|row| row.get("pending"))
            .transpose()?
            .unwrap_or(0);
        Ok(u64::try_from(pending).unwrap_or(0))
    }
}

/// How thorough a flush is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Right after a response: delivers what is due, and no more. It runs after
    /// every write that records an event, so the housekeeping is left to dispatches.
    AfterResponse,
    /// A dispatch: delivers what is due, then prunes old delivered rows and counts
    /// what is left.
    Dispatch,
}

/// Delivers what is due in `outbox`: claims a batch, lets its connection go, hands
/// the batch to `deliver` (which answers for each row, in order: `Ok` delivered,
/// `Err(reason)` not), marks the outcome, and claims again until nothing is due (an
/// event becomes due once the one before it in its aggregate is delivered). A
/// dispatch then prunes old delivered rows and counts what is left.
async fn flush(
    outbox: &Outbox,
    request: &ApiRequest,
    policy: &Policy,
    scope: Scope,
    mut deliver: impl AsyncFnMut(&[Claimed]) -> Vec<Result<(), String>>,
) -> ApiResult<FlushReport> {
    let mut report = FlushReport::default();
    // One connection at a time: the one that marks a batch claims the next, and
    // none is held while the deliverer waits on another service.
    let mut db = Db::connect(request).await?;
    for _ in 0..MAX_ROUNDS {
        let batch = outbox.claim(&db).await?;
        if batch.is_empty() {
            break;
        }
        drop(db);
        let outcomes = deliver(&batch).await;
        db = Db::connect(request).await?;
        let mut delivered = Vec::new();
        for (row, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(()) => delivered.push(row.seq),
                Err(reason) => {
                    outbox.mark_failed(&db, row, &reason, policy).await?;
                    report.failed += 1;
                }
            }
        }
        outbox.mark_delivered(&db, &delivered).await?;
        report.delivered += delivered.len() as u64;
    }
    if scope == Scope::Dispatch {
        report.pruned = outbox.prune(&db, policy).await?;
        report.pending = outbox.pending(&db).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(300);
        let delays: Vec<u64> = (1..=11)
            .map(|attempts| retry_delay(attempts, base, cap).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(retry_delay(0, base, cap), base);
        assert_eq!(retry_delay(i64::MAX, base, cap), cap);
        assert_eq!(
            retry_delay(3, Duration::from_millis(50), cap),
            Duration::from_millis(200)
        );
    }
}
