//! Every SQL statement of the users service, and row decoding. A registration and
//! a password change record their event in the same transaction
//! (`spinshop_kit::pg::outbox`).

use spinshop_kit::auth::Role;
use spinshop_kit::contracts::{MailData, UserData, event_types};
use spinshop_kit::http::paging::{self, Paging};
use spinshop_kit::pg::db::{Db, DbError, Param, Row, text};
use spinshop_kit::pg::outbox::{self, NewEvent, Outbox};
use spinshop_kit::{ApiError, ApiResult, ts};

use crate::SERVICE;
use crate::domain::{AccountChange, Email, LinkPurpose, TokenRefusal, User};

/// Where users' events wait until notifications has them.
pub const OUTBOX: Outbox = Outbox::new("users", SERVICE, outbox::to_notifications);

/// Records the event `kind` about `user` in the caller's transaction: who the
/// account is, never anything secret.
async fn record_event(db: &Db, kind: &str, user: &User) -> ApiResult<()> {
    OUTBOX
        .record(
            db,
            NewEvent {
                kind,
                aggregate_type: "user",
                aggregate_id: user.id,
                user_id: Some(user.id),
                data: serde_json::to_value(UserData {
                    id: user.id,
                    email: user.email.clone(),
                    name: user.name.clone(),
                })
                .map_err(|err| ApiError::internal(err.to_string()))?,
            },
        )
        .await
}

const USER_COLUMNS: &str = concat!(
    "id, email, name, role, email_verified, pending_email, ",
    ts!("created_at"),
    " AS created_at, ",
    ts!("updated_at"),
    " AS updated_at"
);

/// Two accounts can't share an email; the unique constraint decides, so two
/// registrations or email changes at once can't both win.
fn email_taken() -> ApiError {
    ApiError::conflict("email_taken", "an account with this email already exists")
}

fn email_conflict(err: DbError) -> ApiError {
    if err.violates("users_email_key") {
        email_taken()
    } else {
        err.into()
    }
}

/// Session ids are UUIDs, sent as such so Postgres compares them as UUIDs.
fn uuid_param(id: &str) -> Param {
    Param::Uuid(id.to_string())
}

fn decode_user(row: &Row) -> ApiResult<User> {
    let role: String = row.get("role")?;
    Ok(User {
        id: row.get("id")?,
        email: row.get("email")?,
        name: row.get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| ApiError::internal(format!("unknown role {role}")))?,
        email_verified: row.get("email_verified")?,
        pending_email: row.get("pending_email")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

async fn one_user(db: &Db, sql: &str, params: &[Param]) -> ApiResult<Option<User>> {
    let rows = db.query(sql, params).await?;
    rows.first().map(|row| decode_user(&row)).transpose()
}

/// Creates an account; 409 `email_taken` when the email already has one.
pub async fn insert_user(
    db: &Db,
    email: &Email,
    name: Option<&str>,
    password_hash: &str,
) -> ApiResult<User> {
    let sql = format!(
        "INSERT INTO users.users (email, name, password_hash) VALUES ($1, $2, $3) \
         ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}"
    );
    let params = [
        text(email.as_str()),
        name.map(str::to_string).into(),
        text(password_hash),
    ];
    db.transaction(async |db| {
        let user = one_user(db, &sql, &params).await?.ok_or_else(email_taken)?;
        record_event(db, event_types::USER_REGISTERED, &user).await?;
        Ok(user)
    })
    .await
}

pub async fn find_user(db: &Db, id: i64) -> ApiResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users.users WHERE id = $1");
    one_user(db, &sql, &[id.into()]).await
}

/// The account and its password hash, for login.
pub async fn find_credentials(db: &Db, email: &Email) -> ApiResult<Option<(User, String)>> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users.users WHERE email = $1");
    let rows = db.query(&sql, &[text(email.as_str())]).await?;
    rows.first()
        .map(|row| Ok((decode_user(&row)?, row.get("password_hash")?)))
        .transpose()
}

pub async fn password_hash(db: &Db, id: i64) -> ApiResult<Option<String>> {
    let rows = db
        .query(
            "SELECT password_hash FROM users.users WHERE id = $1",
            &[id.into()],
        )
        .await?;
    rows.first().map(|row| row.get("password_hash")).transpose()
}

pub async fn list_users(db: &Db, paging: Paging) -> ApiResult<(Vec<User>, i64)> {
    paging::fetch_page(
        db,
        USER_COLUMNS,
        "FROM users.users",
        "id",
        &[],
        paging,
        decode_user,
    )
    .await
}

