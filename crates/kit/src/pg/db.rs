//! Small helpers over Spin's Postgres interface (`spin:postgres/postgres`, see
//! [`crate::sdk`]):
//! opening the service's connection, decoding rows by column name, transactions,
//! and reading constraint violations from SQLSTATE and constraint name.
//!
//! Connections are a shared budget. Spin pools up to 64 connections per component
//! and connection string and never closes them, and Postgres allows 100 by default,
//! so three rules keep one busy service from starving the others:
//! - a handler holds a connection only while it talks to the database, never while
//!   a sibling answers (open one per step, and let it drop before the call);
//! - the server closes a service's pooled connections once they sit idle (each
//!   service role's `idle_session_timeout` in the service's database, set by the
//!   migrations), so the pools shrink back and the slots go where the load is; the
//!   pool drops a closed connection when it next hands one out;
//! - a transient refusal is waited out: while the server has no connection slot
//!   left, is starting up or shutting down, or refuses or resets the connection,
//!   [`Db::connect`] tries again with a short backoff, up to [`RETRY_BUDGET`], and
//!   only then answers 503.
//!
//! The server may also close a connection a handler holds, between two statements
//! (it idled too long, or the server restarts). A statement is tried again on a new
//! connection only when that is safe: when the server says it never read it
//! (SQLSTATE 57P05), or when it only reads (a `SELECT` outside a transaction). So a
//! write outside [`Db::transaction`] runs in a transaction of its own: its `BEGIN`
//! is what meets a closed connection and is tried again, and inside a transaction
//! the server doesn't end a session for idling. A write whose session is lost while
//! it runs may have committed: it is never sent twice, its caller gets 503, and the
//! client's idempotency key decides.
//!
//! An instance keeps a few connections between the requests it serves (see
//! `KEPT_PER_INSTANCE`): on Spin 4, WASIp3 instances serve many requests, several
//! at a time, so most requests skip opening a connection, and Spin's reset of it.
//! A connection is one request's alone from [`Db::connect`] until its `Db` is
//! dropped; it is kept only when no transaction is open on it and its session was
//! not lost. One the server closed meanwhile is replaced as above. On WASIp2 every
//! request has an instance of its own: there a connection goes back to Spin's pool
//! as soon as its `Db` is dropped, as a kept one would stay the request's until it
//! ends, through its calls to siblings.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::config;
use crate::http::error::{ApiError, ApiResult};
use crate::http::request::{ApiRequest, Recorded};
use crate::pg::outbox::Outbox;
use crate::sdk::{self, Connection, DbValue, Decode, ParameterValue, PgError, QueryError, RowSet};
use crate::time::Backoff;

