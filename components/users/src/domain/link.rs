//! One-time links: what they are for, how long they last, why a token is refused,
//! and the mails that carry them. The token itself is a session-grade secret
//! ([`new_token`](super::new_token)), stored hashed; only the mail holds it.

use spinshop_kit::ApiError;
use spinshop_kit::contracts::MailData;
use spinshop_kit::mail::{Letter, Shop};

/// What a link's token does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Sets a new password: valid 30 minutes.
    PasswordReset,
    /// Verifies an address: valid 48 hours.
    VerifyEmail,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::PasswordReset => "password_reset",
            LinkPurpose::VerifyEmail => "verify_email",
        }
    }

    pub fn ttl_seconds(self) -> i64 {
        match self {
            LinkPurpose::PasswordReset => 30 * 60,
            LinkPurpose::VerifyEmail => 48 * 60 * 60,
        }
    }

    /// The storefront view the link opens.
    fn view(self) -> &'static str {
        match self {
            LinkPurpose::PasswordReset => "reset",
            LinkPurpose::VerifyEmail => "verify",
        }
    }

    /// The link to the storefront's view for this purpose, carrying the token as
    /// `token=<value>`.
    pub fn link(self, public_url: &str, token: &str) -> String {
        format!("{public_url}/#/{}?token={token}", self.view())
    }
}

/// Why a presented token does nothing. Telling them apart tells nothing to someone
/// without a real token: every guess is `Invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No such token (never issued, or mistyped).
    Invalid,
    Used,
    /// A newer link was asked for since.
    Superseded,
    Expired,
}

impl TokenRefusal {
    /// The 400 answer, with a code per purpose and reason
    /// (`reset_token_expired`, `verify_token_used`, ...).
    pub fn error(self, purpose: LinkPurpose) -> ApiError {
        let (code, message) = match (purpose, self) {
            (LinkPurpose::PasswordReset, TokenRefusal::Invalid) => {
                ("reset_token_invalid", "this reset link is not valid")
            }
            (LinkPurpose::PasswordReset, TokenRefusal::Used) => {
                ("reset_token_used", "this reset link was used already")
            }
            (LinkPurpose::PasswordReset, TokenRefusal::Superseded) => (
                "reset_token_superseded",
                "a newer reset link was sent; use that one",
            ),
            (LinkPurpose::PasswordReset, TokenRefusal::Expired) => (
                "reset_token_expired",
                "this reset link has expired; ask for a new one",
            ),
            (LinkPurpose::VerifyEmail, TokenRefusal::Invalid) => (
                "verify_token_invalid",
                "this verification link is not valid",
            ),
            (LinkPurpose::VerifyEmail, TokenRefusal::Used) => (
                "verify_token_used",
                "this verification link was used already",
            ),
            (LinkPurpose::VerifyEmail, TokenRefusal::Superseded) => (
                "verify_token_superseded",
                "a newer verification link was sent; use that one",
            ),
            (LinkPurpose::VerifyEmail, TokenRefusal::Expired) => (
                "verify_token_expired",
                "this verification link has expired; ask for a new one",
            ),
        };
        ApiError::Refused {
            status: 400,
            code,
            message: message.into(),
        }
    }
}

/// The mail with a password-reset link.
pub fn reset_mail(shop: &Shop, to: &str, token: &str) -> MailData {
    Letter::new(&shop.name, "Reset your password")
        .paragraph("Someone asked to reset the password of your account. If it was you, set a new one within 30 minutes:")
        .link("Set a new password", LinkPurpose::PasswordReset.link(&shop.public_url, token))
        .paragraph("If it wasn't you, ignore this mail: your password stays as it is.")
        .to(to)
}

/// The mail with a link that verifies `to`.
pub fn verify_mail(shop: &Shop, to: &str, token: &str) -> MailData {
    Letter::new(&shop.name, "Verify your email address")
        .paragraph(format!(
            "Please confirm that {to} is your address by following this link within 48 hours:"
        ))
        .link(
            "Verify my address",
            LinkPurpose::VerifyEmail.link(&shop.public_url, token),
        )
        .paragraph("If you didn't ask for this, ignore this mail.")
        .to(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_the_storefront_view_with_the_token() {
        assert_eq!(
            LinkPurpose::PasswordReset.link("http://127.0.0.1:3000", "abc"),
            "http://127.0.0.1:3000/#/reset?token=abc"
        );
        let shop = Shop {
            name: "spinshop".into(),
            public_url: "https://shop.example".into(),
        };
        let mail = reset_mail(&shop, "a@b.c", "t0k");
        assert!(mail.text.contains("https://shop.example/#/reset?token=t0k"));
        assert!(mail.html.contains("https://shop.example/#/reset?token=t0k"));
        assert!(mail.subject.contains("spinshop"));
        let mail = verify_mail(&shop, "a@b.c", "t0k");
        assert!(
            mail.text
                .contains("https://shop.example/#/verify?token=t0k")
        );
    }

    #[test]
    fn each_refusal_has_its_own_code() {
        let codes: Vec<String> = [
            TokenRefusal::Invalid,
            TokenRefusal::Used,
            TokenRefusal::Superseded,
            TokenRefusal::Expired,
        ]
        .into_iter()
        .map(|refusal| refusal.error(LinkPurpose::PasswordReset).code().to_string())
        .collect();
        assert_eq!(
            codes,
            [
                "reset_token_invalid",
                "reset_token_used",
                "reset_token_superseded",
                "reset_token_expired"
            ]
        );
        let error = TokenRefusal::Used.error(LinkPurpose::VerifyEmail);
        assert_eq!((error.status(), error.code()), (400, "verify_token_used"));
    }
}
