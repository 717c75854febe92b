//! The harness of spinshop's end-to-end tests: each test gets its own migrated
//! database and its own app, running the real release `.wasm` files, and speaks HTTP
//! to it only. The app runs in `spin up` when `SPIN_BIN` names a Spin binary, and in
//! spinshop's Spin-compatible test host, in-process, otherwise.
//!
//! [`request`] is how a test speaks to its app, [`shop`] the shop it starts from and
//! the steps a customer takes, [`load`] many customers at once, [`receiver`] a server
//! the app calls out to.

pub mod build;
pub mod load;
pub mod receiver;
pub mod request;
pub mod shop;
mod spin;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use spinshop_host::{App, AppBuilder};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::build::{MANIFEST, served_manifest};
pub use crate::request::{RequestBuilder, Response};
pub use crate::shop::{Session, Shop, one_item, payment_for, session_from};
use crate::spin::{Spin, spin_bin};

pub const ADMIN_EMAIL: &str = "admin@spinshop.test";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef";
pub const INTERNAL_SECRET: &str = "test-internal-secret-0123456789ab";
/// Connections per component pool: the tests run apps side by side on one server.
const TEST_POOL_SIZE: usize = 16;

/// What a sibling that is down answers: 503 with the error envelope. Tests hand it
/// back from an outbound interceptor to take a service away.
pub fn unavailable_answer() -> http::Response<bytes::Bytes> {
    http::Response::builder()
        .status(503)
        .body(bytes::Bytes::from_static(
            br#"{"error":{"code":"unavailable","message":"down"}}"#,
        ))
        .expect("a static response")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The users service's password length rule, as spin.toml defaults it.
pub fn password_min_length() -> usize {
    let manifest = spinshop_host::manifest::Manifest::load(&workspace_root().join(MANIFEST))
        .expect("reading spin.toml");
    spinshop_cli::migrate::password_min_length(&manifest).expect("spin.toml's password_min_length")
}

/// spin.toml, parsed.
fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(workspace_root().join(MANIFEST)).expect("reading spin.toml");
    toml::from_str(&text).expect("spin.toml in TOML")
}

/// The components spin.toml declares (`[component.<name>]`), each a crate of that name.
pub fn components() -> Vec<String> {
    manifest()
        .get("component")
        .and_then(toml::Value::as_table)
        .map(|components| components.keys().cloned().collect())
        .unwrap_or_default()
}

/// The services that keep data: those with a `<name>_db_url` variable in spin.toml.
pub fn services_with_a_database() -> Vec<String> {
    manifest()
        .get("variables")
        .and_then(toml::Value::as_table)
        .map(|variables| {
            variables
                .keys()
                .filter_map(|name| name.strip_suffix("_db_url"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The path prefix spin.toml routes to `component` (`/api/users` for
/// `route = "/api/users/..."`); empty for the catch-all `/...`.
pub fn route_prefix(component: &str) -> String {
    let manifest = manifest();
    let triggers = manifest["trigger"]["http"]
        .as_array()
        .expect("[[trigger.http]] routes");
    let route = triggers
        .iter()
        .find(|trigger| trigger["component"].as_str() == Some(component))
        .and_then(|trigger| trigger["route"].as_str())
        .unwrap_or_else(|| panic!("no route for {component} in spin.toml"));
    route
        .trim_end_matches("...")
        .trim_end_matches('/')
        .to_string()
}

/// Every app holds a turn, shared, while it lives; a test that loads the whole
/// machine (many clients, a Postgres restart) takes the turns alone, so it neither
/// slows another test past its time limits nor is slowed by one. The end-to-end
/// tests share one process, so they share the turns.
static TURNS: RwLock<()> = RwLock::const_new(());

/// Waits until no other app runs, and keeps new ones from starting while the guard
/// lives. The test's own app comes from [`TestApp::spawn_on`], which takes no turn.
pub async fn alone() -> RwLockWriteGuard<'static, ()> {
    TURNS.write().await
}

/// `host:port` of a Postgres server the tests may use (started if none is running).
fn postgres() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        let address = spinshop_local_pg::ensure_server().expect("a Postgres server for the tests");
        // Its own thread: the caller is already inside a test's runtime.
        let cleanup_address = address.clone();
        std::thread::spawn(move || drop_stale_databases(&cleanup_address))
            .join()
            .expect("dropping stale test databases");
        address
    })
}

/// Migrates a test database. The migrations create the service roles, which belong
/// to the whole server, so on a server that has none yet two first migrations running
/// side by side would both try to create them: the first migration on each server of
/// each test process runs alone, under a server-wide advisory lock.
async fn migrate(postgres: &str, url: &str) {
    static SERVERS_WITH_ROLES: tokio::sync::Mutex<Vec<String>> =
        tokio::sync::Mutex::const_new(Vec::new());
    let migrations = workspace_root().join("migrations");
    let mut servers_with_roles = SERVERS_WITH_ROLES.lock().await;
    if servers_with_roles.iter().any(|server| server == postgres) {
        drop(servers_with_roles);
        spinshop_cli::migrate::apply(url, &migrations)
            .await
            .expect("migrating the test database");
        return;
    }
    // Advisory locks are scoped to a database: every process takes this one in `postgres`.
    let lock = connect(&superuser_url(postgres, "postgres")).await;
    lock.execute(
        "SELECT pg_advisory_lock(hashtext('spinshop tests: roles'))",
        &[],
    )
    .await
    .expect("taking the roles lock");
    spinshop_cli::migrate::apply(url, &migrations)
        .await
        .expect("migrating the test database");
    servers_with_roles.push(postgres.to_string());
    // Dropping the session releases the lock.
    drop(lock);
}

fn superuser_url(address: &str, database: &str) -> String {
    format!("postgres://postgres@{address}/{database}")
}

/// Databases left by earlier test processes that have ended.
fn drop_stale_databases(address: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let Ok((client, connection)) =
            tokio_postgres::connect(&superuser_url(address, "postgres"), tokio_postgres::NoTls)
                .await
        else {
            return;
        };
        tokio::spawn(connection);
        let Ok(rows) = client
            .query(
                "SELECT datname FROM pg_database WHERE datname LIKE 'spinshop_test_%'",
                &[],
            )
            .await
        else {
            return;
        };
        for row in rows {
            let name: String = row.get(0);
            let pid = name
                .split('_')
                .nth(2)
                .and_then(|pid| pid.parse::<u32>().ok());
            let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = client
                    .execute(
                        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                        &[],
                    )
                    .await;
            }
        }
    });
}

