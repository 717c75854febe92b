//! Every SQL statement of the orders service, and row decoding.
//!
//! Each state change is one conditional `UPDATE ... WHERE status = ... RETURNING`: when
//! two transitions race, Postgres lets exactly one match and the other gets no row.
//! A change that customers hear of records its event in the same transaction
//! (`spinshop_kit::pg::outbox`), so the event exists exactly when the change does.

use spinshop_kit::contracts::event_types;
use spinshop_kit::http::paging::{self, Paging};
use spinshop_kit::pg::db::{Db, Param, Row, text};
use spinshop_kit::pg::outbox::{self, NewEvent, Outbox};
use spinshop_kit::{ApiError, ApiResult, ts};

use crate::SERVICE;

use crate::domain::{
    IdempotencyKey, Order, OrderLine, OrderRequest, OrderStatus, PaymentStatus, PricedOrder,
};

/// The columns of an order (alias `o`), its lines aggregated as JSON in product order.
const ORDER_COLUMNS: &str = concat!(
    "o.id, o.user_id, o.status, o.payment_status, o.payment_id, o.total, o.currency, ",
    "o.shipping_address, o.notes, ",
    ts!("o.created_at"),
    " AS created_at, ",
    ts!("o.updated_at"),
    " AS updated_at, ",
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object(",
    "'product_id', i.product_id, 'name', i.name, 'qty', i.qty, ",
    "'unit_price', i.unit_price, 'line_total', i.line_total) ORDER BY i.product_id), '[]'::jsonb) ",
    "FROM orders.order_items i WHERE i.order_id = o.id) AS items"
);

fn decode_order(row: &Row) -> ApiResult<Order> {
    let status: String = row.get("status")?;
    let payment_status: String = row.get("payment_status")?;
    let items: serde_json::Value = row.get("items")?;
    Ok(Order {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| ApiError::internal(format!("unknown order status {status}")))?,
        items: serde_json::from_value::<Vec<OrderLine>>(items)
            .map_err(|err| ApiError::internal(format!("order lines: {err}")))?,
        total: row.get("total")?,
        currency: row.get("currency")?,
        shipping_address: row.get("shipping_address")?,
        notes: row.get("notes")?,
        payment_status: PaymentStatus::parse(&payment_status).ok_or_else(|| {
            ApiError::internal(format!("unknown payment status {payment_status}"))
        })?,
        payment_id: row.get("payment_id")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Where orders' events wait until notifications has them.
pub const OUTBOX: Outbox = Outbox::new("orders", SERVICE, outbox::to_notifications);

/// Records the event `kind` about `order`, as it is now, in the caller's transaction.
async fn record_event(db: &Db, kind: &str, order: &Order) -> ApiResult<()> {
    let data = serde_json::to_value(order).map_err(|err| ApiError::internal(err.to_string()))?;
    OUTBOX
        .record(
            db,
            NewEvent {
                kind,
                aggregate_type: "order",
                aggregate_id: order.id,
                user_id: Some(order.user_id),
                data,
            },
        )
        .await
}

async fn one_order(db: &Db, sql: &str, params: &[Param]) -> ApiResult<Option<Order>> {
    let rows = db.query(sql, params).await?;
    rows.first().map(|row| decode_order(&row)).transpose()
}

/// A placement that has not stored its order this long belongs to a request that
/// died (or gave up after its siblings' timeouts): a later placement may take it over
/// and give its stock back.
const ABANDONED_AFTER_SECONDS: f64 = 15.0;
/// Abandoned placements one request takes over at most.
const ABANDONED_PER_SWEEP: i64 = 20;

/// A placement just begun, and the placements of dead requests it took over.
pub struct Placement {
    pub order_id: i64,
    /// Placements whose requests died, now marked abandoned (so their orders can't
    /// be stored any more): the caller releases their stock.
    pub taken_over: Vec<i64>,
}

/// Starts a placement: draws the order's id and records it, before any stock is
/// reserved for it (products keys the reservation by that id). The same statement
/// takes over placements whose requests died: a placement whose release failed is
/// taken over again once that attempt is as old, and concurrent sweeps skip each
/// other's rows.
pub async fn begin_placement(db: &Db) -> ApiResult<Placement> {
    let rows = db
        .query(
            "WITH taken AS ( \
               UPDATE orders.placements SET abandoned_at = now() WHERE order_id IN ( \
                 SELECT order_id FROM orders.placements \
                 WHERE started_at < now() - make_interval(secs => $1) \
                   AND (abandoned_at IS NULL OR abandoned_at < now() - make_interval(secs => $1)) \
                 ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
               RETURNING order_id), \
             mine AS ( \
               INSERT INTO orders.placements (order_id) \
               VALUES (nextval(pg_get_serial_sequence('orders.orders', 'id'))) RETURNING order_id) \
             SELECT order_id, false AS taken_over FROM mine \
             UNION ALL SELECT order_id, true FROM taken",
            &[ABANDONED_AFTER_SECONDS.into(), ABANDONED_PER_SWEEP.into()],
        )
        .await?;
    let mut order_id = None;
    let mut taken_over = Vec::new();
    for row in rows.iter() {
        let id: i64 = row.get("order_id")?;
        if row.get::<bool>("taken_over")? {
            taken_over.push(id);
        } else {
            order_id = Some(id);
        }
    }
    let order_id =
        order_id.ok_or_else(|| ApiError::internal("the placement insert returned no row"))?;
    Ok(Placement {
        order_id,
        taken_over,
    })
}

/// Gives up this request's own placement; false when there is none to give up: its
/// order was stored after all (the answer to COMMIT was lost), or a sweep took it.
pub async fn abandon_placement(db: &Db, order_id: i64) -> ApiResult<bool> {
    let rows = db
        .query(
            "UPDATE orders.placements SET abandoned_at = now() \
             WHERE order_id = $1 AND abandoned_at IS NULL RETURNING order_id",
            &[order_id.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Forgets a placement whose stock is given back (or was never reserved).
pub async fn end_placement(db: &Db, order_id: i64) -> ApiResult<()> {
    db.execute(
        "DELETE FROM orders.placements WHERE order_id = $1",
        &[order_id.into()],
    )
    .await?;
    Ok(())
}

pub async fn find_order(db: &Db, id: i64) -> ApiResult<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders.orders o WHERE o.id = $1");
    one_order(db, &sql, &[id.into()]).await
}

pub async fn find_by_idempotency_key(
    db: &Db,
    user_id: i64,
    key: &IdempotencyKey,
) -> ApiResult<Option<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders.orders o \
         WHERE o.user_id = $1 AND o.idempotency_key = $2"
    );
    one_order(db, &sql, &[user_id.into(), text(key.as_str())]).await
}

/// An order about to be stored, under the id its stock was reserved for.
pub struct NewOrder<'a> {
    pub id: i64,
    pub user_id: i64,
    pub request: &'a OrderRequest,
    pub priced: &'a PricedOrder,
    pub idempotency_key: Option<&'a IdempotencyKey>,
}

pub enum Inserted {
    Created(Order),
    /// A concurrent request with the same Idempotency-Key stored its order first.
    KeyTaken,
}

/// Stores the order and its lines, and ends its placement, in one transaction. The
/// unique (user, key) constraint decides between concurrent twins: the loser's insert
/// does nothing and its placement stays, for its stock to be released. A placement
/// taken over as abandoned meanwhile can't store its order any more: its stock is
/// being given back.
pub async fn insert_order(db: &Db, order: &NewOrder<'_>) -> ApiResult<Inserted> {
    db.transaction(async |db| {
        let rows = db
            .query(
                "INSERT INTO orders.orders \
                   (id, user_id, total, currency, shipping_address, notes, idempotency_key) \
                 OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT ON CONSTRAINT orders_user_idempotency_key DO NOTHING \
                 RETURNING id",
                &[
                    order.id.into(),
                    order.user_id.into(),
                    order.priced.total.into(),
                    text(&order.priced.currency),
                    order.request.shipping_address.clone().into(),
                    order.request.notes.clone().into(),
                    order
                        .idempotency_key
                        .map(|key| key.as_str().to_string())
                        .into(),
                ],
            )
            .await?;
        if rows.is_empty() {
            return Ok(Inserted::KeyTaken);
        }
        let placement = db
            .query(
                "DELETE FROM orders.placements \
                 WHERE order_id = $1 AND abandoned_at IS NULL RETURNING order_id",
                &[order.id.into()],
            )
            .await?;
        if placement.is_empty() {
            return Err(ApiError::Unavailable(
                "placing the order took too long and its stock was given back; \
                 retry the request"
                    .into(),
            ));
        }
        for line in &order.priced.lines {
            db.execute(
                "INSERT INTO orders.order_items (order_id, product_id, name, qty, unit_price) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    order.id.into(),
                    line.product_id.into(),
                    text(&line.name),
                    line.qty.into(),
                    line.unit_price.into(),
                ],
            )
            .await?;
        }
        let stored = find_order(db, order.id).await?.ok_or_else(|| {
            ApiError::internal(format!("order {} vanished after insert", order.id))
        })?;
        record_event(db, event_types::ORDER_CREATED, &stored).await?;
        Ok(Inserted::Created(stored))
    })
    .await
}

