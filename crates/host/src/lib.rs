//! spinshop's Spin-compatible host: runs the app's real `.wasm` components the way
//! `spin up` does (routing, Spin's request headers, `allowed_outbound_hosts`,
//! service chaining, Postgres, variables, key-value stores), for the test suite and
//! for machines without Spin. It runs WASIp2 components (spin-sdk 5.2:
//! `spin:postgres@4.0.0`, `fermyon:spin/variables@2.0.0` and `key-value@2.0.0`, a
//! fresh instance per request) and WASIp3 ones (spin-sdk 7: `wasi:http@0.3.0`,
//! `spin:postgres@4.2.0`, `spin:variables@3.0.0`, `spin:key-value@3.0.0`, instances
//! reused as Spin 4 reuses them). Spin's behaviour is the reference; docs/testing.md
//! ("The test host and Spin") says where the host follows it and where it differs.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let app = spinshop_host::App::builder("spin.toml")
//!     .variable("jwt_secret", "...")
//!     .build()
//!     .await?;
//! let response = app
//!     .handle(http::Request::get("/api/users/healthz").body(bytes::Bytes::new())?)
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
pub use instance::InstanceStats;