/// Applies the fields `change` sets; `None` when there is no such account, 409
/// `email_taken` when another account has the new email. The update skips a taken
/// email instead of failing on it; two changes to one free email at the same
/// moment still meet the unique constraint, and the loser gets the same 409.
pub async fn update_user(db: &Db, id: i64, change: &AccountChange) -> ApiResult<Option<User>> {
    let sql = format!(
        "UPDATE users.users SET \
           name = COALESCE($2, name), \
           email = COALESCE($3, email), \
           email_verified = email_verified AND email = COALESCE($3, email), \
           pending_email = CASE WHEN pending_email = $3 THEN NULL ELSE pending_email END, \
           role = COALESCE($4, role), \
           updated_at = now() \
         WHERE id = $1 AND NOT EXISTS \
           (SELECT 1 FROM users.users other WHERE other.email = $3 AND other.id <> $1) \
         RETURNING {USER_COLUMNS}"
    );
    let params = [
        id.into(),
        change.name.clone().into(),
        change.email.as_ref().map(|e| e.as_str().to_string()).into(),
        change.role.map(|r| r.as_str().to_string()).into(),
    ];
    let rows = db.query(&sql, &params).await.map_err(email_conflict)?;
    match rows.first() {
        Some(row) => decode_user(&row).map(Some),
        None if change.email.is_some() && find_user(db, id).await?.is_some() => Err(email_taken()),
        None => Ok(None),
    }
}

/// Sets a new password hash; the user hears of it (`user.password_changed`).
pub async fn set_password_hash(db: &Db, id: i64, password_hash: &str) -> ApiResult<()> {
    let sql = format!(
        "UPDATE users.users SET password_hash = $2, updated_at = now() WHERE id = $1          RETURNING {USER_COLUMNS}"
    );
    db.transaction(async |db| {
        if let Some(user) = one_user(db, &sql, &[id.into(), text(password_hash)]).await? {
            record_event(db, event_types::USER_PASSWORD_CHANGED, &user).await?;
        }
        Ok(())
    })
    .await
}

