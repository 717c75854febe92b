//! The notifications service's configuration, read from its Spin variables once per
//! instance (see `spinshop_kit::config`: defaults live in spin.toml, a missing or
//! malformed variable fails the request with 500 and a log line naming it). Its own
//! module: the ingest, the dispatch and the webhook deliverer (which runs after the
//! response, outside any handler) all read it.

use spinshop_kit::ApiResult;
use spinshop_kit::config::{PerInstance, checked_secret, var};

const NOTIFICATION_WEBHOOK_URL: &str = "notification_webhook_url";
const WEBHOOK_SECRET: &str = "webhook_secret";
const DISPATCH_KEY: &str = "dispatch_key";

pub struct Config {
    /// Where events are POSTed (`notification_webhook_url`); `None` when it is empty,
    /// and then no event is queued for the webhook.
    pub webhook_url: Option<String>,
    /// `webhook_secret`, checked where it is used: it may stay empty while there is
    /// no webhook. Never logged.
    webhook_secret: String,
    /// The static key a scheduler may present to ask for a dispatch (`dispatch_key`);
    /// empty when none is accepted.
    pub dispatch_key: String,
}

static CONFIG: PerInstance<Config> = PerInstance::new();

impl Config {
    /// The configuration, read on the instance's first request.
    pub async fn get() -> ApiResult<&'static Config> {
        CONFIG.get_or_load(Config::load).await
    }

    async fn load() -> ApiResult<Config> {
        let url = var(NOTIFICATION_WEBHOOK_URL).await?;
        let url = url.trim();
        Ok(Config {
            webhook_url: (!url.is_empty()).then(|| url.to_string()),
            webhook_secret: var(WEBHOOK_SECRET).await?,
            dispatch_key: var(DISPATCH_KEY).await?,
        })
    }

    /// The key webhook signatures are made with: at least 16 characters.
    pub fn webhook_secret(&self) -> ApiResult<&str> {
        checked_secret(WEBHOOK_SECRET, &self.webhook_secret)
    }
}
