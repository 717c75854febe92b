//! Notification rules, with no I/O: which event envelopes are accepted, the inbox
//! text each event type reads as, how webhook deliveries are signed, whose inbox a
//! caller may read, the webhook delivery states, and the mails kept. One file per concern.

mod access;
mod delivery;
mod event;
mod inbox;
mod mail;
mod notice;
mod order_mail;
pub mod signature;

pub use access::*;
pub use delivery::*;
pub use event::*;
pub use inbox::*;
pub use mail::*;
pub use notice::*;
pub use order_mail::*;

#[cfg(test)]
mod tests;
