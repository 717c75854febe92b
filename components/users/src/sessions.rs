//! Sessions: a login starts a refresh-token family; each refresh rotates the token
//! within it. This is the one workflow that register, login and refresh share, and
//! it writes through `store` while it signs tokens, so it is a module of its own
//! rather than a rule in `domain/` or a handler.

use spinshop_kit::ApiResult;
use spinshop_kit::auth::issue_access_token;
use spinshop_kit::pg::db::Db;

use crate::config::Config;
use crate::domain::{User, hash_token, new_token};
use crate::store;

/// What a session hands its user: a short-lived access token and the refresh token
/// that renews it.
pub struct Tokens {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// Starts a new session for `user` (login, register).
pub async fn start(db: &Db, config: &Config, user: User) -> ApiResult<Tokens> {
    let family_id = uuid::Uuid::new_v4().to_string();
    issue(db, config, user, &family_id).await
}

/// What presenting a refresh token led to.
pub enum Rotation {
    /// A live token was exchanged for a new pair.
    Rotated(Box<Tokens>),
    /// An already-rotated token came back: a sign of theft, so its whole session
    /// (family) was revoked.
    ReuseDetected,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Exchanges a refresh token for a new pair within its session.
pub async fn rotate(db: &Db, config: &Config, refresh_token: &str) -> ApiResult<Rotation> {
    let token_hash = hash_token(refresh_token);
    let Some((user_id, family_id)) = store::rotate_refresh_token(db, &token_hash).await? else {
        return match store::rotated_token_family(db, &token_hash).await? {
            Some(family_id) => {
                store::revoke_family(db, &family_id).await?;
                Ok(Rotation::ReuseDetected)
            }
            None => Ok(Rotation::Invalid),
        };
    };
    match store::find_user(db, user_id).await? {
        Some(user) => Ok(Rotation::Rotated(Box::new(
            issue(db, config, user, &family_id).await?,
        ))),
        None => Ok(Rotation::Invalid),
    }
}

/// Ends the session `refresh_token` belongs to; an unknown token changes nothing.
pub async fn end(db: &Db, refresh_token: &str) -> ApiResult<()> {
    if let Some(family) = store::family_of(db, &hash_token(refresh_token)).await? {
        store::revoke_family(db, &family).await?;
    }
    Ok(())
}

async fn issue(db: &Db, config: &Config, user: User, family_id: &str) -> ApiResult<Tokens> {
    let refresh_token = new_token();
    store::insert_refresh_token(
        db,
        user.id,
        family_id,
        &hash_token(&refresh_token),
        config.refresh_token_ttl_seconds,
    )
    .await?;
    let (access_token, _) = issue_access_token(
        &config.jwt_secret,
        user.id,
        user.role,
        family_id,
        config.access_token_ttl_seconds,
    )?;
    Ok(Tokens {
        user,
        access_token,
        refresh_token,
        expires_in: config.access_token_ttl_seconds,
    })
}
