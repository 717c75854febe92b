//! The order rules, exercised through what the domain offers the handlers.

use spinshop_kit::ApiResult;
use spinshop_kit::contracts::ReservedLine;

use super::*;

fn items(pairs: &[(i64, i64)]) -> Vec<RequestedItem> {
    pairs
        .iter()
        .map(|&(product_id, qty)| RequestedItem { product_id, qty })
        .collect()
}

fn request(pairs: &[(i64, i64)]) -> ApiResult<OrderRequest> {
    OrderRequest::parse(&items(pairs), None, None)
}

/// A line as products reserves it (the quantity priced is the request's).
fn product(id: i64, price: i64, currency: &str) -> ReservedLine {
    ReservedLine {
        product_id: id,
        qty: 1,
        name: format!("product {id}"),
        price,
        currency: currency.into(),
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
    let request = OrderRequest::parse(
        &items(&[(3, 2), (5, 1), (3, 4)]),
        Some("  1 Main St  ".into()),
        Some("   ".into()),
    )
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
fn another_users_id_is_forbidden() {
    assert!(check_user_id(None, 7).is_ok());
    assert!(check_user_id(Some(7), 7).is_ok());
    assert_eq!(check_user_id(Some(8), 7).unwrap_err().status(), 403);
}

#[test]
fn invalid_requests_name_the_field_and_the_rule() {
    let cases: [(&[(i64, i64)], &str); 4] = [
        (&[], "items must hold 1 to 50 entries"),
        (&[(1, 0)], "qty must be between 1 and 1000"),
        (&[(1, 1001)], "qty must be between 1 and 1000"),
        (
            &[(1, 600), (1, 600)],
            "qty must be between 1 and 1000; product 1 adds up to 1200",
        ),
    ];
    for (pairs, message) in cases {
        let err = request(pairs).unwrap_err();
        assert_eq!(err.status(), 400, "{pairs:?}");
        assert_eq!(err.to_string(), message, "{pairs:?}");
    }
    let err = request(&[(1, 0)]).unwrap_err();
    assert_eq!(err.body()["error"]["details"]["field"], "items[0].qty");

    let many: Vec<(i64, i64)> = (1..=51).map(|id| (id, 1)).collect();
    assert_eq!(request(&many).unwrap_err().status(), 400);

    let long = "a".repeat(MAX_TEXT_CHARS + 1);
    let err = OrderRequest::parse(&items(&[(1, 1)]), None, Some(long)).unwrap_err();
    assert_eq!(err.to_string(), "notes must be at most 1000 characters");
}

#[test]
fn pricing_copies_names_and_prices_in_request_order_and_sums_the_lines() {
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
    let priced = price(&items, &[product(2, 100, "USD"), product(1, 999, "USD")]).unwrap();
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
    let err = price(&items, &[product(1, 1, "USD"), product(2, 1, "EUR")]).unwrap_err();
    assert_eq!(err.status(), 422);
    assert!(err.to_string().contains("product 2 in EUR"), "{err}");

    assert!(
        price(&items[..1], &[product(1, i64::MAX, "USD")]).is_ok(),
        "one unit at i64::MAX still fits"
    );
    let err = price(
        &[RequestedItem {
            product_id: 1,
            qty: 2,
        }],
        &[product(1, i64::MAX, "USD")],
    )
    .unwrap_err();
    assert_eq!(err.status(), 422);
    let err = price(&items, &[product(1, i64::MAX, "USD"), product(2, 1, "USD")]).unwrap_err();
    assert_eq!(err.status(), 422);
}

#[test]
fn a_repeated_key_must_come_with_the_same_request() {
    let request = OrderRequest::parse(&items(&[(2, 1), (1, 3)]), Some("x".into()), None).unwrap();
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

#[test]
fn an_order_event_reads_back_as_the_data_notifications_reads() {
    let order = Order {
        total: 1998,
        created_at: "2026-12-07T10:00:00.000000Z".into(),
        updated_at: "2026-12-07T10:00:01.000000Z".into(),
        ..order_with(&[(3, 2)], Some("1 Main St"))
    };
    let recorded = serde_json::to_value(&order).unwrap();
    assert_eq!(
        serde_json::from_value::<spinshop_kit::contracts::OrderData>(recorded).unwrap(),
        spinshop_kit::contracts::OrderData {
            id: 1,
            user_id: 1,
            status: Some(OrderStatus::Pending),
            items: vec![spinshop_kit::contracts::OrderLineData {
                product_id: 3,
                name: "x".into(),
                qty: 2,
                unit_price: 1,
                line_total: 2,
            }],
            total: Some(1998),
            currency: Some("USD".into()),
            shipping_address: Some("1 Main St".into()),
            notes: None,
            payment_status: Some("unpaid".into()),
            created_at: "2026-12-07T10:00:00.000000Z".into(),
            updated_at: "2026-12-07T10:00:01.000000Z".into(),
        }
    );
}
