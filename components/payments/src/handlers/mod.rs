//! HTTP handlers, one file per resource: parse the request, check who is calling,
//! do the work, respond. Request bodies live beside their handlers.

pub mod internal;
pub mod pay;
pub mod payments;
