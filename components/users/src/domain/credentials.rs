//! The rules every account follows, whoever creates it: the users service, and
//! `spinshop migrate` for the first admin (the CLI depends on this crate for them).

use spinshop_kit::ApiError;

/// Passwords longer than this are refused: hashing cost must stay bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;
pub const MAX_EMAIL_LEN: usize = 254;

/// A syntactically valid email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, ApiError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= MAX_EMAIL_LEN
            && !email.chars().any(char::is_whitespace)
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
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
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
