//! Sessions: a login starts a refresh-token family; each refresh rotates the token
//! within it. Refresh tokens are random and stored only as SHA-256 hashes.

use serde::Serialize;
use spinshop_kit::ApiResult;
use spinshop_kit::auth::issue_access_token;
use spinshop_kit::db::Db;
use spinshop_kit::digest::sha256_hex;

use crate::domain::User;
use crate::settings::Settings;
use crate::store;

/// The body of register, login and refresh responses. `token` repeats
/// `access_token` too, for clients that read that name.
#[derive(Serialize)]
pub struct TokenResponse {
    pub user: User,
    pub token: String,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// A new refresh token: 256 bits from two random UUIDs' random bits, hex encoded.
pub fn new_refresh_token() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!("{}{}", a.simple(), b.simple())
}

pub fn hash_refresh_token(token: &str) -> String {
    sha256_hex(&[token.as_bytes()])
}

/// Starts a new session for `user` (login, register).
pub fn start(db: &Db, settings: &Settings, user: User) -> ApiResult<TokenResponse> {
    let family_id = uuid::Uuid::new_v4().to_string();
    issue(db, settings, user, &family_id)
}

/// What presenting a refresh token led to.
pub enum Rotation {
    /// A live token was exchanged for a new pair.
    Rotated(Box<TokenResponse>),
    /// An already-rotated token came back: a sign of theft, so its whole session
    /// (family) was revoked.
    ReuseDetected,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Exchanges a refresh token for a new pair within its session.
pub fn rotate(db: &Db, settings: &Settings, refresh_token: &str) -> ApiResult<Rotation> {
    let token_hash = hash_refresh_token(refresh_token);
    let Some((user_id, family_id)) = store::rotate_refresh_token(db, &token_hash)? else {
        return match store::rotated_token_family(db, &token_hash)? {
            Some(family_id) => {
                store::revoke_family(db, &family_id)?;
                Ok(Rotation::ReuseDetected)
            }
            None => Ok(Rotation::Invalid),
        };
    };
    match store::find_user(db, user_id)? {
        Some(user) => Ok(Rotation::Rotated(Box::new(issue(
            db, settings, user, &family_id,
        )?))),
        None => Ok(Rotation::Invalid),
    }
}

fn issue(db: &Db, settings: &Settings, user: User, family_id: &str) -> ApiResult<TokenResponse> {
    let refresh_token = new_refresh_token();
    store::insert_refresh_token(
        db,
        user.id,
        family_id,
        &hash_refresh_token(&refresh_token),
        settings.refresh_token_ttl_seconds,
    )?;
    let (access_token, _) = issue_access_token(
        &settings.jwt_secret,
        user.id,
        user.role,
        family_id,
        settings.access_token_ttl_seconds,
    )?;
    Ok(TokenResponse {
        user,
        token: access_token.clone(),
        access_token,
        refresh_token,
        token_type: "bearer",
        expires_in: settings.access_token_ttl_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_long_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let hash = hash_refresh_token(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, a);
        assert_eq!(hash, hash_refresh_token(&a));
    }
}
