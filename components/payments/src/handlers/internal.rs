//! INTERNAL: what orders asks of payments. `kit::http::service::serve` lets only callers with a
//! service token reach these.

use spinshop_kit::contracts::RefundOrderBody;
use spinshop_kit::http::routes::Service;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::store;

/// `POST /internal/refund-order`, for orders cancelling a paid order: refunds the order's succeeded
/// payment. Idempotent: an already refunded one is answered the same way. Orders
/// is the caller and records the refund itself, so it is not notified.
pub async fn refund_order(req: &ApiRequest, _: Service) -> ApiResult<ApiResponse> {
    let body: RefundOrderBody = req.json()?;
    let db = Db::connect(req).await?;
    let payment = match store::refund_order_payment(&db, body.order_id).await? {
        Some(payment) => payment,
        None => store::refunded_payment_of_order(&db, body.order_id)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!("order {} has no succeeded payment", body.order_id))
            })?,
    };
    ApiResponse::ok(&payment)
}
