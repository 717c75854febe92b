//! HTTP handlers: parse the request, check who is calling, do the work, respond.

use spinshop_kit::auth::Caller;
use spinshop_kit::client::introspect;
use spinshop_kit::contracts::PaidBody;
use spinshop_kit::db::Db;
use spinshop_kit::paging::Paging;
use spinshop_kit::request::{path_id, positive_id};
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::SERVICE;
use crate::domain::{self, IdempotencyKey, Order, OrderRequest, OrderStatus, PlaceOrderBody};
use crate::siblings::{Refund, Siblings};
use crate::store::{self, Inserted, NewOrder};

/// Places an order: price the items at products, record the placement, reserve the
/// stock at products, then store the order (which ends the placement). Once stock may
/// be reserved, any failure gives it back before answering; when that fails too (the
/// database or products gone), the placement outlives the request and a later
/// placement takes it over and gives the stock back. So a failed placement leaves
/// neither an order nor, for long, a reservation behind.
pub fn place_order(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    let body: PlaceOrderBody = req.json()?;
    domain::check_user_id(body.user_id, caller.user_id)?;
    let request = OrderRequest::parse(body)?;
    let key = IdempotencyKey::from_request(req, domain::invalid_idempotency_key)?;

    if let Some(key) = &key
        && let Some(order) = store::find_by_idempotency_key(&Db::connect()?, caller.user_id, key)?
    {
        return replay(&request, order);
    }

    let siblings = Siblings::new(req);
    let products = request
        .items
        .iter()
        .map(|item| siblings.product(item.product_id))
        .collect::<ApiResult<Vec<_>>>()?;
    let priced = domain::price(&request.items, products)?;

    // Each step opens its own connection and closes it before the next sibling
    // call: no connection is held while a sibling answers (see `kit::db`).
    let (order_id, abandoned) = {
        let db = Db::connect()?;
        (
            store::begin_placement(&db)?,
            store::take_over_abandoned_placements(&db)?,
        )
    };
    for placement in abandoned {
        release_placement(&siblings, req, placement);
    }
    if let Err(err) = siblings.reserve_stock(order_id, &request.items) {
        // A refusal (4xx) reserved nothing; after a timeout or a 5xx the outcome is
        // unknown, so the reservation is released in case it was made.
        if matches!(err, ApiError::Relayed { .. }) {
            end_placement(req, order_id);
        } else {
            abandon_placement(&siblings, req, order_id);
        }
        return Err(err);
    }

    let new_order = NewOrder {
        id: order_id,
        user_id: caller.user_id,
        request: &request,
        priced: &priced,
        idempotency_key: key.as_ref(),
    };
    let stored = Db::connect().and_then(|db| store::insert_order(&db, &new_order));
    match stored {
        Ok(Inserted::Created(order)) => ApiResponse::created(&order),
        Ok(Inserted::KeyTaken) => {
            abandon_placement(&siblings, req, order_id);
            let key = key.ok_or_else(|| ApiError::internal("key conflict without a key"))?;
            let winner = store::find_by_idempotency_key(&Db::connect()?, caller.user_id, &key)?
                .ok_or_else(|| ApiError::internal("the order holding the key vanished"))?;
            replay(&request, winner)
        }
        Err(err) => {
            abandon_placement(&siblings, req, order_id);
            Err(err)
        }
    }
}

/// The order already placed under the request's Idempotency-Key (200), provided the
/// request is the same one; a different request under a used key is a client bug.
fn replay(request: &OrderRequest, order: Order) -> ApiResult<ApiResponse> {
    if !request.matches(&order) {
        return Err(ApiError::conflict(
            "idempotency_key_reused",
            format!(
                "this Idempotency-Key was used for order {} with different items",
                order.id
            ),
        ));
    }
    ApiResponse::ok(&order)
}

/// Compensation: gives up this request's placement and releases the stock it may
/// have reserved. Nothing to give up means the order was stored after all (only the
/// answer to its COMMIT was lost) or a sweep took the placement over.
fn abandon_placement(siblings: &Siblings, req: &ApiRequest, order_id: i64) {
    match Db::connect().and_then(|db| store::abandon_placement(&db, order_id)) {
        Ok(true) => release_placement(siblings, req, order_id),
        Ok(false) => {}
        Err(err) => eprintln!(
            "{SERVICE} {}: placement {order_id} left for a later placement to release: {err}",
            req.request_id
        ),
    }
}

/// Releases an abandoned placement's stock, then forgets the placement. If products
/// can't be reached the placement stays, and a later placement tries again.
fn release_placement(siblings: &Siblings, req: &ApiRequest, order_id: i64) {
    match siblings.release_stock(order_id) {
        Ok(()) => end_placement(req, order_id),
        Err(err) => eprintln!(
            "{SERVICE} {}: releasing the stock reserved for unplaced order {order_id} failed: {err}",
            req.request_id
        ),
    }
}

/// Forgets a placement with no stock held. If that fails, a later placement takes it
/// over and releases it again, which is harmless.
fn end_placement(req: &ApiRequest, order_id: i64) {
    if let Err(err) = Db::connect().and_then(|db| store::end_placement(&db, order_id)) {
        eprintln!(
            "{SERVICE} {}: forgetting placement {order_id} failed: {err}",
            req.request_id
        );
    }
}

