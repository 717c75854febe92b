//! A component that traps costs one request a 500, nothing more; requests run
//! concurrently.

use crate::common::{Probe, get, on_both_probes, spawn};

on_both_probes!(
    a_trap_is_a_500_and_the_next_request_is_served,
    a_hundred_requests_at_once_are_all_served,
);

async fn a_trap_is_a_500_and_the_next_request_is_served(probe: Probe) {
    let app = spawn(probe).await;
    assert_eq!(get(&app, "/api/a/trap").await.status, 500);
    assert_eq!(get(&app, "/api/a/ok").await.status, 200);
}

async fn a_hundred_requests_at_once_are_all_served(probe: Probe) {
    let app = spawn(probe).await;
    let requests = (0..100).map(|i| {
        let app = app.clone();
        tokio::spawn(async move { get(&app, &format!("/api/b/{i}")).await })
    });
    for (i, reply) in futures::future::join_all(requests)
        .await
        .into_iter()
        .enumerate()
    {
        let reply = reply.expect("the task completes");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["path"], format!("/api/b/{i}"));
    }
}
