//! Small helpers over Spin's Postgres interface (`spin:postgres/postgres@4.0.0`):
//! opening the service's connection, decoding rows by column name, transactions,
//! and reading constraint violations from SQLSTATE and constraint name.
//!
//! Connections are a shared budget. Spin pools up to 64 connections per component
//! and connection string and never closes them, and Postgres allows 100 by default,
//! so two rules keep one busy service from starving the others:
//! - a handler holds a connection only while it talks to the database, never while
//!   a sibling answers (open one per step, and let it drop before the call);
//! - when the server's connection table is full, [`Db::connect`] waits for a slot
//!   instead of failing at once: the pool hands out a connection as soon as one
//!   of its own is free again.

use std::time::Duration;

use spin_sdk::pg4::{self, Connection, Decode, ParameterValue, PgError, QueryError, RowSet};

use crate::config;
use crate::error::{ApiError, ApiResult};
use crate::time::Backoff;

pub use spin_sdk::pg4::ParameterValue as Param;

/// A text parameter (`&str` has no `Into<Param>` in the SDK).
pub fn text(value: &str) -> Param {
    Param::Str(value.to_string())
}

/// Selects a `timestamptz` column as RFC 3339 UTC text under its own name.
/// Spin's Postgres interface cannot read `timestamptz` values directly.
#[macro_export]
macro_rules! ts {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// A failed database call.
///
/// Postgres reports a failed statement with a SQLSTATE and, for a constraint
/// violation, the constraint's name. Spin hands that report over in one of two
/// shapes: structured (`QueryError::DbError`) for `execute` and for a `query` that
/// fails before it runs, or as the structured error's debug text
/// (`QueryError::Text`) when a `query` fails while it runs, e.g. an
/// `INSERT ... RETURNING` hitting a unique index. Both shapes read the same here.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(Box<PgError>);

impl DbError {
    /// The SQLSTATE, e.g. `23505` for a unique violation.
    pub fn sqlstate(&self) -> Option<&str> {
        match self.0.as_ref() {
            PgError::QueryFailed(QueryError::DbError(db)) => Some(db.code.as_str()),
            PgError::QueryFailed(QueryError::Text(text)) => quoted_after(text, "code: \""),
            _ => None,
        }
    }

    /// The name of the violated constraint, when Postgres names one.
    pub fn constraint(&self) -> Option<&str> {
        match self.0.as_ref() {
            PgError::QueryFailed(QueryError::DbError(db)) => db
                .extras
                .iter()
                .find(|(key, _)| key == "constraint")
                .map(|(_, value)| value.as_str()),
            PgError::QueryFailed(QueryError::Text(text)) => {
                quoted_after(text, "(\"constraint\", \"")
            }
            _ => None,
        }
    }

    /// Whether this is a violation of the named constraint (unique, check, foreign key).
    pub fn violates(&self, constraint: &str) -> bool {
        self.sqlstate().is_some_and(|code| code.starts_with("23"))
            && self.constraint() == Some(constraint)
    }
}

/// The quoted value that follows `marker` in an error's debug text. Every string
/// in that text is itself debug-escaped, so an unescaped `"` only ever belongs to
/// the text's own structure: data a client sent can't forge a marker.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let start = text.find(marker)? + marker.len();
    text[start..].split('"').next()
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match *err.0 {
            PgError::ConnectionFailed(_) => ApiError::Unavailable("database unavailable".into()),
            other => ApiError::Internal(anyhow::anyhow!("database error: {other}")),
        }
    }
}

/// The service's own database connection (its role sees only its schema).
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Opens the connection named by the component's `db_url` variable, waiting up
    /// to [`FULL_TABLE_WAIT`] while the server has no connection slot left.
    pub fn connect() -> ApiResult<Db> {
        let url = config::var("db_url")?;
        let mut backoff = Backoff::new(
            Duration::from_millis(5),
            Duration::from_millis(100),
            FULL_TABLE_WAIT,
        );
        loop {
            match Connection::open(&url) {
                Ok(conn) => return Ok(Db { conn }),
                Err(err) if connection_table_full(&err) && backoff.wait() => {}
                Err(err) => {
                    eprintln!(
                        "database connection failed: {}",
                        redact(&err.to_string(), &url)
                    );
                    return Err(ApiError::Unavailable("database unavailable".into()));
                }
            }
        }
    }

    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, DbError> {
        self.conn
            .query(sql, params)
            .map(Rows)
            .map_err(|err| DbError(Box::new(err)))
    }

    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, DbError> {
        self.conn
            .execute(sql, params)
            .map_err(|err| DbError(Box::new(err)))
    }

    /// Runs `work` inside `BEGIN ... COMMIT`, rolling back on any error: Spin's pooled
    /// connections do not roll back on their own.
    pub fn transaction<T>(&self, work: impl FnOnce(&Db) -> ApiResult<T>) -> ApiResult<T> {
        self.execute("BEGIN", &[])?;
        match work(self) {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = self.execute("ROLLBACK", &[]) {
                    eprintln!("rollback failed: {rollback}");
                }
                Err(err)
            }
        }
    }

    /// True when the database answers.
    pub fn ping(&self) -> bool {
        self.query("SELECT 1", &[]).is_ok()
    }
}