/// A Postgres server of a test's own, never the shared one: for tests that size it
/// or stop it. It lives in the temp dir under its name and, like the shared fallback
/// server, keeps running after the test for the next run to reuse.
pub struct OwnPostgres {
    data_dir: PathBuf,
    max_connections: u32,
    /// `host:port`, the same after a restart.
    pub address: String,
}

impl OwnPostgres {
    /// Starts (or finds running) the server `name`, allowing `max_connections`; on a
    /// machine without Postgres' binaries (`apt-get install postgresql`) the test is
    /// reported as skipped, and there is no server.
    pub async fn start(name: &str, max_connections: u32) -> Option<OwnPostgres> {
        if !spinshop_local_pg::can_start_servers() {
            report_skipped("without Postgres binaries", "needs a server of its own");
            return None;
        }
        let data_dir = std::env::temp_dir().join(format!("spinshop-postgres-{name}"));
        let dir = data_dir.clone();
        let address = tokio::task::spawn_blocking(move || {
            let address = spinshop_local_pg::own_server_in(&dir, max_connections)
                .unwrap_or_else(|err| panic!("starting Postgres in {}: {err:#}", dir.display()));
            drop_stale_databases(&address);
            address
        })
        .await
        .expect("starting Postgres");
        Some(OwnPostgres {
            data_dir,
            max_connections,
            address,
        })
    }

    /// Stops the server ("fast": sessions are ended, open transactions roll back).
    pub async fn stop(&self) {
        let dir = self.data_dir.clone();
        tokio::task::spawn_blocking(move || spinshop_local_pg::stop_server_in(&dir))
            .await
            .expect("stopping Postgres")
            .unwrap_or_else(|err| panic!("stopping Postgres: {err:#}"));
    }

    /// Starts the stopped server again, on the same address.
    pub async fn start_again(&self) {
        let (dir, max_connections) = (self.data_dir.clone(), self.max_connections);
        let address = tokio::task::spawn_blocking(move || {
            spinshop_local_pg::own_server_in(&dir, max_connections)
        })
        .await
        .expect("starting Postgres")
        .unwrap_or_else(|err| panic!("starting Postgres again: {err:#}"));
        assert_eq!(address, self.address, "Postgres came back on another port");
    }
}

/// A running app with its own database.
pub struct TestApp {
    pub(crate) backend: Backend,
    pub database: String,
    pub postgres: String,
    /// Dropped after the app: see [`TURNS`].
    _turn: Option<RwLockReadGuard<'static, ()>>,
}

