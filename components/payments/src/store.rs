//! Every SQL statement of the payments service, and row decoding. A charge and a
//! refund record their event in the same transaction (`spinshop_kit::pg::outbox`).

use spinshop_kit::contracts::event_types;
use spinshop_kit::http::paging::{self, Paging};
use spinshop_kit::pg::db::{Db, Param, Row, text};
use spinshop_kit::pg::outbox::{self, NewEvent, Outbox};
use spinshop_kit::{ApiError, ApiResult, ts};

use crate::SERVICE;

use crate::domain::{IdempotencyKey, NewPayment, Payment, PaymentStatus};

const PAYMENT_COLUMNS: &str = concat!(
    "id, order_id, user_id, amount, currency, status, method, card_last4, ",
    ts!("created_at"),
    " AS created_at"
);

/// A claim nobody finished for this long belongs to a request that died (its
/// instance trapped or its host stopped): another request may take it over.
const ABANDONED_CLAIM_SECONDS: i64 = 60;
/// A charge orders has not heard of this long after it was recorded belongs to a
/// request that died: a later request may take it over and settle it.
const UNSETTLED_AFTER_SECONDS: f64 = 15.0;
/// Unsettled charges one request takes over at most.
const UNSETTLED_PER_SWEEP: i64 = 20;

fn decode_payment(row: &Row) -> ApiResult<Payment> {
    let status: String = row.get("status")?;
    Ok(Payment {
        id: row.get("id")?,
        order_id: row.get("order_id")?,
        user_id: row.get("user_id")?,
        amount: row.get("amount")?,
        currency: row.get("currency")?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| ApiError::internal(format!("unknown payment status {status}")))?,
        method: row.get("method")?,
        card_last4: row.get("card_last4")?,
        created_at: row.get("created_at")?,
    })
}

/// Where payments' events wait until notifications has them.
pub const OUTBOX: Outbox = Outbox::new("payments", SERVICE, outbox::to_notifications);

/// Records the event `kind` about `payment` in the caller's transaction.
async fn record_event(db: &Db, kind: &str, payment: &Payment) -> ApiResult<()> {
    let data = serde_json::to_value(payment).map_err(|err| ApiError::internal(err.to_string()))?;
    OUTBOX
        .record(
            db,
            NewEvent {
                kind,
                aggregate_type: "payment",
                aggregate_id: payment.id,
                user_id: Some(payment.user_id),
                data,
            },
        )
        .await
}

/// A refund that changed a payment, with its event.
async fn refunded(db: &Db, sql: &str, params: &[Param]) -> ApiResult<Option<Payment>> {
    db.transaction(async |db| {
        let refunded = one_payment(db, sql, params).await?;
        if let Some(payment) = &refunded {
            record_event(db, event_types::PAYMENT_REFUNDED, payment).await?;
        }
        Ok(refunded)
    })
    .await
}

async fn one_payment(db: &Db, sql: &str, params: &[Param]) -> ApiResult<Option<Payment>> {
    let rows = db.query(sql, params).await?;
    rows.first().map(|row| decode_payment(&row)).transpose()
}

/// Records a charge. The order's one-success index decides between two keys paying
/// one order at once: the loser's insert does nothing, and its charge is refused
/// before it exists. (The key's own uniqueness refuses nothing here in practice:
/// the caller holds the key's claim and found no charge for it.)
pub async fn insert_payment(db: &Db, payment: &NewPayment<'_>) -> ApiResult<Payment> {
    let sql = format!(
        "INSERT INTO payments.payments \
           (user_id, order_id, idempotency_key, request_hash, amount, currency, status, \
            method, card_last4) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT DO NOTHING RETURNING {PAYMENT_COLUMNS}"
    );
    let params = [
        payment.user_id.into(),
        payment.order_id.into(),
        text(payment.idempotency_key.as_str()),
        text(payment.request_hash),
        payment.amount.into(),
        text(payment.currency),
        text(payment.status.as_str()),
        text(payment.method.as_str()),
        payment.card_last4.map(str::to_string).into(),
    ];
    db.transaction(async |db| {
        let recorded = one_payment(db, &sql, &params).await?.ok_or_else(|| {
            ApiError::conflict(
                "invalid_state",
                format!("order {} is already paid", payment.order_id),
            )
        })?;
        let kind = match recorded.status {
            PaymentStatus::Succeeded => event_types::PAYMENT_SUCCEEDED,
            PaymentStatus::Failed => event_types::PAYMENT_FAILED,
            PaymentStatus::Refunded => event_types::PAYMENT_REFUNDED,
        };
        record_event(db, kind, &recorded).await?;
        Ok(recorded)
    })
    .await
}

