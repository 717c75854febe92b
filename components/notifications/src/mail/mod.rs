//! Mail delivery: `notify.mail` is kit's outbox queue ([`Outbox::queue`]), flushed
//! like the webhook's (after the response that wrote a mail, and by every dispatch)
//! to the mail API `mail_provider` names, one request per mail (see
//! [`crate::outgoing`]). A 2xx answer sends a mail; any other, or none within
//! [`TIMEOUT`], is a failed attempt retried with backoff. With no `mail_api_key`
//! mails are written kept locally (delivered to the local mailbox) and never sent.
//!
//! A provider is one small module with one function making its API's request of a
//! mail; adding one is a module and a line in [`Provider`].

mod resend;

use std::time::Duration;

use spinshop_kit::ApiRequest;
use spinshop_kit::client::post_url;
use spinshop_kit::contracts::Mail;
use spinshop_kit::pg::outbox::{Claimed, Delivery, Outbox};

use crate::SERVICE;
use crate::config::{Config, MailApi};
use crate::outgoing::{Sent, send_in_turn};

/// The mail queue: kit's outbox delivery over `notify.mail`, each row handed over as
/// a [`Mail`]'s JSON.
pub const OUTBOX: Outbox = Outbox::queue(
    "notify",
    "mail",
    "json_build_object('id', o.mail_id, 'to', o.to_address, 'subject', o.subject, \
     'text', o.text_body, 'html', o.html_body)::text",
    SERVICE,
    deliver,
);

/// How long the mail API may take to accept the connection, then to start answering,
/// then between the parts of its answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A request to a mail API, as a provider makes it.
pub struct ApiCall {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The mail APIs spinshop can send through.
enum Provider {
    /// Resend (`https://api.resend.com`).
    Resend,
}

impl Provider {
    fn parse(name: &str) -> Result<Provider, String> {
        match name {
            "resend" => Ok(Provider::Resend),
            other => Err(format!(
                "mail_provider {other:?} is not one spinshop knows (resend)"
            )),
        }
    }

    fn call(&self, api: &MailApi, mail: &Mail) -> ApiCall {
        match self {
            Provider::Resend => resend::call(api, mail),
        }
    }
}

/// The mail queue's deliverer, in the shape kit's outbox takes.
fn deliver<'a>(
    _source: &'static str,
    request: &'a ApiRequest,
    batch: &'a [Claimed],
) -> Delivery<'a> {
    Box::pin(send_mails(request, batch))
}

/// Sends each claimed mail in turn and answers for each.
async fn send_mails(request: &ApiRequest, batch: &[Claimed]) -> Vec<Result<(), String>> {
    let ready = async {
        let config = Config::get().await.map_err(|err| err.to_string())?;
        let api = config
            .mail_api
            .as_ref()
            .ok_or("mail_api_key is not set (mails are kept locally)")?;
        Ok::<_, String>((Provider::parse(&api.provider)?, api))
    };
    let (provider, api) = match ready.await {
        Ok(ready) => ready,
        Err(reason) => {
            eprintln!("{SERVICE} {}: mails wait: {reason}", request.request_id);
            return batch.iter().map(|_| Err(reason.clone())).collect();
        }
    };
    send_in_turn("the mail API", batch, async |row: &Claimed| {
        let mail: Mail = serde_json::from_str(&row.json)
            .map_err(|err| format!("a queued mail is not a mail: {err}"))?;
        let call = provider.call(api, &mail);
        let headers: Vec<(&str, &str)> = call
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        // The log names the mail, never its content or address.
        Ok(
            match post_url(&call.url, &headers, &call.body, TIMEOUT).await {
                Ok(reply) => {
                    if !reply.is_success() {
                        eprintln!(
                            "{SERVICE} {}: the mail API answered {} for mail {}",
                            request.request_id, reply.status, mail.id
                        );
                    }
                    Sent::Answered(reply.status)
                }
                Err(reason) => {
                    eprintln!(
                        "{SERVICE} {}: the mail API was unreachable for mail {}: {reason}",
                        request.request_id, mail.id
                    );
                    Sent::Unreachable(reason)
                }
            },
        )
    })
    .await
}
