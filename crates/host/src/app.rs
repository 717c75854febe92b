//! The application: loaded from `spin.toml`, compiled, and ready to handle requests
//! in-process (tests) or behind the HTTP server (`spinshop up`).

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::allowed_hosts::AllowedHosts;
use crate::instance::{self, Component, ComponentRuntime, InstanceCounts, InstanceStats, Reuse};
use crate::key_value::{DEFAULT_STORE, KeyValue};
use crate::manifest::Manifest;
use crate::postgres::{DEFAULT_POOL_SIZE, Pools};
use crate::routes::{RouteMatch, Router, set_spin_headers};
use crate::{compile, variables};
use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

/// What a component is about to send, shown to an interceptor.
#[derive(Debug, Clone)]
pub struct OutboundInfo {
    /// The sending component.
    pub component_from: String,
    /// `http://products.spin.internal/api/...`, or just the path for a self-request.
    pub url: String,
    pub method: http::Method,
    /// The headers the component set (request id, credentials, ...).
    pub headers: http::HeaderMap,
}

/// Consulted before every outbound request that `allowed_outbound_hosts` permits;
/// returning a response answers the request with it instead of sending it.
pub type Interceptor = Arc<dyn Fn(&OutboundInfo) -> Option<http::Response<Bytes>> + Send + Sync>;

/// Consulted before every outbound request the app serves in-process (service
/// chaining, self-requests); returning a duration lets the target handle the request
/// and then holds its answer back that long: a sibling that does the work and hangs.
pub type Delay = Arc<dyn Fn(&OutboundInfo) -> Option<Duration> + Send + Sync>;

/// A loaded application. Cheap to clone; clones share everything, and any number of
/// requests may run at once.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
}

pub struct AppInner {
    pub(crate) router: Router,
    pub(crate) components: HashMap<String, Arc<Component>>,
    pub(crate) pg_pools: Pools,
    pub(crate) key_value: KeyValue,
    pub(crate) interceptor: Option<Interceptor>,
    pub(crate) delay: Option<Delay>,
    /// `host:port` the app is reached at: the default `Host` of requests that bring
    /// none, and where self-requests claim to come from.
    origin: RwLock<String>,
    next_client_port: AtomicU16,
}

/// Configures and loads an [`App`].
pub struct AppBuilder {
    manifest: PathBuf,
    overrides: variables::Overrides,
    without: HashSet<String>,
    interceptor: Option<Interceptor>,
    delay: Option<Delay>,
    pg_pool_size: usize,
    key_value_file: Option<PathBuf>,
    reuse: Reuse,
}

impl App {
    pub fn builder(manifest: impl AsRef<Path>) -> AppBuilder {
        AppBuilder {
            manifest: manifest.as_ref().to_path_buf(),
            overrides: variables::Overrides {
                explicit: HashMap::new(),
                from_env: true,
            },
            without: HashSet::new(),
            interceptor: None,
            delay: None,
            pg_pool_size: DEFAULT_POOL_SIZE,
            key_value_file: None,
            reuse: Reuse::default(),
        }
    }

    /// Handles `request` as a public request from 127.0.0.1.
    pub async fn handle(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        let client = self.inner.next_client_addr();
        self.inner.handle_public(request, client).await
    }

    /// Handles `request` as a public request from `client`.
    pub async fn handle_from(
        &self,
        request: http::Request<Bytes>,
        client: SocketAddr,
    ) -> http::Response<Bytes> {
        self.inner.handle_public(request, client).await
    }

    /// Public routes in manifest order: (route, component).
    pub fn routes(&self) -> Vec<(String, String)> {
        self.inner
            .router
            .routes()
            .map(|(route, component)| (route.to_string(), component.to_string()))
            .collect()
    }

    /// How the instances of `component` have been used so far; `None` for a
    /// component the app doesn't have.
    pub fn instance_stats(&self, component: &str) -> Option<InstanceStats> {
        let component = self.inner.components.get(component)?;
        Some(component.runtime.instances.stats())
    }

    /// Records where the app is served, for `Host`-less requests and self-requests.
    pub(crate) fn set_origin(&self, origin: SocketAddr) {
        let mut current = self
            .inner
            .origin
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *current = origin.to_string();
    }
}

impl AppBuilder {
    /// Whether `SPIN_VARIABLE_<NAME>` environment variables override defaults
    /// (default: yes, as with `spin up`).
    pub fn env_overrides(mut self, enabled: bool) -> Self {
        self.overrides.from_env = enabled;
        self
    }

