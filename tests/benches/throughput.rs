//! Latency and throughput of spinshop's hot paths, measured in the test host over a
//! real Postgres (each request a fresh component instance, as in Spin).
//!
//!     cargo bench -p spinshop-tests --bench throughput
//!
//! Prints, per scenario: requests, concurrency, wall time, requests per second, and
//! the 50th / 95th / 99th percentile latency.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;
use spinshop_tests::TestApp;

struct Figures {
    name: &'static str,
    concurrency: usize,
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Figures {
    fn print(&mut self) {
        self.latencies.sort();
        let pick = |q: f64| {
            let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
            self.latencies[index].as_secs_f64() * 1000.0
        };
        println!(
            "{:<34} {:>6} {:>4} {:>9.2} {:>9.1} {:>8.2} {:>8.2} {:>8.2}",
            self.name,
            self.latencies.len(),
            self.concurrency,
            self.wall.as_secs_f64(),
            self.latencies.len() as f64 / self.wall.as_secs_f64(),
            pick(0.50),
            pick(0.95),
            pick(0.99),
        );
    }
}

/// Runs `requests` calls of `one`, `concurrency` at a time, checking each succeeds.
async fn measure<F, Fut>(name: &'static str, requests: usize, concurrency: usize, one: F) -> Figures
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(requests);
    for batch in (0..requests).collect::<Vec<_>>().chunks(concurrency) {
        let timed = batch.iter().map(|&i| {
            let call = one(i);
            async move {
                let start = Instant::now();
                let status = call.await;
                assert!((200..300).contains(&status), "{name}: status {status}");
                start.elapsed()
            }
        });
        latencies.extend(join_all(timed).await);
    }
    Figures {
        name,
        concurrency,
        latencies,
        wall: started.elapsed(),
    }
}

#[tokio::main]
async fn main() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let product = app
        .create_product(&admin, "Bench keyboard", 999, 1_000_000)
        .await;
    let customer = app.register("bench@example.com", "password-1").await;
    let token = customer.access_token.clone();

    println!(
        "{:<34} {:>6} {:>4} {:>9} {:>9} {:>8} {:>8} {:>8}",
        "scenario", "reqs", "conc", "wall s", "req/s", "p50 ms", "p95 ms", "p99 ms"
    );
    let path = format!("/api/products/products/{product}");
    for concurrency in [1, 16] {
        measure("GET product", 400, concurrency, |_| async {
            app.get(&path, None).await.status
        })
        .await
        .print();
    }
    measure("GET product list (20)", 200, 16, |_| async {
        app.get("/api/products/products", None).await.status
    })
    .await
    .print();
    measure("GET introspect", 200, 16, |_| async {
        app.get("/api/users/auth/introspect", Some(&token))
            .await
            .status
    })
    .await
    .print();
    measure("POST login (argon2id)", 20, 2, |_| async {
        app.login("bench@example.com", "password-1").await.status
    })
    .await
    .print();
    let order = json!({"items": [{"product_id": product, "qty": 1}]});
    measure("POST order (introspect+reserve)", 200, 8, |_| async {
        app.post("/api/orders/orders", &order, Some(&token))
            .await
            .status
    })
    .await
    .print();
    measure("GET cart (priced at products)", 200, 8, |_| async {
        app.get("/api/carts/cart", Some(&token)).await.status
    })
    .await
    .print();
}
