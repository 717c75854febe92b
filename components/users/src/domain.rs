//! Account rules: what a valid name is (email and password rules are shared with
//! `spinshop migrate`, in `spinshop_kit::account`), and the request bodies parsed
//! into values that are valid by construction.

use serde::{Deserialize, Serialize};
use spinshop_kit::ApiError;
use spinshop_kit::auth::Role;

pub use spinshop_kit::account::{Email, Password};

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
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    pub fn role_is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    pub current_password: String,
    pub new_password: String,
}

/// `PATCH /users/me`: a user may change their name and email, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchBody {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// `PATCH /users/{id}` by an admin: also the role.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPatchBody {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
}

/// A validated change to an account; `None` leaves a field as it is.
#[derive(Debug, Default, PartialEq)]
pub struct AccountChange {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub role: Option<Role>,
}

impl AccountChange {
    pub fn from_profile(body: ProfilePatchBody) -> Result<Self, ApiError> {
        Self::parse(body.name, body.email, None)
    }

    pub fn from_admin(body: AdminPatchBody) -> Result<Self, ApiError> {
        Self::parse(body.name, body.email, body.role)
    }

    fn parse(
        name: Option<String>,
        email: Option<String>,
        role: Option<Role>,
    ) -> Result<Self, ApiError> {
        Ok(AccountChange {
            name: name.as_deref().map(parse_name).transpose()?,
            email: email.as_deref().map(Email::parse).transpose()?,
            role,
        })
    }
}

/// The client's IP address from Spin's `spin-client-addr` (`ip:port` or `[v6]:port`).
/// Requests chained from a sibling report `0.0.0.0:0` and have no address.
pub fn client_ip(client_addr: &str) -> Option<String> {
    let host = client_addr
        .rsplit_once(':')
        .map_or(client_addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && host != "0.0.0.0" && host != "unknown").then(|| host.to_string())
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
    fn client_ip_strips_the_port() {
        assert_eq!(client_ip("127.0.0.1:5123").as_deref(), Some("127.0.0.1"));
        assert_eq!(client_ip("[::1]:5123").as_deref(), Some("::1"));
        assert_eq!(client_ip("0.0.0.0:0"), None);
    }
}
