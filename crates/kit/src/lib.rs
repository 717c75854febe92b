//! The library every spinshop component builds on, in three layers and the pieces
//! they share:
//!
//! - [`http`]: a service's HTTP side, the same in every service: the entry point
//!   ([`http::service::serve`]), the front door (CORS, rate limits), request parsing
//!   with a size limit, the route table with who may call each route, the one error
//!   envelope, paging;
//! - [`pg`]: its Postgres side: connections and transactions ([`pg::db`]), and the
//!   outbox events leave a service through;
//! - [`contracts`]: what services send each other, typed once for both sides;
//! - [`mail`]: writing a mail's plain-text and HTML parts;
//! - tokens and introspection ([`auth`]), calls to siblings ([`client`]),
//!   configuration from Spin variables ([`config`]), short waits ([`time`]), and the
//!   one module that knows the Spin SDK ([`sdk`]).

pub mod auth;
pub mod client;
pub mod config;
pub mod contracts;
pub mod digest;
pub mod http;
pub mod limits;
pub mod mail;
pub mod pg;
pub mod sdk;
pub mod time;

pub use http::error::{ApiError, ApiResult};
pub use http::method::Method;
pub use http::request::ApiRequest;
pub use http::response::ApiResponse;
pub use http::service::{health, no_route};

/// Waiting for several steps of a request at once, when none needs another's result:
/// on WASIp3 their calls to Spin (a sibling, the database) overlap; on WASIp2, where
/// Spin's calls block, they run one after the other.
pub use futures::future::{join, join_all};
