//! HTTP handlers, one file per resource: parse the request, do the work, respond.
//! Request bodies and answers live beside their handlers. Who may call each is the route table's (`lib.rs`): a
//! handler takes the `Caller`, `Admin` or `Service` its check gives.

pub mod dispatch;
pub mod events;
pub mod internal;
pub mod mail;
pub mod notifications;
