//! The front door every component's [`serve`](crate::http::service::serve) passes requests through
//! before its routes: CORS and rate limits, applied alike by every service (Spin routes
//! `/api/<service>/...` straight to its component, so there is no gateway in front
//! where they could live once).
//!
//! **CORS.** Same-origin by default: a browser page of another origin gets no
//! `access-control-allow-origin`, so it can't read any answer. The origins listed in
//! the `cors_allowed_origins` variable (comma-separated, exact `scheme://host[:port]`)
//! and nothing else are allowed; their preflights (`OPTIONS` with
//! `access-control-request-method`) answer 204 with what they may send, others' 403.
//!
//! **Rate limits.** Requests under `/api/` are counted per client address and, when
//! they carry a valid access token, per user (the token's `sub`, read locally: no
//! database call), in fixed windows of `rate_limit_window_seconds`. Each route class
//! has its limit per window: `rate_limit_auth` (`/api/users/auth/...`),
//! `rate_limit_writes` (any other method than GET and HEAD) and `rate_limit_reads`
//! (GET, HEAD); 0 turns a class's limit off. Past a limit the answer is 429
//! `rate_limited` with `retry-after` (seconds until the window ends). Calls between
//! components carrying a valid service token are never counted, so a chain of
//! sibling calls costs its user one request. The storefront's files (paths outside
//! `/api/`) are not counted: they are served from memory and cost nothing.
//!
//! Whom they count is `rate_limit_clients` (`address,user` in spin.toml: both; `user`
//! or `address` alone; empty: nobody, which turns the limits off).
//!
//! The counters live in Spin's default key-value store, one key per class and client
//! (`rl:<class>:ip:<address>` or `rl:<class>:user:<id>`) holding
//! `<window start> <count>`: each client has one key whatever the number of windows,
//! so nothing needs sweeping but the keys of clients that never come back. A store
//! that holds a bounded number of keys (Fermyon Cloud's: 1,024) sets
//! `rate_limit_user_keys` to N: users then share N counters per class
//! (`rl:<class>:users:<id mod N>`), users whose ids are equal modulo N sharing one
//! count, so the store never holds more than 3 x N of them. Each
//! counter is read, then written (spin-sdk's stable API has no atomic increment), so
//! requests of one client racing in the same instant may each read the same count:
//! under such races a limit admits a few requests too many, never too few. When the
//! store can't be used, the door stays open and says why in the log: a broken counter
//! must not close the shop.

use crate::auth::{bearer_token, now_seconds, require_service, verify_access_token};
use crate::config::{self, PerInstance};
use crate::http::counters::{Counters, Window};
use crate::http::error::{ApiError, ApiResult};
use crate::http::method::Method;
use crate::http::request::ApiRequest;
use crate::http::response::ApiResponse;

/// The variables the door reads; their defaults are spin.toml's. They are generous on
/// purpose (see docs/front-door.md, "Rate limits"): the address Spin reports may be a
/// proxy's that every shopper shares, so a tight default could lock a whole shop out.
/// A deployment sets its own.
pub(crate) const CORS_ALLOWED_ORIGINS: &str = "cors_allowed_origins";
pub(crate) const RATE_LIMIT_WINDOW_SECONDS: &str = "rate_limit_window_seconds";
pub(crate) const RATE_LIMIT_AUTH: &str = "rate_limit_auth";
pub(crate) const RATE_LIMIT_WRITES: &str = "rate_limit_writes";
pub(crate) const RATE_LIMIT_READS: &str = "rate_limit_reads";
pub(crate) const RATE_LIMIT_CLIENTS: &str = "rate_limit_clients";
pub(crate) const RATE_LIMIT_USER_KEYS: &str = "rate_limit_user_keys";

/// What a browser of an allowed origin may send, and read, cross-origin.
const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS: &str =
    "authorization, content-type, idempotency-key, x-idempotency-key, x-request-id";
const EXPOSED_HEADERS: &str =
    "x-request-id, x-total-count, retry-after, idempotent-replayed, etag, allow";
/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The door's settings, read from the component's variables once per instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Door {
    pub allowed_origins: Vec<String>,
    pub window_seconds: u64,
    pub auth_limit: u64,
    pub writes_limit: u64,
    pub reads_limit: u64,
    /// Whom the limits count.
    pub counted: Counted,
    /// 0: a counter per user; N: users share N counters per class.
    pub user_keys: u64,
}

