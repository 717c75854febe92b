//! The WASIp3 build: spin-sdk 7 on WASI 0.3. Spin 4 reuses an instance for many
//! requests, several at a time, and every call to the host is async.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use spin_sdk::wasip3::clocks::monotonic_clock;
use spin_sdk::wasip3::http::client;
use spin_sdk::wasip3::http::types::{
    ErrorCode, Fields, Method as WasiMethod, Request, RequestOptions, Response, Scheme,
};
use spin_sdk::wasip3::wit_bindgen::{self, StreamReader, StreamResult};
use spin_sdk::wasip3::{wit_future, wit_stream};
use spin_sdk::{key_value, pg, variables};

use super::{Incoming, Outgoing, RowSet, text_headers};
use crate::http::method::Method;
use crate::http::service::Served;

pub use pg::{Column, DbError as PgDbError, DbValue, Decode, ParameterValue, PgError, QueryError};
/// For [`crate::export_service!`].
#[doc(hidden)]
pub use spin_sdk::wasip3;

/// A Postgres connection: one session from Spin's pool, for as long as it lives.
pub struct Connection(pg::Connection);

impl Connection {
    pub async fn open(url: &str) -> Result<Connection, PgError> {
        pg::Connection::open(url)
            .await
            .map(Connection)
            .map_err(into_pg_error)
    }

    /// Runs a query and reads all its rows: the columns come first, then the rows
    /// as a stream, then whether the query succeeded.
    pub async fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, PgError> {
        let result = self
            .0
            .query(sql, params.to_vec())
            .await
            .map_err(into_pg_error)?;
        let (columns, rows, outcome) = result.into_inner();
        let rows = rows.collect().await;
        outcome.await?;
        Ok(RowSet { columns, rows })
    }

    pub async fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, PgError> {
        self.0
            .execute(sql, params.to_vec())
            .await
            .map_err(into_pg_error)
    }
}

/// The SDK's error, as the interface's: decoding is kit's business, not the SDK's.
fn into_pg_error(err: pg::Error) -> PgError {
    match err {
        pg::Error::PgError(err) => err,
        pg::Error::Decode(text) => PgError::ValueConversionFailed(text),
    }
}

thread_local! {
    /// The variables the instance has read, and what Spin answered: the app's
    /// variables don't change while it runs, and an instance serves up to 128
    /// requests, each of which reads several.
    static VARIABLES: RefCell<HashMap<String, Result<String, String>>> =
        RefCell::new(HashMap::new());
}

/// A component variable, or why there is none: asked of Spin once per instance.
pub async fn variable(name: &str) -> Result<String, String> {
    if let Some(known) = VARIABLES.with_borrow(|known| known.get(name).cloned()) {
        return known;
    }
    let answer = variables::get(name).await.map_err(|err| err.to_string());
    VARIABLES.with_borrow_mut(|known| known.insert(name.to_string(), answer.clone()));
    answer
}

/// A key-value store the component may open.
pub struct KeyValue(key_value::Store);

impl KeyValue {
    pub(crate) async fn open_default() -> Result<KeyValue, String> {
        key_value::Store::open_default()
            .await
            .map(KeyValue)
            .map_err(|err| err.to_string())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key).await.map_err(|err| err.to_string())
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set(key, value).await.map_err(|err| err.to_string())
    }
}

/// Pauses the request for `duration`; the instance serves other requests meanwhile.
pub async fn sleep(duration: Duration) {
    spin_sdk::time::sleep(duration).await;
}

/// The monotonic clock, in nanoseconds.
pub(crate) fn now_nanos() -> u64 {
    monotonic_clock::now()
}

/// Sends `request` and reads the whole answer, waiting at most `timeout` to connect,
/// then as long for the answer to start and for each part of it.
pub async fn send(request: &Outgoing<'_>, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
    let fields =
        Fields::from_list(request.headers).map_err(|err| format!("bad header: {err:?}"))?;
    let options = RequestOptions::new();
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    // A host may not support a timeout; the call still proceeds.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    let (mut body_tx, body_rx) = wit_stream::new::<u8>();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (outgoing, _sent) = Request::new(fields, Some(body_rx), trailers_rx, Some(options));
    let set = |ok: Result<(), ()>, what: &str| ok.map_err(|()| format!("invalid {what}"));
    set(outgoing.set_method(&wasi_method(request.method)), "method")?;
    set(
        outgoing.set_path_with_query(Some(request.path_with_query)),
        "path",
    )?;
    let scheme = if request.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    set(outgoing.set_scheme(Some(&scheme)), "scheme")?;
    set(outgoing.set_authority(Some(request.authority)), "authority")?;
    let body = request.body.unwrap_or_default().to_vec();
    wit_bindgen::spawn(async move {
        body_tx.write_all(body).await;
        drop(body_tx);
        let _ = trailers_tx.write(Ok(None)).await;
    });

    let response = client::send(outgoing)
        .await
        .map_err(|code| format!("request failed: {code:?}"))?;
    let status = response.get_status_code();
    let (_, outcome) = wit_future::new(|| Ok(()));
    let (stream, _trailers) = Response::consume_body(response, outcome);
    let bytes = read_all(stream, usize::MAX).await;
    Ok((status, bytes))
}

