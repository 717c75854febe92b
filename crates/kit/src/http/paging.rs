//! `?limit=&offset=` for every list, and the page of rows with the total it counts.

use crate::http::error::{ApiError, ApiResult};
use crate::http::request::ApiRequest;
use crate::pg::db::{Db, Param, Row};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: i64,
    pub offset: i64,
}

impl Paging {
    pub fn from_request(req: &ApiRequest) -> ApiResult<Self> {
        Self::parse(req.query("limit"), req.query("offset"))
    }

    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> ApiResult<Self> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::validation(format!("limit must be an integer from 1 to {MAX_LIMIT}"))
                })?,
        };
        let offset = match offset {
            None => 0,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::validation("offset must be an integer >= 0"))?,
        };
        Ok(Paging { limit, offset })
    }
}

/// One page of a list and the number of rows the whole list holds, in one statement:
/// `SELECT {columns}, count(*) OVER () ... {from_where} ORDER BY {order_by} LIMIT OFFSET`.
/// `from_where` (`FROM ... WHERE ...`) takes `filter`'s parameters as `$1..$n`. Only
/// a page with no rows (past the end, or an empty list) needs a second statement
/// to learn the total.
pub async fn fetch_page<T>(
    db: &Db,
    columns: &str,
    from_where: &str,
    order_by: &str,
    filter: &[Param],
    paging: Paging,
    decode: impl Fn(&Row) -> ApiResult<T>,
) -> ApiResult<(Vec<T>, i64)> {
    let (limit, offset) = (filter.len() + 1, filter.len() + 2);
    let rows_sql = format!(
        "SELECT {columns}, count(*) OVER () AS total_rows {from_where} \
         ORDER BY {order_by} LIMIT ${limit} OFFSET ${offset}"
    );
    let mut params = filter.to_vec();
    params.extend([paging.limit.into(), paging.offset.into()]);
    let rows = db.query(&rows_sql, &params).await?;
    let total = match rows.first() {
        Some(row) => row.get("total_rows")?,
        None => db
            .query(&format!("SELECT count(*) AS total {from_where}"), filter)
            .await?
            .first()
            .map(|row| row.get("total"))
            .transpose()?
            .unwrap_or(0),
    };
    Ok((rows.map(decode)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            Paging::parse(None, None).unwrap(),
            Paging {
                limit: 20,
                offset: 0
            }
        );
        assert_eq!(
            Paging::parse(Some("100"), Some("5")).unwrap(),
            Paging {
                limit: 100,
                offset: 5
            }
        );
        for bad in ["0", "101", "-1", "ten", ""] {
            assert!(Paging::parse(Some(bad), None).is_err(), "limit {bad}");
        }
        assert!(Paging::parse(None, Some("-1")).is_err());
    }
}