pub async fn find_payment(db: &Db, id: i64) -> ApiResult<Option<Payment>> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments.payments WHERE id = $1");
    one_payment(db, &sql, &[id.into()]).await
}

/// The charge a key already made, if any (at most one: UNIQUE (user_id, idempotency_key)),
/// with the hash of the request that made it.
pub async fn payment_for_key(
    db: &Db,
    user_id: i64,
    key: &IdempotencyKey,
) -> ApiResult<Option<(Payment, String)>> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS}, request_hash FROM payments.payments \
         WHERE user_id = $1 AND idempotency_key = $2"
    );
    let rows = db
        .query(&sql, &[user_id.into(), text(key.as_str())])
        .await?;
    rows.first()
        .map(|row| Ok((decode_payment(&row)?, row.get("request_hash")?)))
        .transpose()
}

/// Records that orders has heard of the charge's outcome.
pub async fn mark_settled(db: &Db, id: i64) -> ApiResult<()> {
    db.execute(
        "UPDATE payments.payments SET settled_at = now() WHERE id = $1 AND settled_at IS NULL",
        &[id.into()],
    )
    .await?;
    Ok(())
}

/// Takes over charges whose requests died before orders heard of them, to settle
/// them now. A charge whose settling fails again is taken over again once that
/// attempt is as old. Concurrent sweeps skip each other's rows.
pub async fn take_over_unsettled(db: &Db) -> ApiResult<Vec<Payment>> {
    let sql = format!(
        "UPDATE payments.payments SET settling_at = now() WHERE id IN ( \
             SELECT id FROM payments.payments \
             WHERE settled_at IS NULL AND created_at < now() - make_interval(secs => $1) \
               AND (settling_at IS NULL OR settling_at < now() - make_interval(secs => $1)) \
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING {PAYMENT_COLUMNS}"
    );
    db.query(
        &sql,
        &[UNSETTLED_AFTER_SECONDS.into(), UNSETTLED_PER_SWEEP.into()],
    )
    .await?
    .map(decode_payment)
}

/// Payments newest first, optionally of one order and of one user.
pub async fn list_payments(
    db: &Db,
    order_id: Option<i64>,
    user_id: Option<i64>,
    paging: Paging,
) -> ApiResult<(Vec<Payment>, i64)> {
    paging::fetch_page(
        db,
        PAYMENT_COLUMNS,
        "FROM payments.payments WHERE ($1::bigint IS NULL OR order_id = $1) \
         AND ($2::bigint IS NULL OR user_id = $2)",
        "id DESC",
        &[order_id.into(), user_id.into()],
        paging,
        decode_payment,
    )
    .await
}

/// succeeded -> refunded in one conditional statement, so a payment is refunded once
/// however many refunds race. `None` when the payment isn't `succeeded`.
pub async fn refund_payment(db: &Db, id: i64) -> ApiResult<Option<Payment>> {
    let sql = format!(
        "UPDATE payments.payments SET status = 'refunded', updated_at = now() \
         WHERE id = $1 AND status = 'succeeded' RETURNING {PAYMENT_COLUMNS}"
    );
    refunded(db, &sql, &[id.into()]).await
}

