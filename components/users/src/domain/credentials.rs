//! The rules every account follows, whoever creates it: the users service, and
//! `spinshop migrate` for the first admin (the CLI depends on this crate for them).

use spinshop_kit::ApiError;

/// Passwords longer than this are refused: hashing cost must stay bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest email address accepted, in characters as sent (white space around it
/// included, so that `maxLength` in the API description is the whole rule).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A syntactically valid email address, trimmed and lower-cased: a local part and a
/// domain with a dot inside it, and no white space or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, ApiError> {
        let email = raw.trim().to_lowercase();
        let valid = raw.chars().count() <= MAX_EMAIL_CHARS
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Email(email))
        } else {
            Err(ApiError::invalid_field(
                "email",
                "email must be a valid email address",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The variable holding the shortest password accepted (its default is spin.toml's):
/// the users service reads it, and `spinshop migrate` reads its default from the
/// manifest for the first admin.
pub const PASSWORD_MIN_LENGTH: &str = "password_min_length";

/// A password that satisfies the configured length rule.
pub struct Password(String);

impl Password {
    pub fn parse(raw: String, min_length: usize, field: &str) -> Result<Password, ApiError> {
        let length = raw.chars().count();
        if length < min_length {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be at least {min_length} characters"),
            ));
        }
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        Ok(Password(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "a@b@c.com",
            "a b@c.com",
            "a@nodot",
            "a@.com",
            "a@\u{5}.com",
            "a\u{7f}@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn emails_are_at_most_254_characters_as_sent() {
        let longest = format!("{}@example.com", "a".repeat(254 - 12));
        assert!(Email::parse(&longest).is_ok());
        assert!(Email::parse(&format!(" {longest}")).is_err());
        let wide = format!("{}@example.com", "é".repeat(254 - 12));
        assert!(Email::parse(&wide).is_ok(), "characters, not bytes");
    }

    #[test]
    fn passwords_follow_the_length_rule() {
        assert!(Password::parse("1234567".into(), 8, "password").is_err());
        assert!(Password::parse("12345678".into(), 8, "password").is_ok());
        assert!(Password::parse("x".repeat(MAX_PASSWORD_BYTES + 1), 8, "password").is_err());
        let err = Password::parse("short".into(), 8, "new_password")
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "new_password must be at least 8 characters"
        );
    }
}
