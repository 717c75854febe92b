//! Who may read what: whose inbox a caller lists, and the static key a scheduler
//! may present to ask for a dispatch.

use sha2::{Digest, Sha256};
use spinshop_kit::{ApiError, ApiResult};

/// Whose notifications a caller reads: their own, or, for an admin, the user they
/// name with `?user_id=`. A customer naming someone else is refused.
pub fn inbox_owner(caller: i64, is_admin: bool, requested: Option<i64>) -> ApiResult<i64> {
    match requested {
        Some(user_id) if is_admin => Ok(user_id),
        Some(user_id) if user_id != caller => Err(ApiError::Forbidden(
            "only admins may read another user's notifications".into(),
        )),
        _ => Ok(caller),
    }
}

/// Whether `given` is the configured dispatch key. An empty configured key matches
/// nothing. Both are hashed first, so the comparison takes as long whatever they hold.
pub fn dispatch_key_matches(configured: &str, given: &str) -> bool {
    if configured.is_empty() {
        return false;
    }
    let (expected, given) = (Sha256::digest(configured), Sha256::digest(given));
    expected
        .iter()
        .zip(given.iter())
        .fold(0u8, |differ, (a, b)| differ | (a ^ b))
        == 0
}
