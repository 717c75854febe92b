//! HTTP handlers, one file per resource: parse the request, do the work, respond.
//! Request bodies live beside their handlers. Who may call each is the route table's (`lib.rs`): a
//! handler takes the `Caller`, `Admin` or `Service` its check gives.

pub mod internal;
pub mod pay;
pub mod payments;
