//! `spin:postgres/postgres@4.0.0` (WASIp2 components) and `@4.2.0` (WASIp3
//! components, which add `open-async`, `query-async` with its rows as a stream, and
//! `execute-async`) over real Postgres, as Spin provides them, with one
//! implementation for both: a
//! connection pool per connection string (64 connections by default), a
//! `connection` resource that holds one pooled session for its lifetime (so
//! `BEGIN ... COMMIT` across calls works, and nothing rolls back on its own),
//! `open` refused unless `postgres://host:port` is in `allowed_outbound_hosts`, TLS
//! negotiated and verified unless the URL says `sslmode=disable`, and errors in the
//! shapes Spin gives them.

mod tls;
mod types;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use anyhow::Context;
use futures::TryStreamExt;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use wasmtime::StoreContextMut;
use wasmtime::component::{
    Accessor, Destination, FutureReader, Linker, Resource, ResourceType, StreamProducer,
    StreamReader, StreamResult,
};

use crate::app::AppInner;
use crate::bindings::spin::postgres::postgres::{
    self as pg, Column, DbError, DbValue, Error, ParameterValue, QueryError, RowSet,
};
use crate::instance::{ComponentRuntime, HostState, Spin};

/// Spin's pool size per connection string.
pub const DEFAULT_POOL_SIZE: usize = 64;

/// The app's pools, one per connection string, created on first use.
pub struct Pools {
    max_size: usize,
    pools: Mutex<HashMap<String, deadpool_postgres::Pool>>,
}

impl Pools {
    pub fn new(max_size: usize) -> Pools {
        Pools {
            max_size,
            pools: Mutex::default(),
        }
    }

    fn pool(&self, address: &str) -> anyhow::Result<deadpool_postgres::Pool> {
        let mut pools = self
            .pools
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let config: tokio_postgres::Config = address
            .parse()
            .context("parsing Postgres connection string")?;
        let manager_config = deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Clean,
        };
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            deadpool_postgres::Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            deadpool_postgres::Manager::from_config(
                config,
                tls::verifying_connector()?,
                manager_config,
            )
        };
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(self.max_size)
            .build()
            .context("building Postgres connection pool")?;
        pools.insert(address.to_string(), pool.clone());
        Ok(pool)
    }
}

/// The `connection-builder` resource (4.1+): an address to open, once built.
pub struct ConnectionBuilder {
    address: String,
}

/// The `connection` resource: one pooled session, returned to the pool when the
/// last of the resource and any query still streaming its rows lets go of it.
pub struct Connection {
    client: Arc<deadpool_postgres::Object>,
}

/// Opens a connection for `component`: allowed by its `allowed_outbound_hosts`,
/// from the app's pool for `address`.
async fn open(
    app: &AppInner,
    component: &ComponentRuntime,
    address: &str,
) -> Result<Connection, Error> {
    ensure_postgres_allowed(component, address)?;
    let pool = app
        .pg_pools
        .pool(address)
        .map_err(|e| Error::ConnectionFailed(error_text(e.as_ref())))?;
    // The text lists the causes: a TLS refusal names the certificate's fault there.
    let client = pool
        .get()
        .await
        .map_err(|e| Error::ConnectionFailed(error_text(&e)))?;
    Ok(Connection {
        client: Arc::new(client),
    })
}

/// Starts a query: preparing and binding happen here, so their errors (syntax, an
/// unknown column, a parameter whose type the server can't tell) come back
/// structured, as Spin returns them.
async fn start_query(
    client: &tokio_postgres::Client,
    statement: &(impl tokio_postgres::ToStatement + ?Sized),
    params: &[ParameterValue],
) -> Result<tokio_postgres::RowStream, Error> {
    let params = sql_parameters(params).map_err(Error::BadParameter)?;
    client
        .query_raw(statement, parameter_refs(&params))
        .await
        .map_err(query_failed)
}

/// The next row of a started query, converted. Execution errors (a constraint
/// violated by `INSERT ... RETURNING`) and values that can't be converted (a
/// `timestamptz` column) arrive here; Spin hands those to the guest as text, the
/// structured error's Debug form wrapped once more.
async fn next_row(
    rows: &mut std::pin::Pin<&mut tokio_postgres::RowStream>,
) -> Result<Option<(tokio_postgres::Row, Vec<DbValue>)>, Error> {
    let Some(row) = rows
        .try_next()
        .await
        .map_err(|e| rewrapped_as_text(query_failed(e)))?
    else {
        return Ok(None);
    };
    let values = (0..row.len())
        .map(|i| types::value(&row, i))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| {
            rewrapped_as_text(Error::QueryFailed(QueryError::Text(error_text(e.as_ref()))))
        })?;
    Ok(Some((row, values)))
}

