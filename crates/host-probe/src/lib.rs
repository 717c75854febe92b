//! A component that reports what the host gives it, for the test host's own tests
//! (`crates/host/tests`). It routes on the full path:
//! - `/.../echo...`: the request as received (method, path, headers, body);
//! - `/.../var/<name>`: a variable's value, or the error kind;
//! - `/.../trap`: panics;
//! - `/.../count`: how many requests this instance has served (always 1: Spin gives
//!   a WASIp2 component a fresh instance per request);
//! - `/.../send?url=<url>`: sends a GET to `url` (the rest of the query, taken as
//!   it is, with `x-request-id: probe`) and reports the answer or the error;
//! - `/.../pg` (POST `{"address", "steps": [{"query"|"execute": sql, "params": [..]}]}`):
//!   runs the steps on one connection and reports each result;
//! - `/.../kv` (POST `{"label", "steps": [{"set": [key, value]} | {"get": key} |
//!   {"delete": key} | {"exists": key} | {"keys": true}]}`): opens the key-value store
//!   `label` and reports each step's result, or why the store did not open.

use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::pg4::{self, Connection, ParameterValue};

#[cfg(target_arch = "wasm32")]
#[spin_sdk::http_component]
async fn handle(req: Request) -> Response {
    route(req).await
}

