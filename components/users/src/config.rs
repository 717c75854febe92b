//! The users service's configuration, read from its Spin variables once per instance
//! (see `spinshop_kit::config`: defaults live in spin.toml, a missing or malformed
//! variable fails the request with 500 and a log line naming it). Its own module:
//! every handler and the session workflow read it.

use spinshop_kit::ApiResult;
use spinshop_kit::config::{JWT_SECRET, PerInstance, parsed_var, secret_var};
use spinshop_kit::mail::Shop;

use crate::domain::credentials::PASSWORD_MIN_LENGTH;

const ACCESS_TOKEN_TTL_SECONDS: &str = "access_token_ttl_seconds";
const REFRESH_TOKEN_TTL_SECONDS: &str = "refresh_token_ttl_seconds";
const LOGIN_MAX_FAILURES: &str = "login_max_failures";
const LOGIN_WINDOW_SECONDS: &str = "login_window_seconds";
const PASSWORD_HASH_MS_PER_SECOND: &str = "password_hash_ms_per_second";
const ACCOUNT_MAILS_PER_HOUR: &str = "account_mails_per_hour";

pub struct Config {
    pub jwt_secret: String,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub password_min_length: usize,
    pub login_max_failures: i64,
    pub login_window_seconds: i64,
    /// Milliseconds the whole shop may spend each second hashing passwords
    /// (register, login, password change); 0: no budget.
    pub password_hash_ms_per_second: u64,
    /// The shop's name and address, in every mail.
    pub shop: Shop,
    /// Reset and verification mails one account may ask for in an hour.
    pub account_mails_per_hour: i64,
}

static CONFIG: PerInstance<Config> = PerInstance::new();

impl Config {
    /// The configuration, read on the instance's first request.
    pub async fn get() -> ApiResult<&'static Config> {
        CONFIG.get_or_load(Config::load).await
    }

    async fn load() -> ApiResult<Config> {
        Ok(Config {
            jwt_secret: secret_var(JWT_SECRET).await?,
            access_token_ttl_seconds: parsed_var(ACCESS_TOKEN_TTL_SECONDS).await?,
            refresh_token_ttl_seconds: parsed_var(REFRESH_TOKEN_TTL_SECONDS).await?,
            password_min_length: parsed_var(PASSWORD_MIN_LENGTH).await?,
            login_max_failures: parsed_var(LOGIN_MAX_FAILURES).await?,
            login_window_seconds: parsed_var(LOGIN_WINDOW_SECONDS).await?,
            password_hash_ms_per_second: parsed_var(PASSWORD_HASH_MS_PER_SECOND).await?,
            shop: Shop::load().await?,
            account_mails_per_hour: parsed_var(ACCOUNT_MAILS_PER_HOUR).await?,
        })
    }

    /// One client address may fail more often than one account: several people can
    /// share an address, while an account is one person.
    pub fn address_max_failures(&self) -> i64 {
        self.login_max_failures * 4
    }

    /// Likewise for the mails one client address may ask for.
    pub fn address_mails_per_hour(&self) -> i64 {
        self.account_mails_per_hour * 4
    }
}
