//! Accounts: a user's own profile and password, and an admin's view and changes
//! of any account.

use serde::Deserialize;
use spinshop_kit::auth::Role;
use spinshop_kit::http::paging::Paging;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use super::links::send_verification;
use super::{Me, account_gone, no_such_user, parse_user_id, within_hash_budget};
use crate::config::Config;
use crate::domain::{AccountChange, Password};
use crate::password::{hash_password, verify_password};
use crate::store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChangeBody {
    current_password: String,
    new_password: String,
}

/// `PATCH /users/me`: a user may change their name and email, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilePatchBody {
    name: Option<String>,
    email: Option<String>,
}

/// `PATCH /users/{id}` by an admin: also the role.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminPatchBody {
    name: Option<String>,
    email: Option<String>,
    role: Option<Role>,
}

pub async fn get_me(Me { user, .. }: Me) -> ApiResult<ApiResponse> {
    ApiResponse::ok(&user)
}

/// A new email waits in `pending_email` until its owner follows the link mailed to
/// it; the account keeps its email until then. Asking for the current email again
/// drops a waiting one.
pub async fn update_me(req: &ApiRequest, Me { user, .. }: Me) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let db = Db::connect(req).await?;
    let body: ProfilePatchBody = req.json()?;
    let AccountChange { name, email, .. } =
        AccountChange::own(body.name.as_deref(), body.email.as_deref())?;
    let updated = db
        .transaction(async |db| {
            let name_only = AccountChange {
                name: name.clone(),
                ..AccountChange::default()
            };
            let mut updated = store::update_user(db, user.id, &name_only)
                .await?
                .ok_or_else(account_gone)?;
            if let Some(email) = &email {
                let pending = (email.as_str() != updated.email).then_some(email);
                updated = store::set_pending_email(db, user.id, pending)
                    .await?
                    .ok_or_else(account_gone)?;
                if let Some(pending) = pending {
                    send_verification(db, config, user.id, pending.as_str()).await?;
                }
            }
            Ok(updated)
        })
        .await?;
    ApiResponse::ok(&updated)
}

pub async fn delete_me(req: &ApiRequest, Me { user, .. }: Me) -> ApiResult<ApiResponse> {
    let db = Db::connect(req).await?;
    store::delete_user(&db, user.id).await?;
    Ok(ApiResponse::no_content())
}

/// Changes the password and ends every other session of the account.
pub async fn change_password(req: &ApiRequest, Me { user, claims }: Me) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let db = Db::connect(req).await?;
    let body: PasswordChangeBody = req.json()?;
    let new_password = Password::parse(
        body.new_password,
        config.password_min_length,
        "new_password",
    )?;
    let current_hash = store::password_hash(&db, user.id)
        .await?
        .ok_or_else(account_gone)?;
    if !within_hash_budget(config, || {
        verify_password(&body.current_password, &current_hash)
    })
    .await?
    {
        return Err(ApiError::Forbidden("current_password is incorrect".into()));
    }
    let new_hash = within_hash_budget(config, || hash_password(new_password.as_str())).await??;
    db.transaction(async |db| {
        store::set_password_hash(db, user.id, &new_hash).await?;
        store::revoke_other_sessions(db, user.id, &claims.sid).await
    })
    .await?;
    Ok(ApiResponse::no_content())
}

pub async fn list_users(req: &ApiRequest, _: Admin<Me>) -> ApiResult<ApiResponse> {
    let db = Db::connect(req).await?;
    let (users, total) = store::list_users(&db, Paging::from_request(req)?).await?;
    ApiResponse::page(&users, total)
}

/// An admin may read any account; anyone may read their own.
pub async fn get_user(
    req: &ApiRequest,
    id: &str,
    Me { user: caller, .. }: Me,
) -> ApiResult<ApiResponse> {
    let db = Db::connect(req).await?;
    let id = parse_user_id(id)?;
    if caller.id != id && !caller.role_is_admin() {
        return Err(ApiError::Forbidden("admin role required".into()));
    }
    let user = store::find_user(&db, id)
        .await?
        .ok_or_else(|| no_such_user(id))?;
    ApiResponse::ok(&user)
}

pub async fn update_user(req: &ApiRequest, id: &str, _: Admin<Me>) -> ApiResult<ApiResponse> {
    let db = Db::connect(req).await?;
    let id = parse_user_id(id)?;
    let body: AdminPatchBody = req.json()?;
    let change = AccountChange::by_admin(body.name.as_deref(), body.email.as_deref(), body.role)?;
    let user = store::update_user(&db, id, &change)
        .await?
        .ok_or_else(|| no_such_user(id))?;
    ApiResponse::ok(&user)
}

pub async fn delete_user(req: &ApiRequest, id: &str, _: Admin<Me>) -> ApiResult<ApiResponse> {
    let db = Db::connect(req).await?;
    let id = parse_user_id(id)?;
    if !store::delete_user(&db, id).await? {
        return Err(no_such_user(id));
    }
    Ok(ApiResponse::no_content())
}
