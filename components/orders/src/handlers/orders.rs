//! The orders customers place, list, read and cancel.

use serde::Deserialize;
use spinshop_kit::auth::Caller;
use spinshop_kit::http::idempotency::MAX_IDEMPOTENCY_KEY_CHARS;
use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::request::positive_id;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use super::{invalid_state, no_longer, parse_order_id, visible_order};
use crate::SERVICE;
use crate::domain::{self, IdempotencyKey, Order, OrderRequest, OrderStatus, RequestedItem};
use crate::siblings::{Refund, Siblings};
use crate::store::{self, Inserted, NewOrder};

/// `POST /orders` as the client sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceOrderBody {
    items: Vec<ItemBody>,
    /// Clients may send the caller's own id; when present it must be the caller's.
    #[serde(default, deserialize_with = "spinshop_kit::http::request::optional_id")]
    user_id: Option<i64>,
    shipping_address: Option<String>,
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    #[serde(deserialize_with = "spinshop_kit::http::request::id")]
    product_id: i64,
    qty: i64,
}

impl PlaceOrderBody {
    fn into_request(self) -> ApiResult<OrderRequest> {
        let items: Vec<RequestedItem> = self
            .items
            .iter()
            .map(|item| RequestedItem {
                product_id: item.product_id,
                qty: item.qty,
            })
            .collect();
        OrderRequest::parse(&items, self.shipping_address, self.notes)
    }
}

/// Places an order: record the placement, reserve and price the stock at products
/// in one call, then store the order (which ends the placement). Once stock may be
/// reserved, any failure gives it back before answering; when that fails too (the
/// database or products gone), the placement outlives the request and a later
/// placement takes it over and gives the stock back. So a failed placement leaves
/// neither an order nor, for long, a reservation behind.
/// With `orders_require_verified_email` set, a customer whose email is not verified
/// may browse but not order: 403 `email_not_verified`. Admins are trusted.
async fn check_may_order(caller: &Caller) -> ApiResult<()> {
    if caller.email_verified
        || caller.is_admin()
        || !spinshop_kit::config::parsed_var::<bool>("orders_require_verified_email").await?
    {
        return Ok(());
    }
    Err(ApiError::Refused {
        status: 403,
        code: "email_not_verified",
        message: "verify your email address before placing an order".into(),
    })
}