/// Refunds the order's succeeded payment (there is at most one).
pub async fn refund_order_payment(db: &Db, order_id: i64) -> ApiResult<Option<Payment>> {
    let sql = format!(
        "UPDATE payments.payments SET status = 'refunded', updated_at = now() \
         WHERE order_id = $1 AND status = 'succeeded' RETURNING {PAYMENT_COLUMNS}"
    );
    refunded(db, &sql, &[order_id.into()]).await
}

pub async fn refunded_payment_of_order(db: &Db, order_id: i64) -> ApiResult<Option<Payment>> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments.payments \
         WHERE order_id = $1 AND status = 'refunded'"
    );
    one_payment(db, &sql, &[order_id.into()]).await
}

// Idempotency keys ------------------------------------------------------------

/// A stored final answer to a `/pay` request.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What another request left under a key.
pub struct KeyState {
    pub request_hash: String,
    pub response: Option<StoredResponse>,
    pub abandoned: bool,
}

/// Claims the key for this request: true when no request held it. The primary key
/// (user_id, key) decides between concurrent twins; exactly one gets the row.
pub async fn claim_key(
    db: &Db,
    user_id: i64,
    key: &IdempotencyKey,
    request_hash: &str,
) -> ApiResult<bool> {
    let rows = db
        .query(
            "INSERT INTO payments.idempotency_keys (user_id, key, request_hash) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id",
            &[user_id.into(), text(key.as_str()), text(request_hash)],
        )
        .await?;
    Ok(!rows.is_empty())
}

pub async fn key_state(db: &Db, user_id: i64, key: &IdempotencyKey) -> ApiResult<Option<KeyState>> {
    let rows = db
        .query(
            "SELECT request_hash, response_status, response_body, \
                claimed_at < now() - make_interval(secs => $3) AS abandoned \
         FROM payments.idempotency_keys WHERE user_id = $1 AND key = $2",
            &[
                user_id.into(),
                text(key.as_str()),
                (ABANDONED_CLAIM_SECONDS as f64).into(),
            ],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let status: Option<i32> = row.get("response_status")?;
    let body: Option<String> = row.get("response_body")?;
    let response = match (status, body) {
        (Some(status), Some(body)) => Some(StoredResponse {
            status: u16::try_from(status)
                .map_err(|_| ApiError::internal(format!("stored status {status}")))?,
            body,
        }),
        _ => None,
    };
    Ok(Some(KeyState {
        request_hash: row.get("request_hash")?,
        response,
        abandoned: row.get("abandoned")?,
    }))
}

/// Takes over an abandoned claim; conditional, so of several requests finding it
/// abandoned only one wins.
pub async fn take_over_key(db: &Db, user_id: i64, key: &IdempotencyKey) -> ApiResult<bool> {
    let rows = db
        .query(
            "UPDATE payments.idempotency_keys SET claimed_at = now() \
         WHERE user_id = $1 AND key = $2 AND response_status IS NULL \
           AND claimed_at < now() - make_interval(secs => $3) \
         RETURNING user_id",
            &[
                user_id.into(),
                text(key.as_str()),
                (ABANDONED_CLAIM_SECONDS as f64).into(),
            ],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Stores the final answer of the request holding the claim.
pub async fn complete_key(
    db: &Db,
    user_id: i64,
    key: &IdempotencyKey,
    response: &StoredResponse,
    payment_id: i64,
) -> ApiResult<()> {
    db.execute(
        "UPDATE payments.idempotency_keys \
         SET response_status = $3, response_body = $4, payment_id = $5 \
         WHERE user_id = $1 AND key = $2",
        &[
            user_id.into(),
            text(key.as_str()),
            i32::from(response.status).into(),
            text(&response.body),
            payment_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Gives up an unfinished claim so the key can be used again.
pub async fn release_key(db: &Db, user_id: i64, key: &IdempotencyKey) -> ApiResult<()> {
    db.execute(
        "DELETE FROM payments.idempotency_keys \
         WHERE user_id = $1 AND key = $2 AND response_status IS NULL",
        &[user_id.into(), text(key.as_str())],
    )
    .await?;
    Ok(())
}