    /// Sets an application variable, over its default and the environment.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides.explicit.insert(name.into(), value.into());
        self
    }

    /// Leaves a component out of the app: its routes answer 404 and requests to
    /// `http://<name>.spin.internal` fail as unreachable.
    pub fn without_component(mut self, name: impl Into<String>) -> Self {
        self.without.insert(name.into());
        self
    }

    /// Installs an interceptor for outbound requests (see [`Interceptor`]).
    pub fn intercept(
        mut self,
        interceptor: impl Fn(&OutboundInfo) -> Option<http::Response<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        self.interceptor = Some(Arc::new(interceptor));
        self
    }

    /// Holds back the answers to some in-process outbound requests (see [`Delay`]).
    pub fn delay_answers(
        mut self,
        delay: impl Fn(&OutboundInfo) -> Option<Duration> + Send + Sync + 'static,
    ) -> Self {
        self.delay = Some(Arc::new(delay));
        self
    }

    /// Connections per Postgres connection string (Spin: 64).
    pub fn pg_pool_size(mut self, size: usize) -> Self {
        self.pg_pool_size = size;
        self
    }

    /// Where the default key-value store lives (Spin: `.spin/sqlite_key_value.db` beside
    /// the manifest). Without one, the app keeps its store in a file of its own under
    /// the temporary directory, removed when the app is dropped.
    pub fn key_value_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_value_file = Some(path.into());
        self
    }

    /// How many requests a WASIp3 instance serves in all before a new one is made
    /// (`spin up --max-instance-reuse-count`; default 128). WASIp2 components get a
    /// fresh instance per request whatever this says, as on Spin.
    pub fn max_instance_reuse_count(mut self, count: usize) -> Self {
        self.reuse.max_requests = count.max(1);
        self
    }

    /// How many requests a WASIp3 instance serves at once
    /// (`spin up --max-instance-concurrent-reuse-count`; default 16).
    pub fn max_instance_concurrent_reuse_count(mut self, count: usize) -> Self {
        self.reuse.max_concurrent = count.max(1);
        self
    }

    /// How long an idle WASIp3 instance is kept for the next request
    /// (`spin up --idle-instance-timeout`; default 1 s).
    pub fn idle_instance_timeout(mut self, timeout: Duration) -> Self {
        self.reuse.idle_timeout = timeout;
        self
    }

    /// Loads the manifest, resolves variables and compiles (or loads the cached
    /// compilation of) every component.
    pub async fn build(self) -> anyhow::Result<App> {
        tokio::task::spawn_blocking(move || self.build_blocking())
            .await
            .context("loading the app")?
    }

    fn build_blocking(self) -> anyhow::Result<App> {
        let manifest = Manifest::load(&self.manifest)?;
        for name in &self.without {
            if !manifest.components.contains_key(name) {
                bail!("without_component({name:?}): the manifest has no such component");
            }
        }
        let app_variables = variables::resolve_app_variables(&manifest.variables, &self.overrides)?;
        let mut component_variables =
            variables::resolve_component_variables(&manifest, &app_variables)?;

        let engine = compile::engine()?;
        let linker = instance::linker(&engine)?;
        let mut loaded = Vec::new();
        for (name, decl) in &manifest.components {
            if self.without.contains(name) {
                continue;
            }
            let allowed = decl
                .allowed_outbound_hosts
                .iter()
                .map(|entry| variables::render(entry, &app_variables))
                .collect::<anyhow::Result<Vec<_>>>()
                .and_then(|entries| AllowedHosts::parse(&entries))
                .with_context(|| format!("component {name:?}: allowed_outbound_hosts"))?;
            // Spin refuses to start an app that names a store its runtime config does
            // not define; the host defines only `default`.
            if let Some(label) = decl
                .key_value_stores
                .iter()
                .find(|label| *label != DEFAULT_STORE)
            {
                bail!(
                    "unknown key_value_stores label {label:?} for component {name:?} (only {DEFAULT_STORE:?} is defined)"
                );
            }
            let component = compile::load(&engine, &manifest.source_path(decl))
                .with_context(|| format!("component {name:?}"))?;
            let runtime = ComponentRuntime {
                name: name.clone(),
                variables: component_variables.remove(name).unwrap_or_default(),
                allowed_hosts: allowed,
                key_value_stores: decl.key_value_stores.iter().cloned().collect(),
                instances: InstanceCounts::default(),
            };
            loaded.push((component, runtime));
        }
        let router = Router::build(
            manifest
                .http_triggers
                .iter()
                .filter(|trigger| !self.without.contains(&trigger.component)),
        )?;
        let key_value = match &self.key_value_file {
            Some(path) => KeyValue::open(path, false),
            None => {
                let path = scratch_key_value_file();
                let _ = std::fs::remove_file(&path);
                KeyValue::open(&path, true)
            }
        }
        .context("opening the key-value store")?;
        // A WASIp3 component's handler makes instances for the app that owns it, so
        // it holds the app weakly.
        let mut failed = None;
        let inner = Arc::new_cyclic(|app| {
            let mut components = HashMap::new();
            for (component, runtime) in loaded {
                let name = runtime.name.clone();
                match Component::new(&linker, &component, runtime, app.clone(), self.reuse) {
                    Ok(component) => {
                        components.insert(name, Arc::new(component));
                    }
                    Err(err) => {
                        failed.get_or_insert(err.context(format!("component {name:?}")));
                    }
                }
            }
            AppInner {
                router,
                components,
                pg_pools: Pools::new(self.pg_pool_size),
                key_value,
                interceptor: self.interceptor,
                delay: self.delay,
                origin: RwLock::new("127.0.0.1:3000".into()),
                next_client_port: AtomicU16::new(49152),
            }
        });
        if let Some(err) = failed {
            return Err(err);
        }
        Ok(App { inner })
    }
}

