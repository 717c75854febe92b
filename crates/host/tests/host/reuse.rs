//! Instance reuse, as Spin 4 does it for WASIp3 components only: an instance serves
//! up to 128 requests (`--max-instance-reuse-count`), up to 16 at once
//! (`--max-instance-concurrent-reuse-count`), is dropped once idle about 1 s, and a
//! trap discards it. The WASIp3 probe counts the requests its instance has served in
//! a static, which lives as long as the instance.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;

use crate::common::{Probe, get, probe_app, spawn};

async fn served(app: &spinshop_host::App) -> u64 {
    let reply = get(app, "/api/b/count").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["served"].as_u64().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_serves_requests_until_its_reuse_count() {
    let app = probe_app(Probe::P3)
        .max_instance_reuse_count(3)
        .build()
        .await
        .expect("loads");
    let mut counts = Vec::new();
    for _ in 0..7 {
        counts.push(served(&app).await);
    }
    assert_eq!(counts, [1, 2, 3, 1, 2, 3, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasip2_component_gets_a_fresh_instance_per_request() {
    let app = probe_app(Probe::P2)
        .max_instance_reuse_count(3)
        .build()
        .await
        .expect("loads");
    for _ in 0..3 {
        assert_eq!(served(&app).await, 1);
    }
    let stats = app.instance_stats("b").expect("component b");
    assert_eq!((stats.started, stats.most_at_once), (3, 1), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spins_default_reuse_keeps_one_instance_for_many_requests() {
    let app = spawn(Probe::P3).await;
    for expected in 1..=20 {
        assert_eq!(served(&app).await, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_instance_is_dropped_after_the_idle_timeout() {
    let app = probe_app(Probe::P3)
        .idle_instance_timeout(Duration::from_millis(100))
        .build()
        .await
        .expect("loads");
    assert_eq!(served(&app).await, 1);
    assert_eq!(served(&app).await, 2);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        served(&app).await,
        1,
        "a new instance after the idle timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_discards_the_instance_and_costs_only_its_request() {
    let app = spawn(Probe::P3).await;
    assert_eq!(served(&app).await, 1);
    assert_eq!(served(&app).await, 2);
    assert_eq!(get(&app, "/api/b/trap").await.status, 500);
    assert_eq!(served(&app).await, 1, "the trapped instance is not reused");
}

/// Sixteen requests that arrive while the first still runs are served by one
/// instance, all at once; a seventeenth needs another instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_requests_at_once_share_one_instance() {
    let app = spawn(Probe::P3).await;
    let hold = |app: &spinshop_host::App| {
        let app = app.clone();
        tokio::spawn(async move { get(&app, "/api/b/hold?ms=2000").await })
    };
    let mut first = Vec::new();
    for _ in 0..16 {
        first.push(hold(&app));
        // Each arrives once the instance is waiting on the ones before it.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let seventeenth = hold(&app);
    let mut instances = HashSet::new();
    let mut most_in_flight = 0;
    for reply in futures::future::join_all(first).await {
        let reply = reply.expect("the task completes");
        assert_eq!(reply.status, 200, "{}", reply.body);
        instances.insert(reply.body["instance"].to_string());
        most_in_flight = most_in_flight.max(reply.body["most_in_flight"].as_u64().unwrap_or(0));
    }
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(most_in_flight, 16);
    let other = seventeenth.await.expect("the task completes");
    assert!(
        !instances.contains(&other.body["instance"].to_string()),
        "the 17th request ran beside 16 others: {}",
        other.body
    );
    let stats = app.instance_stats("b").expect("component b");
    assert_eq!((stats.started, stats.most_at_once), (2, 16), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasip3_answer_keeps_the_content_length_its_component_set() {
    let app = spawn(Probe::P3).await;
    let response = app
        .handle(
            http::Request::get("/api/b/echo")
                .body(Bytes::new())
                .expect("a request"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let length = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    assert_eq!(length, Some(response.body().len()));
}