/// How long [`Db::connect`] waits for a connection slot before answering 503.
const FULL_TABLE_WAIT: Duration = Duration::from_secs(10);

/// Postgres refused a new session because all its connection slots are taken
/// (SQLSTATE 53300). Spin reports a failed connection as text without the SQLSTATE,
/// so the server's message decides: `sorry, too many clients already`, or
/// `remaining connection slots are reserved for ...` once only reserved ones are left.
fn connection_table_full(err: &PgError) -> bool {
    matches!(err, PgError::ConnectionFailed(text)
        if text.contains("too many clients already")
            || text.contains("remaining connection slots are reserved"))
}

/// The rows of a query, decoded by column name.
pub struct Rows(RowSet);

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.0.rows.iter().map(|values| Row {
            rows: &self.0,
            values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    pub fn is_empty(&self) -> bool {
        self.0.rows.is_empty()
    }

    /// Decodes every row with `decode`.
    pub fn map<T>(&self, decode: impl Fn(&Row) -> ApiResult<T>) -> ApiResult<Vec<T>> {
        self.iter().map(|row| decode(&row)).collect()
    }
}

pub struct Row<'a> {
    rows: &'a RowSet,
    values: &'a [pg4::DbValue],
}

impl Row<'_> {
    /// The value of `column` as `T` (use `Option<T>` for nullable columns).
    pub fn get<T: Decode>(&self, column: &str) -> ApiResult<T> {
        let index = self
            .rows
            .columns
            .iter()
            .position(|c| c.name == column)
            .ok_or_else(|| ApiError::internal(format!("query returned no column {column}")))?;
        T::decode(&self.values[index])
            .map_err(|err| ApiError::internal(format!("column {column}: {err}")))
    }
}

/// Removes a connection URL's password from a message before it is logged.
fn redact(message: &str, url: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
    {
        Some((userinfo, _)) => match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => message.replace(password, "***"),
            _ => message.to_string(),
        },
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_logged_errors() {
        let url = "postgres://svc:s3cret@db:5432/shop";
        assert_eq!(
            redact("cannot reach svc:s3cret@db", url),
            "cannot reach svc:***@db"
        );
        assert_eq!(redact("plain", "postgres://svc@db/shop"), "plain");
    }

    /// A unique violation as Spin reports it when it happens while a `query` runs.
    const TEXT_REPORT: &str = r#"Error::QueryFailed(QueryError::DbError(DbError { as-text: "db error: ERROR: duplicate key value violates unique constraint \"users_email_key\"\nDETAIL: Key (email)=(code: \"x\" (\"constraint\", \"fake\")) already exists.", severity: "ERROR", code: "23505", message: "duplicate key value violates unique constraint \"users_email_key\"", detail: Some("Key (email)=(code: \"x\" (\"constraint\", \"fake\")) already exists."), extras: [("constraint", "users_email_key"), ("table", "users"), ("schema", "users")] }))"#;

    fn text_error(text: &str) -> DbError {
        DbError(Box::new(PgError::QueryFailed(QueryError::Text(
            text.into(),
        ))))
    }

    #[test]
    fn a_violation_reported_as_text_reads_like_a_structured_one() {
        let structured = DbError(Box::new(PgError::QueryFailed(QueryError::DbError(
            pg4::DbError {
                as_text: String::new(),
                severity: "ERROR".into(),
                code: "23505".into(),
                message: String::new(),
                detail: None,
                extras: vec![("constraint".into(), "users_email_key".into())],
            },
        ))));
        let text = text_error(TEXT_REPORT);
        for err in [&structured, &text] {
            assert_eq!(err.sqlstate(), Some("23505"));
            assert_eq!(err.constraint(), Some("users_email_key"));
            assert!(err.violates("users_email_key"));
            assert!(!err.violates("fake"));
        }
    }

    #[test]
    fn text_without_a_report_names_nothing() {
        let err = text_error("query result exceeds limit of 1000 bytes");
        assert_eq!(err.sqlstate(), None);
        assert_eq!(err.constraint(), None);
        assert!(!err.violates("users_email_key"));
    }

    #[test]
    fn a_full_connection_table_is_told_from_other_connection_failures() {
        let full = "Error occurred while creating a new object: db error\n\nCaused by:\n    \
                    0: db error\n    1: FATAL: sorry, too many clients already";
        let reserved = "Error occurred while creating a new object: db error\n\nCaused by:\n    \
                        0: db error\n    1: FATAL: remaining connection slots are reserved for \
                        non-replication superuser connections";
        let tls = "error performing TLS handshake: certificate verify failed";
        assert!(connection_table_full(&PgError::ConnectionFailed(
            full.into()
        )));
        assert!(connection_table_full(&PgError::ConnectionFailed(
            reserved.into()
        )));
        assert!(!connection_table_full(&PgError::ConnectionFailed(
            tls.into()
        )));
        assert!(!connection_table_full(&PgError::Other(full.into())));
    }

    #[test]
    fn ts_selects_utc_text() {
        assert_eq!(
            ts!("created_at"),
            "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        );
    }
}
