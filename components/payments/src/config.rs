//! The payments service's configuration, read from its Spin variables once per
//! instance (see `spinshop_kit::config`: defaults live in spin.toml, a missing or
//! malformed variable fails the request with 500 and a log line naming it).

use spinshop_kit::ApiResult;
use spinshop_kit::config::{INTERNAL_SECRET, PerInstance, secret_var};

pub struct Config {
    /// The key mixed into a payment request's fingerprint (`internal_secret`, the one
    /// service tokens are signed with): a card number and cvc are never stored in a
    /// form that could be brute-forced back.
    pub fingerprint_key: String,
}

static CONFIG: PerInstance<Config> = PerInstance::new();

impl Config {
    /// The configuration, read on the instance's first request.
    pub async fn get() -> ApiResult<&'static Config> {
        CONFIG
            .get_or_load(async || {
                Ok(Config {
                    fingerprint_key: secret_var(INTERNAL_SECRET).await?,
                })
            })
            .await
    }
}
