//! Outgoing HTTP from components (`wasi:http/outgoing-handler@0.2.x` for WASIp2,
//! `wasi:http/client@0.3.0` for WASIp3, both routed by [`send`]), as Spin routes it:
//! - `http://<component>.spin.internal/...` is served in-process by that component
//!   (service chaining);
//! - a relative URL is a self-request through the app's public router. wasi-http
//!   requires an authority, so a client marks a relative URL with an empty host
//!   (spin-sdk sends `:443` or `:80`) or with the host `self.alt`; a request with no
//!   authority at all is refused with `HttpRequestUriInvalid`, as Spin refuses it;
//! - anything else goes out over the network.
//!
//! Every request must first be allowed by the calling component's
//! `allowed_outbound_hosts`; a denied request fails with `HttpRequestDenied` and is
//! never made. The host implements the handler itself (rather than through
//! wasmtime-wasi-http's hooks) so that it decides where a request goes, as Spin
//! does, before any URI is built from it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use http_body_util::{BodyExt, Full};
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::http::types::{self as wasi_types, ErrorCode};
use wasmtime_wasi_http::p2::body::{HyperIncomingBody, HyperOutgoingBody};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::app::{AppInner, OutboundInfo};
use crate::instance::{ComponentRuntime, HostState};

/// How long an outbound request may take to connect, and then to start answering,
/// when the component does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

/// Defines `wasi:http/outgoing-handler` for components.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker
        .instance("wasi:http/outgoing-handler@0.2.6")?
        .func_wrap("handle", handle)
}

type HandleParams = (
    Resource<HostOutgoingRequest>,
    Option<Resource<RequestOptions>>,
);

fn handle(
    mut store: StoreContextMut<'_, HostState>,
    (request, options): HandleParams,
) -> wasmtime::Result<(Result<Resource<HostFutureIncomingResponse>, ErrorCode>,)> {
    let state = store.data_mut();
    let options = options
        .and_then(|options| state.table.get(&options).ok().copied())
        .unwrap_or_default();
    let request = match Outbound::from_guest(state.table.delete(request)?) {
        Ok(request) => request,
        Err(code) => return Ok((Err(code),)),
    };
    let app = state.app.clone();
    let from = state.component.clone();
    let pending = wasmtime_wasi::runtime::spawn(async move {
        let response = send(&app, &from, request, options).await?;
        Ok((response, wasmtime_wasi::runtime::spawn(async {})))
    });
    let future = state
        .table
        .push(HostFutureIncomingResponse::Pending(pending))?;
    Ok((Ok(future),))
}

/// `wasi:http/client#send` for WASIp3 components: wasmtime-wasi-http builds the
/// request and hands it to these hooks, which route it as [`handle`] does for WASIp2.
pub struct OutboundHooks {
    app: Arc<AppInner>,
    from: Arc<ComponentRuntime>,
}

impl OutboundHooks {
    pub fn new(app: Arc<AppInner>, from: Arc<ComponentRuntime>) -> OutboundHooks {
        OutboundHooks { app, from }
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    /// The guest's headers go on as the guest set them; [`send`] sets `Host` where
    /// the request is going, as for WASIp2.
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_result: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        let app = self.app.clone();
        let from = self.from.clone();
        Box::new(async move {
            let response = send(
                &app,
                &from,
                Outbound::from_p3(request),
                options.unwrap_or_default(),
            )
            .await?;
            let done: Box<dyn Future<Output = Result<(), Error>> + Send> =
                Box::new(async { Ok(()) });
            Ok((response, done))
        })
    }
}

/// A request as the guest built it.
struct Outbound {
    method: Method,
    scheme: Option<String>,
    authority: Option<String>,
    path_with_query: String,
    headers: HeaderMap,
    body: HyperOutgoingBody,
}

/// Where a request goes.
enum Target {
    /// The app's own router.
    App,
    /// Another component, in-process.
    Component(String),
    /// The network.
    External,
}

