//! Configuration from Spin component variables: the only place secrets come from.
//!
//! Each service reads its own variables into one typed struct, in its `config.rs`,
//! loaded once per instance through [`PerInstance`] (a WASIp3 instance serves many
//! requests; an app's variables don't change while it runs). Every default lives in
//! `spin.toml`'s `[variables]` and nowhere in code: a component reads what its
//! manifest gives it.
//!
//! A variable that is missing or malformed is a fault of the deployment, not of the
//! request: loading fails with [`ApiError::Internal`] naming the variable, so the
//! request answers 500 without detail and the log line (see `service::serve`) says
//! which variable to fix.

use std::str::FromStr;
use std::sync::OnceLock;

use crate::http::error::{ApiError, ApiResult};

/// The variables kit itself reads, in every component that declares them.
pub const JWT_SECRET: &str = "jwt_secret";
pub const INTERNAL_SECRET: &str = "internal_secret";
pub(crate) const INTERNAL_MODE: &str = "internal_mode";
/// The service's Postgres URL (`spin.toml` maps each component's to its `*_db_url`).
pub(crate) const DB_URL: &str = "db_url";

/// Secrets that sign tokens are refused when shorter than this.
const MIN_SECRET_LENGTH: usize = 16;

/// A component variable; a missing one is a deployment fault, so it is an internal error.
pub async fn var(name: &str) -> ApiResult<String> {
    crate::sdk::variable(name)
        .await
        .map_err(|err| ApiError::internal(format!("variable {name} is not available: {err}")))
}

/// A component variable parsed into `T` (numbers, durations in seconds).
pub async fn parsed_var<T: FromStr>(name: &str) -> ApiResult<T> {
    let raw = var(name).await?;
    raw.trim()
        .parse()
        .map_err(|_| ApiError::internal(format!("variable {name} has an invalid value")))
}

/// A secret used to sign tokens; refused when too short to be safe.
pub async fn secret_var(name: &str) -> ApiResult<String> {
    let secret = var(name).await?;
    checked_secret(name, &secret)?;
    Ok(secret)
}

/// The secret `value` of the variable `name`, refused when too short to be safe: for
/// a secret that may stay empty while what it signs is not configured.
pub fn checked_secret<'v>(name: &str, value: &'v str) -> ApiResult<&'v str> {
    if value.len() < MIN_SECRET_LENGTH {
        return Err(ApiError::internal(format!(
            "variable {name} must be at least {MIN_SECRET_LENGTH} characters"
        )));
    }
    Ok(value)
}

/// A configuration read on the first request an instance serves and kept for the
/// rest of the instance's life; a static of the service's:
///
/// ```ignore
/// static CONFIG: PerInstance<Config> = PerInstance::new();
/// let config = CONFIG.get_or_load(Config::load).await?;
/// ```
///
/// A load that fails is not kept: the next request tries again (and fails with the
/// same error until the deployment is fixed).
pub struct PerInstance<T: 'static> {
    loaded: OnceLock<&'static T>,
}

impl<T: Sync + 'static> PerInstance<T> {
    pub const fn new() -> PerInstance<T> {
        PerInstance {
            loaded: OnceLock::new(),
        }
    }

    /// The configuration, loaded with `load` if this instance has none yet. Requests
    /// served at once by a fresh instance may each load it; the first kept wins.
    pub async fn get_or_load(
        &self,
        load: impl AsyncFnOnce() -> ApiResult<T>,
    ) -> ApiResult<&'static T> {
        if let Some(&loaded) = self.loaded.get() {
            return Ok(loaded);
        }
        let fresh = load().await?;
        // Kept for the instance's life: one value per instance, never dropped before it.
        Ok(*self.loaded.get_or_init(|| &*Box::leak(Box::new(fresh))))
    }
}

impl<T: Sync + 'static> Default for PerInstance<T> {
    fn default() -> Self {
        PerInstance::new()
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn a_configuration_is_loaded_once_and_a_failed_load_is_not_kept() {
        static CONFIG: PerInstance<u32> = PerInstance::new();
        let failed = block_on(CONFIG.get_or_load(async || Err(ApiError::internal("no"))));
        assert_eq!(failed.unwrap_err().status(), 500);
        assert_eq!(block_on(CONFIG.get_or_load(async || Ok(7))).unwrap(), &7);
        assert_eq!(block_on(CONFIG.get_or_load(async || Ok(8))).unwrap(), &7);
    }
}
