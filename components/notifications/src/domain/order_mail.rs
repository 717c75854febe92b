//! The mail each order event sends its customer: what happened, the order's lines
//! and total, and a link to the order in the storefront.

use spinshop_kit::contracts::{Event, MailData, OrderData, PaymentData, event_types};
use spinshop_kit::mail::{Letter, Shop, money};

/// The order events a customer is mailed about, and the payment event that names
/// an order (`payment.failed`: its mail shows that order).
pub fn mails_about(kind: &str) -> bool {
    matches!(
        kind,
        event_types::ORDER_CREATED
            | event_types::ORDER_PAID
            | event_types::ORDER_CANCELLED
            | event_types::ORDER_REFUNDED
            | event_types::PAYMENT_FAILED
    )
}

/// The order an event concerns: an `order.*` event's own data, or for a payment
/// event the order it names (`None`: look it up).
pub fn order_of(event: &Event) -> Result<OrderData, Option<i64>> {
    if event.kind == event_types::PAYMENT_FAILED {
        return Err(event.data_as::<PaymentData>().order_id);
    }
    Ok(event.data_as::<OrderData>())
}

/// The mail to `to` about `event`, for `order` (its lines and total), linking to the
/// order in the shop's storefront; `None` for an event no mail is written for.
pub fn order_mail(event: &Event, order: &OrderData, to: &str, shop: &Shop) -> Option<MailData> {
    let id = order.id;
    let currency = order.currency.as_deref().unwrap_or("USD");
    let (subject, sentence) = match event.kind.as_str() {
        event_types::ORDER_CREATED => (
            format!("Order #{id} received"),
            "Thank you for your order. Your items are held for you until it is paid.".to_string(),
        ),
        event_types::ORDER_PAID => (
            format!("Order #{id} is paid"),
            "We received your payment; your order is on its way to being fulfilled.".to_string(),
        ),
        event_types::PAYMENT_FAILED => {
            let payment = event.data_as::<PaymentData>();
            let amount = payment
                .amount
                .map(|amount| format!(" of {}", money(amount, currency)))
                .unwrap_or_default();
            (
                format!("Payment for order #{id} failed"),
                format!(
                    "Your payment{amount} was declined. The order waits for payment: you can pay it again from the link below."
                ),
            )
        }
        event_types::ORDER_CANCELLED => (
            format!("Order #{id} is cancelled"),
            "Your order is cancelled. If it was paid, the payment is refunded.".to_string(),
        ),
        event_types::ORDER_REFUNDED => (
            format!("Order #{id} is refunded"),
            "Your payment for this order is refunded.".to_string(),
        ),
        _ => return None,
    };
    let mut rows: Vec<(String, String)> = order
        .items
        .iter()
        .map(|line| {
            (
                format!("{} x {}", line.name, line.qty),
                money(line.line_total, currency),
            )
        })
        .collect();
    if let Some(total) = order.total {
        rows.push(("Total".into(), money(total, currency)));
    }
    Some(
        Letter::new(&shop.name, subject)
            .paragraph(sentence)
            .lines(rows)
            .link(
                "See your order",
                format!("{}/#/orders/{id}", shop.public_url),
            )
            .to(to),
    )
}