impl Outbound {
    fn from_guest(request: HostOutgoingRequest) -> Result<Outbound, ErrorCode> {
        let method = match request.method {
            wasi_types::Method::Get => Method::GET,
            wasi_types::Method::Head => Method::HEAD,
            wasi_types::Method::Post => Method::POST,
            wasi_types::Method::Put => Method::PUT,
            wasi_types::Method::Delete => Method::DELETE,
            wasi_types::Method::Connect => Method::CONNECT,
            wasi_types::Method::Options => Method::OPTIONS,
            wasi_types::Method::Trace => Method::TRACE,
            wasi_types::Method::Patch => Method::PATCH,
            wasi_types::Method::Other(other) => Method::from_bytes(other.as_bytes())
                .map_err(|_| ErrorCode::HttpRequestMethodInvalid)?,
        };
        let scheme = request.scheme.map(|scheme| match scheme {
            wasi_types::Scheme::Http => "http".to_string(),
            wasi_types::Scheme::Https => "https".to_string(),
            wasi_types::Scheme::Other(other) => other.to_ascii_lowercase(),
        });
        let authority = request.authority.ok_or(ErrorCode::HttpRequestUriInvalid)?;
        let authority = Some(authority).filter(|a| !host_of(a).is_empty());
        let body = request.body.unwrap_or_else(|| {
            http_body_util::Empty::new()
                .map_err(|never| match never {})
                .boxed_unsync()
        });
        Ok(Outbound {
            method,
            scheme,
            authority,
            path_with_query: request.path_with_query.unwrap_or_else(|| "/".into()),
            headers: request.headers.into(),
            body,
        })
    }

    /// A WASIp3 request, which wasmtime-wasi-http has already checked and built
    /// into a URI (so it has a scheme and an authority).
    fn from_p3(request: http::Request<WasiBody>) -> Outbound {
        let (parts, body) = request.into_parts();
        let authority = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .filter(|a| !host_of(a).is_empty());
        Outbound {
            method: parts.method,
            scheme: parts.uri.scheme_str().map(str::to_ascii_lowercase),
            authority,
            path_with_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".into(), |p| p.as_str().to_string()),
            headers: parts.headers,
            body,
        }
    }

    /// The scheme, defaulting to https as wasi-http does.
    fn scheme(&self) -> &str {
        self.scheme.as_deref().unwrap_or("https")
    }

    fn target(&self) -> Target {
        let Some(authority) = &self.authority else {
            return Target::App;
        };
        let host = host_of(authority);
        if host == "self.alt" {
            return Target::App;
        }
        match host.strip_suffix(SERVICE_CHAINING_SUFFIX) {
            Some(component) if !component.contains('.') => Target::Component(component.into()),
            _ => Target::External,
        }
    }

    fn url(&self) -> String {
        match &self.authority {
            Some(authority) => format!("{}://{authority}{}", self.scheme(), self.path_with_query),
            None => self.path_with_query.clone(),
        }
    }

    fn is_allowed(&self, allowed: &crate::allowed_hosts::AllowedHosts) -> bool {
        match (&self.authority, self.target()) {
            (_, Target::App) | (None, _) => allowed.allows_self(),
            (Some(authority), _) => {
                let (host, port) = split_port(authority);
                allowed.allows(self.scheme(), host, port)
            }
        }
    }

    async fn into_bytes_request(self, uri: String) -> Result<http::Request<Bytes>, Error> {
        let body = self.body.collect().await?.to_bytes();
        let mut request = http::Request::builder()
            .method(self.method)
            .uri(uri)
            .body(body)
            .map_err(|e| Error::InternalError(Some(e.to_string())))?;
        *request.headers_mut() = self.headers;
        Ok(request)
    }
}

/// The host part of `host[:port]` (IPv6 in brackets).
fn host_of(authority: &str) -> &str {
    split_port(authority).0
}

fn split_port(authority: &str) -> (&str, Option<u16>) {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()),
        _ => (authority, None),
    }
}

