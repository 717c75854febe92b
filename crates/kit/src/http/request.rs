//! An incoming request, reduced to what handlers need: method, the path below the
//! service's prefix, query, headers, body, and the request id.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::http::error::{ApiError, ApiResult};
use crate::http::method::Method;
use crate::http::strict::Strict;
use crate::pg::outbox::Outbox;
use crate::sdk::Incoming;

/// Bodies larger than this are refused with 413, unless a route takes more
/// ([`Route::with_body_limit`](crate::http::routes::Route::with_body_limit)).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct ApiRequest {
    pub method: Method,
    /// The full request path, e.g. `/api/users/auth/login`.
    pub path: String,
    query: Vec<(String, String)>,
    /// Header names are lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The most body bytes the component takes (its largest route's limit).
    body_limit: usize,
    /// The caller's `x-request-id`, or a fresh one.
    pub request_id: String,
    /// Where the service is mounted, e.g. `/api/users`.
    prefix: &'static str,
    /// The outboxes this request recorded rows in: they are delivered once the
    /// response has gone. Its own, as everything here: an instance may serve
    /// several requests at once.
    recorded: Recorded,
}

/// The outboxes a request recorded rows in, each once.
pub(crate) type Recorded = Rc<RefCell<Vec<Outbox>>>;

impl ApiRequest {
    /// Builds the request from what Spin hands the component. Components route on
    /// the path itself: requests that arrive by service chaining carry no per-route headers.
    pub(crate) fn from_incoming(incoming: Incoming, prefix: &'static str) -> Self {
        let Incoming {
            method,
            path_with_query,
            headers,
            body,
            body_limit,
        } = incoming;
        let request_id = headers
            .iter()
            .find(|(name, _)| name == "x-request-id")
            .map(|(_, value)| value.as_str())
            .filter(|id| is_acceptable_request_id(id))
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let limit = body_limit;
        ApiRequest::build(
            method,
            &path_with_query,
            headers,
            body,
            limit,
            request_id,
            prefix,
        )
    }

    /// A request with nothing in it, for an answer to one that could not be read.
    pub(crate) fn empty() -> Self {
        let (headers, body, id) = (Vec::new(), Vec::new(), String::new());
        ApiRequest::build(Method::Get, "/", headers, body, MAX_BODY_BYTES, id, "")
    }

    /// A request built in code, for unit tests of routing and parsing.
    pub fn new(method: Method, path_and_query: &str, body: &[u8], prefix: &'static str) -> Self {
        let id = "test".to_string();
        ApiRequest::build(
            method,
            path_and_query,
            Vec::new(),
            body.to_vec(),
            MAX_BODY_BYTES,
            id,
            prefix,
        )
    }

