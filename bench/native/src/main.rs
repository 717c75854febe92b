//! The native baseline `bench/run` compares spinshop with: the products service's two
//! public read routes as a plain axum + tokio-postgres server, with no WebAssembly, no
//! sibling calls and no request log in the way.
//!
//! - `GET /api/products/products?limit&offset&q&available&include_archived`: a page of
//!   products in id order, the total in `X-Total-Count`;
//! - `GET /api/products/products/{id}`: one product.
//!
//! The SQL is the products service's, character for character
//! (`components/products/src/store.rs`, `crates/kit/src/http/paging.rs`): the page and its
//! total in one statement (`count(*) OVER ()`), and a second statement for the total
//! only when the page is empty. The answers have the same JSON.
//!
//! The database is used the way Spin's Postgres client (`factor-outbound-pg`) uses it,
//! so the comparison measures what spinshop and Spin add, not a smarter client:
//! - one deadpool pool per connection string, at most 64 connections, recycled with
//!   `RecyclingMethod::Clean` (a `CLOSE ALL; ...; DISCARD SEQUENCES` round trip each
//!   time a pooled connection is handed out again);
//! - a connection taken from the pool for each request (a component opens its
//!   connection once per request) and given back at its end;
//! - every statement sent as text: tokio-postgres prepares it anew each time (Parse and
//!   Describe, then Bind and Execute, then Close), with no statement cache, as Spin's
//!   `query` does.
//!
//! Configuration, from the environment: `DATABASE_URL` (the products service's URL,
//! with its own role; only `sslmode=disable` is supported, the baseline speaks plain
//! text to a local server) and `LISTEN` (default `127.0.0.1:3290`).

use std::net::SocketAddr;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// Spin's pool size per connection string.
const POOL_SIZE: usize = 64;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
/// Longest name a product may have, and so the longest search.
const MAX_NAME_CHARS: usize = 200;

/// `PRODUCT_COLUMNS` in products' store, with the `ts!` macro expanded.
const PRODUCT_COLUMNS: &str = concat!(
    "id, name, description, price, currency, stock, reserved, available, ",
    "archived_at IS NOT NULL AS archived, ",
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    " AS created_at, ",
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    " AS updated_at"
);

/// `LIST_FILTER` in products' store.
const LIST_FILTER: &str = "($1::text IS NULL OR strpos(lower(name), lower($1::text)) > 0) \
     AND ($2::boolean IS NULL OR available = $2::boolean) \
     AND ($3::boolean OR archived_at IS NULL)";

#[derive(Serialize)]
struct Product {
    id: i64,
    name: String,
    description: Option<String>,
    price: i64,
    currency: String,
    stock: i64,
    reserved: i64,
    available: bool,
    archived: bool,
    created_at: String,
    updated_at: String,
}

impl Product {
    fn decode(row: &Row) -> Result<Product, tokio_postgres::Error> {
        Ok(Product {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            price: row.try_get("price")?,
            currency: row.try_get("currency")?,
            stock: row.try_get("stock")?,
            reserved: row.try_get("reserved")?,
            available: row.try_get("available")?,
            archived: row.try_get("archived")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// What goes wrong, answered as spinshop's error envelope.
enum Failure {
    Validation(String),
    NotFound(String),
    Unavailable(String),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Failure::Validation(message) => (StatusCode::BAD_REQUEST, "validation_error", message),
            Failure::NotFound(message) => (StatusCode::NOT_FOUND, "not_found", message),
            Failure::Unavailable(cause) => {
                eprintln!("database unavailable: {cause}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "database unavailable".to_string(),
                )
            }
        };
        let body = json!({"error": {"code": code, "message": message}});
        (status, Json(body)).into_response()
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(err: tokio_postgres::Error) -> Self {
        Failure::Unavailable(err.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        Failure::Unavailable(err.to_string())
    }
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<String>,
    offset: Option<String>,
    q: Option<String>,
    available: Option<String>,
    include_archived: Option<String>,
}

fn parse_limit(raw: Option<&str>) -> Result<i64, Failure> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                Failure::Validation(format!("limit must be an integer from 1 to {MAX_LIMIT}"))
            }),
    }
}

fn parse_offset(raw: Option<&str>) -> Result<i64, Failure> {
    match raw {
        None => Ok(0),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| Failure::Validation("offset must be an integer >= 0".into())),
    }
}

fn parse_flag(field: &str, raw: Option<&str>) -> Result<Option<bool>, Failure> {
    match raw {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Failure::Validation(format!(
            "{field} must be true or false"
        ))),
    }
}

async fn list_products(
    State(pool): State<Pool>,
    Query(query): Query<ListQuery>,
) -> Result<Response, Failure> {
    let limit = parse_limit(query.limit.as_deref())?;
    let offset = parse_offset(query.offset.as_deref())?;
    let search = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    if search
        .as_deref()
        .is_some_and(|q| q.chars().count() > MAX_NAME_CHARS)
    {
        return Err(Failure::Validation(format!(
            "q must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    let available = parse_flag("available", query.available.as_deref())?;
    let include_archived =
        parse_flag("include_archived", query.include_archived.as_deref())?.unwrap_or(false);

    // What `paging::fetch_page` builds for products' list.
    let from_where = format!("FROM catalog.products WHERE {LIST_FILTER}");
    let rows_sql = format!(
        "SELECT {PRODUCT_COLUMNS}, count(*) OVER () AS total_rows {from_where} \
         ORDER BY id LIMIT $4 OFFSET $5"
    );
    let filter: [&(dyn ToSql + Sync); 3] = [&search, &available, &include_archived];
    let params: [&(dyn ToSql + Sync); 5] =
        [&search, &available, &include_archived, &limit, &offset];

    let client = pool.get().await?;
    let rows = client.query(rows_sql.as_str(), &params).await?;
    let total: i64 = match rows.first() {
        Some(row) => row.try_get("total_rows")?,
        None => client
            .query(
                format!("SELECT count(*) AS total {from_where}").as_str(),
                &filter,
            )
            .await?
            .first()
            .map(|row| row.try_get("total"))
            .transpose()?
            .unwrap_or(0),
    };
    drop(client);
    let products = rows
        .iter()
        .map(Product::decode)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(([("x-total-count", total.to_string())], Json(products)).into_response())
}

async fn get_product(
    State(pool): State<Pool>,
    Path(raw): Path<String>,
) -> Result<Json<Product>, Failure> {
    let not_found = || Failure::NotFound(format!("no product with id {raw}"));
    let id = raw
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)?;
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM catalog.products WHERE id = $1");
    let client = pool.get().await?;
    let rows = client.query(sql.as_str(), &[&id]).await?;
    drop(client);
    match rows.first() {
        Some(row) => Ok(Json(Product::decode(row)?)),
        None => Err(not_found()),
    }
}

fn pool(url: &str) -> Result<Pool, Box<dyn std::error::Error>> {
    let config: tokio_postgres::Config = url.parse()?;
    if config.get_ssl_mode() != SslMode::Disable {
        return Err(
            "the baseline speaks plain text only: DATABASE_URL needs sslmode=disable".into(),
        );
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        },
    );
    Ok(Pool::builder(manager).max_size(POOL_SIZE).build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let listen: SocketAddr = std::env::var("LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:3290".into())
        .parse()?;
    let app = Router::new()
        .route("/api/products/products", get(list_products))
        .route("/api/products/products/:id", get(get_product))
        .with_state(pool(&url)?);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("native baseline listening on http://{listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
