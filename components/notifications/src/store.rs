//! Every SQL statement of the notifications service, and row decoding. The webhook
//! queue's own statements are kit's (`spinshop_kit::pg::outbox`), on `notify.outbox`;
//! the mail queue's delivery statements are kit's too, on `notify.mail`.

use serde_json::Value;
use spinshop_kit::contracts::{Event, MailData, OrderData, UserData};
use spinshop_kit::http::paging::{self, Paging};
use spinshop_kit::pg::db::{Db, Row, text};
use spinshop_kit::{ApiError, ApiResult, ts};

use crate::domain::{
    Attempt, EventView, MailStatus, MailView, Notice, Notification, WebhookState, WebhookStatus,
};

const NOTIFICATION_COLUMNS: &str = concat!(
    "id, user_id, event_id::text AS event_id, type, title, message, data::text AS data, ",
    ts!("read_at"),
    " AS read_at, ",
    ts!("created_at"),
    " AS created_at"
);

fn json_column(row: &Row, column: &str) -> ApiResult<Value> {
    let raw: String = row.get(column)?;
    serde_json::from_str(&raw)
        .map_err(|err| ApiError::internal(format!("column {column} is not JSON: {err}")))
}

fn decode_notification(row: &Row) -> ApiResult<Notification> {
    Ok(Notification {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        event_id: row.get("event_id")?,
        kind: row.get("type")?,
        title: row.get("title")?,
        message: row.get("message")?,
        data: json_column(row, "data")?,
        read_at: row.get("read_at")?,
        created_at: row.get("created_at")?,
    })
}

/// Stores an event unless its id is already stored: `true` when it is new. Two
/// deliveries of one event at once are settled by the primary key (the second
/// waits for the first to commit, then inserts nothing), so an event is stored
/// once however often and however concurrently it arrives.
pub async fn insert_event(db: &Db, event: &Event, envelope: &str) -> ApiResult<bool> {
    let rows = db
        .query(
            "INSERT INTO notify.events \
           (event_id, type, source, aggregate_type, aggregate_id, sequence, user_id, \
            occurred_at, data, envelope) \
         VALUES ($1::text::uuid, $2, $3, $4, $5, $6, $7, $8::text::timestamptz, \
                 $9::text::jsonb, $10::text::jsonb) \
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id::text AS event_id",
            &[
                text(&event.id),
                text(&event.kind),
                text(&event.source),
                text(&event.aggregate_type),
                event.aggregate_id.into(),
                event.sequence.into(),
                event.user_id.into(),
                text(&event.occurred_at),
                text(&event.data.to_string()),
                text(envelope),
            ],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Puts a new event's notice in its user's inbox.
pub async fn insert_notification(
    db: &Db,
    user_id: i64,
    event: &Event,
    notice: &Notice,
) -> ApiResult<()> {
    db.execute(
        "INSERT INTO notify.notifications (user_id, event_id, type, title, message, data) \
         VALUES ($1, $2::text::uuid, $3, $4, $5, $6::text::jsonb)",
        &[
            user_id.into(),
            text(&event.id),
            text(&event.kind),
            text(&notice.title),
            text(&notice.message),
            text(&event.data.to_string()),
        ],
    )
    .await?;
    Ok(())
}

/// One page of a user's inbox, newest first; `unread` narrows to unread (`true`) or
/// read (`false`) notifications.
pub async fn list_notifications(
    db: &Db,
    owner: i64,
    unread: Option<bool>,
    paging: Paging,
) -> ApiResult<(Vec<Notification>, i64)> {
    paging::fetch_page(
        db,
        NOTIFICATION_COLUMNS,
        "FROM notify.notifications \
         WHERE user_id = $1 AND ($2::boolean IS NULL OR (read_at IS NULL) = $2::boolean)",
        "id DESC",
        &[owner.into(), unread.into()],
        paging,
        decode_notification,
    )
    .await
}

pub async fn unread_count(db: &Db, owner: i64) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT count(*) AS unread FROM notify.notifications \
         WHERE user_id = $1 AND read_at IS NULL",
            &[owner.into()],
        )
        .await?;
    Ok(rows
        .first()
        .map(|row| row.get("unread"))
        .transpose()?
        .unwrap_or(0))
}

/// Marks the owner's notification read (the first time only: `read_at` keeps the
/// first reading). `None` when the owner has no such notification.
pub async fn mark_read(db: &Db, id: i64, owner: i64) -> ApiResult<Option<Notification>> {
    let sql = format!(
        "UPDATE notify.notifications SET read_at = coalesce(read_at, now()) \
         WHERE id = $1 AND user_id = $2 RETURNING {NOTIFICATION_COLUMNS}"
    );
    let rows = db.query(&sql, &[id.into(), owner.into()]).await?;
    rows.first()
        .map(|row| decode_notification(&row))
        .transpose()
}

/// Marks every unread notification of the owner read; how many there were.
pub async fn mark_all_read(db: &Db, owner: i64) -> ApiResult<u64> {
    Ok(db.execute(
        "UPDATE notify.notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
        &[owner.into()],
    ).await?)
}

