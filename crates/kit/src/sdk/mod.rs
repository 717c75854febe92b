//! What Spin gives a component, behind one interface for both builds: Postgres,
//! variables, the key-value store, outgoing HTTP, the clock, and the HTTP export.
//! This is the only module that knows which spin-sdk kit is built with:
//! `wasip3` (spin-sdk 7, WASI 0.3, the default) or `wasip2` (spin-sdk 5.2, WASI 0.2).
//! Everything here is async; on the WASIp2 build Spin's calls block, so its futures
//! are ready at once.

#[cfg(all(feature = "wasip2", feature = "wasip3"))]
compile_error!("spinshop-kit: enable exactly one of the features `wasip2` and `wasip3`");
#[cfg(not(any(feature = "wasip2", feature = "wasip3")))]
compile_error!("spinshop-kit: enable one of the features `wasip2` and `wasip3`");

#[cfg(feature = "wasip2")]
mod p2;
#[cfg(feature = "wasip2")]
pub use p2::*;

#[cfg(feature = "wasip3")]
mod p3;
#[cfg(feature = "wasip3")]
pub use p3::*;

use crate::http::method::Method;

/// Whether Spin reuses an instance for further requests: only WASIp3 instances are.
#[cfg(feature = "wasip2")]
pub(crate) const INSTANCE_REUSE: bool = false;
#[cfg(feature = "wasip3")]
pub(crate) const INSTANCE_REUSE: bool = true;

/// An outgoing request, however its caller named the destination.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub method: &'a Method,
    pub https: bool,
    pub authority: &'a str,
    pub path_with_query: &'a str,
    /// Lower-case names.
    pub headers: &'a [(String, Vec<u8>)],
    pub body: Option<&'a [u8]>,
}

/// The rows of a query: its columns, and each row's values in their order.
pub struct RowSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<DbValue>>,
}

/// The request Spin handed over, read whole: what [`crate::ApiRequest`] is built from.
pub struct Incoming {
    pub method: Method,
    pub path_with_query: String,
    /// Headers whose values are text; the rest are dropped.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The most body bytes the component takes; the body was read up to one byte
    /// past it, so a larger one is seen to be too large without being read whole.
    pub body_limit: usize,
}

/// Header values that are text, with lower-case names.
fn text_headers(entries: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<(String, String)> {
    entries
        .into_iter()
        .filter_map(|(name, value)| {
            Some((name.to_ascii_lowercase(), String::from_utf8(value).ok()?))
        })
        .collect()
}
