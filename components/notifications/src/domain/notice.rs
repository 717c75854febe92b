//! What an event says in a user's inbox: a title and a sentence, made from its type
//! and data. Data a producer left out is left out of the sentence, never invented;
//! a type this version doesn't know reads as a generic update.

use serde_json::Value;
use spinshop_kit::contracts::Event;
use spinshop_kit::contracts::event_types::*;

/// The inbox text of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub message: String,
}

impl Notice {
    fn new(title: &str, message: String) -> Notice {
        Notice {
            title: title.to_string(),
            message,
        }
    }
}

/// The notice for `event`.
pub fn notice(event: &Event) -> Notice {
    let data = &event.data;
    let id = event.aggregate_id;
    match event.kind.as_str() {
        USER_REGISTERED => Notice::new(
            "Welcome to spinshop",
            match text(data, "name") {
                Some(name) => format!("Welcome, {name}! Your account is ready."),
                None => "Your account is ready.".to_string(),
            },
        ),
        USER_PASSWORD_CHANGED => Notice::new(
            "Password changed",
            "Your password was changed. If this wasn't you, reset it now.".to_string(),
        ),
        ORDER_CREATED => Notice::new(
            "Order placed",
            match money(data, "total") {
                Some(total) => format!("Order #{id} was placed: {total}."),
                None => format!("Order #{id} was placed."),
            },
        ),
        ORDER_PAID => Notice::new("Order paid", format!("Order #{id} is paid.")),
        ORDER_CANCELLED => Notice::new("Order cancelled", format!("Order #{id} was cancelled.")),
        ORDER_REFUNDED => Notice::new(
            "Order refunded",
            match money(data, "total").or_else(|| money(data, "amount")) {
                Some(amount) => format!("Order #{id} was refunded: {amount}."),
                None => format!("Order #{id} was refunded."),
            },
        ),
        PAYMENT_SUCCEEDED => {
            Notice::new("Payment received", payment_sentence(data, id, "succeeded"))
        }
        PAYMENT_FAILED => Notice::new("Payment failed", payment_sentence(data, id, "was declined")),
        PAYMENT_REFUNDED => Notice::new(
            "Payment refunded",
            payment_sentence(data, id, "was refunded"),
        ),
        other => Notice::new(
            "Update",
            format!(
                "There is news about your {} #{id} ({other}).",
                event.aggregate_type.replace('_', " ")
            ),
        ),
    }
}

/// "Payment of 19.98 USD for order #42 succeeded." with what the data holds.
fn payment_sentence(data: &Value, payment_id: i64, outcome: &str) -> String {
    let amount = money(data, "amount")
        .map(|amount| format!(" of {amount}"))
        .unwrap_or_default();
    match id_field(data, "order_id") {
        Some(order_id) => format!("Payment{amount} for order #{order_id} {outcome}."),
        None => format!("Payment #{payment_id}{amount} {outcome}."),
    }
}

fn text<'a>(data: &'a Value, field: &str) -> Option<&'a str> {
    data.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// An id sent as a number or as a string of digits.
fn id_field(data: &Value, field: &str) -> Option<i64> {
    match data.get(field)? {
        Value::Number(number) => number.as_i64(),
        Value::String(digits) => digits.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

/// `data[field]` in minor units with `data.currency` (default USD), as "19.98 USD".
fn money(data: &Value, field: &str) -> Option<String> {
    let minor = data.get(field)?.as_i64()?;
    let currency = text(data, "currency").unwrap_or("USD");
    Some(format_money(minor, currency))
}

/// An amount in minor units, written with as many decimals as the currency has.
pub fn format_money(minor: i64, currency: &str) -> String {
    let decimals = minor_unit_digits(currency);
    if decimals == 0 {
        return format!("{minor} {currency}");
    }
    let scale = 10_i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, part) = (
        minor.unsigned_abs() / scale as u64,
        minor.unsigned_abs() % scale as u64,
    );
    format!(
        "{sign}{whole}.{part:0width$} {currency}",
        width = decimals as usize
    )
}

/// ISO 4217 minor-unit digits: 2 for most currencies.
fn minor_unit_digits(currency: &str) -> u32 {
    const NONE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if NONE.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else {
        2
    }
}