/// Each event with its webhook state. An event with no queue row either arrived
/// while no webhook was configured, or was delivered and pruned from the queue
/// since (its successful attempt says so). `received` orders the list: the arrival
/// time as a `timestamp`, since Spin can't read a `timestamptz` column.
const EVENT_STATES: &str = concat!(
    "SELECT e.event_id::text AS id, e.type, (e.envelope->>'version')::bigint AS version, \
       e.source, e.aggregate_type, e.aggregate_id, e.sequence, e.user_id, ",
    ts!("e.occurred_at"),
    " AS occurred_at, ",
    ts!("e.received_at"),
    " AS received_at, e.received_at AT TIME ZONE 'UTC' AS received, e.data::text AS data, \
       (SELECT count(*) FROM notify.webhook_attempts a WHERE a.event_id = e.event_id) AS attempts, \
       o.last_error, ",
    ts!("o.next_attempt_at"),
    " AS next_attempt_at, ",
    ts!("coalesce(o.delivered_at, d.attempted_at)"),
    " AS delivered_at, \
       CASE WHEN o.delivered_at IS NOT NULL OR (o.seq IS NULL AND d.attempted_at IS NOT NULL) \
              THEN 'delivered' \
            WHEN o.seq IS NULL THEN 'none' \
            WHEN o.attempts > 0 THEN 'failed' \
            ELSE 'pending' END AS status \
     FROM notify.events e \
     LEFT JOIN notify.outbox o ON o.event_id = e.event_id \
     LEFT JOIN LATERAL ( \
       SELECT max(a.attempted_at) AS attempted_at FROM notify.webhook_attempts a \
       WHERE a.event_id = e.event_id AND a.status_code BETWEEN 200 AND 299) d ON true"
);

/// A text column of a delivery's state, shown only in the states it speaks of (the
/// last error while a delivery waits, its time once it is done).
fn shown_if(shown: bool, row: &Row, column: &str) -> ApiResult<Option<String>> {
    if shown { row.get(column) } else { Ok(None) }
}

fn decode_event(row: &Row) -> ApiResult<EventView> {
    let status: String = row.get("status")?;
    let status = WebhookStatus::parse(&status)
        .ok_or_else(|| ApiError::internal(format!("unknown webhook status {status}")))?;
    let waiting = matches!(status, WebhookStatus::Pending | WebhookStatus::Failed);
    Ok(EventView {
        id: row.get("id")?,
        kind: row.get("type")?,
        version: row.get::<Option<i64>>("version")?.unwrap_or(1),
        source: row.get("source")?,
        aggregate_type: row.get("aggregate_type")?,
        aggregate_id: row.get("aggregate_id")?,
        sequence: row.get("sequence")?,
        user_id: row.get("user_id")?,
        occurred_at: row.get("occurred_at")?,
        received_at: row.get("received_at")?,
        data: json_column(row, "data")?,
        webhook: WebhookState {
            status,
            attempts: row.get("attempts")?,
            last_error: shown_if(waiting, row, "last_error")?,
            next_attempt_at: shown_if(waiting, row, "next_attempt_at")?,
            delivered_at: shown_if(status == WebhookStatus::Delivered, row, "delivered_at")?,
        },
    })
}

/// One page of the received events, newest first, optionally of one webhook status.
pub async fn list_events(
    db: &Db,
    status: Option<WebhookStatus>,
    paging: Paging,
) -> ApiResult<(Vec<EventView>, i64)> {
    paging::fetch_page(
        db,
        "*",
        &format!("FROM ({EVENT_STATES}) s WHERE $1::text IS NULL OR status = $1::text"),
        "received DESC, id DESC",
        &[status.map(|status| status.as_str().to_string()).into()],
        paging,
        decode_event,
    )
    .await
}

pub async fn event_exists(db: &Db, event_id: &str) -> ApiResult<bool> {
    let rows = db
        .query(
            "SELECT 1 AS found FROM notify.events WHERE event_id = $1::text::uuid",
            &[text(event_id)],
        )
        .await?;
    Ok(!rows.is_empty())
}

fn decode_attempt(row: &Row) -> ApiResult<Attempt> {
    Ok(Attempt {
        id: row.get("id")?,
        event_id: row.get("event_id")?,
        attempted_at: row.get("attempted_at")?,
        status_code: row.get("status_code")?,
        error: row.get("error")?,
        duration_ms: row.get("duration_ms")?,
    })
}

/// One page of the requests made to the webhook for an event, oldest first.
pub async fn list_attempts(
    db: &Db,
    event_id: &str,
    paging: Paging,
) -> ApiResult<(Vec<Attempt>, i64)> {
    paging::fetch_page(
        db,
        concat!(
            "id, event_id::text AS event_id, ",
            ts!("attempted_at"),
            " AS attempted_at, status_code::bigint AS status_code, error, duration_ms"
        ),
        "FROM notify.webhook_attempts WHERE event_id = $1::text::uuid",
        "id",
        &[text(event_id)],
        paging,
        decode_attempt,
    )
    .await
}

