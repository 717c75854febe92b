//! Order rules: what a valid order request is, how it is priced from the catalog's
//! answers, the states an order moves through, and the order as the API shows it.

use serde::{Deserialize, Deserializer, Serialize};
use spinshop_kit::contracts::ProductView;
pub use spinshop_kit::idempotency::IdempotencyKey;
use spinshop_kit::idempotency::MAX_IDEMPOTENCY_KEY_CHARS;
use spinshop_kit::limits::MAX_QTY;
use spinshop_kit::{ApiError, ApiResult};

/// Lines per order: bounds the calls to products one request can cause.
pub const MAX_ITEMS: usize = 50;
/// Longest `shipping_address` and `notes`, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// `pending` -> `paid` -> `fulfilled`, or `cancelled` from `pending` or `paid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Paid,
    Fulfilled,
    Cancelled,
}

impl OrderStatus {
    const ALL: [OrderStatus; 4] = [
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Unpaid,
    Paid,
    Failed,
    Refunded,
}

impl PaymentStatus {
    const ALL: [PaymentStatus; 4] = [
        PaymentStatus::Unpaid,
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(raw: &str) -> Option<PaymentStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// One line of a placed order, with the name and price the product had then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: i64,
    pub name: String,
    pub qty: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub status: OrderStatus,
    pub items: Vec<OrderLine>,
    pub total: i64,
    pub currency: String,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
    pub payment_status: PaymentStatus,
    /// The payment that paid the order: a repeated `/paid` must name the same one.
    #[serde(skip)]
    pub payment_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl Order {
    /// Orders are visible to their owner and to admins only; to anyone else they
    /// don't exist (404, so ids can't be probed).
    pub fn visible_to(&self, user_id: i64, is_admin: bool) -> bool {
        is_admin || self.user_id == user_id
    }

    /// Whether the order ever held stock that was never committed: cancelled before
    /// it was paid, its reservation is released (again, if an earlier release failed).
    pub fn holds_uncommitted_stock(&self) -> bool {
        self.payment_id.is_none()
    }
}

/// `POST /orders` as the client sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderBody {
    pub items: Vec<ItemBody>,
    /// Clients may send the caller's own id; when present it must be the caller's.
    #[serde(default, deserialize_with = "optional_id")]
    pub user_id: Option<i64>,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    #[serde(deserialize_with = "spinshop_kit::request::id")]
    pub product_id: i64,
    pub qty: i64,
}

/// An id as a number or a string of digits, or absent/null.
fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "spinshop_kit::request::id")] i64);
    Ok(Option::<Id>::deserialize(deserializer)?.map(|Id(id)| id))
}

/// A requested product and quantity; also the shape products' `reserve` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestedItem {
    pub product_id: i64,
    pub qty: i64,
}

/// A valid order request: 1 to 50 distinct products, each 1 to 1000 units.
#[derive(Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub items: Vec<RequestedItem>,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
}

impl OrderRequest {
    /// Validates the body. A product listed twice is merged into one line (the
    /// quantities add up), since a client adding the same thing twice means "more".
    pub fn parse(body: PlaceOrderBody) -> ApiResult<OrderRequest> {
        if body.items.is_empty() || body.items.len() > MAX_ITEMS {
            return Err(ApiError::invalid_field(
                "items",
                format!("items must hold 1 to {MAX_ITEMS} entries"),
            ));
        }
        let mut items: Vec<RequestedItem> = Vec::with_capacity(body.items.len());
        for (index, item) in body.items.iter().enumerate() {
            if !(1..=MAX_QTY).contains(&item.qty) {
                return Err(ApiError::invalid_field(
                    &format!("items[{index}].qty"),
                    format!("qty must be between 1 and {MAX_QTY}"),
                ));
            }
            match items.iter_mut().find(|i| i.product_id == item.product_id) {
                Some(merged) => merged.qty += item.qty,
                None => items.push(RequestedItem {
                    product_id: item.product_id,
                    qty: item.qty,
                }),
            }
        }
        if let Some(item) = items.iter().find(|item| item.qty > MAX_QTY) {
            return Err(ApiError::invalid_field(
                "items",
                format!(
                    "qty must be between 1 and {MAX_QTY}; product {} adds up to {}",
                    item.product_id, item.qty
                ),
            ));
        }
        Ok(OrderRequest {
            items,
            shipping_address: parse_text("shipping_address", body.shipping_address)?,
            notes: parse_text("notes", body.notes)?,
        })
    }

