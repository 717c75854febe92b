//! Tokens: user access tokens (HS256 JWT signed with `jwt_secret`) and the short-lived
//! service tokens components present to each other's internal endpoints (signed with
//! `internal_secret`). The algorithm is pinned and expiry is checked with no leeway;
//! a token issued (`iat`) or valid from (`nbf`) in the future is refused beyond a
//! few seconds of clock skew.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use serde_json::Value;

use crate::client;
use crate::config;
use crate::http::error::{ApiError, ApiResult};
use crate::http::method::Method;
use crate::http::request::ApiRequest;

const USER_TOKEN_ISSUER: &str = "spinshop-users";
const SERVICE_TOKEN_ISSUER: &str = "spinshop-internal";
/// Long enough for one internal call and its retries, short enough to be useless if leaked.
const SERVICE_TOKEN_TTL_SECONDS: i64 = 60;
/// How far ahead of this clock another machine's may run, for `iat` and `nbf`.
const CLOCK_SKEW_SECONDS: i64 = 5;
/// The header carrying a service token on calls between components.
pub const SERVICE_TOKEN_HEADER: &str = "x-service-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "customer" => Some(Role::Customer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The user id, as a string (RFC 7519).
    pub sub: String,
    pub role: Role,
    /// The session (refresh-token family) the token was issued for, so revoking a
    /// session also stops its access tokens at introspection.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// Not before; spinshop never sets it, but a token that carries it must honour it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ServiceClaims {
    iss: String,
    /// The calling service.
    sub: String,
    iat: i64,
    exp: i64,
}

/// Who is calling, as users confirmed by introspection ([`introspect`]): only
/// kit makes one, so a handler given a `Caller` knows the check ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caller {
    pub user_id: i64,
    pub role: Role,
    /// Whether the account's email is verified.
    pub email_verified: bool,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("admin role required".into()))
        }
    }
}

pub fn now_seconds() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Signs an access token; returns it with its expiry (seconds since the epoch).
pub fn issue_access_token(
    secret: &str,
    user_id: i64,
    role: Role,
    session_id: &str,
    ttl_seconds: i64,
) -> ApiResult<(String, i64)> {
    let iat = now_seconds();
    let claims = AccessClaims {
        iss: USER_TOKEN_ISSUER.into(),
        sub: user_id.to_string(),
        role,
        sid: session_id.into(),
        iat,
        exp: iat + ttl_seconds,
        nbf: None,
    };
    Ok((sign(secret, &claims)?, claims.exp))
}

/// Verifies signature (HS256 only), issuer, expiry, and that the token is already
/// valid (`iat`, `nbf`).
pub fn verify_access_token(secret: &str, token: &str) -> ApiResult<AccessClaims> {
    verify::<AccessClaims>(secret, token, USER_TOKEN_ISSUER)
        .ok()
        .filter(|claims| {
            let latest = now_seconds() + CLOCK_SKEW_SECONDS;
            claims.iat <= latest && claims.nbf.is_none_or(|nbf| nbf <= latest)
        })
        .ok_or_else(invalid_token)
}

impl AccessClaims {
    /// Refuses a token meant to live longer than tokens are issued for: one signed
    /// with a leaked key, say, or under an older, longer setting.
    pub fn check_lifetime(&self, max_ttl_seconds: i64) -> ApiResult<()> {
        if self.exp - self.iat > max_ttl_seconds {
            return Err(invalid_token());
        }
        Ok(())
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("invalid or expired token".into())
}

/// The bearer token of the request, or 401.
pub fn bearer_token(req: &ApiRequest) -> ApiResult<&str> {
    req.header("authorization")
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))
}

/// Verifies the request's access token locally with the `jwt_secret` variable.
pub(crate) async fn authenticate(req: &ApiRequest) -> ApiResult<()> {
    let token = bearer_token(req)?;
    let claims = verify_access_token(&config::secret_var(config::JWT_SECRET).await?, token)?;
    claims.user_id()?;
    Ok(())
}

impl AccessClaims {
    pub fn user_id(&self) -> ApiResult<i64> {
        self.sub.parse().map_err(|_| invalid_token())
    }
}

/// The caller of a request, authenticated twice: the access token is verified
/// locally (cheap, refuses forgeries), then users confirms the session is still live
/// and reports the account's current role.
pub async fn introspect(service: &'static str, request: &ApiRequest) -> ApiResult<Caller> {
    authenticate(request).await?;
    let caller = client::CallContext::for_caller(service, request);
    let reply = client::call(
        &caller,
        "users",
        Method::Get,
        "/api/users/auth/introspect",
        None,
    )
    .await?;
    let body: Value = reply.into_json("users")?;
    let user_id = body["user_id"].as_i64();
    let role = body["role"].as_str().and_then(Role::parse);
    match (body["active"].as_bool(), user_id, role) {
        (Some(true), Some(user_id), Some(role)) => Ok(Caller {
            user_id,
            role,
            email_verified: body["email_verified"].as_bool().unwrap_or(false),
        }),
        _ => Err(ApiError::Unauthorized("invalid or expired token".into())),
    }
}

