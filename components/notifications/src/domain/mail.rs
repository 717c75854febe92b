//! Mails as notifications keeps them: which mails it accepts from a producer, and a
//! mail as an admin reads it in the local mailbox.

use serde::Serialize;
use spinshop_kit::contracts::Mail;
use spinshop_kit::{ApiError, ApiResult};

/// The most mails one delivery may carry (a producer's outbox sends at most 50).
const MAX_MAILS: usize = 100;
/// Bounds on a mail's parts, far above what spinshop writes.
const MAX_SUBJECT: usize = 500;
const MAX_BODY: usize = 200_000;

/// Checks a delivered batch of mails before any is stored: each needs a UUID id, an
/// address, a subject and both parts.
pub fn check_mails(mails: &[Mail]) -> ApiResult<()> {
    if mails.len() > MAX_MAILS {
        return Err(ApiError::validation(format!(
            "a delivery carries at most {MAX_MAILS} mails"
        )));
    }
    for (index, mail) in mails.iter().enumerate() {
        let refuse = |rule: &str| {
            ApiError::invalid_field(
                &format!("mails[{index}]"),
                format!("mails[{index}]: {rule}"),
            )
        };
        uuid::Uuid::try_parse(&mail.id).map_err(|_| refuse("id must be a UUID"))?;
        let to = mail.data.to.trim();
        if to.is_empty() || !to.contains('@') || to.len() > 320 {
            return Err(refuse("to must be an email address"));
        }
        if mail.data.subject.trim().is_empty() || mail.data.subject.len() > MAX_SUBJECT {
            return Err(refuse("subject must be 1 to 500 characters"));
        }
        if mail.data.text.is_empty() || mail.data.html.is_empty() {
            return Err(refuse("text and html must not be empty"));
        }
        if mail.data.text.len() + mail.data.html.len() > MAX_BODY {
            return Err(refuse("the mail is too long"));
        }
    }
    Ok(())
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    /// Kept in the local mailbox: no mail API was configured when it was written.
    Local,
    /// Waiting for its first attempt.
    Pending,
    /// Tried and refused or unanswered; tried again at `next_attempt_at`.
    Failed,
    /// Accepted by the mail API.
    Sent,
}

impl MailStatus {
    pub fn of(kept_locally: bool, delivered: bool, attempts: i64) -> MailStatus {
        match (kept_locally, delivered) {
            (true, _) => MailStatus::Local,
            (false, true) => MailStatus::Sent,
            (false, false) if attempts > 0 => MailStatus::Failed,
            (false, false) => MailStatus::Pending,
        }
    }
}

/// A mail as an admin reads it.
#[derive(Debug, Clone, Serialize)]
pub struct MailView {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: String,
    pub source: String,
    pub status: MailStatus,
    /// Requests made to the mail API for it.
    pub attempts: i64,
    /// Why the last attempt failed, while it is not sent.
    pub last_error: Option<String>,
    /// When it is tried next, while it is not sent.
    pub next_attempt_at: Option<String>,
    /// When the mail API accepted it.
    pub sent_at: Option<String>,
}