/// A request made to the webhook, about to be recorded.
pub struct NewAttempt {
    pub event_id: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Records requests made to the webhook, all or none.
pub async fn record_attempts(db: &Db, attempts: &[NewAttempt]) -> ApiResult<()> {
    db.transaction(async |db| {
        for attempt in attempts {
            db.execute(
                "INSERT INTO notify.webhook_attempts (event_id, status_code, error, duration_ms) \
                 VALUES ($1::text::uuid, $2, $3, $4)",
                &[
                    text(&attempt.event_id),
                    attempt.status_code.map(i32::from).into(),
                    attempt.error.clone().into(),
                    attempt.duration_ms.into(),
                ],
            )
            .await?;
        }
        Ok(())
    })
    .await
}

// Mail -----------------------------------------------------------------------

/// Stores a mail unless its id is already stored: `true` when it is new. A mail
/// `kept_locally` is written delivered (to the local mailbox), so it is never sent.
pub async fn insert_mail(
    db: &Db,
    id: &str,
    source: &str,
    mail: &MailData,
    kept_locally: bool,
) -> ApiResult<bool> {
    let rows = db
        .query(
            "INSERT INTO notify.mail \
               (mail_id, source, to_address, subject, text_body, html_body, kept_locally, \
                delivered_at) \
             VALUES ($1::text::uuid, $2, $3, $4, $5, $6, $7, CASE WHEN $7 THEN now() END) \
             ON CONFLICT (mail_id) DO NOTHING RETURNING seq",
            &[
                text(id),
                text(source),
                text(mail.to.trim()),
                text(&mail.subject),
                text(&mail.text),
                text(&mail.html),
                kept_locally.into(),
            ],
        )
        .await?;
    Ok(!rows.is_empty())
}

const MAIL_COLUMNS: &str = concat!(
    "mail_id::text AS id, to_address, subject, text_body, html_body, source, kept_locally, \
     attempts::bigint AS attempts, last_error, delivered_at IS NOT NULL AS delivered, ",
    ts!("created_at"),
    " AS created_at, ",
    ts!("next_attempt_at"),
    " AS next_attempt_at, ",
    ts!("delivered_at"),
    " AS delivered_at"
);

fn decode_mail(row: &Row) -> ApiResult<MailView> {
    let kept_locally: bool = row.get("kept_locally")?;
    let status = MailStatus::of(kept_locally, row.get("delivered")?, row.get("attempts")?);
    let waiting = matches!(status, MailStatus::Pending | MailStatus::Failed);
    Ok(MailView {
        id: row.get("id")?,
        to: row.get("to_address")?,
        subject: row.get("subject")?,
        text: row.get("text_body")?,
        html: row.get("html_body")?,
        created_at: row.get("created_at")?,
        source: row.get("source")?,
        status,
        attempts: row.get("attempts")?,
        last_error: shown_if(waiting, row, "last_error")?,
        next_attempt_at: shown_if(waiting, row, "next_attempt_at")?,
        sent_at: shown_if(status == MailStatus::Sent, row, "delivered_at")?,
    })
}

/// One page of the mails, newest first; `to` narrows to one address (compared
/// without regard to case).
pub async fn list_mail(
    db: &Db,
    to: Option<&str>,
    paging: Paging,
) -> ApiResult<(Vec<MailView>, i64)> {
    paging::fetch_page(
        db,
        MAIL_COLUMNS,
        "FROM notify.mail WHERE $1::text IS NULL OR lower(to_address) = lower($1::text)",
        "seq DESC",
        &[to.map(str::to_string).into()],
        paging,
        decode_mail,
    )
    .await
}

/// The address of `user_id` as its latest `user.*` event has it (registered, email
/// changed, password changed): notifications learns addresses from the events it
/// stores, and asks users nothing.
pub async fn known_address(db: &Db, user_id: i64) -> ApiResult<Option<String>> {
    let rows = db
        .query(
            "SELECT data::text AS data FROM notify.events \
             WHERE aggregate_type = 'user' AND aggregate_id = $1 \
             ORDER BY sequence DESC LIMIT 1",
            &[user_id.into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let user: UserData = serde_json::from_value(json_column(&row, "data")?).unwrap_or_default();
    Ok(Some(user.email).filter(|email| !email.trim().is_empty()))
}

/// The order `order_id` as its latest stored `order.*` event has it.
pub async fn known_order(db: &Db, order_id: i64) -> ApiResult<Option<OrderData>> {
    let rows = db
        .query(
            "SELECT data::text AS data FROM notify.events \
             WHERE aggregate_type = 'order' AND aggregate_id = $1 \
             ORDER BY sequence DESC LIMIT 1",
            &[order_id.into()],
        )
        .await?;
    rows.first()
        .map(|row| Ok(serde_json::from_value(json_column(&row, "data")?).unwrap_or_default()))
        .transpose()
}