    fn build(
        method: Method,
        path_and_query: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        body_limit: usize,
        request_id: String,
        prefix: &'static str,
    ) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        ApiRequest {
            method,
            path: path.to_string(),
            query: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            headers,
            body,
            body_limit,
            request_id,
            prefix,
            recorded: Rc::default(),
        }
    }

    /// Where the request's database connections note the outboxes it recorded in.
    pub(crate) fn recorded_outbox(&self) -> Recorded {
        Rc::clone(&self.recorded)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// The service the request came to, as its prefix names it (`/api/orders` ->
    /// `orders`; the catch-all, with no prefix, is `web`).
    pub fn service(&self) -> &'static str {
        crate::http::service::service_name(self.prefix)
    }

    /// The path below the service prefix, split on `/`: `/api/users/auth/login` -> `["auth", "login"]`.
    pub fn segments(&self) -> Vec<&str> {
        self.path
            .strip_prefix(self.prefix)
            .unwrap_or("")
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The caller's IP address from Spin's `spin-client-addr` (`ip:port` or
    /// `[v6]:port`). Requests chained from a sibling report `0.0.0.0:0` and have none.
    pub fn client_ip(&self) -> Option<String> {
        client_ip(self.header("spin-client-addr")?)
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the client's `If-None-Match` names one of `etags` (quoted, as sent in
    /// `ETag`) or is `*`: then it already has the answer, and a 304 will do. Tags are
    /// compared weakly, as RFC 9110 asks for `If-None-Match`.
    pub fn if_none_match(&self, etags: &[&str]) -> bool {
        self.header("if-none-match").is_some_and(|header| {
            header.split(',').map(str::trim).any(|tag| {
                tag == "*" || {
                    let tag = tag.strip_prefix("W/").unwrap_or(tag);
                    etags.contains(&tag)
                }
            })
        })
    }

    /// Parses a JSON body into `T`, naming the offending field in the error.
    pub fn json<T: DeserializeOwned>(&self) -> ApiResult<T> {
        if let Some(content_type) = self.header("content-type")
            && !content_type.starts_with("application/json")
        {
            return Err(ApiError::validation(format!(
                "content-type must be application/json, got {content_type}"
            )));
        }
        parse_json(&self.body)
    }

    /// Parses `application/x-www-form-urlencoded` pairs (OAuth2 password grant).
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    pub fn is_form(&self) -> bool {
        self.header("content-type")
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
    }

    /// Refuses query parameters and form fields holding NUL, which Postgres cannot
    /// store, before any handler sees them. (JSON bodies are checked as they are
    /// parsed, and header values cannot hold NUL.)
    pub(crate) fn check_text(&self) -> ApiResult<()> {
        let form = if self.is_form() {
            self.form()
        } else {
            Vec::new()
        };
        match self
            .query
            .iter()
            .chain(&form)
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            Some((name, _)) => Err(nul_in(&name.replace('\0', "\\u0000"))),
            None => Ok(()),
        }
    }

    /// Refuses a body larger than the component takes before anything else looks
    /// at it (each route then holds it to its own limit).
    pub(crate) fn check_body_size(&self) -> ApiResult<()> {
        self.check_body_within(self.body_limit)
    }

    /// Refuses a body larger than `limit` bytes with 413.
    pub(crate) fn check_body_within(&self, limit: usize) -> ApiResult<()> {
        if self.body.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        Ok(())
    }
}

/// Parses JSON with messages that name the field: `items[0].qty: invalid type: ...`.
/// A string holding NUL, which Postgres cannot store, is refused here, before any
/// handler sees it. Structs are read from JSON objects only, at any depth (see
/// [`Strict`]), and nothing may follow the value.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation("request body must be a JSON object"));
    }
    // In valid JSON a NUL can only arrive escaped; only then is the body walked.
    if body.windows(6).any(|window| window == b"\\u0000")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(field) = field_with_nul(&value, String::new())
    {
        return Err(nul_in(&field));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(Strict(&mut deserializer)).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::validation(format!("invalid JSON body: {inner}"));
        }
        if path == "." {
            return ApiError::validation(inner.to_string());
        }
        ApiError::Validation {
            message: format!("{path}: {inner}"),
            details: Some(serde_json::json!({ "field": path })),
        }
    })?;
    deserializer
        .end()
        .map_err(|err| ApiError::validation(format!("invalid JSON body: {err}")))?;
    Ok(value)
}

/// The path (`items[0].note`, or `.` for the body itself) of the first string in
/// `value` that holds a NUL, as an object key or a value.
fn field_with_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) if text.contains('\0') => {
            Some(if path.is_empty() { ".".into() } else { path })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| field_with_nul(item, format!("{path}[{index}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(field)
            } else {
                field_with_nul(item, field)
            }
        }),
        _ => None,
    }
}

/// The 400 for a NUL character, which no text column can hold.
fn nul_in(field: &str) -> ApiError {
    ApiError::invalid_field(
        field,
        format!("{field}: must not contain NUL (\\u0000) characters"),
    )
}

/// A positive integer id written as text (a path segment, a query parameter).
pub fn positive_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

