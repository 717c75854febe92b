//! The WASIp2 build: spin-sdk 5.2 and the `wasi` 0.2 bindings. Spin gives each
//! request a fresh instance, and its calls block until they are done.

use std::time::Duration;

use spin_sdk_v5::{key_value, pg4, variables};
use wasi::clocks::monotonic_clock;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, IncomingRequest, Method as WasiMethod, OutgoingBody, OutgoingRequest, OutgoingResponse,
    RequestOptions, ResponseOutparam, Scheme,
};
use wasi::io::streams::{InputStream, StreamError};

use super::{Incoming, Outgoing, RowSet, text_headers};
use crate::http::method::Method;

pub use pg4::{Column, DbError as PgDbError, DbValue, Decode, ParameterValue, PgError, QueryError};
/// For [`crate::export_service!`].
#[doc(hidden)]
pub use {spin_sdk_v5::http::run, wasi};

/// Bodies are written in chunks of at most this size (a WASI 0.2 stream limit).
const WRITE_CHUNK: usize = 4096;

/// A Postgres connection: one session from Spin's pool, for as long as it lives.
pub struct Connection(pg4::Connection);

impl Connection {
    pub async fn open(url: &str) -> Result<Connection, PgError> {
        pg4::Connection::open(url).map(Connection)
    }

    pub async fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, PgError> {
        let set = self.0.query(sql, params)?;
        Ok(RowSet {
            columns: set.columns,
            rows: set.rows,
        })
    }

    pub async fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, PgError> {
        self.0.execute(sql, params)
    }
}

/// A component variable, or why there is none.
pub async fn variable(name: &str) -> Result<String, String> {
    variables::get(name).map_err(|err| err.to_string())
}

/// A key-value store the component may open.
pub struct KeyValue(key_value::Store);

impl KeyValue {
    pub(crate) async fn open_default() -> Result<KeyValue, String> {
        key_value::Store::open_default()
            .map(KeyValue)
            .map_err(|err| err.to_string())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key).map_err(|err| err.to_string())
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set(key, value).map_err(|err| err.to_string())
    }
}

/// Pauses the request for `duration`; the host has the time meanwhile.
pub async fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    monotonic_clock::subscribe_duration(nanos).block();
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
    let outgoing = OutgoingRequest::new(fields);
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
    let body = outgoing.body().map_err(|()| "request body taken twice")?;

    let options = RequestOptions::new();
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    // A host may not support a timeout; the call still proceeds.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    let pending = outgoing_handler::handle(outgoing, Some(options))
        .map_err(|code| format!("request refused: {code:?}"))?;
    write_body(body, request.body.unwrap_or_default())?;

    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("no response")?
        .map_err(|()| "response taken twice")?
        .map_err(|code| format!("request failed: {code:?}"))?;
    let status = response.status();
    let incoming = response
        .consume()
        .map_err(|()| "response body taken twice")?;
    let stream = incoming
        .stream()
        .map_err(|()| "response stream taken twice")?;
    let bytes = read_all(&stream, usize::MAX)?;
    Ok((status, bytes))
}

/// Reads the request Spin handed over, its body up to `max_body` bytes and one more
/// (so a larger one is seen to be too large without being read whole).
pub fn read_incoming(request: IncomingRequest, max_body: usize) -> Result<Incoming, String> {
    let method = match request.method() {
        WasiMethod::Other(name) => Method::parse(&name),
        known => Method::parse(wasi_method_name(&known)),
    };
    let path_with_query = request.path_with_query().unwrap_or_else(|| "/".into());
    let headers = text_headers(request.headers().entries());
    let body = request.consume().map_err(|()| "body taken twice")?;
    let stream = body.stream().map_err(|()| "body stream taken twice")?;
    let body = read_all(&stream, max_body.saturating_add(1))?;
    Ok(Incoming {
        method,
        path_with_query,
        headers,
        body,
        body_limit: max_body,
    })
}

/// Sends the answer, body and all; it is finished when this returns.
pub fn respond(
    response_out: ResponseOutparam,
    status: u16,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
) {
    let fields = Fields::from_list(headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let Ok(outgoing_body) = response.body() else {
        return;
    };
    ResponseOutparam::set(response_out, Ok(response));
    if let Err(err) = write_body(outgoing_body, body) {
        eprintln!("sending the response failed: {err}");
    }
}

fn read_all(stream: &InputStream, limit: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    while bytes.len() < limit {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(err)) => {
                return Err(format!("reading a body: {}", err.to_debug_string()));
            }
        }
    }
    Ok(bytes)
}

fn write_body(outgoing_body: OutgoingBody, body: &[u8]) -> Result<(), String> {
    {
        let stream = outgoing_body
            .write()
            .map_err(|()| "body stream taken twice")?;
        for chunk in body.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|err| format!("writing a body: {err:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing_body, None).map_err(|code| format!("finishing a body: {code:?}"))
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

/// The component's export of `wasi:http/incoming-handler@0.2.0`, serving `$route`
/// under `$prefix`, taking bodies of up to `$max_body` bytes (see
/// [`crate::export_service!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __export_service_for_build {
    ($prefix:expr, $route:path, $max_body:expr) => {
        struct Service;

        impl $crate::sdk::wasi::exports::wasi::http::incoming_handler::Guest for Service {
            fn handle(
                request: $crate::sdk::wasi::http::types::IncomingRequest,
                response_out: $crate::sdk::wasi::http::types::ResponseOutparam,
            ) {
                $crate::sdk::run(async move {
                    let served = match $crate::sdk::read_incoming(request, $max_body) {
                        Ok(incoming) => $crate::http::service::serve(incoming, $prefix, $route).await,
                        Err(err) => $crate::http::service::unreadable($prefix, &err),
                    };
                    $crate::sdk::respond(response_out, served.status, &served.headers, &served.body);
                    served.after_response().await;
                });
            }
        }

        $crate::sdk::wasi::http::proxy::export!(Service with_types_in $crate::sdk::wasi);
    };
}