/// A page of orders, newest first: one user's, or everyone's when `user_id` is `None`.
pub async fn list_orders(
    db: &Db,
    user_id: Option<i64>,
    paging: Paging,
) -> ApiResult<(Vec<Order>, i64)> {
    paging::fetch_page(
        db,
        ORDER_COLUMNS,
        "FROM orders.orders o WHERE ($1::bigint IS NULL OR o.user_id = $1)",
        "o.created_at DESC, o.id DESC",
        &[user_id.into()],
        paging,
        decode_order,
    )
    .await
}

/// Runs a conditional `UPDATE orders.orders o SET ... WHERE ...` and returns the
/// changed order, or `None` when no order matched. A change that has an `event`
/// records it in the same transaction.
async fn update_order(
    db: &Db,
    set_where: &str,
    params: &[Param],
    event: Option<&str>,
) -> ApiResult<Option<Order>> {
    let sql = format!(
        "UPDATE orders.orders o SET updated_at = now(), {set_where} RETURNING {ORDER_COLUMNS}"
    );
    let Some(kind) = event else {
        return one_order(db, &sql, params).await;
    };
    db.transaction(async |db| {
        let changed = one_order(db, &sql, params).await?;
        if let Some(order) = &changed {
            record_event(db, kind, order).await?;
        }
        Ok(changed)
    })
    .await
}

