//! What the host's tests share: the probe app, built once, and small request helpers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::Value;
use spinshop_host::{App, AppBuilder};

/// Which build of the probe an app runs: the same routes, as a WASIp2 component
/// (spin-sdk 5.2, `crates/host-probe`) or a WASIp3 one (spin-sdk 7,
/// `crates/host-probe-p3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    P2,
    P3,
}

/// Runs the named `async fn(Probe)` tests once per probe build, as the tests
/// `<name>::wasip2` and `<name>::wasip3`.
macro_rules! on_both_probes {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                use crate::common::Probe;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn wasip2() {
                    super::$test(Probe::P2).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn wasip3() {
                    super::$test(Probe::P3).await
                }
            }
        )*
    };
}
pub(crate) use on_both_probes;

pub fn fixture_manifest() -> PathBuf {
    manifest_of(Probe::P2)
}

pub fn manifest_of(probe: Probe) -> PathBuf {
    let file = match probe {
        Probe::P2 => "spin.toml",
        Probe::P3 => "spin-p3.toml",
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file)
}

/// Builds both probe components (a no-op when they are fresh).
pub fn build_probe() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "-p",
                "host-probe",
                "-p",
                "host-probe-p3",
            ])
            .status()
            .expect("running cargo build for host-probe");
        assert!(status.success(), "building the probes failed");
    });
}

/// The probe app's builder, with its required variable set and the environment ignored.
pub fn probe_app(probe: Probe) -> AppBuilder {
    build_probe();
    App::builder(manifest_of(probe))
        .env_overrides(false)
        .variable("token", "s3cret")
}

pub async fn spawn(probe: Probe) -> App {
    probe_app(probe).build().await.expect("the probe app loads")
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

pub async fn get(app: &App, path: &str) -> Reply {
    send(
        app,
        http::Request::get(path)
            .body(Bytes::new())
            .expect("a request"),
    )
    .await
}

pub async fn post(app: &App, path: &str, body: &Value) -> Reply {
    let request = http::Request::post(path)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .expect("a request");
    send(app, request).await
}

pub async fn send(app: &App, request: http::Request<Bytes>) -> Reply {
    let response = app.handle(request).await;
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body())
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(response.body()).into()));
    Reply { status, body }
}

/// A header as the probe received it.
pub fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.body["headers"][name].as_str()
}
