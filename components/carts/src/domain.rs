//! Cart rules: quantities, the request bodies, how a cart is priced from the current
//! catalog, and the idempotency key a checkout places its order under.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spinshop_kit::contracts::ProductView;
use spinshop_kit::digest::sha256_hex;
use spinshop_kit::limits::MAX_QTY;
use spinshop_kit::request::path_id;
use spinshop_kit::{ApiError, ApiResult};

/// The most distinct products in one cart: showing a cart reads each one's price.
pub const MAX_ITEMS: i64 = 100;
/// The currency of an empty cart, and the catalog's default.
const DEFAULT_CURRENCY: &str = "USD";

/// A number of units: 1 to [`MAX_QTY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(raw: i64) -> ApiResult<Quantity> {
        if (1..=MAX_QTY).contains(&raw) {
            Ok(Quantity(raw))
        } else {
            Err(ApiError::invalid_field(
                "qty",
                format!("qty must be between 1 and {MAX_QTY}"),
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// What `PATCH /cart/items/{id}` asks for: a new quantity, or 0 to remove the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityChange {
    Set(Quantity),
    Remove,
}

impl QuantityChange {
    pub fn parse(raw: i64) -> ApiResult<QuantityChange> {
        if raw == 0 {
            return Ok(QuantityChange::Remove);
        }
        Quantity::parse(raw).map(QuantityChange::Set).map_err(|_| {
            ApiError::invalid_field("qty", format!("qty must be between 0 and {MAX_QTY}"))
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddItemBody {
    #[serde(deserialize_with = "spinshop_kit::request::id")]
    pub product_id: i64,
    pub qty: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchItemBody {
    pub qty: i64,
}

/// `POST /cart/checkout` may pass these on to the order; orders validates them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    pub shipping_address: Option<Value>,
    pub notes: Option<Value>,
}

/// An item as the cart stores it: no price, which is read fresh each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredItem {
    pub product_id: i64,
    pub qty: i64,
}

/// The cart's items and the version that changes with every change to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCart {
    pub version: i64,
    pub items: Vec<StoredItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartLine {
    pub product_id: i64,
    /// `None` when the product no longer exists.
    pub name: Option<String>,
    pub qty: i64,
    pub unit_price: Option<i64>,
    pub line_total: i64,
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartView {
    pub items: Vec<CartLine>,
    pub total: i64,
    pub currency: String,
}

/// Prices the cart at the catalog's current prices; `lookup` answers `None` for a
/// product that no longer exists. Such a line stays in the cart, shown with
/// `available: false`, no name or price and a zero line total, and is left out of
/// the total: silently dropping it would hide why a checkout fails, and removing
/// it is the user's call. The catalog prices everything in one currency; the cart
/// shows its lines' currency.
pub fn price_cart(
    items: &[StoredItem],
    mut lookup: impl FnMut(i64) -> ApiResult<Option<ProductView>>,
) -> ApiResult<CartView> {
    let mut lines = Vec::with_capacity(items.len());
    let mut currency = None;
    for item in items {
        let line = match lookup(item.product_id)? {
            Some(product) => {
                currency.get_or_insert(product.currency);
                CartLine {
                    product_id: item.product_id,
                    name: Some(product.name),
                    qty: item.qty,
                    unit_price: Some(product.price),
                    line_total: product.price.saturating_mul(item.qty),
                    available: product.available,
                }
            }
            None => CartLine {
                product_id: item.product_id,
                name: None,
                qty: item.qty,
                unit_price: None,
                line_total: 0,
                available: false,
            },
        };
        lines.push(line);
    }
    Ok(CartView {
        total: lines.iter().map(|line| line.line_total).sum(),
        items: lines,
        currency: currency.unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
    })
}

/// The `Idempotency-Key` a checkout places its order under. It names the user,
/// the cart's version and a digest of the items, so retrying the checkout of an
/// unchanged cart replays the same order at orders instead of placing a second one,
/// while any change to the cart (including the emptying after a successful
/// checkout) makes the next checkout a new order.
pub fn checkout_key(user_id: i64, cart: &StoredCart) -> String {
    let items: String = cart
        .items
        .iter()
        .map(|item| format!("{}x{};", item.product_id, item.qty))
        .collect();
    let digest = sha256_hex(&[items.as_bytes()]);
    format!("cart-{user_id}-v{}-{}", cart.version, &digest[..16])
}

/// The order orders is asked to place for the cart.
pub fn order_request(items: &[StoredItem], extras: CheckoutBody) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|item| json!({ "product_id": item.product_id, "qty": item.qty }))
        .collect();
    let mut body = json!({ "items": items });
    if let Some(address) = extras.shipping_address {
        body["shipping_address"] = address;
    }
    if let Some(notes) = extras.notes {
        body["notes"] = notes;
    }
    body
}

/// A path product id; anything that is not a positive integer is not in the cart.
pub fn parse_product_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || not_in_cart(raw))
}

pub fn not_in_cart(product_id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("product {product_id} is not in the cart"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(name: &str, price: i64, available: bool) -> ProductView {
        ProductView {
            id: 1,
            name: name.into(),
            price,
            currency: "USD".into(),
            available,
        }
    }

    #[test]
    fn quantities_are_bounded_and_zero_removes() {
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert_eq!(Quantity::parse(1000).unwrap().get(), 1000);
        for bad in [0, -1, 1001] {
            assert_eq!(Quantity::parse(bad).unwrap_err().status(), 400);
        }
        assert_eq!(QuantityChange::parse(0).unwrap(), QuantityChange::Remove);
        assert_eq!(
            QuantityChange::parse(3).unwrap(),
            QuantityChange::Set(Quantity(3))
        );
        assert!(QuantityChange::parse(-1).is_err() && QuantityChange::parse(1001).is_err());
    }

    #[test]
    fn a_cart_is_priced_now_and_a_vanished_product_is_shown_unavailable() {
        let items = [
            StoredItem {
                product_id: 1,
                qty: 2,
            },
            StoredItem {
                product_id: 2,
                qty: 1,
            },
            StoredItem {
                product_id: 3,
                qty: 5,
            },
        ];
        let cart = price_cart(&items, |id| {
            Ok(match id {
                1 => Some(product("Keyboard", 999, true)),
                2 => Some(product("Mouse", 500, false)),
                _ => None,
            })
        })
        .unwrap();
        assert_eq!(cart.total, 2 * 999 + 500);
        assert_eq!(cart.currency, "USD");
        assert_eq!(cart.items[0].line_total, 1998);
        assert!(!cart.items[1].available);
        assert_eq!(
            cart.items[2],
            CartLine {
                product_id: 3,
                name: None,
                qty: 5,
                unit_price: None,
                line_total: 0,
                available: false,
            }
        );
    }

    #[test]
    fn an_empty_cart_costs_nothing() {
        let cart = price_cart(&[], |_| unreachable!()).unwrap();
        assert_eq!((cart.total, cart.currency.as_str()), (0, "USD"));
        assert!(cart.items.is_empty());
    }

    #[test]
    fn checkout_keys_change_with_the_cart_and_only_with_it() {
        let cart = |version, qty| StoredCart {
            version,
            items: vec![StoredItem { product_id: 7, qty }],
        };
        let key = checkout_key(3, &cart(4, 2));
        assert_eq!(key, checkout_key(3, &cart(4, 2)));
        assert!(key.starts_with("cart-3-v4-") && key.len() <= 200, "{key}");
        assert_ne!(key, checkout_key(3, &cart(5, 2)));
        assert_ne!(key, checkout_key(3, &cart(4, 3)));
        assert_ne!(key, checkout_key(4, &cart(4, 2)));
    }

    #[test]
    fn the_order_request_carries_the_items_and_the_extras_given() {
        let items = [StoredItem {
            product_id: 7,
            qty: 2,
        }];
        assert_eq!(
            order_request(&items, CheckoutBody::default()),
            json!({"items": [{"product_id": 7, "qty": 2}]})
        );
        let extras = CheckoutBody {
            shipping_address: Some(json!("1 Main St")),
            notes: None,
        };
        assert_eq!(
            order_request(&items, extras)["shipping_address"],
            "1 Main St"
        );
    }
}
