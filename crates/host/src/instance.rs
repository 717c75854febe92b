//! Running requests, as Spin 4 runs them:
//! - a WASIp2 component (`wasi:http/incoming-handler@0.2.x`) gets a fresh instance
//!   in a new `Store` per request, so nothing leaks between requests and a trap only
//!   costs that request a 500;
//! - a WASIp3 component (`wasi:http/handler@0.3.0`) is served by
//!   wasmtime-wasi-http's `ProxyHandler`, which reuses an instance for up to
//!   [`Reuse::max_requests`] requests, [`Reuse::max_concurrent`] at a time, and drops
//!   it once idle for [`Reuse::idle_timeout`] (Spin's defaults: 128, 16, 1 s). A trap
//!   answers the requests it interrupts with 500 and discards the instance.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{
    Component as WasmComponent, GuestTaskId, HasData, HasSelf, Linker, ResourceTable,
};
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, Proxy, ProxyHandler, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p3::bindings::{Service, ServicePre};
use wasmtime_wasi_http::{WasiHttp, WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::app::AppInner;
use crate::bindings;
use crate::outbound_http::{self, OutboundHooks};
use crate::postgres;

/// What a component may use besides its code: its variables and permissions.
pub struct ComponentRuntime {
    pub name: String,
    pub variables: HashMap<String, String>,
    pub allowed_hosts: AllowedHosts,
    /// The key-value store labels the manifest lets it open (`key_value_stores`).
    pub key_value_stores: HashSet<String>,
    /// How its instances have been used so far.
    pub instances: InstanceCounts,
}

/// How a component's instances have been used: how many were started, and the most
/// requests one of them served at once.
#[derive(Debug, Default)]
pub struct InstanceCounts {
    started: AtomicUsize,
    most_at_once: AtomicUsize,
}

/// How a component's instances have been used so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceStats {
    /// Instances started.
    pub started: usize,
    /// The most requests one instance served at once.
    pub most_at_once: usize,
}

impl InstanceCounts {
    fn started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    fn serving(&self, at_once: usize) {
        self.most_at_once.fetch_max(at_once, Ordering::Relaxed);
    }

    pub fn stats(&self) -> InstanceStats {
        InstanceStats {
            started: self.started.load(Ordering::Relaxed),
            most_at_once: self.most_at_once.load(Ordering::Relaxed),
        }
    }
}

/// A component of the running app, ready to serve.
pub struct Component {
    pub runtime: Arc<ComponentRuntime>,
    handler: Handler,
}

enum Handler {
    /// WASIp2: instantiated afresh for every request.
    P2(ProxyPre<HostState>),
    /// WASIp3: instances reused across requests.
    P3(ProxyHandler<ReusingHandler>),
}

/// Instance reuse for WASIp3 components, as `spin up` configures it.
#[derive(Debug, Clone, Copy)]
pub struct Reuse {
    /// Requests an instance serves in all (`--max-instance-reuse-count`).
    pub max_requests: usize,
    /// Requests an instance serves at once (`--max-instance-concurrent-reuse-count`).
    pub max_concurrent: usize,
    /// How long an idle instance is kept (`--idle-instance-timeout`).
    pub idle_timeout: Duration,
}

impl Default for Reuse {
    /// Spin 4's defaults.
    fn default() -> Self {
        Reuse {
            max_requests: 128,
            max_concurrent: 16,
            idle_timeout: Duration::from_secs(1),
        }
    }
}

impl Component {
    /// Prepares `component` to serve: as WASIp3 when it exports
    /// `wasi:http/handler@0.3.x`, as WASIp2 otherwise.
    pub fn new(
        linker: &Linker<HostState>,
        component: &WasmComponent,
        runtime: ComponentRuntime,
        app: Weak<AppInner>,
        reuse: Reuse,
    ) -> anyhow::Result<Component> {
        let engine = linker.engine();
        let pre = linker
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)
            .context("it imports something this host does not provide")?;
        let runtime = Arc::new(runtime);
        let component_type = component.component_type();
        let exports = component_type.exports(engine).map(|(name, _)| name);
        let handler = if crate::world::exports_wasip3_handler(exports) {
            let pre = ServicePre::new(pre).map_err(anyhow::Error::from)?;
            Handler::P3(ProxyHandler::new(ReusingHandler {
                app,
                component: runtime.clone(),
                pre,
                reuse,
            }))
        } else {
            Handler::P2(ProxyPre::new(pre).map_err(anyhow::Error::from)?)
        };
        Ok(Component { runtime, handler })
    }
}

