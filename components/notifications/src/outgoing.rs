//! Sending a claimed batch to a host outside the app, one request per row in order:
//! what the webhook and the mail API deliveries share. A 2xx answer delivers a row;
//! any other answer fails it (kit's outbox retries it with backoff); once the host
//! can't be reached at all (refused, timed out), the rest of the batch is not sent:
//! those rows fail without a request, and wait out the backoff.

use spinshop_kit::pg::outbox::Claimed;

/// What sending one row came to.
pub enum Sent {
    /// The host answered with this status.
    Answered(u16),
    /// No answer: why.
    Unreachable(String),
}

/// Sends each row of `batch` with `send` (which answers `Err` for a row it can't
/// make a request of) and answers for each, in order; `host` names the destination
/// in the reasons.
pub async fn send_in_turn(
    host: &str,
    batch: &[Claimed],
    mut send: impl AsyncFnMut(&Claimed) -> Result<Sent, String>,
) -> Vec<Result<(), String>> {
    let mut unreachable: Option<String> = None;
    let mut outcomes = Vec::with_capacity(batch.len());
    for row in batch {
        if let Some(reason) = &unreachable {
            outcomes.push(Err(format!("not sent: {host} was unreachable ({reason})")));
            continue;
        }
        outcomes.push(match send(row).await {
            Ok(Sent::Answered(status)) if (200..300).contains(&status) => Ok(()),
            Ok(Sent::Answered(status)) => Err(format!("{host} answered {status}")),
            Ok(Sent::Unreachable(reason)) => {
                unreachable = Some(reason.clone());
                Err(reason)
            }
            Err(reason) => Err(reason),
        });
    }
    outcomes
}
