//! HTTP handlers, one file per resource: parse the request, do the work, respond.
//! Request bodies live beside their handlers. Who may call each is the route table's (`lib.rs`): a
//! handler takes the `Caller`, `Admin` or `Service` its check gives.

pub mod internal;
pub mod orders;

use spinshop_kit::auth::Caller;
use spinshop_kit::http::request::path_id;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiResult};

use crate::domain::Order;
use crate::store;

/// The order, if the caller may see it; another user's order is "not found".
pub(super) async fn visible_order(db: &Db, caller: &Caller, id: i64) -> ApiResult<Order> {
    store::find_order(db, id)
        .await?
        .filter(|order| order.visible_to(caller.user_id, caller.is_admin()))
        .ok_or_else(|| no_such_order(id))
}

pub(super) fn parse_order_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || {
        ApiError::not_found(format!("no order with id {raw}"))
    })
}

pub(super) fn no_such_order(id: i64) -> ApiError {
    ApiError::not_found(format!("no order with id {id}"))
}

pub(super) fn invalid_state(order: &Order, action: &str) -> ApiError {
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
pub(super) fn no_longer(order: &Order) -> ApiError {
    ApiError::conflict(
        "invalid_state",
        format!(
            "order {} is no longer {}; another request changed it",
            order.id,
            order.status.as_str()
        ),
    )
}