pub fn list_orders(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    let paging = Paging::from_request(req)?;
    let requested = req.query("user_id").map(parse_user_filter).transpose()?;
    let scope = domain::list_scope(caller.user_id, caller.is_admin(), requested)?;
    let (orders, total) = store::list_orders(&Db::connect()?, scope, paging)?;
    ApiResponse::page(&orders, total)
}

pub fn get_order(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    let order = visible_order(&Db::connect()?, &caller, parse_order_id(id)?)?;
    ApiResponse::ok(&order)
}

/// Cancels a pending order (its reservation is released) or a paid one (its payment
/// is refunded first). The status change is one conditional update, so a cancel
/// racing a payment can't both succeed.
pub fn cancel_order(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    let order = visible_order(&Db::connect()?, &caller, parse_order_id(id)?)?;
    let siblings = Siblings::new(req);
    match order.status {
        OrderStatus::Pending => {
            let cancelled = store::cancel_pending(&Db::connect()?, order.id)?
                .ok_or_else(|| no_longer(&order))?;
            release_cancelled(&siblings, req, order.id)?;
            ApiResponse::ok(&cancelled)
        }
        OrderStatus::Paid => {
            let refunded = siblings.refund_order(order.id)? == Refund::Refunded;
            let cancelled = store::cancel_paid(&Db::connect()?, order.id, refunded)?
                .ok_or_else(|| no_longer(&order))?;
            ApiResponse::ok(&cancelled)
        }
        OrderStatus::Cancelled => {
            // A repeated cancel retries a release that failed the first time.
            if order.holds_uncommitted_stock() {
                release_cancelled(&siblings, req, order.id)?;
            }
            Err(invalid_state(&order, "cancel"))
        }
        OrderStatus::Fulfilled => Err(invalid_state(&order, "cancel")),
    }
}

/// Releases a cancelled order's stock. The order stays cancelled either way; on
/// failure the caller gets 503 and repeating the cancel repeats the release.
fn release_cancelled(siblings: &Siblings, req: &ApiRequest, order_id: i64) -> ApiResult<()> {
    siblings.release_stock(order_id).map_err(|err| {
        eprintln!(
            "{SERVICE} {}: releasing the stock of cancelled order {order_id} failed: {err}",
            req.request_id
        );
        ApiError::Unavailable(format!(
            "order {order_id} is cancelled but its stock could not be released yet; \
             repeat the request to retry"
        ))
    })
}

/// `POST /internal/orders/{id}/paid`, from payments: pending -> paid, then the reserved stock is committed.
/// Idempotent: a repeat for the same payment re-sends the (idempotent) commit and
/// answers 200. If the commit fails the order stays paid and the answer is 503, so
/// payments retries until products has taken the stock off the shelf.
pub fn mark_paid(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let body: PaidBody = req.json()?;
    let order = {
        let db = Db::connect()?;
        match store::mark_paid(&db, id, body.payment_id)? {
            Some(order) => order,
            None => {
                let order = store::find_order(&db, id)?.ok_or_else(|| no_such_order(id))?;
                let already_paid =
                    matches!(order.status, OrderStatus::Paid | OrderStatus::Fulfilled)
                        && order.payment_id == Some(body.payment_id);
                if !already_paid {
                    return Err(invalid_state(&order, "mark as paid"));
                }
                order
            }
        }
    };
    // The connection is closed by now: none is held while products answers.
    Siblings::new(req).commit_stock(id)?;
    ApiResponse::ok(&order)
}

/// `POST /internal/orders/{id}/payment-failed`, from payments: a declined payment; a pending order stays pending, open
/// to another attempt. Idempotent. An order paid or cancelled meanwhile is left as it
/// is and returned: the failed attempt no longer matters to it.
pub fn mark_payment_failed(id: &str) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let db = Db::connect()?;
    let order = match store::mark_payment_failed(&db, id)? {
        Some(order) => order,
        None => store::find_order(&db, id)?.ok_or_else(|| no_such_order(id))?,
    };
    ApiResponse::ok(&order)
}

/// `POST /internal/orders/{id}/refunded`, from payments: the order's payment was refunded. Idempotent.
pub fn mark_refunded(id: &str) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let order = store::mark_refunded(&Db::connect()?, id)?.ok_or_else(|| no_such_order(id))?;
    ApiResponse::ok(&order)
}

/// The order, if the caller may see it; another user's order is "not found".
fn visible_order(db: &Db, caller: &Caller, id: i64) -> ApiResult<Order> {
    store::find_order(db, id)?
        .filter(|order| order.visible_to(caller.user_id, caller.is_admin()))
        .ok_or_else(|| no_such_order(id))
}

fn parse_order_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || {
        ApiError::not_found(format!("no order with id {raw}"))
    })
}

fn parse_user_filter(raw: &str) -> ApiResult<i64> {
    positive_id(raw)
        .ok_or_else(|| ApiError::invalid_field("user_id", "user_id must be a positive integer"))
}

fn no_such_order(id: i64) -> ApiError {
    ApiError::not_found(format!("no order with id {id}"))
}

fn invalid_state(order: &Order, action: &str) -> ApiError {
    ApiError::conflict(
        "invalid_state",
        format!(
            "can't {action} order {} in status {}",
            order.id,
            order.status.as_str()
        ),
    )
}

/// A conditional update matched nothing: a concurrent request moved the order first.
fn no_longer(order: &Order) -> ApiError {
    ApiError::conflict(
        "invalid_state",
        format!(
            "order {} is no longer {}; another request changed it",
            order.id,
            order.status.as_str()
        ),
    )
}