/// Requests this instance has served.
static SERVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The probe's routing, on the full path (public so native builds use it too).
pub async fn route(req: Request) -> Response {
    let served = SERVED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let path = req.path().to_string();
    let last = path.rsplit('/').next().unwrap_or_default().to_string();
    if path.contains("/var/") {
        return variable(&last);
    }
    match last.as_str() {
        "trap" => panic!("the probe was asked to trap"),
        "count" => json_response(200, json!({ "served": served })),
        "send" => send(&req).await,
        "send-bare" => send_bare(&req).await,
        "pg" => postgres(&req),
        "kv" => key_value(&req),
        _ => echo(&req),
    }
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

fn echo(req: &Request) -> Response {
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .map(|(name, value)| {
            let value = value.as_str().unwrap_or_default().to_string();
            (name.to_string(), Value::String(value))
        })
        .collect();
    json_response(
        200,
        json!({
            "method": req.method().to_string(),
            "path": req.path(),
            "query": req.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(req.body()),
        }),
    )
}

fn variable(name: &str) -> Response {
    match spin_sdk::variables::get(name) {
        Ok(value) => json_response(200, json!({ "value": value })),
        Err(err) => {
            let kind = match err {
                spin_sdk::variables::Error::InvalidName(_) => "invalid-name",
                spin_sdk::variables::Error::Undefined(_) => "undefined",
                spin_sdk::variables::Error::Provider(_) => "provider",
                spin_sdk::variables::Error::Other(_) => "other",
            };
            json_response(404, json!({ "error": kind }))
        }
    }
}

async fn send(req: &Request) -> Response {
    let Some(url) = req.query().strip_prefix("url=") else {
        return json_response(400, json!({ "error": "url missing" }));
    };
    let outgoing = Request::builder()
        .method(Method::Get)
        .uri(url)
        .header("x-request-id", "probe")
        .build();
    match spin_sdk::http::send::<_, Response>(outgoing).await {
        Ok(response) => {
            let body = String::from_utf8_lossy(response.body()).to_string();
            let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
            json_response(200, json!({ "status": response.status(), "body": body }))
        }
        Err(err) => json_response(502, json!({ "error": format!("{err:?}") })),
    }
}

/// Sends a request that names only a path: no scheme, no authority, as a raw
/// `wasi:http` client might (spin-sdk always supplies an authority).
async fn send_bare(req: &Request) -> Response {
    let Some(path) = req.query().strip_prefix("path=") else {
        return json_response(400, json!({ "error": "path missing" }));
    };
    let outgoing = spin_sdk::http::OutgoingRequest::new(spin_sdk::http::Headers::new());
    if outgoing.set_path_with_query(Some(path)).is_err() {
        return json_response(400, json!({ "error": "invalid path" }));
    }
    match spin_sdk::http::send::<_, Response>(outgoing).await {
        Ok(response) => json_response(200, json!({ "status": response.status() })),
        Err(err) => json_response(502, json!({ "error": format!("{err:?}") })),
    }
}

fn postgres(req: &Request) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(req.body()) else {
        return json_response(400, json!({ "error": "body is not JSON" }));
    };
    let address = body["address"].as_str().unwrap_or_default();
    let connection = match Connection::open(address) {
        Ok(connection) => connection,
        Err(err) => return json_response(200, json!({ "open_error": pg_error(&err) })),
    };
    let steps = body["steps"].as_array().cloned().unwrap_or_default();
    let results: Vec<Value> = steps
        .iter()
        .map(|step| {
            let params: Vec<ParameterValue> = step["params"]
                .as_array()
                .map(|params| params.iter().map(parameter).collect())
                .unwrap_or_default();
            if let Some(sql) = step["query"].as_str() {
                match connection.query(sql, &params) {
                    Ok(rows) => json!({
                        "columns": rows.columns.iter().map(|c| json!([c.name, format!("{:?}", c.data_type)])).collect::<Vec<_>>(),
                        "rows": rows.rows.iter().map(|row| row.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>()).collect::<Vec<_>>(),
                    }),
                    Err(err) => json!({ "error": pg_error(&err) }),
                }
            } else if let Some(sql) = step["execute"].as_str() {
                match connection.execute(sql, &params) {
                    Ok(count) => json!({ "count": count }),
                    Err(err) => json!({ "error": pg_error(&err) }),
                }
            } else {
                json!({ "error": "a step needs query or execute" })
            }
        })
        .collect();
    json_response(200, json!({ "results": results }))
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

fn pg_error(err: &pg4::PgError) -> Value {
    match err {
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => json!({
            "kind": "db-error",
            "code": db.code,
            "message": db.message,
            "detail": db.detail,
            "extras": db.extras,
        }),
        pg4::PgError::QueryFailed(pg4::QueryError::Text(text)) => {
            json!({ "kind": "text", "message": text })
        }
        pg4::PgError::ConnectionFailed(message) => {
            json!({ "kind": "connection-failed", "message": message })
        }
        pg4::PgError::BadParameter(message) => {
            json!({ "kind": "bad-parameter", "message": message })
        }
        pg4::PgError::ValueConversionFailed(message) => {
            json!({ "kind": "value-conversion-failed", "message": message })
        }
        pg4::PgError::Other(message) => json!({ "kind": "other", "message": message }),
    }
}

fn key_value(req: &Request) -> Response {
    use spin_sdk::key_value::Store;
    let Ok(body) = serde_json::from_slice::<Value>(req.body()) else {
        return json_response(400, json!({ "error": "body is not JSON" }));
    };
    let store = match Store::open(body["label"].as_str().unwrap_or_default()) {
        Ok(store) => store,
        Err(err) => return json_response(200, json!({ "open_error": kv_error(&err) })),
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let results: Vec<Value> = body["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|step| {
            let outcome = if let Some(pair) = step["set"].as_array() {
                let (key, value) = (text(&pair[0]), text(&pair[1]));
                store.set(&key, value.as_bytes()).map(|()| Value::Null)
            } else if step.get("get").is_some() {
                store.get(&text(&step["get"])).map(|value| {
                    value.map_or(Value::Null, |v| {
                        Value::String(String::from_utf8_lossy(&v).into_owned())
                    })
                })
            } else if step.get("delete").is_some() {
                store.delete(&text(&step["delete"])).map(|()| Value::Null)
            } else if step.get("exists").is_some() {
                store.exists(&text(&step["exists"])).map(Value::Bool)
            } else {
                store.get_keys().map(|keys| json!(keys))
            };
            match outcome {
                Ok(value) => json!({ "ok": value }),
                Err(err) => json!({ "error": kv_error(&err) }),
            }
        })
        .collect();
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