/// Whom the rate limits count: client addresses, signed-in users, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counted {
    pub addresses: bool,
    pub users: bool,
}

impl Counted {
    #[cfg(test)]
    const BOTH: Counted = Counted {
        addresses: true,
        users: true,
    };

    /// `address,user`, `user`, `address`, or nothing (empty); `None` for another word.
    pub fn parse(raw: &str) -> Option<Counted> {
        let mut counted = Counted {
            addresses: false,
            users: false,
        };
        for word in raw.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "address" => counted.addresses = true,
                "user" => counted.users = true,
                _ => return None,
            }
        }
        Some(counted)
    }
}

/// The route classes, each with a limit of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    Auth,
    Writes,
    Reads,
}

impl RouteClass {
    pub fn of(req: &ApiRequest) -> RouteClass {
        let path = req.path.as_str();
        if path == "/api/users/auth" || path.starts_with("/api/users/auth/") {
            RouteClass::Auth
        } else if matches!(req.method, Method::Get | Method::Head) {
            RouteClass::Reads
        } else {
            RouteClass::Writes
        }
    }

    fn name(self) -> &'static str {
        match self {
            RouteClass::Auth => "auth",
            RouteClass::Writes => "writes",
            RouteClass::Reads => "reads",
        }
    }
}

static DOOR: PerInstance<Door> = PerInstance::new();