impl AppInner {
    pub(crate) fn origin(&self) -> String {
        self.origin
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// A loopback address with a fresh ephemeral port, as a new connection has.
    pub(crate) fn next_client_addr(&self) -> SocketAddr {
        let port = self
            .next_client_port
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                Some(if p == u16::MAX { 49152 } else { p + 1 })
            })
            .unwrap_or(49152);
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// A request from outside (or a self-request): routed by path.
    pub(crate) async fn handle_public(
        self: &Arc<Self>,
        mut request: http::Request<Bytes>,
        client: SocketAddr,
    ) -> http::Response<Bytes> {
        let Some(route) = self.router.route(request.uri().path()) else {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        };
        let Some(component) = self.components.get(&route.component).cloned() else {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        };
        let host = match request.headers().get(http::header::HOST) {
            Some(host) => host.to_str().unwrap_or("localhost").to_string(),
            None => request
                .uri()
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_else(|| self.origin()),
        };
        if let Ok(value) = HeaderValue::from_str(&host) {
            request.headers_mut().insert(http::header::HOST, value);
        }
        self.run(component, request, &host, &route, client).await
    }

    /// A request by service chaining: it reaches the component whatever its route,
    /// without a `Host`, described as Spin describes chained requests.
    pub(crate) async fn handle_chained(
        self: &Arc<Self>,
        component: Arc<Component>,
        mut request: http::Request<Bytes>,
    ) -> http::Response<Bytes> {
        request.headers_mut().remove(http::header::HOST);
        let route = RouteMatch::chained(&component.runtime.name, request.uri().path());
        let client = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        self.run(component, request, "localhost", &route, client)
            .await
    }

    async fn run(
        self: &Arc<Self>,
        component: Arc<Component>,
        mut request: http::Request<Bytes>,
        host: &str,
        route: &RouteMatch,
        client: SocketAddr,
    ) -> http::Response<Bytes> {
        let scheme = request.uri().scheme_str().unwrap_or("http").to_string();
        let path_and_query = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let uri = match format!("{scheme}://{host}{path_and_query}").parse::<http::Uri>() {
            Ok(uri) => uri,
            Err(_) => return plain(StatusCode::BAD_REQUEST, "Bad Request"),
        };
        if let Err(err) = set_spin_headers(request.headers_mut(), &uri, host, route, client) {
            eprintln!("spinshop: {err:#}");
            return plain(StatusCode::BAD_REQUEST, "Bad Request");
        }
        *request.uri_mut() = uri;
        instance::handle(self.clone(), component, request).await
    }
}

/// A file no other app of any process uses, for an app given no key-value file.
fn scratch_key_value_file() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("spinshop-host-kv-{}-{n}.log", std::process::id()))
}

fn plain(status: StatusCode, body: &'static str) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::from_static(body.as_bytes()));
    *response.status_mut() = status;
    response
}
