//! `spin:postgres@4.0.0` (WASIp2 probe) and `@4.2.0` (WASIp3 probe, rows streamed)
//! against a real Postgres: types mapped as Spin maps them
//! (including the `timestamptz` failure), errors in Spin's shapes (structured, or
//! text when raised while a query's rows stream), sessions held per connection,
//! `allowed_outbound_hosts`, and TLS verified unless the URL says `sslmode=disable`.

use std::sync::OnceLock;

use crate::common::{Probe, Reply, on_both_probes, post, probe_app};
use serde_json::{Value, json};
use spinshop_host::App;

on_both_probes!(
    column_types_map_as_on_spin,
    a_timestamptz_column_fails_the_query_as_on_spin,
    parameters_map_as_on_spin,
    an_empty_result_returns_with_no_rows,
    constraint_violations_carry_sqlstate_and_constraint_name,
    a_connection_holds_one_session_for_transactions,
    open_is_refused_for_hosts_not_allowed,
    a_violation_while_a_query_runs_arrives_as_text_as_on_spin,
    a_query_that_fails_before_it_runs_is_structured,
    a_self_signed_certificate_is_refused_unless_tls_is_disabled,
);

fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| spinshop_local_pg::ensure_server().expect("a Postgres server"))
}

/// The local server's certificate (if it has TLS on, as Debian's does) is self-signed,
/// so, as on Spin, only a URL that turns TLS off connects.
fn database_url() -> String {
    format!("postgres://postgres@{}/postgres?sslmode=disable", server())
}

async fn app(probe: Probe) -> App {
    app_for(probe, server()).await
}

/// The probe app with component a allowed to reach Postgres at `host`.
async fn app_for(probe: Probe, host: &str) -> App {
    probe_app(probe)
        .variable("db_host", host)
        .pg_pool_size(4)
        .build()
        .await
        .expect("loads")
}