/// The data of one instance's `Store`.
pub struct HostState {
    pub(crate) app: Arc<AppInner>,
    pub(crate) component: Arc<ComponentRuntime>,
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    /// Where a WASIp3 component's outgoing requests go (the WASIp2 path routes its own).
    hooks: OutboundHooks,
}

impl HostState {
    fn new(app: Arc<AppInner>, component: Arc<ComponentRuntime>) -> HostState {
        let mut wasi = WasiCtx::builder();
        // Component output goes to the host's stderr, where request logs go.
        wasi.stdout(wasmtime_wasi::cli::stderr()).inherit_stderr();
        HostState {
            hooks: OutboundHooks::new(app.clone(), component.clone()),
            app,
            component,
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
        }
    }
}

/// The host's implementation of the async (WASIp3) Spin interfaces, which reach the
/// `HostState` through an `Accessor` instead of holding the store.
pub struct Spin;

impl HasData for Spin {
    type Data<'a> = &'a mut HostState;
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
            hooks: &mut self.hooks,
        }
    }
}

/// Everything a component may import: WASI 0.2 and 0.3, `wasi:http` (with outgoing
/// requests routed by the host), Postgres, variables and key-value stores.
pub fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    wasmtime_wasi_http::p2::bindings::http::types::add_to_linker::<_, WasiHttp>(
        &mut linker,
        &options.into(),
        HostState::http,
    )?;
    outbound_http::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    bindings::spin::postgres::postgres::add_to_linker::<_, Spin>(&mut linker, |s| s)?;
    postgres::add_v4_0_to_linker(&mut linker)?;
    bindings::fermyon::spin::variables::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    bindings::fermyon::spin::key_value::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    bindings::spin::variables::variables::add_to_linker::<_, Spin>(&mut linker, |s| s)?;
    bindings::spin::key_value::key_value::add_to_linker::<_, Spin>(&mut linker, |s| s)?;
    Ok(linker)
}

/// Runs `request` on `component`. Any failure of the component (a trap, a panic, no
/// response) is logged and answered with 500.
pub async fn handle(
    app: Arc<AppInner>,
    component: Arc<Component>,
    request: http::Request<Bytes>,
) -> http::Response<Bytes> {
    let outcome = match &component.handler {
        Handler::P2(pre) => run_fresh(app, component.runtime.clone(), pre, request).await,
        Handler::P3(handler) => run_reused(handler, request).await,
    };
    match outcome {
        Ok(response) => response,
        Err(err) => {
            let name = &component.runtime.name;
            eprintln!("spinshop: component {name:?} failed: {err:?}");
            http::Response::builder()
                .status(http::StatusCode::INTERNAL_SERVER_ERROR)
                .body(Bytes::from_static(b"Internal Server Error"))
                .unwrap_or_default()
        }
    }
}