    /// Whether `order` is what this request would place: a repeated Idempotency-Key
    /// must come with the same request, or it is a client bug worth reporting.
    pub fn matches(&self, order: &Order) -> bool {
        let mut wanted: Vec<(i64, i64)> = self
            .items
            .iter()
            .map(|item| (item.product_id, item.qty))
            .collect();
        let mut placed: Vec<(i64, i64)> = order
            .items
            .iter()
            .map(|line| (line.product_id, line.qty))
            .collect();
        wanted.sort_unstable();
        placed.sort_unstable();
        wanted == placed
            && self.shipping_address == order.shipping_address
            && self.notes == order.notes
    }
}

/// An optional free text: trimmed, blank means absent, at most 1000 characters.
fn parse_text(field: &str, raw: Option<String>) -> ApiResult<Option<String>> {
    let Some(text) = raw.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// The only order a user may place is their own; a `user_id` naming anyone else is
/// refused rather than ignored, so a confused client learns of it.
pub fn check_user_id(claimed: Option<i64>, caller: i64) -> ApiResult<()> {
    match claimed {
        Some(user_id) if user_id != caller => Err(ApiError::Forbidden(
            "user_id must be the caller's own id".into(),
        )),
        _ => Ok(()),
    }
}

/// Whose orders a listing shows (`None`: everyone's). Customers see their own, and
/// asking for someone else's is refused; admins see all, or one user's on request.
pub fn list_scope(caller: i64, is_admin: bool, requested: Option<i64>) -> ApiResult<Option<i64>> {
    match requested {
        _ if is_admin => Ok(requested),
        Some(user_id) if user_id != caller => Err(ApiError::Forbidden(
            "only admins may list another user's orders".into(),
        )),
        _ => Ok(Some(caller)),
    }
}

/// The 400 for an order's idempotency key out of bounds (the key is optional here).
pub fn invalid_idempotency_key() -> ApiError {
    ApiError::invalid_field(
        "Idempotency-Key",
        format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
    )
}

/// The lines, total and currency of an order about to be placed.
#[derive(Debug, PartialEq, Eq)]
pub struct PricedOrder {
    pub lines: Vec<OrderLine>,
    pub total: i64,
    pub currency: String,
}

/// Prices `items` with `products` (the same products, in the same order). One order
/// is paid in one currency, so mixing them is refused; so is a total beyond 64 bits.
pub fn price(items: &[RequestedItem], products: Vec<ProductView>) -> ApiResult<PricedOrder> {
    let too_large = || ApiError::Unprocessable("the order total is too large".into());
    let mut lines = Vec::with_capacity(items.len());
    let mut total: i64 = 0;
    let mut currency: Option<(String, i64)> = None;
    for (item, product) in items.iter().zip(products) {
        match &currency {
            None => currency = Some((product.currency.clone(), product.id)),
            Some((first, first_id)) if *first != product.currency => {
                return Err(ApiError::Unprocessable(format!(
                    "an order is paid in one currency: product {first_id} is priced in {first}, \
                     product {} in {}",
                    product.id, product.currency
                )));
            }
            Some(_) => {}
        }
        let line_total = product.price.checked_mul(item.qty).ok_or_else(too_large)?;
        total = total.checked_add(line_total).ok_or_else(too_large)?;
        lines.push(OrderLine {
            product_id: item.product_id,
            name: product.name,
            qty: item.qty,
            unit_price: product.price,
            line_total,
        });
    }
    let (currency, _) = currency.ok_or_else(|| ApiError::internal("pricing an empty order"))?;
    Ok(PricedOrder {
        lines,
        total,
        currency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinshop_kit::request::parse_json;

    fn body(json: &str) -> PlaceOrderBody {
        parse_json(json.as_bytes()).unwrap()
    }

    fn product(id: i64, price: i64, currency: &str) -> ProductView {
        ProductView {
            id,
            name: format!("product {id}"),
            price,
            currency: currency.into(),
            available: true,
        }
    }

    fn order_with(items: &[(i64, i64)], shipping_address: Option<&str>) -> Order {
        Order {
            id: 1,
            user_id: 1,
            status: OrderStatus::Pending,
            items: items
                .iter()
                .map(|&(product_id, qty)| OrderLine {
                    product_id,
                    name: "x".into(),
                    qty,
                    unit_price: 1,
                    line_total: qty,
                })
                .collect(),
            total: 0,
            currency: "USD".into(),
            shipping_address: shipping_address.map(str::to_string),
            notes: None,
            payment_status: PaymentStatus::Unpaid,
            payment_id: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_valid_request_is_parsed_and_duplicates_are_merged() {
        let request = OrderRequest::parse(body(
            r#"{"items":[{"product_id":3,"qty":2},{"product_id":"5","qty":1},{"product_id":3,"qty":4}],
                "user_id":"7","shipping_address":"  1 Main St  ","notes":"   "}"#,
        ))
        .unwrap();
        assert_eq!(
            request.items,
            [
                RequestedItem {
                    product_id: 3,
                    qty: 6
                },
                RequestedItem {
                    product_id: 5,
                    qty: 1
                }
            ]
        );
        assert_eq!(request.shipping_address.as_deref(), Some("1 Main St"));
        assert_eq!(request.notes, None);
    }

    #[test]
    fn user_id_may_be_a_number_a_string_null_or_absent() {
        assert_eq!(body(r#"{"items":[],"user_id":7}"#).user_id, Some(7));
        assert_eq!(body(r#"{"items":[],"user_id":"7"}"#).user_id, Some(7));
        assert_eq!(body(r#"{"items":[],"user_id":null}"#).user_id, None);
        assert_eq!(body(r#"{"items":[]}"#).user_id, None);
        assert!(parse_json::<PlaceOrderBody>(br#"{"items":[],"user_id":"me"}"#).is_err());
    }

    #[test]
    fn another_users_id_is_forbidden() {
        assert!(check_user_id(None, 7).is_ok());
        assert!(check_user_id(Some(7), 7).is_ok());
        assert_eq!(check_user_id(Some(8), 7).unwrap_err().status(), 403);
    }

    #[test]
    fn invalid_requests_name_the_field_and_the_rule() {
        let cases = [
            (r#"{"items":[]}"#, "items must hold 1 to 50 entries"),
            (
                r#"{"items":[{"product_id":1,"qty":0}]}"#,
                "qty must be between 1 and 1000",
            ),
            (
                r#"{"items":[{"product_id":1,"qty":1001}]}"#,
                "qty must be between 1 and 1000",
            ),
            (
                r#"{"items":[{"product_id":1,"qty":600},{"product_id":1,"qty":600}]}"#,
                "qty must be between 1 and 1000; product 1 adds up to 1200",
            ),
        ];
        for (json, message) in cases {
            let err = OrderRequest::parse(body(json)).unwrap_err();
            assert_eq!(err.status(), 400, "{json}");
            assert_eq!(err.to_string(), message, "{json}");
        }
        let err = OrderRequest::parse(body(r#"{"items":[{"product_id":1,"qty":0}]}"#)).unwrap_err();
        assert_eq!(err.body()["error"]["details"]["field"], "items[0].qty");

        let many: Vec<String> = (1..=51)
            .map(|id| format!(r#"{{"product_id":{id},"qty":1}}"#))
            .collect();
        let json = format!(r#"{{"items":[{}]}}"#, many.join(","));
        assert_eq!(OrderRequest::parse(body(&json)).unwrap_err().status(), 400);

        let long = "a".repeat(MAX_TEXT_CHARS + 1);
        let json = format!(r#"{{"items":[{{"product_id":1,"qty":1}}],"notes":"{long}"}}"#);
        let err = OrderRequest::parse(body(&json)).unwrap_err();
        assert_eq!(err.to_string(), "notes must be at most 1000 characters");
    }

    #[test]
    fn malformed_items_are_refused_while_parsing() {
        for json in [
            r#"{"items":[{"product_id":0,"qty":1}]}"#,
            r#"{"items":[{"product_id":-1,"qty":1}]}"#,
            r#"{"items":[{"product_id":1,"qty":"1"}]}"#,
            r#"{"items":[{"product_id":1}]}"#,
            r#"{"items":[{"product_id":1,"qty":1,"price":0}]}"#,
            r#"{"items":[],"total":0}"#,
        ] {
            let err = parse_json::<PlaceOrderBody>(json.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{json} should be refused"));
            assert_eq!(err.status(), 400, "{json}");
        }
    }

    #[test]
    fn pricing_copies_names_and_prices_and_sums_the_lines() {
        let items = [
            RequestedItem {
                product_id: 1,
                qty: 2,
            },
            RequestedItem {
                product_id: 2,
                qty: 3,
            },
        ];
        let priced = price(&items, vec![product(1, 999, "USD"), product(2, 100, "USD")]).unwrap();
        assert_eq!(priced.total, 2 * 999 + 3 * 100);
        assert_eq!(priced.currency, "USD");
        assert_eq!(
            priced.lines[0],
            OrderLine {
                product_id: 1,
                name: "product 1".into(),
                qty: 2,
                unit_price: 999,
                line_total: 1998
            }
        );
    }

    #[test]
    fn pricing_refuses_mixed_currencies_and_overflow() {
        let items = [
            RequestedItem {
                product_id: 1,
                qty: 1,
            },
            RequestedItem {
                product_id: 2,
                qty: 1,
            },
        ];
        let err = price(&items, vec![product(1, 1, "USD"), product(2, 1, "EUR")]).unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.to_string().contains("product 2 in EUR"), "{err}");

        assert!(
            price(&items[..1], vec![product(1, i64::MAX, "USD")]).is_ok(),
            "one unit at i64::MAX still fits"
        );
        let err = price(
            &[RequestedItem {
                product_id: 1,
                qty: 2,
            }],
            vec![product(1, i64::MAX, "USD")],
        )
        .unwrap_err();
        assert_eq!(err.status(), 422);
        let err = price(
            &items,
            vec![product(1, i64::MAX, "USD"), product(2, 1, "USD")],
        )
        .unwrap_err();
        assert_eq!(err.status(), 422);
    }

    #[test]
    fn a_repeated_key_must_come_with_the_same_request() {
        let request = OrderRequest::parse(body(
            r#"{"items":[{"product_id":2,"qty":1},{"product_id":1,"qty":3}],"shipping_address":"x"}"#,
        ))
        .unwrap();
        assert!(request.matches(&order_with(&[(1, 3), (2, 1)], Some("x"))));
        assert!(!request.matches(&order_with(&[(1, 3), (2, 2)], Some("x"))));
        assert!(!request.matches(&order_with(&[(1, 3)], Some("x"))));
        assert!(!request.matches(&order_with(&[(1, 3), (2, 1)], None)));
    }

    #[test]
    fn orders_are_visible_to_their_owner_and_admins_only() {
        let order = order_with(&[(1, 1)], None);
        assert!(order.visible_to(1, false));
        assert!(order.visible_to(2, true));
        assert!(!order.visible_to(2, false));
    }

    #[test]
    fn listings_show_customers_their_own_orders_only() {
        assert_eq!(list_scope(7, false, None).unwrap(), Some(7));
        assert_eq!(list_scope(7, false, Some(7)).unwrap(), Some(7));
        assert_eq!(list_scope(7, false, Some(8)).unwrap_err().status(), 403);
        assert_eq!(list_scope(1, true, None).unwrap(), None);
        assert_eq!(list_scope(1, true, Some(8)).unwrap(), Some(8));
    }

    #[test]
    fn statuses_round_trip_through_their_stored_and_json_names() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(OrderStatus::parse("PAID"), None);
    }
}
