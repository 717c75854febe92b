//! A small HTTP server a test runs for the app to call out to (a webhook receiver,
//! a mail API): it records every request and answers with the status it is told to.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A request the receiver got, and the status it answered.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub method: http::Method,
    /// The path and query.
    pub target: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub answered: u16,
}

impl Delivery {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A server on 127.0.0.1 that records every request and answers with the status
/// it is told to.
pub struct Receiver {
    pub address: SocketAddr,
    status: Arc<AtomicU16>,
    log: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    pub async fn start(status: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let status = Arc::new(AtomicU16::new(status));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (answer, record) = (status.clone(), log.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (answer, record) = (answer.clone(), record.clone());
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let (answer, record) = (answer.clone(), record.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let answered = answer.load(Ordering::SeqCst);
                        record.lock().unwrap().push(Delivery {
                            method: parts.method,
                            target: parts
                                .uri
                                .path_and_query()
                                .map(|target| target.to_string())
                                .unwrap_or_default(),
                            headers: parts.headers,
                            body,
                            answered,
                        });
                        let response = http::Response::builder()
                            .status(answered)
                            .body(Full::new(Bytes::new()))
                            .unwrap();
                        Ok::<_, hyper::Error>(response)
                    }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        Receiver {
            address,
            status,
            log,
        }
    }

    /// Answers every request from now on with `status`.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to 10 s for `done` to hold of the requests so far.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&self.deliveries()) {
            assert!(Instant::now() < deadline, "the receiver never got {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
