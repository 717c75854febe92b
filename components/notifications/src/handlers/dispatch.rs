//! `POST /dispatch` (or `GET`): delivers what is due everywhere, for a scheduler or an
//! admin. Each producer flushes its outbox to notifications, then notifications
//! flushes its own webhook queue and its mail queue. A producer that can't be reached is reported, and
//! the others and the webhooks are flushed all the same. A scheduler that names a path
//! and query and nothing more (Akamai Functions' cron jobs: no header, no method)
//! sends the key as `?key=`, by GET or POST: a dispatch delivers each due event once,
//! so a repeated GET is harmless.

use std::collections::BTreeMap;

use serde::Serialize;
use spinshop_kit::auth::{SERVICE_TOKEN_HEADER, introspect, require_service};
use spinshop_kit::contracts::FlushReport;
use spinshop_kit::pg::outbox::Scope;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::SERVICE;
use crate::config::Config;
use crate::domain::dispatch_key_matches;
use crate::mail;
use crate::siblings::{PRODUCERS, Producers};
use crate::webhook::OUTBOX;

/// The header a scheduler sends the `dispatch_key` variable's value in ...
const DISPATCH_KEY_HEADER: &str = "x-dispatch-key";
/// ... or, when it can't set headers, the query parameter. spinshop's request log
/// leaves query strings out, so the key is not written there.
const DISPATCH_KEY_PARAMETER: &str = "key";

/// What one producer's flush did, or why it didn't happen.
#[derive(Serialize)]
#[serde(untagged)]
enum ProducerReport {
    Flushed(FlushReport),
    Failed { error: String },
}

#[derive(Serialize)]
struct DispatchReport {
    producers: BTreeMap<&'static str, ProducerReport>,
    webhooks: FlushReport,
    mail: FlushReport,
}

pub async fn dispatch(req: &ApiRequest) -> ApiResult<ApiResponse> {
    authorize(req).await?;
    let producers = Producers::new(req);
    let mut reports = BTreeMap::new();
    for service in PRODUCERS {
        let report = match producers.flush(service).await {
            Ok(report) => ProducerReport::Flushed(report),
            Err(error) => {
                eprintln!("{SERVICE} {}: dispatch: {error}", req.request_id);
                ProducerReport::Failed { error }
            }
        };
        reports.insert(service, report);
    }
    let webhooks = OUTBOX.flush(req, Scope::Dispatch).await?;
    let mail = mail::OUTBOX.flush(req, Scope::Dispatch).await?;
    ApiResponse::ok(&DispatchReport {
        producers: reports,
        webhooks,
        mail,
    })
}

/// A sibling (its service token), a scheduler (the dispatch key, as a header or in
/// the query) or an admin (a bearer token) may dispatch. A credential that is
/// presented is the one judged: a wrong service token is 403, a wrong dispatch key
/// 401, a customer 403.
async fn authorize(req: &ApiRequest) -> ApiResult<()> {
    if req.header(SERVICE_TOKEN_HEADER).is_some() {
        return require_service(req).await.map(drop);
    }
    if let Some(given) = req
        .header(DISPATCH_KEY_HEADER)
        .or_else(|| req.query(DISPATCH_KEY_PARAMETER))
    {
        return if dispatch_key_matches(&Config::get().await?.dispatch_key, given) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("invalid dispatch key".into()))
        };
    }
    introspect(SERVICE, req).await?.require_admin()
}
