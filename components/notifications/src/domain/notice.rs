//! What an event says in a user's inbox: a title and a sentence, made from its type
//! and data. Data a producer left out is left out of the sentence, never invented;
//! a type this version doesn't know reads as a generic update.

use spinshop_kit::contracts::event_types::*;
use spinshop_kit::contracts::{Event, OrderData, PaymentData, UserData};
/// Amounts in minor units, written with as many decimals as the currency has.
pub use spinshop_kit::mail::money as format_money;

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
    let id = event.aggregate_id;
    match event.kind.as_str() {
        USER_REGISTERED => Notice::new(
            "Welcome to spinshop",
            match text(event.data_as::<UserData>().name.as_deref()) {
                Some(name) => format!("Welcome, {name}! Your account is ready."),
                None => "Your account is ready.".to_string(),
            },
        ),
        USER_PASSWORD_CHANGED => Notice::new(
            "Password changed",
            "Your password was changed. If this wasn't you, reset it now.".to_string(),
        ),
        USER_EMAIL_CHANGED => Notice::new(
            "Email changed",
            format!(
                "Your account's email is now {}.",
                event.data_as::<UserData>().email
            ),
        ),
        ORDER_CREATED => Notice::new(
            "Order placed",
            match order_total(event) {
                Some(total) => format!("Order #{id} was placed: {total}."),
                None => format!("Order #{id} was placed."),
            },
        ),
        ORDER_PAID => Notice::new("Order paid", format!("Order #{id} is paid.")),
        ORDER_CANCELLED => Notice::new("Order cancelled", format!("Order #{id} was cancelled.")),
        ORDER_REFUNDED => Notice::new(
            "Order refunded",
            match order_total(event) {
                Some(amount) => format!("Order #{id} was refunded: {amount}."),
                None => format!("Order #{id} was refunded."),
            },
        ),
        PAYMENT_SUCCEEDED => Notice::new("Payment received", payment_sentence(event, "succeeded")),
        PAYMENT_FAILED => Notice::new("Payment failed", payment_sentence(event, "was declined")),
        PAYMENT_REFUNDED => {
            Notice::new("Payment refunded", payment_sentence(event, "was refunded"))
        }
        other => Notice::new(
            "Update",
            format!(
                "There is news about your {} #{id} ({other}).",
                event.aggregate_type.replace('_', " ")
            ),
        ),
    }
}

/// An order event's total, with its currency (default USD), as "19.98 USD".
fn order_total(event: &Event) -> Option<String> {
    let order = event.data_as::<OrderData>();
    Some(money(order.total?, order.currency.as_deref()))
}

/// "Payment of 19.98 USD for order #42 succeeded." with what the data holds.
fn payment_sentence(event: &Event, outcome: &str) -> String {
    let payment = event.data_as::<PaymentData>();
    let amount = payment
        .amount
        .map(|minor| format!(" of {}", money(minor, payment.currency.as_deref())))
        .unwrap_or_default();
    match payment.order_id.filter(|order_id| *order_id > 0) {
        Some(order_id) => format!("Payment{amount} for order #{order_id} {outcome}."),
        None => format!("Payment #{}{amount} {outcome}.", event.aggregate_id),
    }
}

/// Text a producer sent, trimmed; `None` when there is none.
fn text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|text| !text.is_empty())
}

/// An amount in minor units with its currency (default USD), as "19.98 USD".
fn money(minor: i64, currency: Option<&str>) -> String {
    format_money(minor, text(currency).unwrap_or("USD"))
}