/// A token proving to a sibling that the call comes from `service`.
pub fn issue_service_token(secret: &str, service: &str) -> ApiResult<String> {
    let iat = now_seconds();
    sign(
        secret,
        &ServiceClaims {
            iss: SERVICE_TOKEN_ISSUER.into(),
            sub: service.into(),
            iat,
            exp: iat + SERVICE_TOKEN_TTL_SECONDS,
        },
    )
}

/// Guards an internal endpoint: the caller must present a valid service token
/// (signed with `internal_secret`). Returns the calling service's name.
pub async fn require_service(req: &ApiRequest) -> ApiResult<String> {
    let refused = || ApiError::Forbidden("internal endpoint".into());
    let token = req.header(SERVICE_TOKEN_HEADER).ok_or_else(refused)?;
    // A service with no `internal_secret` can verify no token: it refuses them all
    // (and says why in its log), rather than failing the caller's request.
    let secret = config::secret_var(config::INTERNAL_SECRET)
        .await
        .map_err(|err| {
            eprintln!("refusing a service token: {err}");
            refused()
        })?;
    let claims: ServiceClaims =
        verify(&secret, token, SERVICE_TOKEN_ISSUER).map_err(|_| refused())?;
    Ok(claims.sub)
}

fn sign<T: Serialize>(secret: &str, claims: &T) -> ApiResult<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|err| ApiError::Internal(err.into()))
}

fn verify<T: DeserializeOwned>(
    secret: &str,
    token: &str,
    issuer: &str,
) -> Result<T, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    jsonwebtoken::decode::<T>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdef";

    fn encode_raw(header: &str, claims: &str, signature: &str) -> String {
        use base64_like::encode;
        format!("{}.{}.{}", encode(header), encode(claims), signature)
    }

    /// Unpadded base64url, enough to forge tokens in tests.
    mod base64_like {
        pub fn encode(input: &str) -> String {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = input.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32)
                    << (8 * (3 - chunk.len()));
                for i in 0..=chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    #[test]
    fn a_fresh_token_verifies() {
        let (token, exp) = issue_access_token(SECRET, 42, Role::Admin, "s1", 900).unwrap();
        let claims = verify_access_token(SECRET, &token).unwrap();
        assert_eq!(claims.sub, "42");
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.exp, exp);
    }

    #[test]
    fn expired_wrong_key_and_alg_none_tokens_are_refused() {
        let (expired, _) = issue_access_token(SECRET, 1, Role::Customer, "s1", -1).unwrap();
        assert!(verify_access_token(SECRET, &expired).is_err());

        let (token, _) =
            issue_access_token("another-secret-0123456789", 1, Role::Customer, "s1", 900).unwrap();
        assert!(verify_access_token(SECRET, &token).is_err());

        let now = now_seconds();
        let claims = format!(
            r#"{{"iss":"spinshop-users","sub":"1","role":"admin","sid":"s1","iat":{now},"exp":{}}}"#,
            now + 900
        );
        let unsigned = encode_raw(r#"{"alg":"none","typ":"JWT"}"#, &claims, "");
        assert!(verify_access_token(SECRET, &unsigned).is_err());
    }

    fn signed(claims: &AccessClaims) -> String {
        sign(SECRET, claims).unwrap()
    }

    fn claims_issued_at(iat: i64, ttl: i64) -> AccessClaims {
        AccessClaims {
            iss: USER_TOKEN_ISSUER.into(),
            sub: "7".into(),
            role: Role::Customer,
            sid: "s1".into(),
            iat,
            exp: iat + ttl,
            nbf: None,
        }
    }

    #[test]
    fn tokens_from_the_future_are_refused_beyond_the_clock_skew() {
        let now = now_seconds();
        let issued_later = claims_issued_at(now + 60, 900);
        assert!(verify_access_token(SECRET, &signed(&issued_later)).is_err());
        let slightly_ahead = claims_issued_at(now + 2, 900);
        assert!(verify_access_token(SECRET, &signed(&slightly_ahead)).is_ok());

        let not_yet = AccessClaims {
            nbf: Some(now + 60),
            ..claims_issued_at(now, 900)
        };
        assert!(verify_access_token(SECRET, &signed(&not_yet)).is_err());
        let already = AccessClaims {
            nbf: Some(now - 1),
            ..claims_issued_at(now, 900)
        };
        assert!(verify_access_token(SECRET, &signed(&already)).is_ok());
    }

    #[test]
    fn a_token_living_longer_than_the_configured_ttl_is_refused() {
        let now = now_seconds();
        assert!(claims_issued_at(now, 900).check_lifetime(900).is_ok());
        assert!(claims_issued_at(now, 86_400).check_lifetime(900).is_err());
    }

    #[test]
    fn service_tokens_are_not_user_tokens() {
        let service = issue_service_token(SECRET, "orders").unwrap();
        assert!(verify_access_token(SECRET, &service).is_err());
        let claims: ServiceClaims = verify(SECRET, &service, SERVICE_TOKEN_ISSUER).unwrap();
        assert_eq!(claims.sub, "orders");
    }
}
