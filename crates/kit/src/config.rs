//! Configuration from Spin component variables: the only place secrets come from.

use std::str::FromStr;

use crate::error::{ApiError, ApiResult};

/// A component variable; a missing one is a deployment fault, so it is an internal error.
pub fn var(name: &str) -> ApiResult<String> {
    spin_sdk::variables::get(name)
        .map_err(|err| ApiError::internal(format!("variable {name} is not available: {err}")))
}

/// A component variable parsed into `T` (numbers, durations in seconds).
pub fn parsed_var<T: FromStr>(name: &str) -> ApiResult<T> {
    let raw = var(name)?;
    raw.trim()
        .parse()
        .map_err(|_| ApiError::internal(format!("variable {name} has an invalid value")))
}

/// A secret used to sign tokens; refused when too short to be safe.
pub fn secret_var(name: &str) -> ApiResult<String> {
    let secret = var(name)?;
    if secret.len() < 16 {
        return Err(ApiError::internal(format!(
            "variable {name} must be at least 16 characters"
        )));
    }
    Ok(secret)
}
