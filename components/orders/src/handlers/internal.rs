//! INTERNAL: the order payments reads before a charge, and the transitions it drives
//! (paid, payment failed, refunded).
//! `kit::http::service::serve` lets only callers with a service token reach these.

use spinshop_kit::contracts::PaidBody;
use spinshop_kit::http::routes::Service;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

use super::{invalid_state, no_such_order, parse_order_id};
use crate::domain::OrderStatus;
use crate::siblings::Siblings;
use crate::store;

/// `GET /internal/orders/{id}`, from payments: any order, whoever owns it (payments
/// checks the owner against the caller it has already authenticated).
pub async fn get_order(req: &ApiRequest, id: &str, _: Service) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let order = store::find_order(&Db::connect(req).await?, id)
        .await?
        .ok_or_else(|| no_such_order(id))?;
    ApiResponse::ok(&order)
}

/// `POST /internal/orders/{id}/paid`, from payments: pending -> paid, then the reserved stock is committed.
/// Idempotent: a repeat for the same payment re-sends the (idempotent) commit and
/// answers 200. If the commit fails the order stays paid and the answer is 503, so
/// payments retries until products has taken the stock off the shelf.
pub async fn mark_paid(req: &ApiRequest, id: &str, _: Service) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let body: PaidBody = req.json()?;
    let order = {
        let db = Db::connect(req).await?;
        match store::mark_paid(&db, id, body.payment_id).await? {
            Some(order) => order,
            None => {
                let order = store::find_order(&db, id)
                    .await?
                    .ok_or_else(|| no_such_order(id))?;
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
    Siblings::new(req).commit_stock(id).await?;
    ApiResponse::ok(&order)
}

/// `POST /internal/orders/{id}/payment-failed`, from payments: a declined payment; a pending order stays pending, open
/// to another attempt. Idempotent. An order paid or cancelled meanwhile is left as it
/// is and returned: the failed attempt no longer matters to it.
pub async fn mark_payment_failed(req: &ApiRequest, id: &str, _: Service) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let db = Db::connect(req).await?;
    let order = match store::mark_payment_failed(&db, id).await? {
        Some(order) => order,
        None => store::find_order(&db, id)
            .await?
            .ok_or_else(|| no_such_order(id))?,
    };
    ApiResponse::ok(&order)
}

/// `POST /internal/orders/{id}/refunded`, from payments: the order's payment was refunded. Idempotent.
pub async fn mark_refunded(req: &ApiRequest, id: &str, _: Service) -> ApiResult<ApiResponse> {
    let id = parse_order_id(id)?;
    let order = store::mark_refunded(&Db::connect(req).await?, id)
        .await?
        .ok_or_else(|| no_such_order(id))?;
    ApiResponse::ok(&order)
}
