//! An account: what a valid display name is, the account as the API shows it, and
//! which changes to it are valid.

use serde::Serialize;
use spinshop_kit::ApiError;
use spinshop_kit::auth::Role;

pub use super::credentials::{Email, Password};

const MAX_NAME_LEN: usize = 100;

/// A display name: trimmed, 1 to 100 characters.
pub fn parse_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::invalid_field(
            "name",
            format!("name must be 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(name.to_string())
}

/// An account as the API shows it (never with its password hash).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// Whether its owner followed a verification link mailed to `email`.
    pub email_verified: bool,
    /// A new address waiting to be verified; `email` stays until it is.
    pub pending_email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    pub fn role_is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A validated change to an account; `None` leaves a field as it is.
#[derive(Debug, Default, PartialEq)]
pub struct AccountChange {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub role: Option<Role>,
}

impl AccountChange {
    /// What a user may change of their own account: name and email, not the role.
    pub fn own(name: Option<&str>, email: Option<&str>) -> Result<Self, ApiError> {
        Self::parse(name, email, None)
    }

    /// What an admin may change of any account: also the role.
    pub fn by_admin(
        name: Option<&str>,
        email: Option<&str>,
        role: Option<Role>,
    ) -> Result<Self, ApiError> {
        Self::parse(name, email, role)
    }

    fn parse(
        name: Option<&str>,
        email: Option<&str>,
        role: Option<Role>,
    ) -> Result<Self, ApiError> {
        Ok(AccountChange {
            name: name.map(parse_name).transpose()?,
            email: email.map(Email::parse).transpose()?,
            role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Alice ").unwrap(), "Alice");
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"n".repeat(101)).is_err());
    }

    #[test]
    fn an_account_change_validates_what_it_changes() {
        let change = AccountChange::own(Some(" Bob "), None).unwrap();
        assert_eq!(change.name.as_deref(), Some("Bob"));
        assert!(change.email.is_none() && change.role.is_none());
        assert!(AccountChange::own(None, Some("not an email")).is_err());
        let promoted = AccountChange::by_admin(None, None, Some(Role::Admin)).unwrap();
        assert_eq!(promoted.role, Some(Role::Admin));
    }
}