/// Runs `steps` on one connection opened by component a.
async fn run(app: &App, address: &str, steps: Value) -> Reply {
    let reply = post(
        app,
        "/api/a/pg",
        &json!({ "address": address, "steps": steps }),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

async fn run_steps(probe: Probe, steps: Value) -> Vec<Value> {
    let reply = run(&app(probe).await, &database_url(), steps).await;
    reply.body["results"].as_array().cloned().expect("results")
}

async fn column_types_map_as_on_spin(probe: Probe) {
    let results = run_steps(
        probe,
        json!([{ "query": "SELECT
        1::int8 AS i8, 2::int4 AS i4, 3::int2 AS i2, true AS b, 'x'::text AS t,
        '{\"k\": 1}'::jsonb AS j, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
        '2024-01-02 03:04:05'::timestamp AS ts, '2024-01-02'::date AS d,
        12.5::numeric AS n, 1.5::float8 AS f, NULL::text AS nothing,
        ARRAY['a', NULL]::text[] AS arr, '\\x0102'::bytea AS bin" }]),
    )
    .await;
    let result = &results[0];
    let types: Vec<&str> = result["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c[1].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "DbDataType::Int64",
            "DbDataType::Int32",
            "DbDataType::Int16",
            "DbDataType::Boolean",
            "DbDataType::Str",
            "DbDataType::Jsonb",
            "DbDataType::Uuid",
            "DbDataType::Datetime",
            "DbDataType::Date",
            "DbDataType::Decimal",
            "DbDataType::Floating64",
            "DbDataType::Str",
            "DbDataType::ArrayStr",
            "DbDataType::Binary",
        ]
    );
    let row: Vec<&str> = result["rows"][0]
        .as_array()
        .expect("a row")
        .iter()
        .map(|v| v.as_str().unwrap_or_default())
        .collect();
    assert_eq!(row[0], "DbValue::Int64(1)");
    assert_eq!(row[3], "DbValue::Boolean(true)");
    assert_eq!(row[4], "DbValue::Str(\"x\")");
    assert_eq!(row[5], "DbValue::Jsonb([123, 34, 107, 34, 58, 49, 125])");
    assert_eq!(
        row[6],
        "DbValue::Uuid(\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\")"
    );
    assert_eq!(row[7], "DbValue::Datetime((2024, 1, 2, 3, 4, 5, 0))");
    assert_eq!(row[8], "DbValue::Date((2024, 1, 2))");
    assert_eq!(row[9], "DbValue::Decimal(\"12.5\")");
    assert_eq!(row[11], "DbValue::DbNull");
    assert_eq!(row[12], "DbValue::ArrayStr([Some(\"a\"), None])");
    assert_eq!(row[13], "DbValue::Binary([1, 2])");
}

async fn a_timestamptz_column_fails_the_query_as_on_spin(probe: Probe) {
    let results = run_steps(
        probe,
        json!([
            { "query": "SELECT now() AS created_at" },
            { "query": "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY') AS year" },
        ]),
    )
    .await;
    let error = &results[0]["error"];
    assert_eq!(error["kind"], "text", "{error}");
    // Converted while the rows stream, so wrapped twice as Spin wraps it.
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Error::QueryFailed(QueryError::Text(\"error deserializing column 0"),
        "{message}"
    );
    assert!(message.contains("timestamptz"), "{message}");
    assert!(
        results[1]["rows"][0][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("DbValue::Str")
    );
}

async fn parameters_map_as_on_spin(probe: Probe) {
    let results = run_steps(probe, json!([{
        "query": "SELECT $1::int8 + 1, $2::text, ($3::jsonb)->>'k', $4::timestamptz = to_timestamp(0), $5::text IS NULL",
        "params": [41, "str", { "jsonb": { "k": "v" } }, { "ts": 0 }, null],
    }]))
    .await;
    let row = &results[0]["rows"][0];
    assert_eq!(row[0], "DbValue::Int64(42)");
    assert_eq!(row[1], "DbValue::Str(\"str\")");
    assert_eq!(row[2], "DbValue::Str(\"v\")");
    assert_eq!(row[3], "DbValue::Boolean(true)");
    assert_eq!(row[4], "DbValue::Boolean(true)");
}

/// A query with no rows returns (Spin 4.0.0 - 4.0.2 hung there; 4.1 does not). The
/// synchronous `query` takes its columns from the first row, so it has none; the
/// streamed `query-async` gives the statement's columns before any row.
async fn an_empty_result_returns_with_no_rows(probe: Probe) {
    let results = run_steps(probe, json!([{ "query": "SELECT 1 AS one WHERE false" }])).await;
    let columns = match probe {
        Probe::P2 => json!([]),
        Probe::P3 => json!([["one", "DbDataType::Int32"]]),
    };
    assert_eq!(results[0]["columns"], columns, "{}", results[0]);
    assert_eq!(results[0]["rows"], json!([]));
}

async fn constraint_violations_carry_sqlstate_and_constraint_name(probe: Probe) {
    let results = run_steps(probe, json!([
        { "execute": "CREATE TEMP TABLE t (v int CONSTRAINT t_v_check CHECK (v > 0), u text UNIQUE)" },
        { "execute": "INSERT INTO t VALUES (1, 'a')" },
        { "execute": "INSERT INTO t VALUES (2, 'a')" },
        { "execute": "INSERT INTO t VALUES (-1, 'b')" },
    ]))
    .await;
    assert_eq!(results[1]["count"], 1);
    let unique = &results[2]["error"];
    assert_eq!(unique["kind"], "db-error");
    assert_eq!(unique["code"], "23505");
    assert!(
        unique["extras"]
            .as_array()
            .expect("extras")
            .contains(&json!(["constraint", "t_u_key"]))
    );
    let check = &results[3]["error"];
    assert_eq!(check["code"], "23514");
    assert!(
        check["extras"]
            .as_array()
            .expect("extras")
            .contains(&json!(["constraint", "t_v_check"]))
    );
}

async fn a_connection_holds_one_session_for_transactions(probe: Probe) {
    let results = run_steps(
        probe,
        json!([
            { "execute": "CREATE TEMP TABLE tx (v int)" },
            { "execute": "BEGIN" },
            { "execute": "INSERT INTO tx VALUES (1)" },
            { "execute": "ROLLBACK" },
            { "execute": "BEGIN" },
            { "execute": "INSERT INTO tx VALUES (2)" },
            { "execute": "COMMIT" },
            { "query": "SELECT sum(v)::int8 FROM tx" },
        ]),
    )
    .await;
    assert_eq!(results[7]["rows"][0][0], "DbValue::Int64(2)");
}

async fn open_is_refused_for_hosts_not_allowed(probe: Probe) {
    let app = app(probe).await;
    let reply = run(&app, "postgres://postgres@127.0.0.1:1/postgres", json!([])).await;
    let error = &reply.body["open_error"];
    assert_eq!(error["kind"], "connection-failed");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not permitted"),
        "{error}"
    );
    // b declares no Postgres host at all.
    let reply = post(
        &app,
        "/api/b/pg",
        &json!({ "address": database_url(), "steps": [] }),
    )
    .await;
    assert_eq!(reply.body["open_error"]["kind"], "connection-failed");
}

/// The `extras` of a structured error, as `[name, value]` pairs.
fn extras(error: &Value) -> &Vec<Value> {
    error["extras"].as_array().expect("extras")
}

async fn a_violation_while_a_query_runs_arrives_as_text_as_on_spin(probe: Probe) {
    let results = run_steps(probe, json!([
        { "execute": "CREATE TEMP TABLE accounts (email text CONSTRAINT accounts_email_key UNIQUE, \
                      credit int CONSTRAINT accounts_credit_check CHECK (credit >= 0))" },
        { "query": "INSERT INTO accounts VALUES ('a@x', 1) RETURNING email" },
        { "query": "INSERT INTO accounts VALUES ('a@x', 1) RETURNING email" },
        { "query": "UPDATE accounts SET credit = credit - 5 RETURNING credit" },
        { "execute": "INSERT INTO accounts VALUES ('a@x', 1)" },
    ]))
    .await;
    assert_eq!(results[1]["rows"][0][0], "DbValue::Str(\"a@x\")");

    // Spin's text: the structured error's Debug form, field names as the WIT spells them.
    let unique = &results[2]["error"];
    assert_eq!(unique["kind"], "text", "{unique}");
    let text = unique["message"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(
            "Error::QueryFailed(QueryError::DbError(DbError { as-text: \"Error { kind: Db, cause: Some(DbError {"
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"severity: "ERROR", code: "23505""#),
        "{text}"
    );
    assert!(
        text.contains(r#"("constraint", "accounts_email_key")"#),
        "{text}"
    );
    assert!(text.ends_with("] }))"), "{text}");

    let check = &results[3]["error"];
    assert_eq!(check["kind"], "text", "{check}");
    let text = check["message"].as_str().unwrap_or_default();
    assert!(text.contains(r#"code: "23514""#), "{text}");
    assert!(
        text.contains(r#"("constraint", "accounts_credit_check")"#),
        "{text}"
    );

    // The same violation through `execute` stays structured.
    let unique = &results[4]["error"];
    assert_eq!(unique["kind"], "db-error", "{unique}");
    assert_eq!(unique["code"], "23505");
    assert!(extras(unique).contains(&json!(["constraint", "accounts_email_key"])));
}

async fn a_query_that_fails_before_it_runs_is_structured(probe: Probe) {
    let results = run_steps(
        probe,
        json!([
            { "query": "SELEC 1" },
            { "query": "SELECT no_such_column FROM pg_class" },
            { "query": "SELECT $1 IS NULL", "params": [null] },
            { "query": "SELECT $1::int8", "params": ["not a number"] },
        ]),
    )
    .await;
    let syntax = &results[0]["error"];
    assert_eq!(syntax["kind"], "db-error", "{syntax}");
    assert_eq!(syntax["code"], "42601");
    let column = &results[1]["error"];
    assert_eq!(column["kind"], "db-error", "{column}");
    assert_eq!(column["code"], "42703");
    let untyped = &results[2]["error"];
    assert_eq!(untyped["kind"], "db-error", "{untyped}");
    assert_eq!(untyped["code"], "42P18");
    // A value of the wrong type is refused by the client while binding: text, as
    // on Spin, but the client's own error, not wrapped as a streaming one.
    let wrong_type = &results[3]["error"];
    assert_eq!(wrong_type["kind"], "text", "{wrong_type}");
    assert!(
        wrong_type["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Error { kind: ToSql(0)"),
        "{wrong_type}"
    );
}

/// A server whose certificate no one signed, as Debian's Postgres has out of the box.
fn tls_server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER
        .get_or_init(|| spinshop_local_pg::ensure_tls_server().expect("a Postgres server with TLS"))
}

async fn a_self_signed_certificate_is_refused_unless_tls_is_disabled(probe: Probe) {
    let app = app_for(probe, tls_server()).await;
    let url = format!("postgres://postgres@{}/postgres", tls_server());
    let is_tls = json!([{ "query": "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" }]);

    for refused in [url.clone(), format!("{url}?sslmode=require")] {
        let reply = run(&app, &refused, is_tls.clone()).await;
        let error = &reply.body["open_error"];
        assert_eq!(
            error["kind"], "connection-failed",
            "{refused}: {}",
            reply.body
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.ends_with("invalid peer certificate: UnknownIssuer"),
            "{message}"
        );
    }

    let reply = run(&app, &format!("{url}?sslmode=disable"), is_tls).await;
    assert_eq!(
        reply.body["results"][0]["rows"][0][0], "DbValue::Boolean(false)",
        "{}",
        reply.body
    );
}
