//! `spinshop up`'s HTTP server: HTTP/1.1 on hyper, each request handed to the app
//! and logged to stderr in one line.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use wasmtime_wasi_http::io::TokioIo;

use crate::App;

impl App {
    /// Serves the app on `address` until the process ends.
    pub async fn serve(&self, address: SocketAddr) -> anyhow::Result<()> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("listening on {address}"))?;
        let local = listener.local_addr()?;
        self.set_origin(local);
        println!("Serving http://{local}");
        println!("Available Routes:");
        for (route, component) in self.routes() {
            match route.strip_suffix("/...") {
                Some(prefix) => println!("  {component}: http://{local}{prefix} (wildcard)"),
                None => println!("  {component}: http://{local}{route}"),
            }
        }
        loop {
            let (stream, client) = match listener.accept().await {
                Ok(connection) => connection,
                Err(err) => {
                    eprintln!("spinshop: accepting a connection: {err}");
                    continue;
                }
            };
            let app = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let app = app.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(app.serve_one(request, client).await)
                    }
                });
                if let Err(err) = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    eprintln!("spinshop: connection from {client}: {err}");
                }
            });
        }
    }

    async fn serve_one(
        &self,
        request: http::Request<Incoming>,
        client: SocketAddr,
    ) -> http::Response<Full<Bytes>> {
        let started = Instant::now();
        let method = request.method().clone();
        // The path only: a query string may carry a token.
        let path = request.uri().path().to_string();
        let (parts, body) = request.into_parts();
        let response = match body.collect().await {
            Ok(body) => {
                self.handle_from(http::Request::from_parts(parts, body.to_bytes()), client)
                    .await
            }
            Err(err) => {
                eprintln!("spinshop: reading the request body: {err}");
                let mut response = http::Response::new(Bytes::from_static(b"Bad Request"));
                *response.status_mut() = http::StatusCode::BAD_REQUEST;
                response
            }
        };
        eprintln!(
            "{method} {path} -> {} ({} ms)",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
        response.map(Full::new)
    }
}
