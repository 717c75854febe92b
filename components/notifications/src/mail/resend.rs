//! Resend's API: one JSON `POST <mail_api_url>/emails` per mail, authorized with the
//! API key as a bearer token. Its `Idempotency-Key` header (the mail's id) makes a
//! mail sent twice (an answer lost, then a retry) go out once.

use serde_json::json;
use spinshop_kit::contracts::Mail;

use super::ApiCall;
use crate::config::MailApi;

pub fn call(api: &MailApi, mail: &Mail) -> ApiCall {
    let body = json!({
        "from": api.from,
        "to": [mail.data.to],
        "subject": mail.data.subject,
        "text": mail.data.text,
        "html": mail.data.html,
    });
    ApiCall {
        url: format!("{}/emails", api.base_url),
        headers: vec![
            ("content-type", "application/json".into()),
            ("authorization", format!("Bearer {}", api.key)),
            ("idempotency-key", mail.id.clone()),
            ("user-agent", "spinshop-notifications".into()),
        ],
        body: body.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinshop_kit::contracts::MailData;

    #[test]
    fn a_mail_is_one_json_post_with_the_key_as_bearer() {
        let api = MailApi {
            provider: "resend".into(),
            base_url: "https://api.resend.com".into(),
            key: "re_123".into(),
            from: "shop <shop@example.com>".into(),
        };
        let mail = Mail {
            id: "6b0f7c3e-8f0a-4a52-9a53-0c1f3b1f3e10".into(),
            data: MailData {
                to: "bob@example.com".into(),
                subject: "Hi".into(),
                text: "text".into(),
                html: "<p>html</p>".into(),
            },
        };
        let call = call(&api, &mail);
        assert_eq!(call.url, "https://api.resend.com/emails");
        assert!(
            call.headers
                .contains(&("authorization", "Bearer re_123".to_string()))
        );
        assert!(call.headers.contains(&("idempotency-key", mail.id.clone())));
        let body: serde_json::Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(
            body,
            json!({"from": "shop <shop@example.com>", "to": ["bob@example.com"],
                   "subject": "Hi", "text": "text", "html": "<p>html</p>"})
        );
    }
}
