//! The WASIp3 probe: the same routes as `crates/host-probe` (see there), on spin-sdk 7's
//! async API, plus what only an instance that serves many requests can show:
//! - `/.../count`: how many requests this instance has served, itself included;
//! - `/.../hold?ms=<n>`: waits `n` ms, then reports this instance's id and the most
//!   requests it has seen in flight at once.
//!
//! Every answer says how long it is (`content-length`), as spinshop's components do.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use spin_sdk::http::Request;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::pg::{self, Connection, ParameterValue, PgError};

/// Requests this instance has served (statics live as long as the instance).
static SERVED: AtomicU64 = AtomicU64::new(0);
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);
static MOST_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

type Answer = http::Response<String>;

#[spin_sdk::http_service]
async fn handle(req: Request) -> Answer {
    let served = SERVED.fetch_add(1, Ordering::SeqCst) + 1;
    let path = req.uri().path().to_string();
    let last = path.rsplit('/').next().unwrap_or_default().to_string();
    if path.contains("/var/") {
        return variable(&last).await;
    }
    match last.as_str() {
        "trap" => panic!("the probe was asked to trap"),
        "count" => json_response(200, json!({ "served": served })),
        "hold" => hold(&req).await,
        "send" => send(&req).await,
        "pg" => postgres(req).await,
        "kv" => key_value(req).await,
        _ => echo(req).await,
    }
}

fn json_response(status: u16, body: Value) -> Answer {
    let body = body.to_string();
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(body)
        .unwrap_or_default()
}

async fn body_of(req: Request) -> Vec<u8> {
    req.into_body()
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

async fn echo(req: Request) -> Answer {
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default().to_string();
            (name.to_string(), Value::String(value))
        })
        .collect();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let body = body_of(req).await;
    json_response(
        200,
        json!({
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        }),
    )
}

async fn variable(name: &str) -> Answer {
    use spin_sdk::variables::Error;
    match spin_sdk::variables::get(name).await {
        Ok(value) => json_response(200, json!({ "value": value })),
        Err(err) => {
            let kind = match err {
                Error::InvalidName(_) => "invalid-name",
                Error::Undefined(_) => "undefined",
                Error::Provider(_) => "provider",
                Error::Other(_) => "other",
            };
            json_response(404, json!({ "error": kind }))
        }
    }
}

/// A random id per instance, drawn on first use.
fn instance_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(spin_sdk::wasip3::random::random::get_random_u64)
}

async fn hold(req: &Request) -> Answer {
    let ms: u64 = req
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("ms="))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(100);
    let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_IN_FLIGHT.fetch_max(now, Ordering::SeqCst);
    spin_sdk::wasip3::clocks::monotonic_clock::wait_for(ms * 1_000_000).await;
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    json_response(
        200,
        json!({
            "instance": instance_id().to_string(),
            "most_in_flight": MOST_IN_FLIGHT.load(Ordering::SeqCst),
        }),
    )
}

async fn send(req: &Request) -> Answer {
    let Some(url) = req.uri().query().and_then(|q| q.strip_prefix("url=")) else {
        return json_response(400, json!({ "error": "url missing" }));
    };
    let outgoing = match http::Request::get(url)
        .header("x-request-id", "probe")
        .body(String::new())
    {
        Ok(outgoing) => outgoing,
        Err(err) => return json_response(502, json!({ "error": format!("{err:?}") })),
    };
    match spin_sdk::http::send(outgoing).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.into_body().bytes().await.unwrap_or_default();
            let body = String::from_utf8_lossy(&body).to_string();
            let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
            json_response(200, json!({ "status": status, "body": body }))
        }
        Err(err) => json_response(502, json!({ "error": format!("{err:?}") })),
    }
}

async fn postgres(req: Request) -> Answer {
    let Ok(body) = serde_json::from_slice::<Value>(&body_of(req).await) else {
        return json_response(400, json!({ "error": "body is not JSON" }));
    };
    let address = body["address"].as_str().unwrap_or_default();
    let connection = match Connection::open(address).await {
        Ok(connection) => connection,
        Err(err) => return json_response(200, json!({ "open_error": pg_error(&err) })),
    };
    let mut results = Vec::new();
    for step in body["steps"].as_array().cloned().unwrap_or_default() {
        let params: Vec<ParameterValue> = step["params"]
            .as_array()
            .map(|params| params.iter().map(parameter).collect())
            .unwrap_or_default();
        let result = if let Some(sql) = step["query"].as_str() {
            match query(&connection, sql, params).await {
                Ok(rows) => rows,
                Err(err) => json!({ "error": pg_error(&err) }),
            }
        } else if let Some(sql) = step["execute"].as_str() {
            match connection.execute(sql, params).await {
                Ok(count) => json!({ "count": count }),
                Err(err) => json!({ "error": pg_error(&err) }),
            }
        } else {
            json!({ "error": "a step needs query or execute" })
        };
        results.push(result);
    }
    json_response(200, json!({ "results": results }))
}

