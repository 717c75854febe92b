//! Notification rules, with no I/O: which event envelopes are accepted, the inbox
//! text each event type reads as, how webhook deliveries are signed, whose inbox a
//! caller may read, and the webhook delivery states. One file per concern.

mod access;
mod delivery;
mod event;
mod inbox;
mod notice;
pub mod signature;

pub use access::*;
pub use delivery::*;
pub use event::*;
pub use inbox::*;
pub use notice::*;

#[cfg(test)]
mod tests;
