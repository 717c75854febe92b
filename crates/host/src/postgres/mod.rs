//! `spin:postgres/postgres@4.0.0` over real Postgres, as Spin provides it: a
//! connection pool per connection string (64 connections by default), a
//! `connection` resource that holds one pooled session for its lifetime (so
//! `BEGIN ... COMMIT` across calls works, and nothing rolls back on its own),
//! `open` refused unless `postgres://host:port` is in `allowed_outbound_hosts`, TLS
//! negotiated and verified unless the URL says `sslmode=disable`, and errors in the
//! shapes Spin gives them.

mod tls;
mod types;

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Context;
use futures::TryStreamExt;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use wasmtime::component::Resource;

use crate::bindings::spin::postgres::postgres::{
    self as pg, Column, DbError, Error, ParameterValue, QueryError, RowSet,
};
use crate::instance::HostState;

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

/// The `connection` resource: one pooled session, returned to the pool on drop.
pub struct Connection {
    client: deadpool_postgres::Object,
}

impl pg::Host for HostState {}

impl pg::HostConnection for HostState {
    async fn open(&mut self, address: String) -> Result<Resource<Connection>, Error> {
        self.ensure_postgres_allowed(&address)?;
        let pool = self
            .app
            .pg_pools
            .pool(&address)
            .map_err(|e| Error::ConnectionFailed(error_text(e.as_ref())))?;
        // The text lists the causes: a TLS refusal names the certificate's fault there.
        let client = pool
            .get()
            .await
            .map_err(|e| Error::ConnectionFailed(error_text(&e)))?;
        self.table
            .push(Connection { client })
            .map_err(|e| Error::ConnectionFailed(format!("{e:?}")))
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let params = sql_parameters(&params).map_err(Error::BadParameter)?;
        let client = self.client(&connection)?;
        // Preparing and binding happen here: their errors (syntax, unknown column, a
        // parameter whose type the server can't tell) reach the guest structured.
        let stream = client
            .query_raw(&statement, parameter_refs(&params))
            .await
            .map_err(query_failed)?;
        let mut stream = std::pin::pin!(stream);
        let mut columns = None;
        let mut rows = Vec::new();
        // Execution errors (a constraint violated by `INSERT ... RETURNING`) and rows
        // that can't be converted arrive while the rows stream; Spin hands those to
        // the guest as text, the structured error's Debug form wrapped once more.
        while let Some(row) = stream
            .try_next()
            .await
            .map_err(|e| rewrapped_as_text(query_failed(e)))?
        {
            if columns.is_none() {
                columns = Some(columns_of(&row));
            }
            let values = (0..row.len())
                .map(|i| types::value(&row, i))
                .collect::<anyhow::Result<Vec<_>>>()
                .map_err(|e| {
                    rewrapped_as_text(Error::QueryFailed(QueryError::Text(error_text(e.as_ref()))))
                })?;
            rows.push(values);
        }
        // Spin takes the columns from the first row: an empty result has none.
        Ok(RowSet {
            columns: columns.unwrap_or_default(),
            rows,
        })
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let params = sql_parameters(&params).map_err(Error::ValueConversionFailed)?;
        let client = self.client(&connection)?;
        client
            .execute(&statement, &parameter_refs(&params))
            .await
            .map_err(query_failed)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the error is the WIT's own, handed to the guest as it is"
)]
impl HostState {
    /// Spin checks every host of the connection string, with its port, as
    /// `postgres://host:port` against `allowed_outbound_hosts`.
    fn ensure_postgres_allowed(&self, address: &str) -> Result<(), Error> {
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
            if !self.component.allowed_hosts.allows("postgres", host, port) {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                return Err(Error::ConnectionFailed(format!(
                    "address postgres://{host}{port} is not permitted"
                )));
            }
        }
        Ok(())
    }

    fn client(
        &self,
        connection: &Resource<Connection>,
    ) -> Result<&deadpool_postgres::Object, Error> {
        self.table
            .get(connection)
            .map(|c| &c.client)
            .map_err(|_| Error::ConnectionFailed("no connection found".into()))
    }
}

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

fn columns_of(row: &tokio_postgres::Row) -> Vec<Column> {
    row.columns()
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