/// Reads the request Spin handed over, its body up to `max_body` bytes and one more
/// (so a larger one is seen to be too large without being read whole).
pub async fn read_incoming(request: Request, max_body: usize) -> Result<Incoming, String> {
    let method = match request.get_method() {
        WasiMethod::Other(name) => Method::parse(&name),
        known => Method::parse(wasi_method_name(&known)),
    };
    let path_with_query = request.get_path_with_query().unwrap_or_else(|| "/".into());
    let headers = text_headers(request.get_headers().copy_all());
    let (_, outcome) = wit_future::new(|| Ok(()));
    let (stream, _trailers) = Request::consume_body(request, outcome);
    let body = read_all(stream, max_body.saturating_add(1)).await;
    Ok(Incoming {
        method,
        path_with_query,
        headers,
        body,
        body_limit: max_body,
    })
}

/// The answer for Spin. Its body is written, and then the work that waits for the
/// response to be gone is done, in a task of their own once this has returned.
pub fn respond(mut served: Served) -> Result<Response, ErrorCode> {
    let fields = Fields::from_list(&served.headers).unwrap_or_else(|_| Fields::new());
    let (mut body_tx, body_rx) = wit_stream::new::<u8>();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (response, _sent) = Response::new(fields, Some(body_rx), trailers_rx);
    let _ = response.set_status_code(served.status);
    wit_bindgen::spawn(async move {
        let body = std::mem::take(&mut served.body);
        body_tx.write_all(body).await;
        drop(body_tx);
        let _ = trailers_tx.write(Ok(None)).await;
        served.after_response().await;
    });
    Ok(response)
}

async fn read_all(mut stream: StreamReader<u8>, limit: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        let (result, chunk) = stream.read(Vec::with_capacity(64 * 1024)).await;
        bytes.extend_from_slice(&chunk);
        match result {
            StreamResult::Complete(_) => {}
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    bytes
}

fn wasi_method(method: &Method) -> WasiMethod {
    match method {
        Method::Get => WasiMethod::Get,
        Method::Head => WasiMethod::Head,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Delete => WasiMethod::Delete,
        Method::Connect => WasiMethod::Connect,
        Method::Options => WasiMethod::Options,
        Method::Trace => WasiMethod::Trace,
        Method::Patch => WasiMethod::Patch,
        Method::Other(name) => WasiMethod::Other(name.clone()),
    }
}

fn wasi_method_name(method: &WasiMethod) -> &str {
    match method {
        WasiMethod::Get => "GET",
        WasiMethod::Head => "HEAD",
        WasiMethod::Post => "POST",
        WasiMethod::Put => "PUT",
        WasiMethod::Delete => "DELETE",
        WasiMethod::Connect => "CONNECT",
        WasiMethod::Options => "OPTIONS",
        WasiMethod::Trace => "TRACE",
        WasiMethod::Patch => "PATCH",
        WasiMethod::Other(name) => name,
    }
}

/// The component's export of `wasi:http/handler@0.3.0`, serving `$route` under
/// `$prefix`, taking bodies of up to `$max_body` bytes (see [`crate::export_service!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __export_service_for_build {
    ($prefix:expr, $route:path, $max_body:expr) => {
        struct Service;

        $crate::sdk::wasip3::http::service::export!(Service);

        impl $crate::sdk::wasip3::exports::http::handler::Guest for Service {
            async fn handle(
                request: $crate::sdk::wasip3::http::types::Request,
            ) -> Result<
                $crate::sdk::wasip3::http::types::Response,
                $crate::sdk::wasip3::http::types::ErrorCode,
            > {
                let served = match $crate::sdk::read_incoming(request, $max_body).await {
                    Ok(incoming) => $crate::http::service::serve(incoming, $prefix, $route).await,
                    Err(err) => $crate::http::service::unreadable($prefix, &err),
                };
                $crate::sdk::respond(served)
            }
        }
    };
}
