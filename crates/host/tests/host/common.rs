//! What the host's tests share: the probe app, built once, and small request helpers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::Value;
use spinshop_host::{App, AppBuilder};

pub fn fixture_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spin.toml")
}

/// Builds the probe component (a no-op when it is fresh).
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
            ])
            .status()
            .expect("running cargo build for host-probe");
        assert!(status.success(), "building host-probe failed");
    });
}

/// The probe app's builder, with its required variable set and the environment ignored.
pub fn probe_app() -> AppBuilder {
    build_probe();
    App::builder(fixture_manifest())
        .env_overrides(false)
        .variable("token", "s3cret")
}

pub async fn spawn() -> App {
    probe_app().build().await.expect("the probe app loads")
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