/// An id taken from the path: anything that is not a positive integer names
/// nothing, so it answers the caller's own 404 (`no order with id abc`).
pub fn path_id(raw: &str, not_found: impl FnOnce() -> ApiError) -> ApiResult<i64> {
    positive_id(raw).ok_or_else(not_found)
}

/// Deserializes a positive id sent as a JSON number or as a string of digits
/// (`"order_id": 1` and `"order_id": "1"` are both accepted).
/// Use as `#[serde(deserialize_with = "spinshop_kit::http::request::id")]`.
pub fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct IdVisitor;

    impl Visitor<'_> for IdVisitor {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a positive integer id (a number or a string of digits)")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<i64, E> {
            if value > 0 {
                Ok(value)
            } else {
                Err(E::invalid_value(de::Unexpected::Signed(value), &self))
            }
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<i64, E> {
            i64::try_from(value)
                .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
                .and_then(|value| self.visit_i64(value))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<i64, E> {
            let digits = value.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::invalid_value(de::Unexpected::Str(value), &self));
            }
            digits
                .parse::<i64>()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(value), &self))
                .and_then(|value| self.visit_i64(value))
        }
    }

    deserializer.deserialize_any(IdVisitor)
}

/// [`id`] for an optional field: absent or `null` is `None`.
pub fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "id")] i64);
    Ok(Option::<Id>::deserialize(deserializer)?.map(|Id(id)| id))
}

/// A field that may be absent, `null` or a value, told apart: absent is `None`,
/// `null` is `Some(None)` (e.g. a PATCH that clears it). Use with `#[serde(default,
/// deserialize_with = "spinshop_kit::http::request::nullable")]`.
pub fn nullable<'de, D: Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

fn client_ip(client_addr: &str) -> Option<String> {
    let host = client_addr
        .rsplit_once(':')
        .map_or(client_addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && host != "0.0.0.0").then(|| host.to_string())
}