pub async fn place_order(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let body: PlaceOrderBody = req.json()?;
    domain::check_user_id(body.user_id, caller.user_id)?;
    check_may_order(&caller).await?;
    let request = body.into_request()?;
    let key = IdempotencyKey::from_request(req, invalid_idempotency_key)?;

    // Each step opens its own connection and closes it before the next sibling
    // call: no connection is held while a sibling answers (see `kit::pg::db`).
    let placement = {
        let db = Db::connect(req).await?;
        if let Some(key) = &key
            && let Some(order) = store::find_by_idempotency_key(&db, caller.user_id, key).await?
        {
            return replay(&request, order);
        }
        store::begin_placement(&db).await?
    };
    let order_id = placement.order_id;
    let siblings = Siblings::new(req);
    for abandoned in placement.taken_over {
        release_placement(&siblings, req, abandoned).await;
    }
    let reserved = match siblings.reserve_stock(order_id, &request.items).await {
        Ok(reserved) => reserved,
        Err(err) => {
            // A refusal (4xx) reserved nothing; after a timeout or a 5xx the outcome
            // is unknown, so the reservation is released in case it was made.
            if matches!(err, ApiError::Relayed { .. }) {
                end_placement(req, order_id).await;
            } else {
                abandon_placement(&siblings, req, order_id).await;
            }
            return Err(err);
        }
    };
    let priced = match domain::price(&request.items, &reserved) {
        Ok(priced) => priced,
        Err(err) => {
            abandon_placement(&siblings, req, order_id).await;
            return Err(err);
        }
    };

    let new_order = NewOrder {
        id: order_id,
        user_id: caller.user_id,
        request: &request,
        priced: &priced,
        idempotency_key: key.as_ref(),
    };
    let stored = async { store::insert_order(&Db::connect(req).await?, &new_order).await }.await;
    match stored {
        Ok(Inserted::Created(order)) => ApiResponse::created(&order),
        Ok(Inserted::KeyTaken) => {
            abandon_placement(&siblings, req, order_id).await;
            let key = key.ok_or_else(|| ApiError::internal("key conflict without a key"))?;
            let winner =
                store::find_by_idempotency_key(&Db::connect(req).await?, caller.user_id, &key)
                    .await?
                    .ok_or_else(|| ApiError::internal("the order holding the key vanished"))?;
            replay(&request, winner)
        }
        Err(err) => {
            abandon_placement(&siblings, req, order_id).await;
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
async fn abandon_placement(siblings: &Siblings<'_>, req: &ApiRequest, order_id: i64) {
    let abandoned = async { store::abandon_placement(&Db::connect(req).await?, order_id).await };
    match abandoned.await {
        Ok(true) => release_placement(siblings, req, order_id).await,
        Ok(false) => {}
        Err(err) => eprintln!(
            "{SERVICE} {}: placement {order_id} left for a later placement to release: {err}",
            req.request_id
        ),
    }
}

/// Releases an abandoned placement's stock, then forgets the placement. If products
/// can't be reached the placement stays, and a later placement tries again.
async fn release_placement(siblings: &Siblings<'_>, req: &ApiRequest, order_id: i64) {
    match siblings.release_stock(order_id).await {
        Ok(()) => end_placement(req, order_id).await,
        Err(err) => eprintln!(
            "{SERVICE} {}: releasing the stock reserved for unplaced order {order_id} failed: {err}",
            req.request_id
        ),
    }
}

/// Forgets a placement with no stock held. If that fails, a later placement takes it
/// over and releases it again, which is harmless.
async fn end_placement(req: &ApiRequest, order_id: i64) {
    let ended = async { store::end_placement(&Db::connect(req).await?, order_id).await };
    if let Err(err) = ended.await {
        eprintln!(
            "{SERVICE} {}: forgetting placement {order_id} failed: {err}",
            req.request_id
        );
    }
}

pub async fn list_orders(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let paging = Paging::from_request(req)?;
    let requested = req.query("user_id").map(parse_user_filter).transpose()?;
    let scope = domain::list_scope(caller.user_id, caller.is_admin(), requested)?;
    let (orders, total) = store::list_orders(&Db::connect(req).await?, scope, paging).await?;
    ApiResponse::page(&orders, total)
}

pub async fn get_order(req: &ApiRequest, id: &str, caller: Caller) -> ApiResult<ApiResponse> {
    let order = visible_order(&Db::connect(req).await?, &caller, parse_order_id(id)?).await?;
    ApiResponse::ok(&order)
}

/// Cancels a pending order (its reservation is released) or a paid one (its payment
/// is refunded first). The status change is one conditional update, so a cancel
/// racing a payment can't both succeed.
pub async fn cancel_order(req: &ApiRequest, id: &str, caller: Caller) -> ApiResult<ApiResponse> {
    let order = visible_order(&Db::connect(req).await?, &caller, parse_order_id(id)?).await?;
    let siblings = Siblings::new(req);
    match order.status {
        OrderStatus::Pending => {
            let cancelled = store::cancel_pending(&Db::connect(req).await?, order.id)
                .await?
                .ok_or_else(|| no_longer(&order))?;
            release_cancelled(&siblings, req, order.id).await?;
            ApiResponse::ok(&cancelled)
        }
        OrderStatus::Paid => {
            let refunded = siblings.refund_order(order.id).await? == Refund::Refunded;
            let cancelled = store::cancel_paid(&Db::connect(req).await?, order.id, refunded)
                .await?
                .ok_or_else(|| no_longer(&order))?;
            ApiResponse::ok(&cancelled)
        }
        OrderStatus::Cancelled => {
            // A repeated cancel retries a release that failed the first time.
            if order.holds_uncommitted_stock() {
                release_cancelled(&siblings, req, order.id).await?;
            }
            Err(invalid_state(&order, "cancel"))
        }
        OrderStatus::Fulfilled => Err(invalid_state(&order, "cancel")),
    }
}

/// Releases a cancelled order's stock. The order stays cancelled either way; on
/// failure the caller gets 503 and repeating the cancel repeats the release.
async fn release_cancelled(
    siblings: &Siblings<'_>,
    req: &ApiRequest,
    order_id: i64,
) -> ApiResult<()> {
    siblings.release_stock(order_id).await.map_err(|err| {
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

/// The 400 for an order's idempotency key out of bounds (the key is optional here).
fn invalid_idempotency_key() -> ApiError {
    ApiError::invalid_field(
        "Idempotency-Key",
        format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
    )
}

fn parse_user_filter(raw: &str) -> ApiResult<i64> {
    positive_id(raw)
        .ok_or_else(|| ApiError::invalid_field("user_id", "user_id must be a positive integer"))
}

#[cfg(test)]
mod tests {
    use spinshop_kit::http::request::parse_json;

    use super::*;

    fn body(json: &str) -> PlaceOrderBody {
        parse_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn a_body_becomes_a_request_with_ids_as_numbers_or_strings() {
        let request = body(
            r#"{"items":[{"product_id":3,"qty":2},{"product_id":"5","qty":1},{"product_id":3,"qty":4}],
                "user_id":"7","shipping_address":"  1 Main St  ","notes":"   "}"#,
        )
        .into_request()
        .unwrap();
        let lines: Vec<(i64, i64)> = request
            .items
            .iter()
            .map(|item| (item.product_id, item.qty))
            .collect();
        assert_eq!(lines, [(3, 6), (5, 1)]);
        assert_eq!(request.shipping_address.as_deref(), Some("1 Main St"));
        assert_eq!(request.notes, None);
    }

    #[test]
    fn user_id_may_be_a_number_a_string_null_or_absent() {
        assert_eq!(body(r#"{"items":[],"user_id":7}"#).user_id, Some(7));
        assert_eq!(body(r#"{"items":[],"user_id":"7"}"#).user_id, Some(7));
        assert_eq!(body(r#"{"items":[],"user_id":null}"#).user_id, None);
        assert_eq!(body(r#"{"items":[]}"#).user_id, None);
        assert!(parse_json::<PlaceOrderBody>(br#"{"items":[],"user_id":"me"}"#).is_err());
    }

    #[test]
    fn malformed_items_are_refused_while_parsing() {
        for json in [
            r#"{"items":[{"product_id":0,"qty":1}]}"#,
            r#"{"items":[{"product_id":-1,"qty":1}]}"#,
            r#"{"items":[{"product_id":1,"qty":"1"}]}"#,
            r#"{"items":[{"product_id":1}]}"#,
            r#"{"items":[{"product_id":1,"qty":1,"price":0}]}"#,
            r#"{"items":[],"total":0}"#,
        ] {
            let err = parse_json::<PlaceOrderBody>(json.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{json} should be refused"));
            assert_eq!(err.status(), 400, "{json}");
        }
    }
}
