//! The notifications service's configuration, read from its Spin variables. Its own
//! module: the ingest, the dispatch and the webhook deliverer (which runs after the
//! response, outside any handler) all read it.

use spinshop_kit::ApiResult;
use spinshop_kit::config::{secret_var, var};

/// Where events are POSTed (`notification_webhook_url`); `None` when it is empty,
/// and then no event is queued for the webhook.
pub async fn webhook_url() -> ApiResult<Option<String>> {
    let url = var("notification_webhook_url").await?;
    let url = url.trim();
    Ok((!url.is_empty()).then(|| url.to_string()))
}

/// The key webhook signatures are made with (`webhook_secret`, at least 16
/// characters). Never logged.
pub async fn webhook_secret() -> ApiResult<String> {
    secret_var("webhook_secret").await
}

/// The static key a scheduler may present to ask for a dispatch (`dispatch_key`);
/// empty when none is accepted.
pub async fn dispatch_key() -> ApiResult<String> {
    var("dispatch_key").await
}
