//! INTERNAL: the stock orders holds, gives back and takes off the shelf. The bodies
//! are `kit::contracts`, the types orders sends.

use spinshop_kit::contracts::{OrderRefBody, ReserveBody};
use spinshop_kit::http::routes::Service;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::domain::{ReservationRequest, ReservationStatus};
use crate::store;

/// `POST /internal/reserve` `{order_id, items: [{product_id, qty}]}` -> 200
/// `{order_id, status, items, created_at, updated_at}`. All lines or none: a line
/// that can't be covered is 409 `insufficient_stock` with `{product_id, requested,
/// available}` (an archived product has none available), an unknown product 404.
/// A repeat for the same order returns the first reservation, whatever its state.
pub async fn reserve(req: &ApiRequest, _: Service) -> ApiResult<ApiResponse> {
    let request = ReservationRequest::parse(req.json::<ReserveBody>()?)?;
    ApiResponse::ok(&store::reserve(&Db::connect(req).await?, &request).await?)
}

/// `POST /internal/release` `{order_id}` -> 200 with the released reservation.
/// Repeats succeed; an order nothing was reserved for is recorded as released, so a
/// late reserve for it holds nothing. A committed reservation: 409 `invalid_state`.
pub async fn release(req: &ApiRequest, _: Service) -> ApiResult<ApiResponse> {
    let order_id = req.json::<OrderRefBody>()?.order_id;
    let reservation = store::release(&Db::connect(req).await?, order_id).await?;
    ApiResponse::ok(&reservation.ensure_status(ReservationStatus::Released)?)
}

/// `POST /internal/commit` `{order_id}` -> 200 with the committed reservation: its
/// units leave the shelf (`stock` and `reserved` both drop). Repeats succeed; no
/// reservation for the order: 404; a released one: 409 `invalid_state`.
pub async fn commit(req: &ApiRequest, _: Service) -> ApiResult<ApiResponse> {
    let order_id = req.json::<OrderRefBody>()?.order_id;
    let reservation = store::commit(&Db::connect(req).await?, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no reservation for order {order_id}")))?;
    ApiResponse::ok(&reservation.ensure_status(ReservationStatus::Committed)?)
}
