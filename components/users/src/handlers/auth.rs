//! Signing up and in: register, login (JSON or an OAuth2 password-grant form),
//! introspection for sibling services, refresh-token rotation and logout.

use serde::{Deserialize, Serialize};
use serde_json::json;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use super::links::send_verification;
use super::{Me, within_hash_budget};
use crate::config::Config;
use crate::domain::{Email, Password, User, parse_name};
use crate::password::{decoy_hash, hash_password, verify_password};
use crate::sessions::{self, Rotation, Tokens};
use crate::store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    email: String,
    password: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

/// The body of register, login and refresh responses. `token` repeats
/// `access_token` too, for clients that read that name.
#[derive(Serialize)]
struct TokenResponse {
    user: User,
    token: String,
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: i64,
}

impl From<Tokens> for TokenResponse {
    fn from(tokens: Tokens) -> Self {
        TokenResponse {
            user: tokens.user,
            token: tokens.access_token.clone(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: "bearer",
            expires_in: tokens.expires_in,
        }
    }
}

pub async fn register(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let body: RegisterBody = req.json()?;
    let email = Email::parse(&body.email)?;
    let password = Password::parse(body.password, config.password_min_length, "password")?;
    let name = body.name.as_deref().map(parse_name).transpose()?;
    let hash = within_hash_budget(config, || hash_password(password.as_str())).await??;

    let db = Db::connect(req).await?;
    let tokens = db
        .transaction(async |db| {
            let user = store::insert_user(db, &email, name.as_deref(), &hash).await?;
            send_verification(db, config, user.id, &user.email).await?;
            sessions::start(db, config, user).await
        })
        .await?;
    ApiResponse::created(&TokenResponse::from(tokens))
}

/// JSON `{email, password}` or an OAuth2 password-grant form (`username`, `password`).
/// An unknown email and a wrong password get the same answer, after the same work.
pub async fn login(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let body = login_body(req)?;
    let invalid = || ApiError::Unauthorized("invalid email or password".into());
    let email = Email::parse(&body.email).map_err(|_| invalid())?;

    let account_key = format!("email:{}", email.as_str());
    let address_key = req.client_ip().map(|ip| format!("addr:{ip}"));
    let account = {
        let db = Db::connect(req).await?;
        check_rate_limit(&db, config, &account_key, address_key.as_deref()).await?;
        store::find_credentials(&db, &email).await?
    };
    let hash = account
        .as_ref()
        .map_or(decoy_hash(), |(_, hash)| hash.as_str());
    // No connection is held while the hash is checked: it takes a while, and the
    // connection budget is shared (see `kit::pg::db`).
    let password_ok = within_hash_budget(config, || verify_password(&body.password, hash)).await?;
    let db = Db::connect(req).await?;
    match account {
        Some((user, _)) if password_ok => {
            store::clear_failures(&db, &account_key).await?;
            ApiResponse::ok(&TokenResponse::from(
                sessions::start(&db, config, user).await?,
            ))
        }
        _ => {
            let keys: Vec<String> = std::iter::once(account_key).chain(address_key).collect();
            store::record_failures(&db, &keys, config.login_window_seconds).await?;
            Err(invalid())
        }
    }
}

fn login_body(req: &ApiRequest) -> ApiResult<LoginBody> {
    if !req.is_form() {
        return req.json();
    }
    let form = req.form();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| ApiError::validation(format!("missing form field `{name}`")))
    };
    Ok(LoginBody {
        email: field("username")?,
        password: field("password")?,
    })
}

/// Refuses a login while the account or the client address has too many recent failures.
async fn check_rate_limit(
    db: &Db,
    config: &Config,
    account_key: &str,
    address_key: Option<&str>,
) -> ApiResult<()> {
    let limits = std::iter::once((account_key, config.login_max_failures))
        .chain(address_key.map(|key| (key, config.address_max_failures())));
    for (key, max_failures) in limits {
        let (failures, retry_after) =
            store::recent_failures(db, key, config.login_window_seconds).await?;
        if failures >= max_failures {
            return Err(ApiError::RateLimited {
                retry_after_seconds: retry_after.max(1) as u64,
            });
        }
    }
    Ok(())
}

pub async fn introspect(Me { user, claims }: Me) -> ApiResult<ApiResponse> {
    ApiResponse::ok(&json!({
        "active": true,
        "user_id": user.id,
        "email": user.email,
        "role": user.role,
        "email_verified": user.email_verified,
        "exp": claims.exp,
    }))
}

pub async fn refresh(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let body: RefreshBody = req.json()?;
    let db = Db::connect(req).await?;
    // Every outcome commits: a detected reuse must leave its session revoked.
    match db
        .transaction(async |db| sessions::rotate(db, config, &body.refresh_token).await)
        .await?
    {
        Rotation::Rotated(tokens) => ApiResponse::ok(&TokenResponse::from(*tokens)),
        Rotation::ReuseDetected => Err(ApiError::Unauthorized(
            "refresh token reuse detected; the session was revoked".into(),
        )),
        Rotation::Invalid => Err(ApiError::Unauthorized(
            "invalid or expired refresh token".into(),
        )),
    }
}

/// Ends the session the refresh token belongs to. Unknown tokens are accepted
/// silently: logging out twice is not an error.
pub async fn logout(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let body: RefreshBody = req.json()?;
    sessions::end(&Db::connect(req).await?, &body.refresh_token).await?;
    Ok(ApiResponse::no_content())
}