/// Deletes an account; its refresh tokens go with it (ON DELETE CASCADE).
pub async fn delete_user(db: &Db, id: i64) -> ApiResult<bool> {
    Ok(db
        .execute("DELETE FROM users.users WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

// Sessions -------------------------------------------------------------------

pub async fn insert_refresh_token(
    db: &Db,
    user_id: i64,
    family_id: &str,
    token_hash: &str,
    ttl_seconds: i64,
) -> ApiResult<()> {
    db.execute(
        "INSERT INTO users.refresh_tokens (user_id, family_id, token_hash, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        &[
            user_id.into(),
            uuid_param(family_id),
            text(token_hash),
            (ttl_seconds as f64).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Marks a live token as rotated, in one conditional statement so two concurrent
/// refreshes with one token can't both succeed. Returns its user and family.
pub async fn rotate_refresh_token(db: &Db, token_hash: &str) -> ApiResult<Option<(i64, String)>> {
    let rows = db
        .query(
            "UPDATE users.refresh_tokens SET rotated_at = now() \
         WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL \
           AND expires_at > now() \
         RETURNING user_id, family_id::text AS family_id",
            &[text(token_hash)],
        )
        .await?;
    rows.first()
        .map(|row| Ok((row.get("user_id")?, row.get("family_id")?)))
        .transpose()
}

/// The family of a token that was already rotated (a replayed token).
pub async fn rotated_token_family(db: &Db, token_hash: &str) -> ApiResult<Option<String>> {
    let rows = db
        .query(
            "SELECT family_id::text AS family_id FROM users.refresh_tokens \
         WHERE token_hash = $1 AND rotated_at IS NOT NULL",
            &[text(token_hash)],
        )
        .await?;
    rows.first().map(|row| row.get("family_id")).transpose()
}

pub async fn family_of(db: &Db, token_hash: &str) -> ApiResult<Option<String>> {
    let rows = db
        .query(
            "SELECT family_id::text AS family_id FROM users.refresh_tokens WHERE token_hash = $1",
            &[text(token_hash)],
        )
        .await?;
    rows.first().map(|row| row.get("family_id")).transpose()
}

pub async fn revoke_family(db: &Db, family_id: &str) -> ApiResult<()> {
    db.execute(
        "UPDATE users.refresh_tokens SET revoked_at = now() \
         WHERE family_id = $1 AND revoked_at IS NULL",
        &[uuid_param(family_id)],
    )
    .await?;
    Ok(())
}

/// Revokes every session of a user but `keep_family` (after a password change).
pub async fn revoke_other_sessions(db: &Db, user_id: i64, keep_family: &str) -> ApiResult<()> {
    db.execute(
        "UPDATE users.refresh_tokens SET revoked_at = now() \
         WHERE user_id = $1 AND family_id <> $2 AND revoked_at IS NULL",
        &[user_id.into(), uuid_param(keep_family)],
    )
    .await?;
    Ok(())
}

/// The account behind an access token, provided its session is still live.
pub async fn user_with_live_session(
    db: &Db,
    user_id: i64,
    family_id: &str,
) -> ApiResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users.users u WHERE u.id = $1 AND EXISTS ( \
           SELECT 1 FROM users.refresh_tokens t \
           WHERE t.user_id = u.id AND t.family_id = $2 AND t.revoked_at IS NULL)"
    );
    // A malformed session id can't name a live session.
    if uuid::Uuid::parse_str(family_id).is_err() {
        return Ok(None);
    }
    one_user(db, &sql, &[user_id.into(), uuid_param(family_id)]).await
}

// Login rate limiting --------------------------------------------------------

/// Failures recorded for `key` within the window, and the seconds until the oldest
/// of them leaves it.
pub async fn recent_failures(db: &Db, key: &str, window_seconds: i64) -> ApiResult<(i64, i64)> {
    let rows = db
        .query(
            "SELECT count(*) AS failures, \
           COALESCE(ceil(extract(epoch FROM \
             min(failed_at) + make_interval(secs => $2) - now()))::bigint, 0) AS retry_after \
         FROM users.login_failures \
         WHERE key = $1 AND failed_at > now() - make_interval(secs => $2)",
            &[text(key), (window_seconds as f64).into()],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::internal("count returned no row"))?;
    Ok((row.get("failures")?, row.get("retry_after")?))
}

/// Records failed logins and forgets the ones that left the window.
pub async fn record_failures(db: &Db, keys: &[String], window_seconds: i64) -> ApiResult<()> {
    for key in keys {
        db.execute(
            "INSERT INTO users.login_failures (key) VALUES ($1)",
            &[text(key.as_str())],
        )
        .await?;
    }
    db.execute(
        "DELETE FROM users.login_failures WHERE failed_at < now() - make_interval(secs => $1)",
        &[(window_seconds as f64).into()],
    )
    .await?;
    Ok(())
}

pub async fn clear_failures(db: &Db, key: &str) -> ApiResult<()> {
    db.execute(
        "DELETE FROM users.login_failures WHERE key = $1",
        &[text(key)],
    )
    .await?;
    Ok(())
}

// One-time links ----------------------------------------------------------------

/// Issues a link's token for `user_id` and records its mail, in one transaction:
/// the account's earlier unused tokens of the purpose are superseded, and the mail
/// leaves through the outbox only if the token is stored. `email` is the address a
/// verification token verifies.
pub async fn issue_link(
    db: &Db,
    user_id: i64,
    purpose: LinkPurpose,
    token_hash: &str,
    email: Option<&str>,
    mail: &MailData,
) -> ApiResult<()> {
    db.transaction(async |db| {
        db.execute(
            "UPDATE users.account_tokens SET superseded_at = now() \
             WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND superseded_at IS NULL",
            &[user_id.into(), text(purpose.as_str())],
        )
        .await?;
        db.execute(
            "INSERT INTO users.account_tokens (user_id, purpose, token_hash, email, expires_at) \
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
            &[
                user_id.into(),
                text(purpose.as_str()),
                text(token_hash),
                email.map(str::to_string).into(),
                (purpose.ttl_seconds() as f64).into(),
            ],
        )
        .await?;
        OUTBOX.record_mail(db, user_id, mail).await
    })
    .await
}

/// A live token used: marks it used, in one conditional statement so a token is
/// used once however many requests present it at once. Its account and the address
/// it names; otherwise why it can't be used.
pub async fn use_link(
    db: &Db,
    purpose: LinkPurpose,
    token_hash: &str,
) -> ApiResult<Result<(i64, Option<String>), TokenRefusal>> {
    let rows = db
        .query(
            "UPDATE users.account_tokens SET used_at = now() \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL \
               AND superseded_at IS NULL AND expires_at > now() \
             RETURNING user_id, email",
            &[text(token_hash), text(purpose.as_str())],
        )
        .await?;
    if let Some(row) = rows.first() {
        return Ok(Ok((row.get("user_id")?, row.get("email")?)));
    }
    Ok(Err(link_state(db, purpose, token_hash)
        .await?
        .unwrap_or(TokenRefusal::Expired)))
}

/// Why a token can't be used now; `None` while it can (read only: the token stays
/// live until [`use_link`] uses it).
pub async fn link_state(
    db: &Db,
    purpose: LinkPurpose,
    token_hash: &str,
) -> ApiResult<Option<TokenRefusal>> {
    let rows = db
        .query(
            "SELECT used_at IS NOT NULL AS used, superseded_at IS NOT NULL AS superseded, \
               expires_at <= now() AS expired \
             FROM users.account_tokens WHERE token_hash = $1 AND purpose = $2",
            &[text(token_hash), text(purpose.as_str())],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Some(TokenRefusal::Invalid));
    };
    Ok(if row.get("used")? {
        Some(TokenRefusal::Used)
    } else if row.get("superseded")? {
        Some(TokenRefusal::Superseded)
    } else if row.get("expired")? {
        Some(TokenRefusal::Expired)
    } else {
        None
    })
}

/// Ends every session of an account (after a password reset).
pub async fn revoke_all_sessions(db: &Db, user_id: i64) -> ApiResult<()> {
    db.execute(
        "UPDATE users.refresh_tokens SET revoked_at = now() \
         WHERE user_id = $1 AND revoked_at IS NULL",
        &[user_id.into()],
    )
    .await?;
    Ok(())
}

// Mail requests ----------------------------------------------------------------

/// Reset and verification mails asked for under `key` within the last hour, and
/// the seconds until the oldest of them leaves it.
pub async fn recent_mail_requests(db: &Db, key: &str) -> ApiResult<(i64, i64)> {
    let rows = db
        .query(
            "SELECT count(*) AS requests, \
               COALESCE(ceil(extract(epoch FROM \
                 min(requested_at) + interval '1 hour' - now()))::bigint, 0) AS retry_after \
             FROM users.mail_requests \
             WHERE key = $1 AND requested_at > now() - interval '1 hour'",
            &[text(key)],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::internal("count returned no row"))?;
    Ok((row.get("requests")?, row.get("retry_after")?))
}

/// Records a mail asked for under each of `keys`, and forgets those older than an hour.
pub async fn record_mail_request(db: &Db, keys: &[String]) -> ApiResult<()> {
    for key in keys {
        db.execute(
            "INSERT INTO users.mail_requests (key) VALUES ($1)",
            &[text(key.as_str())],
        )
        .await?;
    }
    db.execute(
        "DELETE FROM users.mail_requests WHERE requested_at < now() - interval '1 hour'",
        &[],
    )
    .await?;
    Ok(())
}

/// Marks the account's email verified (a reset link reached it).
pub async fn mark_email_verified(db: &Db, user_id: i64) -> ApiResult<()> {
    db.execute(
        "UPDATE users.users SET email_verified = true WHERE id = $1 AND NOT email_verified",
        &[user_id.into()],
    )
    .await?;
    Ok(())
}

/// `email` followed its verification link: the account's email when it is the one
/// waiting (recorded as `user.email_changed`), and verified. 409 `email_taken` when
/// another account took the waiting address meanwhile.
pub async fn verify_email(db: &Db, user_id: i64, email: &str) -> ApiResult<User> {
    let sql = format!(
        "UPDATE users.users SET \
           email = CASE WHEN pending_email = $2 THEN $2 ELSE email END, \
           pending_email = CASE WHEN pending_email = $2 THEN NULL ELSE pending_email END, \
           email_verified = email_verified OR email = $2 OR pending_email = $2, \
           updated_at = now() \
         WHERE id = $1 AND NOT EXISTS \
           (SELECT 1 FROM users.users other WHERE other.email = $2 AND other.id <> $1) \
         RETURNING {USER_COLUMNS}"
    );
    let before = find_user(db, user_id).await?;
    let user = one_user(db, &sql, &[user_id.into(), text(email)])
        .await?
        .ok_or_else(|| match before {
            Some(_) => email_taken(),
            None => ApiError::Unauthorized("account deleted".into()),
        })?;
    if before.is_some_and(|before| before.email != user.email) {
        record_event(db, event_types::USER_EMAIL_CHANGED, &user).await?;
    }
    Ok(user)
}

/// Sets (or, with `None`, clears) the address waiting to be verified. 409
/// `email_taken` when another account has it; `None` when there is no such account.
pub async fn set_pending_email(
    db: &Db,
    user_id: i64,
    pending: Option<&Email>,
) -> ApiResult<Option<User>> {
    let sql = format!(
        "UPDATE users.users SET pending_email = $2, updated_at = now() \
         WHERE id = $1 AND NOT EXISTS \
           (SELECT 1 FROM users.users other WHERE other.email = $2 AND other.id <> $1) \
         RETURNING {USER_COLUMNS}"
    );
    let pending = pending.map(|email| email.as_str().to_string());
    match one_user(db, &sql, &[user_id.into(), pending.clone().into()]).await? {
        Some(user) => Ok(Some(user)),
        None if pending.is_some() && find_user(db, user_id).await?.is_some() => Err(email_taken()),
        None => Ok(None),
    }
}
