//! HTTP handlers: parse the request, check who is calling, do the work, respond.

use serde_json::json;
use spinshop_kit::auth::{AccessClaims, bearer_token, verify_access_token};
use spinshop_kit::db::Db;
use spinshop_kit::paging::Paging;
use spinshop_kit::password::{decoy_hash, hash_password, verify_password};
use spinshop_kit::request::path_id;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use crate::domain::{
    AccountChange, AdminPatchBody, Email, LoginBody, Password, PasswordChangeBody,
    ProfilePatchBody, RefreshBody, RegisterBody, User, client_ip, parse_name,
};
use crate::sessions::{self, Rotation};
use crate::settings::Settings;
use crate::store;

pub fn register(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let settings = Settings::load()?;
    let body: RegisterBody = req.json()?;
    let email = Email::parse(&body.email)?;
    let password = Password::parse(body.password, settings.password_min_length, "password")?;
    let name = body.name.as_deref().map(parse_name).transpose()?;
    let hash = hash_password(password.as_str())?;

    let db = Db::connect()?;
    let tokens = db.transaction(|db| {
        let user = store::insert_user(db, &email, name.as_deref(), &hash)?;
        sessions::start(db, &settings, user)
    })?;
    ApiResponse::created(&tokens)
}

/// JSON `{email, password}` or an OAuth2 password-grant form (`username`, `password`).
/// An unknown email and a wrong password get the same answer, after the same work.
pub fn login(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let settings = Settings::load()?;
    let body = login_body(req)?;
    let invalid = || ApiError::Unauthorized("invalid email or password".into());
    let email = Email::parse(&body.email).map_err(|_| invalid())?;

    let account_key = format!("email:{}", email.as_str());
    let address_key = client_ip(req.client_addr()).map(|ip| format!("addr:{ip}"));
    let account = {
        let db = Db::connect()?;
        check_rate_limit(&db, &settings, &account_key, address_key.as_deref())?;
        store::find_credentials(&db, &email)?
    };
    let hash = account
        .as_ref()
        .map_or(decoy_hash(), |(_, hash)| hash.as_str());
    // No connection is held while the hash is checked: it takes a while, and the
    // connection budget is shared (see `kit::db`).
    let password_ok = verify_password(&body.password, hash);
    let db = Db::connect()?;
    match account {
        Some((user, _)) if password_ok => {
            store::clear_failures(&db, &account_key)?;
            ApiResponse::ok(&sessions::start(&db, &settings, user)?)
        }
        _ => {
            let keys: Vec<String> = std::iter::once(account_key).chain(address_key).collect();
            store::record_failures(&db, &keys, settings.login_window_seconds)?;
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
fn check_rate_limit(
    db: &Db,
    settings: &Settings,
    account_key: &str,
    address_key: Option<&str>,
) -> ApiResult<()> {
    let limits = std::iter::once((account_key, settings.login_max_failures))
        .chain(address_key.map(|key| (key, settings.address_max_failures())));
    for (key, max_failures) in limits {
        let (failures, retry_after) =
            store::recent_failures(db, key, settings.login_window_seconds)?;
        if failures >= max_failures {
            return Err(ApiError::RateLimited {
                retry_after_seconds: retry_after.max(1) as u64,
            });
        }
    }
    Ok(())
}

pub fn introspect(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let (user, claims) = current_user(req, &Db::connect()?)?;
    ApiResponse::ok(&json!({
        "active": true,
        "user_id": user.id,
        "email": user.email,
        "role": user.role,
        "exp": claims.exp,
    }))
}

pub fn refresh(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let settings = Settings::load()?;
    let body: RefreshBody = req.json()?;
    let db = Db::connect()?;
    // Every outcome commits: a detected reuse must leave its session revoked.
    match db.transaction(|db| sessions::rotate(db, &settings, &body.refresh_token))? {
        Rotation::Rotated(tokens) => ApiResponse::ok(&tokens),
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
pub fn logout(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let body: RefreshBody = req.json()?;
    let db = Db::connect()?;
    if let Some(family) = store::family_of(&db, &sessions::hash_refresh_token(&body.refresh_token))?
    {
        store::revoke_family(&db, &family)?;
    }
    Ok(ApiResponse::no_content())
}

pub fn get_me(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let (user, _) = current_user(req, &Db::connect()?)?;
    ApiResponse::ok(&user)
}

pub fn update_me(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let db = Db::connect()?;
    let (user, _) = current_user(req, &db)?;
    let change = AccountChange::from_profile(req.json::<ProfilePatchBody>()?)?;
    let updated = store::update_user(&db, user.id, &change)?.ok_or_else(account_gone)?;
    ApiResponse::ok(&updated)
}

pub fn delete_me(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let db = Db::connect()?;
    let (user, _) = current_user(req, &db)?;
    store::delete_user(&db, user.id)?;
    Ok(ApiResponse::no_content())
}

/// Changes the password and ends every other session of the account.
pub fn change_password(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let settings = Settings::load()?;
    let db = Db::connect()?;
    let (user, claims) = current_user(req, &db)?;
    let body: PasswordChangeBody = req.json()?;
    let new_password = Password::parse(
        body.new_password,
        settings.password_min_length,
        "new_password",
    )?;
    let current_hash = store::password_hash(&db, user.id)?.ok_or_else(account_gone)?;
    if !verify_password(&body.current_password, &current_hash) {
        return Err(ApiError::Forbidden("current_password is incorrect".into()));
    }
    let new_hash = hash_password(new_password.as_str())?;
    db.transaction(|db| {
        store::set_password_hash(db, user.id, &new_hash)?;
        store::revoke_other_sessions(db, user.id, &claims.sid)
    })?;
    Ok(ApiResponse::no_content())
}

pub fn list_users(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let db = Db::connect()?;
    require_admin(req, &db)?;
    let (users, total) = store::list_users(&db, Paging::from_request(req)?)?;
    ApiResponse::page(&users, total)
}

/// An admin may read any account; anyone may read their own.
pub fn get_user(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let db = Db::connect()?;
    let (caller, _) = current_user(req, &db)?;
    let id = parse_user_id(id)?;
    if caller.id != id && !caller.role_is_admin() {
        return Err(ApiError::Forbidden("admin role required".into()));
    }
    let user = store::find_user(&db, id)?.ok_or_else(|| no_such_user(id))?;
    ApiResponse::ok(&user)
}

pub fn update_user(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let db = Db::connect()?;
    require_admin(req, &db)?;
    let id = parse_user_id(id)?;
    let change = AccountChange::from_admin(req.json::<AdminPatchBody>()?)?;
    let user = store::update_user(&db, id, &change)?.ok_or_else(|| no_such_user(id))?;
    ApiResponse::ok(&user)
}

pub fn delete_user(req: &ApiRequest, id: &str) -> ApiResult<ApiResponse> {
    let db = Db::connect()?;
    require_admin(req, &db)?;
    let id = parse_user_id(id)?;
    if !store::delete_user(&db, id)? {
        return Err(no_such_user(id));
    }
    Ok(ApiResponse::no_content())
}

/// The caller's account, from a valid access token whose session is still live.
/// Unlike other services, users checks the database: it owns the sessions. Every
/// service asks this (introspection), so the checks here hold everywhere.
fn current_user(req: &ApiRequest, db: &Db) -> ApiResult<(User, AccessClaims)> {
    let settings = Settings::load()?;
    let claims = verify_access_token(&settings.jwt_secret, bearer_token(req)?)?;
    claims.check_lifetime(settings.access_token_ttl_seconds)?;
    let user = store::user_with_live_session(db, claims.user_id()?, &claims.sid)?
        .ok_or_else(|| ApiError::Unauthorized("session ended or account deleted".into()))?;
    Ok((user, claims))
}

/// Admin rights come from the account as stored now, not from the token's claim.
fn require_admin(req: &ApiRequest, db: &Db) -> ApiResult<User> {
    let (user, _) = current_user(req, db)?;
    if !user.role_is_admin() {
        return Err(ApiError::Forbidden("admin role required".into()));
    }
    Ok(user)
}

fn parse_user_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || {
        ApiError::not_found(format!("no user with id {raw}"))
    })
}

fn no_such_user(id: i64) -> ApiError {
    ApiError::not_found(format!("no user with id {id}"))
}

fn account_gone() -> ApiError {
    ApiError::Unauthorized("account deleted".into())
}