pub(crate) enum Backend {
    Host(App),
    Spin(Spin),
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with_variables(&[]).await
    }

    /// Spawns an app with `overrides` over the harness's variables (e.g.
    /// `internal_mode`): variables work the same in the test host and in Spin.
    pub async fn spawn_with_variables(overrides: &[(&str, &str)]) -> TestApp {
        Self::spawn_from(MANIFEST, overrides).await
    }

    /// Spawns the app `manifest` (relative to the workspace) describes, with
    /// `overrides` over the harness's variables.
    pub async fn spawn_from(manifest: &str, overrides: &[(&str, &str)]) -> TestApp {
        let turn = TURNS.read().await;
        let manifest = served_manifest(manifest);
        let (postgres, database) = Self::prepare_database().await;
        let mut variables = app_variables(&postgres, &database);
        variables.extend(
            overrides
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        );
        let backend = match spin_bin() {
            Some(bin) => Backend::Spin(Spin::start(&bin, &manifest, &variables, &database).await),
            None => Backend::Host(host_app(&manifest, &variables, |builder| builder).await),
        };
        TestApp {
            backend,
            database,
            postgres,
            _turn: Some(turn),
        }
    }

    /// Spawns an app whose database lives on `server` rather than the shared one, with
    /// Spin's pool size (64 connections per service) in the test host, as a deployment
    /// has: for tests of the connection budget and of the database going away. It
    /// takes no turn: such a test runs [`alone`].
    pub async fn spawn_on(server: &OwnPostgres) -> TestApp {
        let manifest = served_manifest(MANIFEST);
        let postgres = server.address.clone();
        let database = Self::prepare_database_on(&postgres).await;
        let variables = app_variables(&postgres, &database);
        let backend = match spin_bin() {
            Some(bin) => Backend::Spin(Spin::start(&bin, &manifest, &variables, &database).await),
            None => Backend::Host(
                host_app(&manifest, &variables, |builder| {
                    builder.pg_pool_size(spinshop_host::postgres::DEFAULT_POOL_SIZE)
                })
                .await,
            ),
        };
        TestApp {
            backend,
            database,
            postgres,
            _turn: None,
        }
    }

    /// Spawns an app in the test host after `customize` adjusts its builder, for
    /// tests that need the host's hooks (outbound interceptors, missing components),
    /// which real Spin doesn't have. On Spin the test is reported as skipped, for
    /// `reason`, and there is no app.
    pub async fn spawn_on_host(
        reason: &str,
        customize: impl FnOnce(AppBuilder) -> AppBuilder,
    ) -> Option<TestApp> {
        Self::spawn_on_host_from(MANIFEST, reason, customize).await
    }

    /// [`TestApp::spawn_on_host`] for the app `manifest` (relative to the workspace)
    /// describes.
    pub async fn spawn_on_host_from(
        manifest: &str,
        reason: &str,
        customize: impl FnOnce(AppBuilder) -> AppBuilder,
    ) -> Option<TestApp> {
        if spin_bin().is_some() {
            report_skipped(ON_REAL_SPIN, reason);
            return None;
        }
        let turn = TURNS.read().await;
        let manifest = served_manifest(manifest);
        let (postgres, database) = Self::prepare_database().await;
        let app = host_app(&manifest, &app_variables(&postgres, &database), customize).await;
        Some(TestApp {
            backend: Backend::Host(app),
            database,
            postgres,
            _turn: Some(turn),
        })
    }

    /// Creates, migrates and seeds (the admin) a database of this test's own.
    async fn prepare_database() -> (String, String) {
        let postgres = postgres().to_string();
        let database = Self::prepare_database_on(&postgres).await;
        (postgres, database)
    }

    /// [`TestApp::prepare_database`] on the server at `postgres`.
    async fn prepare_database_on(postgres: &str) -> String {
        let database = Self::create_database(postgres).await;
        let url = superuser_url(postgres, &database);
        migrate(postgres, &url).await;
        spinshop_cli::migrate::ensure_admin(
            &url,
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
            password_min_length(),
        )
        .await
        .expect("creating the admin");
        database
    }

    async fn create_database(postgres: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "spinshop_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let client = connect(&superuser_url(postgres, "postgres")).await;
        client
            .execute(&format!("CREATE DATABASE \"{name}\""), &[])
            .await
            .expect("creating the test database");
        name
    }

    /// Where the app answers HTTP: the `spin up` the harness started, or the test host
    /// served on a port of its own (from the first call on, as `spinshop up` serves it).
    pub async fn http_address(&self) -> std::net::SocketAddr {
        match &self.backend {
            Backend::Spin(spin) => spin.address(),
            Backend::Host(app) => {
                let address = spin::free_address();
                let app = app.clone();
                tokio::spawn(async move { app.serve(address).await });
                for _ in 0..100 {
                    if tokio::net::TcpStream::connect(address).await.is_ok() {
                        return address;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                panic!("the test host does not listen on {address}");
            }
        }
    }

    /// How the test host has used the instances of `component` so far; `None` on real
    /// Spin, which doesn't tell.
    pub fn instance_stats(&self, component: &str) -> Option<spinshop_host::InstanceStats> {
        match &self.backend {
            Backend::Host(app) => app.instance_stats(component),
            Backend::Spin(_) => None,
        }
    }

    /// Waits until every event recorded so far has had its first delivery attempt
    /// (made after the response that recorded it, in the background), so a test's
    /// next steps don't meet the deliveries of its set-up.
    pub async fn settle_outboxes(&self) {
        let untried = "(SELECT count(*) FROM users.outbox WHERE attempts = 0 AND delivered_at IS NULL) \
             + (SELECT count(*) FROM orders.outbox WHERE attempts = 0 AND delivered_at IS NULL) \
             + (SELECT count(*) FROM payments.outbox WHERE attempts = 0 AND delivered_at IS NULL)";
        let db = self.db().await;
        for _ in 0..200 {
            let row = db
                .query_one(&format!("SELECT ({untried})::bigint AS untried"), &[])
                .await
                .expect("counting untried events");
            if row.get::<_, i64>("untried") == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("events recorded 10 s ago were never tried");
    }

    /// A superuser connection to this app's database, to check what was stored.
    pub async fn db(&self) -> tokio_postgres::Client {
        connect(&self.superuser_url()).await
    }

    /// How many rows `rows` names, e.g. `orders.placements` or
    /// `payments.payments WHERE settled_at IS NULL`, counted as the superuser.
    pub async fn count(&self, rows: &str) -> i64 {
        self.db()
            .await
            .query_one(&format!("SELECT count(*) FROM {rows}"), &[])
            .await
            .unwrap_or_else(|err| panic!("counting {rows}: {err}"))
            .get(0)
    }

    pub fn superuser_url(&self) -> String {
        superuser_url(&self.postgres, &self.database)
    }

    /// A connection to this app's database as `role` (a service's role). The role's
    /// idle timeout, meant for the services' pools, is lifted for this session: a
    /// test may pause between its statements.
    pub async fn connect_as(&self, role: &str) -> tokio_postgres::Client {
        let client = connect(&format!(
            "postgres://{role}@{}/{}",
            self.postgres, self.database
        ))
        .await;
        client
            .batch_execute("SET idle_session_timeout = 0")
            .await
            .expect("lifting the idle timeout");
        client
    }
}

/// The variables every test app gets: its database, as each service's role (which
/// sees only its own schema), and the secrets the tests sign tokens with.
fn app_variables(postgres: &str, database: &str) -> Vec<(String, String)> {
    let mut variables = vec![
        ("db_host".to_string(), postgres.to_string()),
        ("jwt_secret".to_string(), JWT_SECRET.to_string()),
        ("internal_secret".to_string(), INTERNAL_SECRET.to_string()),
        // Tests sign up and log in many customers at once; the budget has tests of
        // its own (tests/e2e/web.rs), which set it.
        ("password_hash_ms_per_second".to_string(), "0".to_string()),
    ];
    for service in services_with_a_database() {
        // Spin talks TLS to Postgres unless told not to, and the local server's
        // certificate is self-signed.
        let url = format!("postgres://spinshop_{service}@{postgres}/{database}?sslmode=disable");
        variables.push((format!("{service}_db_url"), url));
    }
    variables
}

/// The app in the test host, with `variables` and nothing from the environment.
async fn host_app(
    manifest: &Path,
    variables: &[(String, String)],
    customize: impl FnOnce(AppBuilder) -> AppBuilder,
) -> App {
    let mut builder = App::builder(manifest)
        .env_overrides(false)
        .pg_pool_size(TEST_POOL_SIZE);
    for (name, value) in variables {
        builder = builder.variable(name, value);
    }
    customize(builder).build().await.expect("loading the app")
}

/// Tells the person running the tests, past libtest's capture of a passing test's
/// output, that this test did not run `where_` (its app is on real Spin, the machine
/// has no Postgres binaries) and why. libtest has no way to mark a running test as
/// skipped, so it still shows as `ok`: every skip goes through here, with one line
/// starting `skipped: `, and `./dev test` prints how many there were.
pub(crate) fn report_skipped(where_: &str, reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(
        std::io::stderr(),
        "{SKIPPED_PREFIX}{test}: {where_}: {reason}"
    );
}

/// How each skipped test's line starts (`./dev test` counts them).
const SKIPPED_PREFIX: &str = "skipped: ";

/// Where a test that needs the test host's hooks can't run.
pub(crate) const ON_REAL_SPIN: &str = "on real Spin";

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|err| panic!("connecting to {url}: {err}"));
    tokio::spawn(connection);
    client
}
