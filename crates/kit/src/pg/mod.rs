//! A service's Postgres side: its connection and transactions ([`db`]), and the
//! outbox its events leave through, written in the same transaction as the change
//! ([`outbox`]).

pub mod db;
pub mod outbox;
