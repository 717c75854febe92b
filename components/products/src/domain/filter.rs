//! The catalog listing's filters (`GET /products?q=&available=&include_archived=`).

use spinshop_kit::{ApiError, ApiResult};

use super::MAX_NAME_CHARS;

/// What `GET /products` may filter on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilter {
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Only products that are (or are not) available.
    pub available: Option<bool>,
    /// Archived products are left out unless asked for: shoppers never want them,
    /// admins sometimes do.
    pub include_archived: bool,
}

impl ListFilter {
    pub fn parse(
        q: Option<&str>,
        available: Option<&str>,
        include_archived: Option<&str>,
    ) -> ApiResult<ListFilter> {
        let search = q.map(str::trim).filter(|q| !q.is_empty());
        if search.is_some_and(|q| q.chars().count() > MAX_NAME_CHARS) {
            return Err(ApiError::invalid_field(
                "q",
                format!("q must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        Ok(ListFilter {
            search: search.map(str::to_string),
            available: available
                .map(|raw| parse_flag("available", raw))
                .transpose()?,
            include_archived: include_archived
                .map(|raw| parse_flag("include_archived", raw))
                .transpose()?
                .unwrap_or(false),
        })
    }
}

fn parse_flag(field: &str, raw: &str) -> ApiResult<bool> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid_field(
            field,
            format!("{field} must be true or false"),
        )),
    }
}
