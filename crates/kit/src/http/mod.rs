//! A service's HTTP side, the same in every service: [`service::serve`] takes each
//! request through the front door ([`door`], counting in [`counters`]), the size
//! limit and the service's route table ([`routes`]), and renders the one error
//! envelope ([`error`], [`response`]). Requests are read with [`request`] and
//! [`strict`]; lists are paged with [`paging`].

pub mod counters;
pub mod door;
pub mod error;
pub mod idempotency;
pub mod method;
pub mod paging;
pub mod request;
pub mod response;
pub mod routes;
pub mod service;
pub mod strict;
