//! The notifications service's configuration, read from its Spin variables once per
//! instance (see `spinshop_kit::config`: defaults live in spin.toml, a missing or
//! malformed variable fails the request with 500 and a log line naming it). Its own
//! module: the ingest, the dispatch and the webhook and mail deliverers (which run
//! after the response, outside any handler) all read it.

use spinshop_kit::ApiResult;
use spinshop_kit::config::{PerInstance, checked_secret, var};
use spinshop_kit::mail::Shop;

const NOTIFICATION_WEBHOOK_URL: &str = "notification_webhook_url";
const WEBHOOK_SECRET: &str = "webhook_secret";
const DISPATCH_KEY: &str = "dispatch_key";
const MAIL_API_KEY: &str = "mail_api_key";
const MAIL_PROVIDER: &str = "mail_provider";
const MAIL_API_URL: &str = "mail_api_url";
const MAIL_FROM: &str = "mail_from";

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
    /// The mail API mails are sent through; `None` when `mail_api_key` is empty, and
    /// then mails are kept in the local mailbox only.
    pub mail_api: Option<MailApi>,
    /// The shop's name and address, in every mail.
    pub shop: Shop,
}

/// Where and how mails are sent.
pub struct MailApi {
    /// `mail_provider`: whose API `base_url` is.
    pub provider: String,
    /// `mail_api_url`: the API's scheme and host (`allowed_outbound_hosts` names it).
    pub base_url: String,
    /// `mail_api_key`. Never logged.
    pub key: String,
    /// `mail_from`: the sender, e.g. `spinshop <shop@example.com>`.
    pub from: String,
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
            mail_api: MailApi::load().await?,
            shop: Shop::load().await?,
        })
    }

    /// The key webhook signatures are made with: at least 16 characters.
    pub fn webhook_secret(&self) -> ApiResult<&str> {
        checked_secret(WEBHOOK_SECRET, &self.webhook_secret)
    }
}

impl MailApi {
    async fn load() -> ApiResult<Option<MailApi>> {
        let key = var(MAIL_API_KEY).await?;
        if key.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(MailApi {
            provider: var(MAIL_PROVIDER).await?.trim().to_string(),
            base_url: var(MAIL_API_URL)
                .await?
                .trim()
                .trim_end_matches('/')
                .to_string(),
            key: key.trim().to_string(),
            from: var(MAIL_FROM).await?,
        }))
    }
}
