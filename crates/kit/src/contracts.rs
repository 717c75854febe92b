//! What services send each other: one type per internal body and per view a sibling
//! reads, serialized by the caller and read by the callee, so the two sides can't
//! drift apart. Ids are read as numbers or strings of digits, as in every request.

use serde::{Deserialize, Serialize};

/// products' `POST /api/products/internal/reserve`: hold stock for every item of
/// an order, or for none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveBody {
    #[serde(deserialize_with = "crate::http::request::id")]
    pub order_id: i64,
    pub items: Vec<ReserveItemBody>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveItemBody {
    #[serde(deserialize_with = "crate::http::request::id")]
    pub product_id: i64,
    pub qty: i64,
}

/// One line of a reservation as products answers reserve, release and commit: the
/// units held, with the product's name and price as products has them at that
/// moment. Orders prices a new order from reserve's answer, in the same call that
/// holds its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedLine {
    pub product_id: i64,
    pub qty: i64,
    pub name: String,
    pub price: i64,
    pub currency: String,
}

/// The part of products' answer to reserve that orders reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reserved {
    pub items: Vec<ReservedLine>,
}

/// products' `POST /api/products/internal/release` and `.../internal/commit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRefBody {
    #[serde(deserialize_with = "crate::http::request::id")]
    pub order_id: i64,
}

/// payments' `POST /api/payments/internal/refund-order`: refund the order's
/// succeeded payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundOrderBody {
    #[serde(deserialize_with = "crate::http::request::id")]
    pub order_id: i64,
}

/// What payments sends to orders' `POST /api/orders/internal/orders/{id}/<event>`:
/// the payment behind the event (`paid` requires it; the others ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidBody {
    #[serde(deserialize_with = "crate::http::request::id")]
    pub payment_id: i64,
}

/// An order's state as orders shows it and payments reads it: `pending` -> `paid`
/// -> `fulfilled`, or `cancelled` from `pending` or `paid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Paid,
    Fulfilled,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// The part of a product (`GET /api/products/products/{id}`) carts reads to show a
/// cart. (Orders prices from the reservation instead: [`ReservedLine`].)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub price: i64,
    pub currency: String,
    /// Not archived and with stock left to reserve.
    pub available: bool,
}

/// An event as it leaves a service's outbox and reaches notifications (and, from
/// there, the webhook): the envelope every event type shares. `sequence` counts the
/// events of one aggregate from 1, in the order they happened; `version` is the
/// version of the event type's `data` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: i64,
    pub occurred_at: String,
    pub source: String,
    pub aggregate_type: String,
    pub aggregate_id: i64,
    pub sequence: i64,
    /// The user the event concerns, whose inbox it reaches; `None` for staff-only events.
    pub user_id: Option<i64>,
    pub data: serde_json::Value,
}

/// The event types spinshop publishes, by the service that records them.
pub mod event_types {
    pub const USER_REGISTERED: &str = "user.registered";
    pub const USER_PASSWORD_CHANGED: &str = "user.password_changed";
    pub const USER_EMAIL_CHANGED: &str = "user.email_changed";
    pub const ORDER_CREATED: &str = "order.created";
    pub const ORDER_PAID: &str = "order.paid";
    pub const ORDER_CANCELLED: &str = "order.cancelled";
    pub const ORDER_REFUNDED: &str = "order.refunded";
    pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
    pub const PAYMENT_FAILED: &str = "payment.failed";
    pub const PAYMENT_REFUNDED: &str = "payment.refunded";
}

/// The `data` of the `user.*` events: who the account is, never anything secret.
/// users records it; notifications reads it (a field left out reads as empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserData {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
}

/// The `data` of the `order.*` events: the order as orders' API shows it, whole
/// (orders' tests check that its order reads back as this). notifications reads it
/// for the inbox and the order mails. What a producer left out reads as empty: an
/// event is never refused for its data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OrderData {
    pub id: i64,
    pub user_id: i64,
    pub status: Option<OrderStatus>,
    pub items: Vec<OrderLineData>,
    pub total: Option<i64>,
    pub currency: Option<String>,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
    pub payment_status: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One line of an [`OrderData`]: the product's name and price when it was ordered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OrderLineData {
    pub product_id: i64,
    pub name: String,
    pub qty: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