/// pending -> paid. A payment refunded before it was recorded can't pay the order.
pub async fn mark_paid(db: &Db, id: i64, payment_id: i64) -> ApiResult<Option<Order>> {
    update_order(
        db,
        "status = 'paid', payment_status = 'paid', payment_id = $2 \
         WHERE o.id = $1 AND o.status = 'pending' AND o.payment_status <> 'refunded'",
        &[id.into(), payment_id.into()],
        Some(event_types::ORDER_PAID),
    )
    .await
}

/// pending -> cancelled.
pub async fn cancel_pending(db: &Db, id: i64) -> ApiResult<Option<Order>> {
    update_order(
        db,
        "status = 'cancelled' WHERE o.id = $1 AND o.status = 'pending'",
        &[id.into()],
        Some(event_types::ORDER_CANCELLED),
    )
    .await
}

/// paid -> cancelled, with payment_status `refunded` when money went back.
pub async fn cancel_paid(db: &Db, id: i64, refunded: bool) -> ApiResult<Option<Order>> {
    update_order(
        db,
        "status = 'cancelled', \
         payment_status = CASE WHEN $2 THEN 'refunded' ELSE o.payment_status END \
         WHERE o.id = $1 AND o.status = 'paid'",
        &[id.into(), refunded.into()],
        Some(event_types::ORDER_CANCELLED),
    )
    .await
}

/// A declined payment leaves the order pending, open to another attempt.
pub async fn mark_payment_failed(db: &Db, id: i64) -> ApiResult<Option<Order>> {
    update_order(
        db,
        "payment_status = 'failed' \
         WHERE o.id = $1 AND o.status = 'pending' AND o.payment_status IN ('unpaid', 'failed')",
        &[id.into()],
        None,
    )
    .await
}

/// Records that the order's payment went back to the customer, whatever its status.
/// Only the first time is an event; a repeat returns the order as it is.
pub async fn mark_refunded(db: &Db, id: i64) -> ApiResult<Option<Order>> {
    db.transaction(async |db| {
        let refunded = update_order(
            db,
            "payment_status = 'refunded' WHERE o.id = $1 AND o.payment_status <> 'refunded'",
            &[id.into()],
            Some(event_types::ORDER_REFUNDED),
        )
        .await?;
        match refunded {
            Some(order) => Ok(Some(order)),
            None => find_order(db, id).await,
        }
    })
    .await
}
