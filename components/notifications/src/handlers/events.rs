//! Staff's view of the events received and of their webhook deliveries (admin).

use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::domain::WebhookStatus;
use crate::store;

/// Newest first, each with its webhook state; `?status=` narrows to one state.
pub async fn list_events(req: &ApiRequest, _: Admin) -> ApiResult<ApiResponse> {
    let status = WebhookStatus::parse_filter(req.query("status"))?;
    let paging = Paging::from_request(req)?;
    let (events, total) = store::list_events(&Db::connect(req).await?, status, paging).await?;
    ApiResponse::page(&events, total)
}

/// The requests made to the webhook for one event, oldest first.
pub async fn list_attempts(req: &ApiRequest, event_id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let no_such = || ApiError::not_found(format!("no event with id {event_id}"));
    let event_id = uuid::Uuid::try_parse(event_id)
        .map_err(|_| no_such())?
        .to_string();
    let paging = Paging::from_request(req)?;
    let db = Db::connect(req).await?;
    if !store::event_exists(&db, &event_id).await? {
        return Err(no_such());
    }
    let (attempts, total) = store::list_attempts(&db, &event_id, paging).await?;
    ApiResponse::page(&attempts, total)
}
