//! The local mailbox (admin): every mail the shop wrote, as it was written, with
//! where its delivery stands. With no mail API configured this is where mails stay,
//! so a person trying the shop, or its smoke test, can follow a link.

use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

use crate::store;

/// `GET /mail?to=<address>`: newest first; `to` narrows to one address.
pub async fn list_mail(req: &ApiRequest, _: Admin) -> ApiResult<ApiResponse> {
    let to = req.query("to").map(str::trim).filter(|to| !to.is_empty());
    let paging = Paging::from_request(req)?;
    let (mails, total) = store::list_mail(&Db::connect(req).await?, to, paging).await?;
    ApiResponse::page(&mails, total)
}
