//! spinshop's Spin-compatible host: runs the app's real `.wasm` components the way
//! `spin up` does (routing, Spin's request headers, `allowed_outbound_hosts`,
//! service chaining, `spin:postgres@4.0.0`, variables, key-value stores), for the
//! test suite and for machines without Spin. Spin's behaviour is the reference; see
//! `shared/SPIN-FACTS.md` for what was measured.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let app = spinshop_host::App::builder("spin.toml")
//!     .variable("jwt_secret", "...")
//!     .build()
//!     .await?;
//! let response = app
//!     .handle(http::Request::get("/api/users/health").body(bytes::Bytes::new())?)
//!     .await;
//! # let _ = response;
//! # Ok(())
//! # }
//! ```

mod allowed_hosts;
mod app;
mod bindings;
mod compile;
mod instance;
pub mod key_value;
pub mod manifest;
mod outbound_http;
pub mod postgres;
mod routes;
mod server;
pub mod variables;
pub mod world;

pub use app::{App, AppBuilder, Delay, Interceptor, OutboundInfo};