async fn query_all(
    client: &tokio_postgres::Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<RowSet, Error> {
    let rows = start_query(client, statement, params).await?;
    let mut rows = std::pin::pin!(rows);
    let mut columns = None;
    let mut values = Vec::new();
    while let Some((row, row_values)) = next_row(&mut rows).await? {
        columns.get_or_insert_with(|| columns_of(row.columns()));
        values.push(row_values);
    }
    // Spin takes the columns from the first row: an empty result has none.
    Ok(RowSet {
        columns: columns.unwrap_or_default(),
        rows: values,
    })
}

/// `query-async` (4.2): the columns, then the rows as they arrive from the server,
/// then the query's result. The columns are the statement's, so a query with no
/// rows has them too, and its row stream simply ends.
async fn query_streamed(
    client: Arc<deadpool_postgres::Object>,
    statement: &str,
    params: &[ParameterValue],
) -> Result<(Vec<Column>, RowReceiver, ResultReceiver), Error> {
    let prepared = client.prepare(statement).await.map_err(query_failed)?;
    let columns = columns_of(prepared.columns());
    let rows = start_query(&client, &prepared, params).await?;
    let (row_tx, row_rx) = tokio::sync::mpsc::channel(16);
    let (result_tx, result_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        // The connection stays checked out until the rows are read or abandoned.
        let _client = client;
        let mut rows = std::pin::pin!(rows);
        let result = loop {
            match next_row(&mut rows).await {
                Ok(Some((_, values))) => {
                    if row_tx.send(values).await.is_err() {
                        break Ok(());
                    }
                }
                Ok(None) => break Ok(()),
                Err(err) => break Err(err),
            }
        };
        drop(row_tx);
        let _ = result_tx.send(result);
    });
    Ok((columns, row_rx, result_rx))
}

type RowReceiver = tokio::sync::mpsc::Receiver<Vec<DbValue>>;
type ResultReceiver = tokio::sync::oneshot::Receiver<Result<(), Error>>;

async fn execute(
    client: &tokio_postgres::Client,
    statement: &str,
    params: &[ParameterValue],
) -> Result<u64, Error> {
    let params = sql_parameters(params).map_err(Error::ValueConversionFailed)?;
    client
        .execute(statement, &parameter_refs(&params))
        .await
        .map_err(query_failed)
}

/// Spin checks every host of the connection string, with its port, as
/// `postgres://host:port` against `allowed_outbound_hosts`.
#[expect(
    clippy::result_large_err,
    reason = "the error is the WIT's own, handed to the guest as it is"
)]
fn ensure_postgres_allowed(component: &ComponentRuntime, address: &str) -> Result<(), Error> {
    let config: tokio_postgres::Config = address
        .parse()
        .map_err(|e: tokio_postgres::Error| Error::ConnectionFailed(e.to_string()))?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let tokio_postgres::config::Host::Tcp(host) = host else {
            return Err(Error::ConnectionFailed(
                "Unix sockets are not supported on WebAssembly".into(),
            ));
        };
        let port = ports
            .get(i)
            .or_else(|| {
                if ports.len() == 1 {
                    ports.first()
                } else {
                    None
                }
            })
            .copied();
        if !component.allowed_hosts.allows("postgres", host, port) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            return Err(Error::ConnectionFailed(format!(
                "address postgres://{host}{port} is not permitted"
            )));
        }
    }
    Ok(())
}

#[expect(
    clippy::result_large_err,
    reason = "the error is the WIT's own, handed to the guest as it is"
)]
impl HostState {
    fn pg_client(
        &self,
        connection: &Resource<Connection>,
    ) -> Result<Arc<deadpool_postgres::Object>, Error> {
        self.table
            .get(connection)
            .map(|c| c.client.clone())
            .map_err(|_| Error::ConnectionFailed("no connection found".into()))
    }

    fn push_connection(&mut self, connection: Connection) -> Result<Resource<Connection>, Error> {
        self.table
            .push(connection)
            .map_err(|e| Error::ConnectionFailed(format!("{e:?}")))
    }
}

impl pg::Host for HostState {}

