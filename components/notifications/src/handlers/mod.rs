//! HTTP handlers, one file per resource: parse the request, check who is calling,
//! do the work, respond. Request bodies and answers live beside their handlers.

pub mod dispatch;
pub mod events;
pub mod internal;
pub mod notifications;