/// WASIp2: a fresh instance for this request alone.
async fn run_fresh(
    app: Arc<AppInner>,
    component: Arc<ComponentRuntime>,
    pre: &ProxyPre<HostState>,
    request: http::Request<Bytes>,
) -> anyhow::Result<http::Response<Bytes>> {
    component.instances.started();
    component.instances.serving(1);
    let pre = pre.clone();
    let mut store = Store::new(pre.engine(), HostState::new(app, component));
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

/// WASIp3: the request goes to an instance with room for it, or to a new one.
async fn run_reused(
    handler: &ProxyHandler<ReusingHandler>,
    request: http::Request<Bytes>,
) -> anyhow::Result<http::Response<Bytes>> {
    let request = request.map(|body| {
        Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync()
    });
    let response = handler
        .handle((), request)
        .await
        .map_err(anyhow::Error::from)?;
    let (parts, body) = response.into_parts();
    // The component sets `content-length` when it knows it; the body is gathered
    // here either way, so the answer's framing never waits on the component.
    let body = body
        .collect()
        .await
        .map_err(|err| {
            anyhow::anyhow!("the component failed while sending its response body: {err:?}")
        })?
        .to_bytes();
    Ok(http::Response::from_parts(parts, body))
}

/// Creates the instances of one WASIp3 component.
struct ReusingHandler {
    /// Weak: the app owns its components, and an instance being made for a request
    /// the app is still serving finds it alive.
    app: Weak<AppInner>,
    component: Arc<ComponentRuntime>,
    pre: ServicePre<HostState>,
    reuse: Reuse,
}

impl HandlerState for ReusingHandler {
    type StoreData = HostState;
    type WorkerExpiration = IdleExpiration;
    type WorkerState = ReusedInstance;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<Instance<HostState, IdleExpiration, ReusedInstance>> {
        let app = self
            .app
            .upgrade()
            .ok_or_else(|| wasmtime::format_err!("the app has been dropped"))?;
        let mut store = Store::new(
            self.pre.engine(),
            HostState::new(app, self.component.clone()),
        );
        let service: Service = self.pre.instantiate_async(&mut store).await?;
        self.component.instances.started();
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: <HostState as WasiHttpView>::http,
            expiration: IdleExpiration {
                idle_timeout: self.reuse.idle_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: ReusedInstance {
                component: self.component.clone(),
                reuse: self.reuse,
            },
        })
    }
}

/// Ends an instance that has been idle too long. Spin sets no request timeout by
/// default, and neither does the host.
struct IdleExpiration {
    idle_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for IdleExpiration {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        since: Instant,
    ) -> Poll<()> {
        if status != WorkerStatus::Idle {
            return Poll::Pending;
        }
        let Some(deadline) = since.checked_add(self.idle_timeout) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// How many requests one instance takes.
struct ReusedInstance {
    component: Arc<ComponentRuntime>,
    reuse: Reuse,
}

impl WorkerState for ReusedInstance {
    type StoreData = HostState;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.max_requests {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.max_concurrent {
            ShouldAccept::No
        } else {
            self.component.instances.serving(concurrent + 1);
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, HostState>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        // No request timeout: a request never expires.
        Box::pin(std::future::pending())
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(err) = result {
            eprintln!(
                "spinshop: component {:?}: instance discarded: {err:?}",
                self.component.name
            );
        }
        drop(store);
    }
}

impl bindings::fermyon::spin::variables::Host for HostState {
    async fn get(
        &mut self,
        name: String,
    ) -> Result<String, bindings::fermyon::spin::variables::Error> {
        use crate::variables::Lookup;
        use bindings::fermyon::spin::variables::Error;
        self.component.variable(&name).map_err(|err| match err {
            Lookup::InvalidName(reason) => Error::InvalidName(reason),
            Lookup::Undefined(reason) => Error::Undefined(reason),
        })
    }
}

impl bindings::spin::variables::variables::Host for HostState {}

impl bindings::spin::variables::variables::HostWithStore<HostState> for Spin {
    async fn get(
        accessor: &wasmtime::component::Accessor<HostState, Self>,
        name: String,
    ) -> Result<String, bindings::spin::variables::variables::Error> {
        use crate::variables::Lookup;
        use bindings::spin::variables::variables::Error;
        accessor.with(|mut access| {
            access
                .get()
                .component
                .variable(&name)
                .map_err(|err| match err {
                    Lookup::InvalidName(reason) => Error::InvalidName(reason),
                    Lookup::Undefined(reason) => Error::Undefined(reason),
                })
        })
    }
}

impl ComponentRuntime {
    /// A variable of this component, as `get` gives it in either interface.
    fn variable(&self, name: &str) -> Result<String, crate::variables::Lookup> {
        use crate::variables::Lookup;
        crate::variables::validate_name(name).map_err(Lookup::InvalidName)?;
        self.variables
            .get(name)
            .cloned()
            .ok_or_else(|| Lookup::Undefined(format!("no variable for {:?}.{name:?}", self.name)))
    }
}