async fn send(
    app: &Arc<AppInner>,
    from: &ComponentRuntime,
    request: Outbound,
    options: RequestOptions,
) -> Result<http::Response<HyperIncomingBody>, Error> {
    if !request.is_allowed(&from.allowed_hosts) {
        eprintln!(
            "spinshop: {} may not send {} {} (not in allowed_outbound_hosts)",
            from.name,
            request.method,
            request.url()
        );
        return Err(Error::HttpRequestDenied);
    }
    // What the test hooks see, made only when there are hooks.
    let info = (app.interceptor.is_some() || app.delay.is_some()).then(|| OutboundInfo {
        component_from: from.name.clone(),
        url: request.url(),
        method: request.method.clone(),
        headers: request.headers.clone(),
    });
    if let Some((intercept, info)) = app.interceptor.as_ref().zip(info.as_ref())
        && let Some(response) = intercept(info)
    {
        return Ok(response.map(full_body));
    }
    let delay = app
        .delay
        .as_ref()
        .zip(info.as_ref())
        .and_then(|(delay, info)| delay(info))
        .unwrap_or_default();
    let first_byte_timeout = options.first_byte_timeout.unwrap_or(DEFAULT_TIMEOUT);
    let in_process = match request.target() {
        Target::App => {
            let origin = app.origin();
            let uri = format!("http://{origin}{}", request.path_with_query);
            let mut request = request.into_bytes_request(uri).await?;
            insert_host(request.headers_mut(), &origin)?;
            let client = app.next_client_addr();
            let answer = delayed(delay, app.handle_public(request, client));
            tokio::time::timeout(first_byte_timeout, answer).await
        }
        Target::Component(name) => {
            let Some(component) = app.components.get(&name).cloned() else {
                eprintln!("spinshop: {} -> {name}: no such component", from.name);
                return Err(Error::DestinationNotFound);
            };
            let uri = format!(
                "{}://localhost{}",
                request.scheme(),
                request.path_with_query
            );
            let request = request.into_bytes_request(uri).await?;
            let answer = delayed(delay, app.handle_chained(component, request));
            tokio::time::timeout(first_byte_timeout, answer).await
        }
        Target::External => return send_external(request, options).await,
    };
    let response = in_process.map_err(|_| Error::HttpResponseTimeout)?;
    Ok(response.map(full_body))
}

/// The answer `handle` gives, `delay` after it is ready.
async fn delayed<T>(delay: Duration, handle: impl Future<Output = T>) -> T {
    let answer = handle.await;
    tokio::time::sleep(delay).await;
    answer
}

fn insert_host(headers: &mut HeaderMap, authority: &str) -> Result<(), Error> {
    let value =
        HeaderValue::from_str(authority).map_err(|e| Error::InternalError(Some(e.to_string())))?;
    headers.insert(http::header::HOST, value);
    Ok(())
}

async fn send_external(
    request: Outbound,
    options: RequestOptions,
) -> Result<http::Response<HyperIncomingBody>, Error> {
    let authority = request.authority.clone().unwrap_or_default();
    let uri = http::Uri::builder()
        .scheme(request.scheme())
        .authority(authority.as_str())
        .path_and_query(request.path_with_query.as_str())
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    let mut outgoing = http::Request::builder()
        .method(request.method)
        .uri(uri)
        .body(request.body)
        .map_err(|e| Error::InternalError(Some(e.to_string())))?;
    *outgoing.headers_mut() = request.headers;
    insert_host(outgoing.headers_mut(), &authority)?;
    let options = RequestOptions {
        connect_timeout: options.connect_timeout.or(Some(DEFAULT_TIMEOUT)),
        first_byte_timeout: options.first_byte_timeout.or(Some(DEFAULT_TIMEOUT)),
        between_bytes_timeout: options.between_bytes_timeout.or(Some(DEFAULT_TIMEOUT)),
    };
    let (response, connection) =
        wasmtime_wasi_http::default_send_request(outgoing, Some(options)).await?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            eprintln!("spinshop: outbound connection: {err}");
        }
    });
    Ok(response.map(|body| body.boxed_unsync()))
}

fn full_body(bytes: Bytes) -> HyperIncomingBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}
