//! Outbound HTTP: service chaining, self-requests, `allowed_outbound_hosts`, and the
//! test hooks (a missing component, an interceptor).

use crate::common::{Probe, get, on_both_probes, probe_app, spawn};
use bytes::Bytes;
use serde_json::Value;

on_both_probes!(
    chained_requests_look_like_spins,
    private_components_are_reachable_by_chaining,
    self_requests_go_through_the_router_like_public_ones,
    hosts_not_allowed_are_denied_without_a_request,
    chaining_to_a_missing_component_fails,
    an_interceptor_can_answer_one_call,
);

fn send_path(url: &str) -> String {
    format!("/api/a/send?url={url}")
}

async fn chained_requests_look_like_spins(probe: Probe) {
    let app = spawn(probe).await;
    let reply = get(&app, &send_path("http://b.spin.internal/api/b/hello?x=1")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], 200);
    let seen = &reply.body["body"];
    let header = |name: &str| seen["headers"][name].as_str().map(str::to_owned);
    assert_eq!(
        header("spin-full-url").as_deref(),
        Some("http://localhost/api/b/hello?x=1")
    );
    assert_eq!(header("spin-path-info").as_deref(), Some("/api/b/hello"));
    assert_eq!(header("spin-matched-route").as_deref(), Some("/..."));
    assert_eq!(header("spin-raw-component-route").as_deref(), Some("/..."));
    assert_eq!(header("spin-component-route").as_deref(), Some(""));
    assert_eq!(header("spin-client-addr").as_deref(), Some("0.0.0.0:0"));
    assert_eq!(header("x-request-id").as_deref(), Some("probe"));
    assert_eq!(header("host"), None);
    assert_eq!(seen["path"], "/api/b/hello");
}

async fn private_components_are_reachable_by_chaining(probe: Probe) {
    let app = spawn(probe).await;
    let reply = get(&app, &send_path("http://hidden.spin.internal/anything")).await;
    assert_eq!(reply.body["status"], 200, "{}", reply.body);
    assert_eq!(reply.body["body"]["path"], "/anything");
}

/// A self-request names the app by a relative URL or by the host `self.alt`. A
/// WASIp3 request needs an authority (wasmtime-wasi-http builds its URI), so a
/// WASIp3 component uses `self.alt`.
async fn self_requests_go_through_the_router_like_public_ones(probe: Probe) {
    let app = spawn(probe).await;
    let mut urls = vec!["http://self.alt/api/b/self-path"];
    if probe == Probe::P2 {
        urls.push("/api/b/self-path");
    }
    for url in urls {
        let reply = get(&app, &send_path(url)).await;
        assert_eq!(reply.body["status"], 200, "{url}: {}", reply.body);
        let seen = &reply.body["body"];
        assert_eq!(seen["headers"]["spin-matched-route"], "/api/b/...");
        assert_eq!(seen["headers"]["spin-path-info"], "/self-path");
        let client = seen["headers"]["spin-client-addr"]
            .as_str()
            .unwrap_or_default();
        assert!(client.starts_with("127.0.0.1:"), "{client}");
    }
}

/// wasi-http needs an authority on every request: a relative URL carries an empty
/// host. One with no authority at all is refused, as Spin refuses it.
#[tokio::test]
async fn a_request_without_an_authority_is_an_invalid_uri_as_on_spin() {
    let app = spawn(Probe::P2).await;
    let reply = get(&app, "/api/a/send-bare?path=/api/b/self-path").await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    let error = reply.body["error"].as_str().unwrap_or_default();
    assert!(error.contains("HttpRequestUriInvalid"), "{error}");
}

async fn hosts_not_allowed_are_denied_without_a_request(probe: Probe) {
    let app = probe_app(probe)
        .intercept(|out| panic!("no request may be attempted, yet {} was", out.url))
        .build()
        .await
        .expect("loads");
    for url in [
        "http://c.spin.internal/x",
        "http://example.com/",
        "https://b.spin.internal/x",
    ] {
        let reply = get(&app, &send_path(url)).await;
        assert_eq!(reply.status, 502, "{url}: {}", reply.body);
        let error = reply.body["error"].as_str().unwrap_or_default();
        assert!(error.contains("HttpRequestDenied"), "{url}: {error}");
    }
    // b declares no outbound hosts at all, not even itself.
    let mut own = vec!["http://self.alt/api/a/x"];
    if probe == Probe::P2 {
        own.push("/api/a/x");
    }
    for url in own {
        let reply = get(&app, &format!("/api/b/send?url={url}")).await;
        let error = reply.body["error"].as_str().unwrap_or_default();
        assert!(error.contains("HttpRequestDenied"), "{url}: {error}");
    }
}

async fn chaining_to_a_missing_component_fails(probe: Probe) {
    let app = probe_app(probe)
        .without_component("b")
        .build()
        .await
        .expect("loads");
    let reply = get(&app, &send_path("http://b.spin.internal/api/b/x")).await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert_eq!(get(&app, "/api/b/x").await.status, 404);
}

async fn an_interceptor_can_answer_one_call(probe: Probe) {
    let app = probe_app(probe)
        .intercept(|out| {
            (out.url.contains("/api/b/fail") && out.component_from == "a").then(|| {
                http::Response::builder()
                    .status(503)
                    .body(Bytes::from_static(b"{\"intercepted\":true}"))
                    .expect("a response")
            })
        })
        .build()
        .await
        .expect("loads");
    let failed = get(&app, &send_path("http://b.spin.internal/api/b/fail")).await;
    assert_eq!(failed.body["status"], 503);
    assert_eq!(failed.body["body"]["intercepted"], Value::Bool(true));
    let passed = get(&app, &send_path("http://b.spin.internal/api/b/pass")).await;
    assert_eq!(passed.body["status"], 200);
}
