//! One-time links mailed to an account's address: asking for a password reset and
//! setting the new password with its token; verifying an address and asking for a
//! new verification link. Each mail is recorded in the outbox in the transaction
//! that stores its token (`store::issue_link`), and reaches notifications' mail
//! queue, never an event, an inbox or a log.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use spinshop_kit::pg::db::Db;
use spinshop_kit::time::sleep;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use super::{Me, within_hash_budget};
use crate::config::Config;
use crate::domain::{Email, LinkPurpose, Password, hash_token, new_token, reset_mail, verify_mail};
use crate::password::hash_password;
use crate::store;

/// The least time a reset request takes to answer, whether the address has an
/// account or not: longer than either path takes, so their times can't be told apart.
const RESET_ANSWER_FLOOR: Duration = Duration::from_millis(400);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    token: String,
    new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

/// `POST /auth/password-reset`: mails a reset link when the address has an account.
/// The answer is the same 202 either way, after the same least time, so the form
/// tells nobody which addresses have accounts. Counted per address asked about and
/// per client address, known or not: 429 past either limit.
pub async fn request_password_reset(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let started = Instant::now();
    let config = Config::get().await?;
    let body: ResetBody = req.json()?;
    let email = Email::parse(&body.email)?;
    let db = Db::connect(req).await?;
    take_mail_budget(&db, req, config, format!("reset:email:{}", email.as_str())).await?;

    // The token and its mail are made whether or not they are sent.
    let token = new_token();
    let token_hash = hash_token(&token);
    let mail = reset_mail(&config.shop, email.as_str(), &token);
    if let Some((user, _)) = store::find_credentials(&db, &email).await? {
        store::issue_link(
            &db,
            user.id,
            LinkPurpose::PasswordReset,
            &token_hash,
            None,
            &mail,
        )
        .await?;
    }
    drop(db);
    if let Some(rest) = RESET_ANSWER_FLOOR.checked_sub(started.elapsed()) {
        sleep(rest).await;
    }
    ApiResponse::json(
        202,
        &json!({
            "status": "accepted",
            "message": "if an account has this address, a link to reset its password is on its way",
        }),
    )
}

/// `POST /auth/password-reset/confirm`: sets the password the token's account, ends
/// every session of it, and uses the token up. Following the link proves the
/// address too, so it counts as verified.
pub async fn confirm_password_reset(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let body: ConfirmBody = req.json()?;
    let new_password = Password::parse(
        body.new_password,
        config.password_min_length,
        "new_password",
    )?;
    let token_hash = hash_token(body.token.trim());
    // A token that can't be used costs no password hash. The hash is made with no
    // connection held and the token not yet taken: a hash the budget refuses now
    // leaves the link usable.
    let purpose = LinkPurpose::PasswordReset;
    if let Some(refusal) = store::link_state(&Db::connect(req).await?, purpose, &token_hash).await?
    {
        return Err(refusal.error(purpose));
    }
    let new_hash = within_hash_budget(config, || hash_password(new_password.as_str())).await??;
    let db = Db::connect(req).await?;
    db.transaction(async |db| {
        let (user_id, _) = store::use_link(db, LinkPurpose::PasswordReset, &token_hash)
            .await?
            .map_err(|refusal| refusal.error(LinkPurpose::PasswordReset))?;
        store::set_password_hash(db, user_id, &new_hash).await?;
        store::revoke_all_sessions(db, user_id).await?;
        store::mark_email_verified(db, user_id).await
    })
    .await?;
    Ok(ApiResponse::no_content())
}

/// `POST /auth/verify-email`: the address the token was mailed to is verified; a
/// new address waiting for it becomes the account's email.
pub async fn verify_email(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let body: TokenBody = req.json()?;
    let token_hash = hash_token(body.token.trim());
    let db = Db::connect(req).await?;
    let user = db
        .transaction(async |db| {
            let (user_id, email) = store::use_link(db, LinkPurpose::VerifyEmail, &token_hash)
                .await?
                .map_err(|refusal| refusal.error(LinkPurpose::VerifyEmail))?;
            let email = email.ok_or_else(|| ApiError::internal("a verify token names no email"))?;
            store::verify_email(db, user_id, &email).await
        })
        .await?;
    ApiResponse::ok(&user)
}

/// `POST /auth/verify-email/resend` (signed in): mails a new verification link to
/// the address waiting for it, or to the account's email; the older links stop
/// working. 409 `email_already_verified` when there is nothing to verify.
pub async fn resend_verification(req: &ApiRequest, Me { user, .. }: Me) -> ApiResult<ApiResponse> {
    let config = Config::get().await?;
    let to = match (&user.pending_email, user.email_verified) {
        (Some(pending), _) => pending.clone(),
        (None, false) => user.email.clone(),
        (None, true) => {
            return Err(ApiError::conflict(
                "email_already_verified",
                "the account's email is verified already",
            ));
        }
    };
    let db = Db::connect(req).await?;
    take_mail_budget(&db, req, config, format!("verify:user:{}", user.id)).await?;
    send_verification(&db, config, user.id, &to).await?;
    ApiResponse::json(202, &json!({"status": "sent", "to": to}))
}

/// Mails a link that verifies `to` for account `user_id` (after a registration, an
/// email change, or a resend).
pub(super) async fn send_verification(
    db: &Db,
    config: &Config,
    user_id: i64,
    to: &str,
) -> ApiResult<()> {
    let token = new_token();
    let mail = verify_mail(&config.shop, to, &token);
    store::issue_link(
        db,
        user_id,
        LinkPurpose::VerifyEmail,
        &hash_token(&token),
        Some(to),
        &mail,
    )
    .await
}

/// Counts a mail asked for against `key` (the address or account it is for, at most
/// `account_mails_per_hour`) and against the client's address (four times as many);
/// 429 when either has had its hour's mails, and then nothing is counted.
async fn take_mail_budget(
    db: &Db,
    req: &ApiRequest,
    config: &Config,
    key: String,
) -> ApiResult<()> {
    let keys: Vec<(String, i64)> = std::iter::once((key, config.account_mails_per_hour))
        .chain(
            req.client_ip()
                .map(|ip| (format!("addr:{ip}"), config.address_mails_per_hour())),
        )
        .collect();
    for (key, max) in &keys {
        let (requests, retry_after) = store::recent_mail_requests(db, key).await?;
        if requests >= *max {
            return Err(ApiError::RateLimited {
                retry_after_seconds: retry_after.max(1) as u64,
            });
        }
    }
    let keys: Vec<String> = keys.into_iter().map(|(key, _)| key).collect();
    store::record_mail_request(db, &keys).await
}
