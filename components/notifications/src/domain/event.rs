//! The envelopes notifications accepts: what every event must hold before it is
//! stored, checked field by field so a producer's bug is refused with its name.

use spinshop_kit::contracts::Event;
use spinshop_kit::{ApiError, ApiResult};

/// Events one delivery may carry: a producer's flush sends at most one claim's worth.
pub const MAX_BATCH_EVENTS: usize = 100;
/// The longest type, source or aggregate type accepted.
const MAX_NAME_CHARS: usize = 100;

/// Checks a delivered batch: 1 to [`MAX_BATCH_EVENTS`] events, each valid.
pub fn check_batch(events: &[Event]) -> ApiResult<()> {
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::invalid_field(
            "events",
            format!("events must hold 1 to {MAX_BATCH_EVENTS} events"),
        ));
    }
    events
        .iter()
        .enumerate()
        .try_for_each(|(index, event)| check_event(event, &format!("events[{index}]")))
}

/// Checks one envelope; `at` names it in errors (`events[3]`).
pub fn check_event(event: &Event, at: &str) -> ApiResult<()> {
    let invalid = |field: &str, rule: &str| {
        let field = format!("{at}.{field}");
        ApiError::invalid_field(&field, format!("{field} {rule}"))
    };
    if uuid::Uuid::try_parse(&event.id).is_err() {
        return Err(invalid("id", "must be a UUID"));
    }
    if !is_event_type(&event.kind) {
        return Err(invalid(
            "type",
            "must be dotted lower-case names, e.g. order.paid (at most 100 characters)",
        ));
    }
    if event.version < 1 {
        return Err(invalid("version", "must be a positive integer"));
    }
    if !is_rfc3339_utc_or_offset(&event.occurred_at) {
        return Err(invalid(
            "occurred_at",
            "must be an RFC 3339 date and time, e.g. 2025-01-31T12:00:00Z",
        ));
    }
    for (field, value) in [
        ("source", &event.source),
        ("aggregate_type", &event.aggregate_type),
    ] {
        if !is_name(value) {
            return Err(invalid(
                field,
                "must be a lower-case name (a-z, 0-9, _), at most 100 characters",
            ));
        }
    }
    if event.aggregate_id < 1 {
        return Err(invalid("aggregate_id", "must be a positive integer"));
    }
    if event.sequence < 1 {
        return Err(invalid("sequence", "must be a positive integer"));
    }
    if event.user_id.is_some_and(|user_id| user_id < 1) {
        return Err(invalid("user_id", "must be a positive integer or null"));
    }
    if !event.data.is_object() {
        return Err(invalid("data", "must be a JSON object"));
    }
    Ok(())
}

/// `order.paid`, `user.password_changed`: names joined by dots, at least two.
fn is_event_type(raw: &str) -> bool {
    raw.len() <= MAX_NAME_CHARS && raw.split('.').count() >= 2 && raw.split('.').all(is_name)
}

/// A lower-case name: a letter, then letters, digits and underscores.
fn is_name(raw: &str) -> bool {
    raw.len() <= MAX_NAME_CHARS
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, a date that exists and a time of day
/// (a leap second allowed), so the database never refuses what passed here.
fn is_rfc3339_utc_or_offset(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = bytes.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |index: usize, expected: &[u8]| bytes.get(index).is_some_and(|b| expected.contains(b));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0..4),
        number(5..7),
        number(8..10),
        number(11..13),
        number(14..16),
        number(17..19),
    ) else {
        return false;
    };
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return false;
    }
    let mut rest = &raw[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return false;
        }
        rest = &fraction[digits..];
    }
    let zone_ok = match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') < 24
                && (m1 - b'0') * 10 + (m2 - b'0') < 60
        }
        _ => false,
    };
    zone_ok
        && (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_must_be_rfc3339_with_a_real_date() {
        for good in [
            "2025-01-31T12:00:00Z",
            "2025-01-31T12:00:00.123456Z",
            "2024-02-29T23:59:60+02:00",
            "2025-06-01t00:00:00-05:30",
        ] {
            assert!(is_rfc3339_utc_or_offset(good), "{good}");
        }
        for bad in [
            "",
            "2025-01-31",
            "2025-01-31 12:00:00Z",
            "2025-02-29T12:00:00Z",
            "2025-13-01T12:00:00Z",
            "2025-01-31T24:00:00Z",
            "2025-01-31T12:00:00",
            "2025-01-31T12:00:00.Z",
            "2025-01-31T12:00:00+2:00",
            "0000-01-01T00:00:00Z",
            "2025-01-31T12:00:00Zjunk",
            "２０２５-01-31T12:00:00Z",
        ] {
            assert!(!is_rfc3339_utc_or_offset(bad), "{bad}");
        }
    }

    #[test]
    fn types_are_dotted_lower_case_names() {
        for good in ["order.paid", "user.password_changed", "a.b.c2"] {
            assert!(is_event_type(good), "{good}");
        }
        for bad in [
            "order",
            "Order.paid",
            "order..paid",
            ".paid",
            "order.paid ",
            "order.2x",
        ] {
            assert!(!is_event_type(bad), "{bad}");
        }
        assert!(!is_event_type(&format!("a.{}", "b".repeat(100))));
    }
}
