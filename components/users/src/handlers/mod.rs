//! HTTP handlers, one file per resource: parse the request, do the work, respond.
//! Request bodies and response views live beside their handlers. Who may call each is
//! the route table's (`lib.rs`): a handler for a signed-in user takes the [`Me`] the
//! check gives, one for admins an `Admin<Me>`.

pub mod accounts;
pub mod auth;
pub mod links;

use std::time::Instant;

use spinshop_kit::auth::{AccessClaims, bearer_token, verify_access_token};
use spinshop_kit::http::request::path_id;
use spinshop_kit::http::routes::Principal;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

use crate::budget::SharedBudget;
use crate::config::Config;
use crate::domain::User;
use crate::store;

/// The caller: their account, from a valid access token whose session is still
/// live, as the route table's check gives it to a handler. Unlike other services,
/// users checks the database: it owns the sessions. Every service asks this
/// (introspection), so the checks here hold everywhere.
pub struct Me {
    pub user: User,
    pub claims: AccessClaims,
}

impl Principal for Me {
    async fn identify(req: &ApiRequest) -> ApiResult<Me> {
        let db = Db::connect(req).await?;
        let config = Config::get().await?;
        let claims = verify_access_token(&config.jwt_secret, bearer_token(req)?)?;
        claims.check_lifetime(config.access_token_ttl_seconds)?;
        let user = store::user_with_live_session(&db, claims.user_id()?, &claims.sid)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("session ended or account deleted".into()))?;
        Ok(Me { user, claims })
    }

    /// Admin rights come from the account as stored now, not from the token's claim.
    fn is_admin(&self) -> bool {
        self.user.role_is_admin()
    }
}

/// Runs `hash` (computing or checking an argon2id hash) within the time the whole
/// shop may spend hashing each second (`password_hash_ms_per_second`), or answers 429
/// when this second's is spent. A hash is the costliest work a request can ask for,
/// and it holds one of the host's threads while it runs: however many clients flood
/// login and register, the other routes keep the rest of the CPU. Time, not a count
/// of hashes, so the budget means the same on a slow machine as on a fast one.
pub(super) async fn within_hash_budget<T>(
    config: &Config,
    hash: impl FnOnce() -> T,
) -> ApiResult<T> {
    let budget = SharedBudget::open("password-hash-ms", config.password_hash_ms_per_second).await;
    budget.take(HASH_MS_TAKEN_AHEAD).await?;
    let started = Instant::now();
    let outcome = hash();
    let took: u64 = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    budget.spend(took.saturating_sub(HASH_MS_TAKEN_AHEAD)).await;
    Ok(outcome)
}

/// What a hash takes from the budget before it runs (about its cost on a fast core),
/// so that hashes starting together see each other; the rest is counted when it ends.
const HASH_MS_TAKEN_AHEAD: u64 = 50;

pub(super) fn parse_user_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || {
        ApiError::not_found(format!("no user with id {raw}"))
    })
}

pub(super) fn no_such_user(id: i64) -> ApiError {
    ApiError::not_found(format!("no user with id {id}"))
}

pub(super) fn account_gone() -> ApiError {
    ApiError::Unauthorized("account deleted".into())
}
