//! The test host's own tests, over the probe components (`crates/host-probe`, WASIp2,
//! and `crates/host-probe-p3`, WASIp3) and the apps in `tests/fixtures/`: one module
//! per part of what Spin provides, most tests run on both probes, built as one test
//! binary.

mod common;
mod failures;
mod key_value;
mod outbound;
mod postgres;
mod reuse;
mod routing;
mod variables;
mod world;