/// Request ids are echoed into logs and headers, so only short printable ones are kept.
fn is_acceptable_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        product_id: i64,
        qty: i64,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Order {
        items: Vec<Item>,
    }

    #[test]
    fn nullable_fields_tell_absent_from_null() {
        #[derive(Debug, Deserialize)]
        struct Patch {
            #[serde(default, deserialize_with = "nullable")]
            parent: Option<Option<String>>,
        }
        let read = |json: &str| serde_json::from_str::<Patch>(json).unwrap().parent;
        assert_eq!(read("{}"), None);
        assert_eq!(read(r#"{"parent": null}"#), Some(None));
        assert_eq!(read(r#"{"parent": "audio"}"#), Some(Some("audio".into())));
        assert!(serde_json::from_str::<Patch>(r#"{"parent": 1}"#).is_err());
    }

    #[test]
    fn client_ip_strips_the_port() {
        assert_eq!(client_ip("127.0.0.1:5123").as_deref(), Some("127.0.0.1"));
        assert_eq!(client_ip("[::1]:5123").as_deref(), Some("::1"));
        assert_eq!(client_ip("0.0.0.0:0"), None);
    }

    #[test]
    fn segments_are_relative_to_the_service_prefix() {
        let req = ApiRequest::new(Method::Get, "/api/users/users/7/?x=1", b"", "/api/users");
        assert_eq!(req.segments(), ["users", "7"]);
        assert_eq!(req.query("x"), Some("1"));
    }

    #[test]
    fn json_errors_name_the_field() {
        let err = parse_json::<Order>(br#"{"items":[{"product_id":1,"qty":"two"}]}"#).unwrap_err();
        assert!(err.to_string().starts_with("items[0].qty:"), "{err}");
        let err = parse_json::<Order>(b"{").unwrap_err();
        assert!(err.to_string().starts_with("invalid JSON body"), "{err}");
        let err = parse_json::<Order>(b"").unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn objects_are_objects_at_every_depth() {
        let err = parse_json::<Order>(br#"[[[1, 2]]]"#).unwrap_err();
        assert_eq!(err.status(), 400);
        let err = parse_json::<Order>(br#"{"items":[[1, 2]]}"#).unwrap_err();
        assert!(err.to_string().starts_with("items[0]:"), "{err}");
        let order = parse_json::<Order>(br#"{"items":[{"product_id":1,"qty":2}]}"#).unwrap();
        assert_eq!(order.items[0].qty, 2);
    }

    #[test]
    fn nothing_may_follow_the_body() {
        let err = parse_json::<Order>(br#"{"items":[]} {"items":[]}"#).unwrap_err();
        assert!(err.to_string().starts_with("invalid JSON body"), "{err}");
        assert!(parse_json::<Order>(b"{\"items\":[]}\n").is_ok());
    }

    #[derive(Debug, Deserialize)]
    struct Ref {
        #[serde(deserialize_with = "id")]
        order_id: i64,
    }

    #[test]
    fn ids_are_accepted_as_numbers_or_digit_strings() {
        assert_eq!(parse_json::<Ref>(br#"{"order_id":7}"#).unwrap().order_id, 7);
        assert_eq!(
            parse_json::<Ref>(br#"{"order_id":"7"}"#).unwrap().order_id,
            7
        );
        for bad in [
            r#"{"order_id":0}"#,
            r#"{"order_id":-3}"#,
            r#"{"order_id":"-3"}"#,
            r#"{"order_id":"7a"}"#,
            r#"{"order_id":""}"#,
            r#"{"order_id":1.5}"#,
            r#"{"order_id":"99999999999999999999"}"#,
            r#"{"order_id":null}"#,
        ] {
            let err = parse_json::<Ref>(bad.as_bytes()).unwrap_err();
            assert!(err.to_string().starts_with("order_id:"), "{bad}: {err}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Note {
        name: String,
        lines: Vec<String>,
    }

    #[test]
    fn nul_characters_are_refused_naming_the_field() {
        let err = parse_json::<Note>(br#"{"name":"a\u0000b","lines":[]}"#).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().starts_with("name:"), "{err}");
        let err = parse_json::<Note>(br#"{"name":"a","lines":["x","\u0000"]}"#).unwrap_err();
        assert!(err.to_string().starts_with("lines[1]:"), "{err}");
        // An escaped backslash followed by "u0000" is ordinary text.
        let note = parse_json::<Note>(br#"{"name":"a\\u0000","lines":[]}"#).unwrap();
        assert_eq!(note.name, "a\\u0000");

        let req = ApiRequest::new(Method::Get, "/api/p/products?q=a%00b", b"", "/api/p");
        let err = req.check_text().unwrap_err();
        assert!(err.to_string().starts_with("q:"), "{err}");
        let req = ApiRequest::new(
            Method::Post,
            "/api/u/token",
            b"username=a%00&password=x",
            "/api/u",
        )
        .with_header("content-type", "application/x-www-form-urlencoded");
        assert!(
            req.check_text()
                .unwrap_err()
                .to_string()
                .starts_with("username:")
        );
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        let with = |header: &str| {
            ApiRequest::new(Method::Get, "/x", b"", "").with_header("if-none-match", header)
        };
        assert!(with("\"a\"").if_none_match(&["\"a\""]));
        assert!(with("W/\"a\"").if_none_match(&["\"a\""]));
        assert!(with("\"x\", \"a-gzip\"").if_none_match(&["\"a\"", "\"a-gzip\""]));
        assert!(with("*").if_none_match(&["\"a\""]));
        assert!(!with("\"b\"").if_none_match(&["\"a\""]));
        assert!(!ApiRequest::new(Method::Get, "/x", b"", "").if_none_match(&["\"a\""]));
    }

    #[test]
    fn odd_request_ids_are_replaced() {
        assert!(is_acceptable_request_id("abc-123"));
        assert!(!is_acceptable_request_id("a b"));
        assert!(!is_acceptable_request_id(&"x".repeat(200)));
    }
}
