//! Running one request: a fresh instance in a new `Store` per request, as Spin does,
//! so nothing leaks between requests and a trap only costs that request a 500.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiHttp, WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::app::AppInner;
use crate::bindings;
use crate::outbound_http;
use crate::variables::validate_name;

/// A component of the running app, ready to instantiate.
pub struct ComponentRuntime {
    pub name: String,
    pub pre: ProxyPre<HostState>,
    pub variables: std::collections::HashMap<String, String>,
    pub allowed_hosts: AllowedHosts,
    /// The key-value store labels the manifest lets it open (`key_value_stores`).
    pub key_value_stores: std::collections::HashSet<String>,
}

/// The data of one instance's `Store`.
pub struct HostState {
    pub(crate) app: Arc<AppInner>,
    pub(crate) component: Arc<ComponentRuntime>,
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// Everything a component may import: WASI 0.2, `wasi:http` (with outgoing requests
/// routed by the host), Postgres, variables and key-value stores.
pub fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    wasmtime_wasi_http::p2::bindings::http::types::add_to_linker::<_, WasiHttp>(
        &mut linker,
        &options.into(),
        HostState::http,
    )?;
    outbound_http::add_to_linker(&mut linker)?;
    bindings::spin::postgres::postgres::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    bindings::fermyon::spin::variables::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    bindings::fermyon::spin::key_value::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl bindings::fermyon::spin::variables::Host for HostState {
    async fn get(
        &mut self,
        name: String,
    ) -> Result<String, bindings::fermyon::spin::variables::Error> {
        use bindings::fermyon::spin::variables::Error;
        validate_name(&name).map_err(Error::InvalidName)?;
        self.component.variables.get(&name).cloned().ok_or_else(|| {
            Error::Undefined(format!(
                "no variable for {:?}.{name:?}",
                self.component.name
            ))
        })
    }
}

/// Runs `request` in a fresh instance of `component`. Any failure of the component
/// (a trap, a panic, no response) is logged and answered with 500.
pub async fn handle(
    app: Arc<AppInner>,
    component: Arc<ComponentRuntime>,
    request: http::Request<Bytes>,
) -> http::Response<Bytes> {
    let name = component.name.clone();
    match run(app, component, request).await {
        Ok(response) => response,
        Err(err) => {
            eprintln!("spinshop: component {name:?} failed: {err:?}");
            http::Response::builder()
                .status(http::StatusCode::INTERNAL_SERVER_ERROR)
                .body(Bytes::from_static(b"Internal Server Error"))
                .unwrap_or_default()
        }
    }
}

async fn run(
    app: Arc<AppInner>,
    component: Arc<ComponentRuntime>,
    request: http::Request<Bytes>,
) -> anyhow::Result<http::Response<Bytes>> {
    let mut wasi = WasiCtx::builder();
    // Component output goes to the host's stderr, where request logs go.
    wasi.stdout(wasmtime_wasi::cli::stderr()).inherit_stderr();
    let pre = component.pre.clone();
    let state = HostState {
        app,
        component,
        table: ResourceTable::new(),
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
    };
    let mut store = Store::new(pre.engine(), state);
    let scheme = match request.uri().scheme_str() {
        Some("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    let request = request.map(Full::new);
    let incoming = store
        .data_mut()
        .http()
        .new_incoming_request(scheme, request)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let outparam = store.data_mut().http().new_response_outparam(sender)?;

    // The guest runs in its own task: it may keep running after it has sent its
    // response, as Spin lets it (to stream the body, or to finish work the client
    // need not wait for). The response is answered once its body is complete.
    let guest = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, incoming, outparam)
            .await
    });

    let response = match receiver.await {
        Ok(Ok(response)) => response,
        Ok(Err(code)) => anyhow::bail!("the component answered with an error: {code:?}"),
        Err(_) => {
            let outcome = guest.await;
            anyhow::bail!("the component sent no response: {outcome:?}")
        }
    };
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(err) => {
            let outcome = guest.await;
            anyhow::bail!(
                "the component failed while sending its response body: {err:?} / {outcome:?}"
            )
        }
    };
    tokio::spawn(async move {
        match guest.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("spinshop: component error after its response: {err:?}"),
            Err(err) => eprintln!("spinshop: component task failed after its response: {err:?}"),
        }
    });
    Ok(http::Response::from_parts(parts, body))
}
