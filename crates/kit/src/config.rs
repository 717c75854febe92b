//! Configuration from Spin component variables: the only place secrets come from.

use std::str::FromStr;

use crate::error::{ApiError, ApiResult};

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
    if secret.len() < 16 {
        return Err(ApiError::internal(format!(
            "variable {name} must be at least 16 characters"
        )));
    }
    Ok(secret)
}
