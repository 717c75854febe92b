//! A component that traps costs one request a 500, nothing more; requests run
//! concurrently.

use crate::common::{get, spawn};

#[tokio::test]
async fn a_trap_is_a_500_and_the_next_request_is_served() {
    let app = spawn().await;
    assert_eq!(get(&app, "/api/a/trap").await.status, 500);
    assert_eq!(get(&app, "/api/a/ok").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_requests_at_once_are_all_served() {
    let app = spawn().await;
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
