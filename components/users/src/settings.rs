//! The users service's configuration, read from its Spin variables. Its own module:
//! every handler and the session workflow read it.

use spinshop_kit::ApiResult;
use spinshop_kit::config::{parsed_var, secret_var};

pub struct Settings {
    pub jwt_secret: String,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub password_min_length: usize,
    pub login_max_failures: i64,
    pub login_window_seconds: i64,
    /// Milliseconds the whole shop may spend each second hashing passwords
    /// (register, login, password change); 0: no budget.
    pub password_hash_ms_per_second: u64,
}

impl Settings {
    pub async fn load() -> ApiResult<Settings> {
        Ok(Settings {
            jwt_secret: secret_var("jwt_secret").await?,
            access_token_ttl_seconds: parsed_var("access_token_ttl_seconds").await?,
            refresh_token_ttl_seconds: parsed_var("refresh_token_ttl_seconds").await?,
            password_min_length: parsed_var("password_min_length").await?,
            login_max_failures: parsed_var("login_max_failures").await?,
            login_window_seconds: parsed_var("login_window_seconds").await?,
            password_hash_ms_per_second: parsed_var("password_hash_ms_per_second").await?,
        })
    }

    /// One client address may fail more often than one account: several people can
    /// share an address, while an account is one person.
    pub fn address_max_failures(&self) -> i64 {
        self.login_max_failures * 4
    }
}
