//! HTTP handlers other than `/pay` (see `pay.rs`): parse the request, check who is
//! calling, do the work, respond.

use spinshop_kit::client::introspect;
use spinshop_kit::contracts::RefundOrderBody;
use spinshop_kit::db::Db;
use spinshop_kit::paging::Paging;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::SERVICE;
use crate::domain::{PaymentStatus, parse_id, parse_order_filter};
use crate::siblings::Siblings;
use crate::store;

/// The owner or an admin sees a payment; anyone else learns nothing (404, not 403).
pub fn get_payment(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    let id = parse_id(id, "payment")?;
    let payment = store::find_payment(&Db::connect()?, id)?
        .filter(|payment| payment.visible_to(caller.user_id, caller.is_admin()))
        .ok_or_else(|| no_such_payment(id))?;
    ApiResponse::ok(&payment)
}

/// `?order_id=` narrows to one order. Customers see only their own payments (another
/// user's order lists empty); admins see all.
pub fn list_payments(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    let order_id = parse_order_filter(req.query("order_id"))?;
    let paging = Paging::from_request(req)?;
    let owner = (!caller.is_admin()).then_some(caller.user_id);
    let (payments, total) = store::list_payments(&Db::connect()?, order_id, owner, paging)?;
    ApiResponse::page(&payments, total)
}

/// succeeded -> refunded, then orders records the order's payment as refunded.
/// Refunding a refunded payment is 409, but it first re-sends `/refunded` (idempotent
/// at orders): a refund whose notice to orders was lost is healed by retrying it.
pub fn refund_payment(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let caller = introspect(SERVICE, req)?;
    caller.require_admin()?;
    let id = parse_id(id, "payment")?;
    let orders = Siblings::new(req);
    let (refunded, payment) = {
        let db = Db::connect()?;
        match store::refund_payment(&db, id)? {
            Some(refunded) => (true, refunded),
            None => (
                false,
                store::find_payment(&db, id)?.ok_or_else(|| no_such_payment(id))?,
            ),
        }
    };
    // The connection is closed by now: none is held while orders answers.
    if refunded {
        orders.mark_refunded(&payment)?;
        return ApiResponse::ok(&payment);
    }
    if payment.status == PaymentStatus::Refunded {
        orders.mark_refunded(&payment)?;
    }
    Err(ApiError::conflict(
        "invalid_state",
        format!(
            "payment {id} is {}; only a succeeded payment can be refunded",
            payment.status.as_str()
        ),
    ))
}

/// `POST /internal/refund-order`, for orders cancelling a paid order: refunds the order's succeeded
/// payment. Idempotent: an already refunded one is answered the same way. Orders
/// is the caller and records the refund itself, so it is not notified.
pub fn refund_order(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let body: RefundOrderBody = req.json()?;
    let db = Db::connect()?;
    let payment = match store::refund_order_payment(&db, body.order_id)? {
        Some(payment) => payment,
        None => store::refunded_payment_of_order(&db, body.order_id)?.ok_or_else(|| {
            ApiError::not_found(format!("order {} has no succeeded payment", body.order_id))
        })?,
    };
    ApiResponse::ok(&payment)
}

fn no_such_payment(id: i64) -> ApiError {
    ApiError::not_found(format!("no payment with id {id}"))
}
