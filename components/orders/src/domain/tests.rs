//! The order rules, exercised through what the domain offers the handlers.

use spinshop_kit::contracts::ProductView;

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