/// The synchronous functions: all a WASIp2 component (4.0.0) has, and 4.2.0 keeps.
impl pg::HostConnection for HostState {
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        let connection = open(&self.app, &self.component, &address).await?;
        self.push_connection(connection)
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let client = self.pg_client(&connection)?;
        query_all(&client, &statement, &params).await
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let client = self.pg_client(&connection)?;
        execute(&client, &statement, &params).await
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

/// `connection-builder`: the host trusts the system's roots only, so a custom CA
/// (`set-ca-root`) is refused rather than silently ignored.
impl pg::HostConnectionBuilder for HostState {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<ConnectionBuilder>> {
        Ok(self.table.push(ConnectionBuilder { address })?)
    }

    async fn set_ca_root(
        &mut self,
        _builder: Resource<ConnectionBuilder>,
        _certificate: String,
    ) -> Result<(), Error> {
        Err(Error::Other(
            "the test host does not support custom CA roots (set-ca-root)".into(),
        ))
    }

    async fn build(
        &mut self,
        builder: Resource<ConnectionBuilder>,
    ) -> Result<Resource<Connection>, Error> {
        let address = self.builder_address(&builder)?;
        pg::HostConnection::open(self, address).await
    }

    async fn drop(&mut self, builder: Resource<ConnectionBuilder>) -> wasmtime::Result<()> {
        self.table.delete(builder)?;
        Ok(())
    }
}

impl HostState {
    #[expect(
        clippy::result_large_err,
        reason = "the error is the WIT's own, handed to the guest as it is"
    )]
    fn builder_address(&self, builder: &Resource<ConnectionBuilder>) -> Result<String, Error> {
        self.table
            .get(builder)
            .map(|b| b.address.clone())
            .map_err(|_| Error::Other("no connection builder found".into()))
    }
}

/// The async functions of 4.2.0 (WASIp3 components): they run concurrently with the
/// instance's other requests, holding the store only to reach the resource table.
#[expect(
    clippy::result_large_err,
    reason = "the error is the WIT's own, handed to the guest as it is"
)]
impl pg::HostConnectionWithStore<HostState> for Spin {
    async fn open_async(
        accessor: &Accessor<HostState, Self>,
        address: String,
    ) -> Result<Resource<Connection>, Error> {
        let (app, component) = accessor.with(|mut access| {
            let state = access.get();
            (state.app.clone(), state.component.clone())
        });
        let connection = open(&app, &component, &address).await?;
        accessor.with(|mut access| access.get().push_connection(connection))
    }

    async fn query_async(
        accessor: &Accessor<HostState, Self>,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<
        (
            Vec<Column>,
            StreamReader<Vec<DbValue>>,
            FutureReader<Result<(), Error>>,
        ),
        Error,
    > {
        let client = accessor.with(|mut access| access.get().pg_client(&connection))?;
        let (columns, rows, result) = query_streamed(client, &statement, &params).await?;
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, ReceivedRows(rows))
                .map_err(|e| Error::Other(format!("{e:?}")))?;
            let result = FutureReader::new(&mut access, async move {
                Ok::<_, wasmtime::Error>(result.await.unwrap_or(Ok(())))
            })
            .map_err(|e| Error::Other(format!("{e:?}")))?;
            Ok((columns, rows, result))
        })
    }

    async fn execute_async(
        accessor: &Accessor<HostState, Self>,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let client = accessor.with(|mut access| access.get().pg_client(&connection))?;
        execute(&client, &statement, &params).await
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the error is the WIT's own, handed to the guest as it is"
)]
impl pg::HostConnectionBuilderWithStore<HostState> for Spin {
    async fn build_async(
        accessor: &Accessor<HostState, Self>,
        builder: Resource<ConnectionBuilder>,
    ) -> Result<Resource<Connection>, Error> {
        let address = accessor.with(|mut access| access.get().builder_address(&builder))?;
        <Spin as pg::HostConnectionWithStore<HostState>>::open_async(accessor, address).await
    }
}

/// The rows of a streamed query, handed to the guest as it reads them.
struct ReceivedRows(RowReceiver);

impl<D> StreamProducer<D> for ReceivedRows {
    type Item = Vec<DbValue>;
    type Buffer = Option<Vec<DbValue>>;