pub use crate::sdk::ParameterValue as Param;

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
    pub(crate) fn sqlstate(&self) -> Option<&str> {
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

impl From<PgError> for DbError {
    fn from(err: PgError) -> Self {
        DbError(Box::new(err))
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match failure(&err.0) {
            Failure::Refused | Failure::Lost | Failure::NotRun => {
                eprintln!("database unavailable: {}", err.0);
                ApiError::Unavailable("database unavailable".into())
            }
            Failure::Statement => ApiError::Internal(anyhow::anyhow!("database error: {}", err.0)),
        }
    }
}

/// How many idle connections an instance keeps for its next requests, per
/// connection URL. More are opened when more requests at once need one; past this
/// number they go back to Spin's pool when their request is done. Each kept
/// connection holds one of the service's Postgres connection slots while its instance
/// lives (the connection budget in docs/running.md, "Postgres connections"). Two,
/// measured on Spin 4.1 with 16 clients: with four kept, an order opened twice the
/// new sessions and orders were placed 9 % slower (the server closes the extras idling
/// in the many instances a busy service runs, and they are opened again); with one
/// and with two, orders and payments went alike.
pub(crate) const KEPT_PER_INSTANCE: usize = 2;

thread_local! {
    /// The instance's idle connections, by URL. They belong to no request: a request
    /// takes one out, and has it to itself until it gives it back.
    static KEPT: RefCell<Vec<(String, Rc<Connection>)>> = const { RefCell::new(Vec::new()) };
    /// How many of the instance's requests are waiting for Spin to open a connection.
    static OPENING: Cell<usize> = const { Cell::new(0) };
}

/// An idle connection the instance kept for `url`, if any.
fn take_kept(url: &str) -> Option<Rc<Connection>> {
    KEPT.with_borrow_mut(|kept| {
        let at = kept.iter().position(|(kept_url, _)| kept_url == url)?;
        Some(kept.swap_remove(at).1)
    })
}

/// A request waiting for Spin to open a connection, counted in [`OPENING`] while it
/// lives (even when the request is cut short).
struct Opening;

impl Opening {
    fn start() -> Opening {
        OPENING.set(OPENING.get() + 1);
        Opening
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        OPENING.set(OPENING.get() - 1);
    }
}

/// Keeps a connection for the instance's next requests, unless enough are kept, the
/// instance serves no more, or one of its requests is waiting for Spin to open one.
/// That request waits on Spin's pool, which may be empty because its connections sit
/// idle in instances like this one: then this one goes back to the pool instead.
fn keep(url: String, conn: Rc<Connection>) {
    if !sdk::INSTANCE_REUSE || OPENING.get() > 0 {
        return;
    }
    KEPT.with_borrow_mut(|kept| {
        if kept.iter().filter(|(kept_url, _)| *kept_url == url).count() < KEPT_PER_INSTANCE {
            kept.push((url, conn));
        }
    });
}

/// The service's own database connection (its role sees only its schema), for one
/// request.
pub struct Db {
    url: String,
    conn: RefCell<Rc<Connection>>,
    /// Inside `BEGIN ... COMMIT` a lost session takes the transaction's earlier
    /// statements with it, so nothing is tried again there.
    in_transaction: Cell<bool>,
    /// False once the session may be gone (lost, or a rollback failed): such a
    /// connection is not kept for another request.
    healthy: Cell<bool>,
    /// The request's note of the outboxes it recorded rows in.
    recorded: Recorded,
}

impl Db {
    /// The connection named by the component's `db_url` variable, for `req`: one the
    /// instance kept, or a new one, waiting out transient refusals for up to
    /// [`RETRY_BUDGET`].
    pub async fn connect(req: &ApiRequest) -> ApiResult<Db> {
        let url = config::var(config::DB_URL).await?;
        let conn = match take_kept(&url) {
            Some(conn) => conn,
            None => open(&url, &mut retry_budget())
                .await
                .map(Rc::new)
                .map_err(|_| ApiError::Unavailable("database unavailable".into()))?,
        };
        Ok(Db {
            url,
            conn: RefCell::new(conn),
            in_transaction: Cell::new(false),
            healthy: Cell::new(true),
            recorded: req.recorded_outbox(),
        })
    }

    pub async fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, DbError> {
        self.statement(sql, async |conn: &Connection| {
            conn.query(sql, params)
                .await
                .map(Rows)
                .map_err(DbError::from)
        })
        .await
    }

    pub async fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, DbError> {
        self.statement(sql, async |conn: &Connection| {
            conn.execute(sql, params).await.map_err(DbError::from)
        })
        .await
    }

    /// Runs `work` inside `BEGIN ... COMMIT`, rolling back on any error: Spin's pooled
    /// connections do not roll back for you. A COMMIT whose session is lost leaves
    /// the outcome unknown: the caller gets 503, as for any write that may have run.
    /// Inside a transaction already, `work` joins it: the outer one commits.
    pub async fn transaction<T>(
        &self,
        work: impl AsyncFnOnce(&Db) -> ApiResult<T>,
    ) -> ApiResult<T> {
        if self.in_transaction.get() {
            return work(self).await;
        }
        self.begin().await?;
        let outcome = match work(self).await {
            Ok(value) => self.commit().await.map(|()| value).map_err(ApiError::from),
            Err(err) => {
                self.rollback().await;
                Err(err)
            }
        };
        self.in_transaction.set(false);
        outcome
    }

    /// True when the database answers.
    pub(crate) async fn ping(&self) -> bool {
        self.query("SELECT 1", &[]).await.is_ok()
    }

    /// Notes that this request recorded rows in `outbox`, to be delivered once the
    /// response has gone.
    pub(crate) fn note_recorded(&self, outbox: Outbox) {
        let mut recorded = self.recorded.borrow_mut();
        if !recorded.iter().any(|noted| noted.is(&outbox)) {
            recorded.push(outbox);
        }
    }

    /// Runs one statement. A write outside a transaction gets one of its own: its
    /// `BEGIN` may be repeated on a new connection when the server has closed this
    /// one, and once it is open the server no longer ends the session for idling
    /// (see the module documentation).
    async fn statement<T>(
        &self,
        sql: &str,
        run: impl AsyncFn(&Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        if self.in_transaction.get() || reads_only(sql) {
            return self.run(sql, run).await;
        }
        self.begin().await?;
        let outcome = match self.run(sql, run).await {
            Ok(value) => self.commit().await.map(|()| value),
            Err(err) => Err(err),
        };
        if outcome.is_err() {
            self.rollback().await;
        }
        self.in_transaction.set(false);
        outcome
    }

    /// Runs a statement with no parameters whose row count doesn't matter.
    async fn command(&self, sql: &str) -> Result<(), DbError> {
        self.run(sql, async |conn: &Connection| {
            conn.execute(sql, &[]).await.map_err(DbError::from)
        })
        .await
        .map(drop)
    }

    async fn begin(&self) -> Result<(), DbError> {
        self.command("BEGIN").await?;
        self.in_transaction.set(true);
        Ok(())
    }

    async fn commit(&self) -> Result<(), DbError> {
        self.command("COMMIT").await
    }

    /// Rolls back what the transaction did; if its session is gone, so is the
    /// transaction.
    async fn rollback(&self) {
        if let Err(err) = self.command("ROLLBACK").await {
            self.healthy.set(false);
            eprintln!("rollback failed: {err}");
        }
    }

    /// Runs one statement, and again on a new connection when its session was lost
    /// and running it twice can't do harm: outside a transaction, a statement the
    /// server never read, a read, or a `BEGIN`.
    async fn run<T>(
        &self,
        sql: &str,
        statement: impl AsyncFn(&Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut retry = retry_budget();
        loop {
            let conn = Rc::clone(&self.conn.borrow());
            let err = match statement(&conn).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let repeatable = match failure(&err.0) {
                Failure::NotRun => true,
                Failure::Lost => reads_only(sql),
                Failure::Refused | Failure::Statement => false,
            };
            if failure(&err.0) != Failure::Statement {
                self.healthy.set(false);
            }
            if !repeatable || self.in_transaction.get() {
                return Err(err);
            }
            match open(&self.url, &mut retry).await {
                Ok(conn) => {
                    *self.conn.borrow_mut() = Rc::new(conn);
                    self.healthy.set(true);
                }
                Err(()) => return Err(err),
            }
        }
    }
}

impl Drop for Db {
    /// Gives the connection back to the instance, when it is fit for another
    /// request: no transaction left open (a request cut short), session not lost.
    fn drop(&mut self) {
        if self.in_transaction.get() || !self.healthy.get() {
            return;
        }
        let conn = self.conn.get_mut();
        // A statement cut short may still hold it: then it is not this request's to give.
        if Rc::strong_count(conn) == 1 {
            keep(std::mem::take(&mut self.url), Rc::clone(conn));
        }
    }
}

/// How long a request waits, in all, for the database to take a connection or a
/// statement again before it answers 503: longer than a pooled connection may sit
/// idle before the server closes it (so a full connection table frees up within
/// it), well under the 10 s a sibling's caller waits, and short enough that a
/// request during an outage gets its 503 quickly.
pub const RETRY_BUDGET: Duration = Duration::from_secs(3);

fn retry_budget() -> Backoff {
    Backoff::new(
        Duration::from_millis(5),
        Duration::from_millis(100),
        RETRY_BUDGET,
    )
}

/// Opens a connection, waiting out transient refusals while `retry` allows.
async fn open(url: &str, retry: &mut Backoff) -> Result<Connection, ()> {
    loop {
        let opening = Opening::start();
        let opened = Connection::open(url).await;
        drop(opening);
        match opened {
            Ok(conn) => return Ok(conn),
            Err(err) if failure(&err) == Failure::Refused && retry.wait().await => {}
            Err(err) => {
                eprintln!(
                    "database connection failed: {}",
                    redact(&err.to_string(), url)
                );
                return Err(());
            }
        }
    }
}

/// What a failure means for trying again.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// No session was made, for a reason that passes: the connection table is full
    /// (53300: `too many clients`, `remaining connection slots are reserved`, `too
    /// many connections for role`), the server is starting up or shutting down
    /// (57P03), or it refused or reset the connection (restarting).
    Refused,
    /// The session ended before the server read the statement: it idled past
    /// `idle_session_timeout` (57P05). The statement did not run.
    NotRun,
    /// The session ended while the statement was sent or running (the server shut
    /// down, the connection broke): whether it ran is unknown.
    Lost,
    /// The statement itself failed; the session is fine.
    Statement,
}

/// Spin reports a failed connection as text (the error and its causes, without a
/// SQLSTATE), so the server's messages decide there; a failed statement carries its
/// SQLSTATE (structured or in its text), or names the broken connection in its text.
fn failure(err: &PgError) -> Failure {
    const REFUSALS: &[&str] = &[
        "too many clients already",
        "remaining connection slots are reserved",
        "too many connections for role",
        "the database system is starting up",
        "the database system is shutting down",
        "the database system is not yet accepting connections",
        "the database system is in recovery mode",
        "Connection refused",
        "Connection reset by peer",
        "connection closed",
        "terminating connection due to administrator command",
    ];
    match err {
        PgError::ConnectionFailed(text) => {
            if REFUSALS.iter().any(|refusal| text.contains(refusal)) {
                Failure::Refused
            } else {
                Failure::Statement
            }
        }
        PgError::QueryFailed(query) => {
            let code = match query {
                QueryError::DbError(db) => Some(db.code.as_str()),
                QueryError::Text(text) => quoted_after(text, "code: \""),
            };
            match code {
                Some("57P05") => Failure::NotRun,
                // admin or crash shutdown, cannot connect now, connection exceptions
                Some(code) if code.starts_with("57P") || code.starts_with("08") => Failure::Lost,
                Some(_) => Failure::Statement,
                None => match query {
                    // tokio-postgres' `Error { kind: Closed | Io, .. }`, as Spin passes it on
                    QueryError::Text(text)
                        if text.contains("kind: Closed") || text.contains("kind: Io") =>
                    {
                        Failure::Lost
                    }
                    _ => Failure::Statement,
                },
            }
        }
        _ => Failure::Statement,
    }
}

/// A statement that changes nothing when run twice: a `SELECT` (it reads), or the
/// `BEGIN` that opens a transaction.
fn reads_only(sql: &str) -> bool {
    let head = sql.trim_start();
    ["SELECT", "BEGIN"].iter().any(|keyword| {
        head.get(..keyword.len())
            .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
    })
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
    values: &'a [DbValue],
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
            crate::sdk::PgDbError {
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

    fn refused(cause: &str) -> PgError {
        PgError::ConnectionFailed(format!(
            "Error occurred while creating a new object: db error\n\nCaused by:\n    \
             0: db error\n    1: FATAL: {cause}"
        ))
    }

    #[test]
    fn transient_refusals_are_told_from_other_connection_failures() {
        for cause in [
            "sorry, too many clients already",
            "remaining connection slots are reserved for non-replication superuser connections",
            "too many connections for role \"spinshop_orders\"",
            "the database system is starting up",
            "the database system is shutting down",
        ] {
            assert_eq!(failure(&refused(cause)), Failure::Refused, "{cause}");
        }
        let down = PgError::ConnectionFailed(
            "error connecting to server: Connection refused (os error 111)\n\nCaused by:\n    \
             Connection refused (os error 111)"
                .into(),
        );
        assert_eq!(failure(&down), Failure::Refused);
        let tls = PgError::ConnectionFailed(
            "error performing TLS handshake: certificate verify failed".into(),
        );
        assert_eq!(failure(&tls), Failure::Statement);
        assert_eq!(
            failure(&PgError::Other("sorry, too many clients already".into())),
            Failure::Statement
        );
    }

    fn structured(code: &str) -> PgError {
        PgError::QueryFailed(QueryError::DbError(crate::sdk::PgDbError {
            as_text: String::new(),
            severity: "FATAL".into(),
            code: code.into(),
            message: String::new(),
            detail: None,
            extras: vec![],
        }))
    }

    #[test]
    fn a_lost_session_is_told_from_a_failed_statement() {
        assert_eq!(failure(&structured("57P05")), Failure::NotRun);
        assert_eq!(failure(&structured("57P01")), Failure::Lost);
        assert_eq!(failure(&structured("08006")), Failure::Lost);
        assert_eq!(failure(&structured("23505")), Failure::Statement);
        assert_eq!(failure(&text_error(TEXT_REPORT).0), Failure::Statement);
        let as_text = |text: &str| PgError::QueryFailed(QueryError::Text(text.into()));
        assert_eq!(
            failure(&as_text("Error { kind: Closed, cause: None }")),
            Failure::Lost
        );
        assert_eq!(
            failure(&as_text(
                r#"Error::QueryFailed(QueryError::DbError(DbError { as-text: "db error", severity: "FATAL", code: "57P05", message: "terminating connection due to idle-session timeout", detail: None, extras: [] }))"#
            )),
            Failure::NotRun
        );
        assert_eq!(
            failure(&as_text("query result exceeds limit of 1000 bytes")),
            Failure::Statement
        );
    }

    #[test]
    fn only_reads_and_begin_count_as_safe_to_repeat() {
        assert!(reads_only("SELECT 1"));
        assert!(reads_only("  select id FROM t"));
        assert!(reads_only("BEGIN"));
        assert!(!reads_only("INSERT INTO t VALUES (1) RETURNING id"));
        assert!(!reads_only("UPDATE t SET x = 1"));
        assert!(!reads_only(
            "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"
        ));
        assert!(!reads_only("COMMIT"));
        assert!(!reads_only("SEL"));
    }

    #[test]
    fn ts_selects_utc_text() {
        assert_eq!(
            ts!("created_at"),
            "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        );
    }
}
