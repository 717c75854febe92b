//! The inbox: a user's own notifications, read and marked read.

use serde::Serialize;
use spinshop_kit::auth::Caller;
use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::request::{path_id, positive_id};
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::domain::{inbox_owner, parse_unread_filter};
use crate::store;

#[derive(Serialize)]
struct UnreadCount {
    unread: i64,
}

#[derive(Serialize)]
struct Marked {
    marked: u64,
}

/// Newest first; `?unread=true|false` narrows to unread or read ones. An admin may
/// read anyone's with `?user_id=`.
pub async fn list_notifications(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let owner = inbox_owner(caller.user_id, caller.is_admin(), user_filter(req)?)?;
    let unread = parse_unread_filter(req.query("unread"))?;
    let paging = Paging::from_request(req)?;
    let (notifications, total) =
        store::list_notifications(&Db::connect(req).await?, owner, unread, paging).await?;
    ApiResponse::page(&notifications, total)
}

/// How many of the caller's notifications (an admin: `?user_id=`'s) are unread.
pub async fn unread_count(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let owner = inbox_owner(caller.user_id, caller.is_admin(), user_filter(req)?)?;
    let unread = store::unread_count(&Db::connect(req).await?, owner).await?;
    ApiResponse::ok(&UnreadCount { unread })
}

/// Marks one of the caller's own notifications read; anyone else's is not found.
/// Marking it again changes nothing (`read_at` stays the first reading).
pub async fn mark_read(req: &ApiRequest, id: &str, caller: Caller) -> ApiResult<ApiResponse> {
    let no_such = || ApiError::not_found(format!("no notification with id {id}"));
    let id = path_id(id, no_such)?;
    let notification = store::mark_read(&Db::connect(req).await?, id, caller.user_id)
        .await?
        .ok_or_else(no_such)?;
    ApiResponse::ok(&notification)
}

/// Marks all of the caller's unread notifications read.
pub async fn mark_all_read(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let marked = store::mark_all_read(&Db::connect(req).await?, caller.user_id).await?;
    ApiResponse::ok(&Marked { marked })
}

/// `?user_id=`, when given.
fn user_filter(req: &ApiRequest) -> ApiResult<Option<i64>> {
    req.query("user_id")
        .map(|raw| {
            positive_id(raw).ok_or_else(|| {
                ApiError::invalid_field("user_id", "user_id must be a positive integer")
            })
        })
        .transpose()
}