    fn poll_produce<'a>(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        _store: StoreContextMut<'a, D>,
        mut destination: Destination<'a, Self::Item, Self::Buffer>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        match self.0.poll_recv(cx) {
            Poll::Ready(Some(row)) => {
                destination.set_buffer(Some(row));
                Poll::Ready(Ok(StreamResult::Completed))
            }
            Poll::Ready(None) => Poll::Ready(Ok(StreamResult::Dropped)),
            Poll::Pending if finish => Poll::Ready(Ok(StreamResult::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// `spin:postgres/postgres@4.0.0`, what WASIp2 components import: the same types
/// as 4.2.0 (component types are structural), so its functions are 4.2.0's
/// synchronous ones, linked under the older name.
pub fn add_v4_0_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use pg::HostConnection as _;
    let mut instance = linker.instance("spin:postgres/postgres@4.0.0")?;
    instance.resource_async(
        "connection",
        ResourceType::host::<Connection>(),
        |mut store, rep| {
            Box::new(async move { store.data_mut().drop(Resource::new_own(rep)).await })
        },
    )?;
    instance.func_wrap_async(
        "[static]connection.open",
        |mut store, (address,): (String,)| {
            Box::new(async move { Ok((store.data_mut().open(address).await,)) })
        },
    )?;
    instance.func_wrap_async(
        "[method]connection.query",
        |mut store, (connection, statement, params): QueryParams| {
            Box::new(
                async move { Ok((store.data_mut().query(connection, statement, params).await,)) },
            )
        },
    )?;
    instance.func_wrap_async(
        "[method]connection.execute",
        |mut store, (connection, statement, params): QueryParams| {
            Box::new(async move {
                Ok((store
                    .data_mut()
                    .execute(connection, statement, params)
                    .await,))
            })
        },
    )?;
    Ok(())
}

type QueryParams = (Resource<Connection>, String, Vec<ParameterValue>);

fn sql_parameters(params: &[ParameterValue]) -> Result<Vec<Box<dyn ToSql + Send + Sync>>, String> {
    params
        .iter()
        .map(types::parameter)
        .collect::<anyhow::Result<_>>()
        .map_err(|e| error_text(e.as_ref()))
}

fn parameter_refs(params: &[Box<dyn ToSql + Send + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn columns_of(columns: &[tokio_postgres::Column]) -> Vec<Column> {
    columns
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: types::data_type(column.type_()),
        })
        .collect()
}

/// An error as Spin's `query` reports one raised while it reads the rows: it turns
/// the WIT error into an `anyhow::Error` and sends that error's Debug form as text.
/// The bindings make the WIT error's Display its Debug form, so the guest reads
/// `Error::QueryFailed(QueryError::DbError(DbError { as-text: .., code: "23505", .. }))`.
fn rewrapped_as_text(error: Error) -> Error {
    Error::QueryFailed(QueryError::Text(error_text(&error)))
}

/// An error as Spin turns one into text, anyhow's Debug form (the error, then
/// `Caused by:` and its sources, numbered when there are several), less the stack
/// trace anyhow appends when `RUST_BACKTRACE` is set: the host's stack has no place
/// in what a component sees, and a test's result shouldn't depend on its environment.
fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let causes: Vec<String> = std::iter::successors(error.source(), |e| e.source())
        .map(ToString::to_string)
        .collect();
    if !causes.is_empty() {
        text.push_str("\n\nCaused by:");
    }
    let numbered = causes.len() > 1;
    for (n, cause) in causes.iter().enumerate() {
        let (first, next) = if numbered {
            (format!("{n: >5}: "), "\n       ")
        } else {
            ("    ".to_owned(), "\n    ")
        };
        text.push('\n');
        text.push_str(&first);
        text.push_str(&cause.replace('\n', next));
    }
    text
}

/// A failed statement, with the server's structured report when there is one.
fn query_failed(e: tokio_postgres::Error) -> Error {
    let as_text = format!("{e:?}");
    let Some(db) = e.as_db_error() else {
        return Error::QueryFailed(QueryError::Text(as_text));
    };
    let extras = [
        ("column", db.column().map(str::to_owned)),
        ("constraint", db.constraint().map(str::to_owned)),
        ("routine", db.routine().map(str::to_owned)),
        ("hint", db.hint().map(str::to_owned)),
        ("table", db.table().map(str::to_owned)),
        ("datatype", db.datatype().map(str::to_owned)),
        ("schema", db.schema().map(str::to_owned)),
        ("file", db.file().map(str::to_owned)),
        ("line", db.line().map(|l| l.to_string())),
        ("where_", db.where_().map(str::to_owned)),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name.to_owned(), value?)))
    .collect();
    Error::QueryFailed(QueryError::DbError(DbError {
        as_text,
        severity: db.severity().to_owned(),
        code: db.code().code().to_owned(),
        message: db.message().to_owned(),
        detail: db.detail().map(str::to_owned),
        extras,
    }))
}