impl Door {
    /// The settings from the component's variables, read once per instance. Every
    /// component declares them all (spin.toml); one missing or malformed fails every
    /// request with 500, and the log names it: the door would otherwise guard the
    /// shop differently from what the deployment says.
    pub async fn load() -> ApiResult<&'static Door> {
        DOOR.get_or_load(async || {
            Ok(Door {
                allowed_origins: parse_origins(&config::var(CORS_ALLOWED_ORIGINS).await?),
                window_seconds: config::parsed_var::<u64>(RATE_LIMIT_WINDOW_SECONDS)
                    .await?
                    .max(1),
                auth_limit: config::parsed_var(RATE_LIMIT_AUTH).await?,
                writes_limit: config::parsed_var(RATE_LIMIT_WRITES).await?,
                reads_limit: config::parsed_var(RATE_LIMIT_READS).await?,
                counted: Counted::parse(&config::var(RATE_LIMIT_CLIENTS).await?).ok_or_else(
                    || {
                        ApiError::internal(format!(
                            "variable {RATE_LIMIT_CLIENTS} names neither address nor user"
                        ))
                    },
                )?,
                user_keys: config::parsed_var(RATE_LIMIT_USER_KEYS).await?,
            })
        })
        .await
    }

    /// The clients a request is counted as, each the tail of a counter's key:
    /// `ip:<address>`, and `user:<id>` (or `users:<slot>` when users share
    /// `user_keys` counters), as far as the door counts them.
    fn clients(&self, address: Option<String>, user: Option<String>) -> Vec<String> {
        let mut clients = Vec::new();
        if self.counted.addresses
            && let Some(ip) = address
        {
            clients.push(format!("ip:{ip}"));
        }
        if self.counted.users
            && let Some(user) = user
        {
            clients.push(match self.user_keys {
                0 => format!("user:{user}"),
                keys => format!("users:{}", user_slot(&user, keys)),
            });
        }
        clients
    }

    fn limit(&self, class: RouteClass) -> u64 {
        match class {
            RouteClass::Auth => self.auth_limit,
            RouteClass::Writes => self.writes_limit,
            RouteClass::Reads => self.reads_limit,
        }
    }

    /// The request's origin when it is one of the allowed ones.
    fn allowed_origin<'r>(&self, req: &'r ApiRequest) -> Option<&'r str> {
        let origin = req.header("origin")?;
        self.allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
            .then_some(origin)
    }

    /// The answer to a CORS preflight, or `None` when the request is not one.
    pub fn preflight(&self, req: &ApiRequest) -> Option<ApiResponse> {
        if req.method != Method::Options
            || req.header("origin").is_none()
            || req.header("access-control-request-method").is_none()
        {
            return None;
        }
        let response = match self.allowed_origin(req) {
            Some(origin) => ApiResponse::no_content()
                .with_header("access-control-allow-origin", origin)
                .with_header("access-control-allow-methods", ALLOWED_METHODS)
                .with_header("access-control-allow-headers", ALLOWED_HEADERS)
                .with_header("access-control-max-age", PREFLIGHT_MAX_AGE),
            None => ApiResponse::from_error(&ApiError::Forbidden(
                "cross-origin requests from this origin are not allowed".into(),
            )),
        };
        Some(response.with_header("vary", "origin"))
    }

    /// Adds the CORS headers an answer needs: the allowed origin, and `Vary: Origin`
    /// wherever the answer depends on it.
    pub(crate) fn decorate(&self, req: &ApiRequest, mut response: ApiResponse) -> ApiResponse {
        if self.allowed_origins.is_empty() {
            return response;
        }
        if let Some(origin) = self.allowed_origin(req)
            && response.header("access-control-allow-origin").is_none()
        {
            response = response
                .with_header("access-control-allow-origin", origin)
                .with_header("access-control-expose-headers", EXPOSED_HEADERS);
        }
        match response
            .headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case("vary"))
        {
            Some((_, vary)) if !vary.to_ascii_lowercase().contains("origin") => {
                vary.push_str(", origin");
            }
            Some(_) => {}
            None => response = response.with_header("vary", "origin"),
        }
        response
    }

    /// Counts the request against its limits; 429 when one is spent.
    pub(crate) async fn admit(&self, req: &ApiRequest) -> Result<(), ApiError> {
        if !req.path.starts_with("/api/") {
            return Ok(());
        }
        let class = RouteClass::of(req);
        let limit = self.limit(class);
        if limit == 0 || require_service(req).await.is_ok() {
            return Ok(());
        }
        let user = if self.counted.users {
            user_of(req).await
        } else {
            None
        };
        let clients = self.clients(req.client_ip(), user);
        if clients.is_empty() {
            return Ok(());
        }
        let Some(store) = Counters::open().await else {
            return Ok(());
        };
        let now = now_seconds().max(0) as u64;
        let window = Window::at(now, self.window_seconds);
        for client in clients {
            let key = format!("rl:{}:{client}", class.name());
            match store.add(&key, window, 1).await {
                Ok(count) if count > limit => {
                    return Err(ApiError::RateLimited {
                        retry_after_seconds: window.seconds_left(now),
                    });
                }
                Ok(_) => {}
                Err(err) => {
                    eprintln!("rate limits not applied: counting {key}: {err}");
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// The user a request's access token names, when the token is valid. Verified with
/// the `jwt_secret` variable; a component without it limits per address only.
async fn user_of(req: &ApiRequest) -> Option<String> {
    let token = bearer_token(req).ok()?;
    let secret = config::secret_var(config::JWT_SECRET).await.ok()?;
    verify_access_token(&secret, token)
        .ok()
        .map(|claims| claims.sub)
}

/// Which of `keys` shared counters a user counts in: the id modulo `keys` (so
/// consecutive ids never share one while there are fewer users than counters), or
/// for an id that is not a number, its FNV-1a hash modulo `keys`.
fn user_slot(user: &str, keys: u64) -> u64 {
    let value = user.parse::<u64>().unwrap_or_else(|_| {
        user.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    });
    value % keys
}

/// `https://a.example, http://localhost:8080/` -> the origins, without trailing `/`.
fn parse_origins(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|origin| origin.trim().trim_end_matches('/'))
        .filter(|origin| !origin.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Method;

    /// A door that allows no other origin and counts both kinds of client; its
    /// limits are no test's concern.
    impl Default for Door {
        fn default() -> Self {
            Door {
                allowed_origins: Vec::new(),
                window_seconds: 60,
                auth_limit: 0,
                writes_limit: 0,
                reads_limit: 0,
                counted: Counted::BOTH,
                user_keys: 0,
            }
        }
    }

    fn door(origins: &[&str]) -> Door {
        Door {
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            ..Door::default()
        }
    }

    fn request(method: Method, path: &str) -> ApiRequest {
        ApiRequest::new(method, path, b"", "")
    }

    #[test]
    fn route_classes_follow_the_path_and_method() {
        assert_eq!(
            RouteClass::of(&request(Method::Post, "/api/users/auth/login")),
            RouteClass::Auth
        );
        assert_eq!(
            RouteClass::of(&request(Method::Get, "/api/users/auth/introspect")),
            RouteClass::Auth
        );
        assert_eq!(
            RouteClass::of(&request(Method::Get, "/api/users/authors")),
            RouteClass::Reads
        );
        assert_eq!(
            RouteClass::of(&request(Method::Patch, "/api/products/products/1")),
            RouteClass::Writes
        );
        assert_eq!(
            RouteClass::of(&request(Method::Head, "/api/products/products")),
            RouteClass::Reads
        );
    }

    #[test]
    fn the_clients_counted_are_the_ones_named() {
        assert_eq!(Counted::parse("address,user"), Some(Counted::BOTH));
        assert_eq!(
            Counted::parse(" user "),
            Some(Counted {
                addresses: false,
                users: true
            })
        );
        assert_eq!(
            Counted::parse(""),
            Some(Counted {
                addresses: false,
                users: false
            })
        );
        assert_eq!(Counted::parse("address,users"), None);

        let ip = || Some("10.0.0.1".to_string());
        let user = || Some("42".to_string());
        let both = Door::default();
        assert_eq!(both.clients(ip(), user()), ["ip:10.0.0.1", "user:42"]);
        assert_eq!(both.clients(None, user()), ["user:42"]);
        let users_only = Door {
            counted: Counted::parse("user").unwrap(),
            ..Door::default()
        };
        assert_eq!(users_only.clients(ip(), user()), ["user:42"]);
        assert!(users_only.clients(ip(), None).is_empty());
        let nobody = Door {
            counted: Counted::parse("").unwrap(),
            ..Door::default()
        };
        assert!(nobody.clients(ip(), user()).is_empty());
    }

    #[test]
    fn users_share_a_bounded_number_of_counters_when_asked_to() {
        let shared = Door {
            counted: Counted::parse("user").unwrap(),
            user_keys: 300,
            ..Door::default()
        };
        assert_eq!(shared.clients(None, Some("42".into())), ["users:42"]);
        assert_eq!(shared.clients(None, Some("342".into())), ["users:42"]);
        // However many users, never more than `user_keys` counters per class.
        let keys: std::collections::HashSet<Vec<String>> = (1..=10_000u64)
            .map(|id| shared.clients(None, Some(id.to_string())))
            .chain((0..1_000).map(|n| shared.clients(None, Some(format!("u-{n}")))))
            .collect();
        assert_eq!(keys.len(), 300);
        // Consecutive ids don't share while there are fewer users than counters.
        let first: std::collections::HashSet<u64> = (1..=300)
            .map(|id| user_slot(&id.to_string(), 300))
            .collect();
        assert_eq!(first.len(), 300);
    }

    #[test]
    fn origins_are_listed_exactly() {
        assert_eq!(
            parse_origins(" https://a.example, http://localhost:8080/ ,,"),
            ["https://a.example", "http://localhost:8080"]
        );
        assert!(parse_origins("").is_empty());
    }

    #[test]
    fn an_allowed_origins_preflight_gets_what_it_may_send() {
        let door = door(&["https://shop.example"]);
        let preflight = request(Method::Options, "/api/products/products")
            .with_header("origin", "https://shop.example")
            .with_header("access-control-request-method", "POST");
        let answer = door.preflight(&preflight).expect("a preflight");
        assert_eq!(answer.status, 204);
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("https://shop.example")
        );
        assert!(
            answer
                .header("access-control-allow-headers")
                .unwrap()
                .contains("authorization")
        );
    }

    #[test]
    fn other_origins_are_refused_and_same_origin_is_untouched() {
        let door = door(&["https://shop.example"]);
        let preflight = request(Method::Options, "/api/products/products")
            .with_header("origin", "https://evil.example")
            .with_header("access-control-request-method", "POST");
        let answer = door.preflight(&preflight).expect("a preflight");
        assert_eq!(answer.status, 403);
        assert_eq!(answer.header("access-control-allow-origin"), None);

        let plain_options = request(Method::Options, "/api/products/products");
        assert!(door.preflight(&plain_options).is_none());

        let foreign = request(Method::Get, "/api/products/products")
            .with_header("origin", "https://evil.example");
        let answer = door.decorate(&foreign, ApiResponse::no_content());
        assert_eq!(answer.header("access-control-allow-origin"), None);
        assert_eq!(answer.header("vary"), Some("origin"));

        let nobody_allowed = Door::default();
        let answer = nobody_allowed.decorate(&foreign, ApiResponse::no_content());
        assert!(answer.headers.is_empty());
    }

    #[test]
    fn an_allowed_origin_may_read_the_answer() {
        let door = door(&["https://shop.example"]);
        let req = request(Method::Get, "/api/products/products")
            .with_header("origin", "https://shop.example");
        let answer = door.decorate(&req, ApiResponse::no_content());
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("https://shop.example")
        );
        assert!(
            answer
                .header("access-control-expose-headers")
                .unwrap()
                .contains("x-total-count")
        );
    }
}