/// The `data` of the `payment.*` events: the payment as payments' API shows it,
/// whole (payments' tests check that its payment reads back as this).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PaymentData {
    pub id: i64,
    #[serde(deserialize_with = "crate::http::request::optional_id")]
    pub order_id: Option<i64>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub status: Option<String>,
    pub method: Option<String>,
    pub card_last4: Option<String>,
    pub created_at: String,
}

impl Event {
    /// The event's `data` as `T`; `T`'s default when the data doesn't read as one
    /// (or is not an object: serde would read a list as a struct's fields in turn).
    pub fn data_as<T: serde::de::DeserializeOwned + Default>(&self) -> T {
        if !self.data.is_object() {
            return T::default();
        }
        T::deserialize(&self.data).unwrap_or_default()
    }
}

/// notifications' `POST /api/notifications/internal/events`: a batch of events from
/// one producer's outbox, stored once each by id however often it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<Event>,
}

/// The type, and aggregate type, of the outbox rows that are mails rather than
/// events: kit's outbox hands them to notifications' mail endpoint
/// ([`MailBatch`]), never to its events, so a mail's secret link reaches no inbox,
/// webhook or event list.
pub const MAIL: &str = "mail";

/// A mail as a service writes it: to whom, and its subject, plain-text and HTML parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailData {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A mail with its id (its outbox row's), stored once by it however often it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    #[serde(flatten)]
    pub data: MailData,
}

/// notifications' `POST /api/notifications/internal/mail`: mails from one producer's
/// outbox, queued for the mail API (or kept in the local mailbox) once each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailBatch {
    pub mails: Vec<Mail>,
}

/// What a producer's `POST /api/<service>/internal/outbox/flush` did: events
/// delivered and attempts failed in this flush, and what is left pending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlushReport {
    pub delivered: u64,
    pub failed: u64,
    pub pending: u64,
    pub pruned: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::parse_json;

    #[test]
    fn bodies_read_back_what_callers_send() {
        let reserve = ReserveBody {
            order_id: 7,
            items: vec![ReserveItemBody {
                product_id: 3,
                qty: 2,
            }],
        };
        let sent = serde_json::to_vec(&reserve).unwrap();
        assert_eq!(parse_json::<ReserveBody>(&sent).unwrap(), reserve);
        let paid = PaidBody { payment_id: 9 };
        let sent = serde_json::to_vec(&paid).unwrap();
        assert_eq!(parse_json::<PaidBody>(&sent).unwrap(), paid);
    }

    #[test]
    fn event_data_reads_back_what_producers_record() {
        let user = UserData {
            id: 7,
            email: "alice@example.com".into(),
            name: Some("Alice".into()),
        };
        let sent = serde_json::to_value(&user).unwrap();
        assert_eq!(serde_json::from_value::<UserData>(sent).unwrap(), user);

        let event = |data| Event {
            id: "e1".into(),
            kind: event_types::PAYMENT_SUCCEEDED.into(),
            version: 1,
            occurred_at: String::new(),
            source: "payments".into(),
            aggregate_type: "payment".into(),
            aggregate_id: 9,
            sequence: 1,
            user_id: Some(7),
            data,
        };
        let paid =
            event(serde_json::json!({"order_id": "42", "amount": 1998, "status": "succeeded"}));
        assert_eq!(
            paid.data_as::<PaymentData>(),
            PaymentData {
                order_id: Some(42),
                amount: Some(1998),
                status: Some("succeeded".into()),
                ..PaymentData::default()
            }
        );
        let odd = event(serde_json::json!([1, 2]));
        assert_eq!(odd.data_as::<OrderData>(), OrderData::default());
    }

    #[test]
    fn ids_may_be_strings_of_digits() {
        let body: OrderRefBody = parse_json(br#"{"order_id": "45"}"#).unwrap();
        assert_eq!(body.order_id, 45);
        assert!(parse_json::<OrderRefBody>(br#"{"order_id": 1, "x": 1}"#).is_err());
    }
}
