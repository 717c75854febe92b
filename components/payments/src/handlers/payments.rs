//! Payments as their owner or an admin reads them, and an admin's refunds.

use spinshop_kit::auth::Caller;
use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::request::{path_id, positive_id};
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::domain::PaymentStatus;
use crate::siblings::Siblings;
use crate::store;

/// The owner or an admin sees a payment; anyone else learns nothing (404, not 403).
pub async fn get_payment(req: &ApiRequest, id: &str, caller: Caller) -> ApiResult<ApiResponse> {
    let id = parse_id(id, "payment")?;
    let payment = store::find_payment(&Db::connect(req).await?, id)
        .await?
        .filter(|payment| payment.visible_to(caller.user_id, caller.is_admin()))
        .ok_or_else(|| no_such_payment(id))?;
    ApiResponse::ok(&payment)
}

/// `?order_id=` narrows to one order. Customers see only their own payments (another
/// user's order lists empty); admins see all.
pub async fn list_payments(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let order_id = parse_order_filter(req.query("order_id"))?;
    let paging = Paging::from_request(req)?;
    let owner = (!caller.is_admin()).then_some(caller.user_id);
    let (payments, total) =
        store::list_payments(&Db::connect(req).await?, order_id, owner, paging).await?;
    ApiResponse::page(&payments, total)
}

/// succeeded -> refunded, then orders records the order's payment as refunded.
/// Refunding a refunded payment is 409, but it first re-sends `/refunded` (idempotent
/// at orders): a refund whose notice to orders was lost is healed by retrying it.
pub async fn refund_payment(req: &ApiRequest, id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let id = parse_id(id, "payment")?;
    let orders = Siblings::new(req);
    let (refunded, payment) = {
        let db = Db::connect(req).await?;
        match store::refund_payment(&db, id).await? {
            Some(refunded) => (true, refunded),
            None => (
                false,
                store::find_payment(&db, id)
                    .await?
                    .ok_or_else(|| no_such_payment(id))?,
            ),
        }
    };
    // The connection is closed by now: none is held while orders answers.
    if refunded {
        orders.mark_refunded(&payment).await?;
        return ApiResponse::ok(&payment);
    }
    if payment.status == PaymentStatus::Refunded {
        orders.mark_refunded(&payment).await?;
    }
    Err(ApiError::conflict(
        "invalid_state",
        format!(
            "payment {id} is {}; only a succeeded payment can be refunded",
            payment.status.as_str()
        ),
    ))
}

fn no_such_payment(id: i64) -> ApiError {
    ApiError::not_found(format!("no payment with id {id}"))
}

/// A path id; anything that is not a positive integer names no payment.
fn parse_id(raw: &str, what: &str) -> ApiResult<i64> {
    path_id(raw, || {
        ApiError::not_found(format!("no {what} with id {raw}"))
    })
}

/// `?order_id=` of the payments list, when given.
fn parse_order_filter(raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|raw| {
        positive_id(raw).ok_or_else(|| {
            ApiError::invalid_field("order_id", "order_id must be a positive integer")
        })
    })
    .transpose()
}
