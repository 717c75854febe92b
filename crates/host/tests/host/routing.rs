//! Routing and the request headers Spin sets, over the probe app.

use crate::common::{Probe, Reply, get, header, on_both_probes, post, send, spawn};
use bytes::Bytes;

on_both_probes!(
    the_most_specific_route_wins,
    a_wildcard_route_matches_its_bare_prefix,
    unknown_paths_and_private_components_are_not_found,
    public_requests_carry_spins_headers,
    request_bodies_and_methods_reach_the_component,
);

async fn the_most_specific_route_wins(probe: Probe) {
    let app = spawn(probe).await;
    // Each probe reports the route it was reached by.
    let route = |reply: &Reply| header(reply, "spin-matched-route").map(str::to_owned);
    assert_eq!(
        route(&get(&app, "/api/a/x").await).as_deref(),
        Some("/api/a/...")
    );
    assert_eq!(
        route(&get(&app, "/api/a/special").await).as_deref(),
        Some("/api/a/special")
    );
    assert_eq!(
        route(&get(&app, "/api/a/special/x").await).as_deref(),
        Some("/api/a/...")
    );
    assert_eq!(
        route(&get(&app, "/api/a/deeper/x").await).as_deref(),
        Some("/api/a/deeper/...")
    );
}

async fn a_wildcard_route_matches_its_bare_prefix(probe: Probe) {
    let app = spawn(probe).await;
    let reply = get(&app, "/api/b").await;
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "spin-path-info"), Some(""));
    assert_eq!(reply.body["path"], "/api/b");
}

async fn unknown_paths_and_private_components_are_not_found(probe: Probe) {
    let app = spawn(probe).await;
    assert_eq!(get(&app, "/nowhere").await.status, 404);
    assert_eq!(get(&app, "/api/ab").await.status, 404);
    assert_eq!(get(&app, "/hidden").await.status, 404);
}

async fn public_requests_carry_spins_headers(probe: Probe) {
    let app = spawn(probe).await;
    let request = http::Request::get("/api/a/x/y?q=2")
        .header("host", "127.0.0.1:3998")
        .header("x-request-id", "abc")
        .body(Bytes::new())
        .expect("a request");
    let reply = send(&app, request).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        header(&reply, "spin-full-url"),
        Some("http://127.0.0.1:3998/api/a/x/y?q=2")
    );
    assert_eq!(header(&reply, "spin-path-info"), Some("/x/y"));
    assert_eq!(header(&reply, "spin-matched-route"), Some("/api/a/..."));
    assert_eq!(
        header(&reply, "spin-raw-component-route"),
        Some("/api/a/...")
    );
    assert_eq!(header(&reply, "spin-component-route"), Some("/api/a"));
    assert_eq!(header(&reply, "spin-base-path"), Some("/"));
    assert_eq!(header(&reply, "x-request-id"), Some("abc"));
    let client = header(&reply, "spin-client-addr").expect("a client address");
    assert!(client.starts_with("127.0.0.1:"), "{client}");
    // The component sees the full path.
    assert_eq!(reply.body["path"], "/api/a/x/y");
    assert_eq!(reply.body["query"], "q=2");
}

async fn request_bodies_and_methods_reach_the_component(probe: Probe) {
    let app = spawn(probe).await;
    let reply = post(&app, "/api/b/echo", &serde_json::json!({"k": 1})).await;
    assert_eq!(reply.body["method"], "POST");
    assert_eq!(reply.body["body"], r#"{"k":1}"#);
}