/// Columns, then the rows as they stream, then the query's own result.
async fn query(
    connection: &Connection,
    sql: &str,
    params: Vec<ParameterValue>,
) -> Result<Value, pg::Error> {
    let mut result = connection.query(sql, params).await?;
    let columns: Vec<Value> = result
        .columns()
        .iter()
        .map(|c| json!([c.name, format!("{:?}", c.data_type)]))
        .collect();
    let mut rows = Vec::new();
    while let Some(row) = result.rows().next().await {
        rows.push(row.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>());
    }
    result.result().await?;
    Ok(json!({ "columns": columns, "rows": rows }))
}

/// `5` is an int64, `"x"` a string, `{"ts": 5}` a timestamp, `{"jsonb": ..}` jsonb.
fn parameter(value: &Value) -> ParameterValue {
    match value {
        Value::Null => ParameterValue::DbNull,
        Value::Bool(b) => ParameterValue::Boolean(*b),
        Value::Number(n) => ParameterValue::Int64(n.as_i64().unwrap_or_default()),
        Value::String(s) => ParameterValue::Str(s.clone()),
        Value::Object(o) if o.contains_key("ts") => {
            ParameterValue::Timestamp(o["ts"].as_i64().unwrap_or_default())
        }
        Value::Object(o) if o.contains_key("jsonb") => {
            ParameterValue::Jsonb(o["jsonb"].to_string().into_bytes())
        }
        other => ParameterValue::Str(other.to_string()),
    }
}

/// The same shape as the WASIp2 probe's, so one test reads both.
fn pg_error(err: &pg::Error) -> Value {
    let err = match err {
        pg::Error::PgError(err) => err,
        pg::Error::Decode(message) => return json!({ "kind": "decode", "message": message }),
    };
    match err {
        PgError::QueryFailed(pg::QueryError::DbError(db)) => json!({
            "kind": "db-error",
            "code": db.code,
            "message": db.message,
            "detail": db.detail,
            "extras": db.extras,
        }),
        PgError::QueryFailed(pg::QueryError::Text(text)) => {
            json!({ "kind": "text", "message": text })
        }
        PgError::ConnectionFailed(message) => {
            json!({ "kind": "connection-failed", "message": message })
        }
        PgError::BadParameter(message) => json!({ "kind": "bad-parameter", "message": message }),
        PgError::ValueConversionFailed(message) => {
            json!({ "kind": "value-conversion-failed", "message": message })
        }
        PgError::Other(message) => json!({ "kind": "other", "message": message }),
    }
}

async fn key_value(req: Request) -> Answer {
    use spin_sdk::key_value::Store;
    let Ok(body) = serde_json::from_slice::<Value>(&body_of(req).await) else {
        return json_response(400, json!({ "error": "body is not JSON" }));
    };
    let store = match Store::open(body["label"].as_str().unwrap_or_default()).await {
        Ok(store) => store,
        Err(err) => return json_response(200, json!({ "open_error": kv_error(&err) })),
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let mut results = Vec::new();
    for step in body["steps"].as_array().cloned().unwrap_or_default() {
        let outcome = if let Some(pair) = step["set"].as_array() {
            let (key, value) = (text(&pair[0]), text(&pair[1]));
            store
                .set(&key, value.as_bytes())
                .await
                .map(|()| Value::Null)
        } else if step.get("get").is_some() {
            store.get(text(&step["get"])).await.map(|value| {
                value.map_or(Value::Null, |v| {
                    Value::String(String::from_utf8_lossy(&v).into_owned())
                })
            })
        } else if step.get("delete").is_some() {
            store
                .delete(text(&step["delete"]))
                .await
                .map(|()| Value::Null)
        } else if step.get("exists").is_some() {
            store.exists(text(&step["exists"])).await.map(Value::Bool)
        } else {
            store
                .get_keys()
                .await
                .collect()
                .await
                .map(|keys| json!(keys))
        };
        results.push(match outcome {
            Ok(value) => json!({ "ok": value }),
            Err(err) => json!({ "error": kv_error(&err) }),
        });
    }
    json_response(200, json!({ "results": results }))
}

fn kv_error(err: &spin_sdk::key_value::Error) -> Value {
    use spin_sdk::key_value::Error;
    match err {
        Error::StoreTableFull => json!("store-table-full"),
        Error::NoSuchStore => json!("no-such-store"),
        Error::AccessDenied => json!("access-denied"),
        Error::Other(message) => json!({ "other": message }),
    }
}
