//! The library every spinshop component builds on: one error envelope, request
//! parsing with a size limit, tokens and roles, paging, configuration from Spin
//! variables, Postgres helpers, short waits, the front door (CORS, rate limits), and
//! the entry point that ties them together.

pub mod auth;
pub mod client;
pub mod config;
pub mod contracts;
pub mod counters;
// Moving to the Postgres layer's module tree (`pg/`) next.
#[path = "pg/db.rs"]
pub mod db;
pub mod digest;
pub mod door;
pub mod error;
pub mod idempotency;
pub mod limits;
pub mod method;
pub mod outbox;
pub mod paging;
pub mod request;
pub mod response;
pub mod routes;
pub mod sdk;
pub mod service;
pub mod strict;
pub mod time;

pub use error::{ApiError, ApiResult};
pub use method::Method;
pub use request::ApiRequest;
pub use response::ApiResponse;
pub use service::{health, no_route};

/// Waiting for several steps of a request at once, when none needs another's result:
/// on WASIp3 their calls to Spin (a sibling, the database) overlap; on WASIp2, where
/// Spin's calls block, they run one after the other.
pub use futures::future::{join, join_all};
