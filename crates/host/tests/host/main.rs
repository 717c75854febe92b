//! The test host's own tests, over the probe component (`crates/host-probe`) and the
//! app in `tests/fixtures/spin.toml`: one module per part of what Spin provides,
//! built as one test binary.

mod common;
mod failures;
mod key_value;
mod outbound;
mod postgres;
mod routing;
mod variables;
mod world;
