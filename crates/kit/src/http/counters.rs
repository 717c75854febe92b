//! Counters in fixed windows, kept in Spin's default key-value store: what the front
//! door's rate limits count per client (see [`crate::http::door`]), and what a service may
//! count for work whose cost falls on the whole machine (users' password-hash budget).
//!
//! A counter is one key holding `<window start> <total>`: each counter has one key
//! whatever the number of windows. It is read, then written (spin-sdk's stable API
//! has no atomic increment), so requests racing in the same instant may each read the
//! same total: a limit on it admits a few too many, never too few. When the store
//! can't be used, callers stay open and say why in the log: a broken counter must
//! not close the shop.

use crate::auth::now_seconds;
use crate::sdk::KeyValue;

/// The store the counters live in.
pub struct Counters(KeyValue);

impl Counters {
    /// Spin's default key-value store; `None` (and a line in the log) when it can't
    /// be opened.
    pub async fn open() -> Option<Counters> {
        KeyValue::open_default()
            .await
            .inspect_err(|err| eprintln!("limits not applied: the default key-value store: {err}"))
            .ok()
            .map(Counters)
    }

    /// Adds `amount` to the counter `key` and returns its total in the window.
    pub async fn add(&self, key: &str, window: Window, amount: u64) -> Result<u64, String> {
        let total = self.total(key, window).await?.saturating_add(amount);
        self.set(key, window, total).await?;
        Ok(total)
    }

    /// The counter's total in the window (0 in a new one, or when it is unreadable).
    pub async fn total(&self, key: &str, window: Window) -> Result<u64, String> {
        let stored = self.0.get(key).await?;
        Ok(next_total(stored.as_deref(), window, 0))
    }

    /// Stores the counter's total in the window.
    pub async fn set(&self, key: &str, window: Window, total: u64) -> Result<(), String> {
        self.0
            .set(key, format!("{} {total}", window.start).as_bytes())
            .await
    }
}

/// A fixed window: `[start, start + length)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: u64,
    length: u64,
}

impl Window {
    /// The window of `length` seconds holding the second `now`.
    pub fn at(now: u64, length: u64) -> Window {
        Window {
            start: now - now % length,
            length,
        }
    }

    /// The second now.
    pub fn this_second() -> Window {
        Window::at(now_seconds().max(0) as u64, 1)
    }

    /// Whole seconds until the window ends, at least 1.
    pub(crate) fn seconds_left(self, now: u64) -> u64 {
        (self.start + self.length).saturating_sub(now).max(1)
    }
}

/// The total after adding `amount`, given what the counter holds: added to it in the
/// same window, `amount` alone in a new one (or when the value is unreadable).
fn next_total(stored: Option<&[u8]>, window: Window, amount: u64) -> u64 {
    let parsed = stored
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| text.split_once(' '))
        .and_then(|(start, total)| Some((start.parse::<u64>().ok()?, total.parse::<u64>().ok()?)));
    match parsed {
        Some((start, total)) if start == window.start => total.saturating_add(amount),
        _ => amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_go_up_within_a_window_and_restart_in_the_next() {
        let window = Window::at(125, 60);
        assert_eq!(window.start, 120);
        assert_eq!(window.seconds_left(125), 55);
        assert_eq!(window.seconds_left(180), 1);
        assert_eq!(next_total(None, window, 1), 1);
        assert_eq!(next_total(Some(b"120 4"), window, 1), 5);
        assert_eq!(next_total(Some(b"120 4"), window, 0), 4);
        assert_eq!(next_total(Some(b"120 40"), window, 55), 95);
        assert_eq!(next_total(Some(b"60 40"), window, 1), 1);
        assert_eq!(next_total(Some(b"garbage"), window, 1), 1);
    }
}
