//! A cart: the quantities it holds, how it is stored, and how it is priced from the
//! catalog as it is now.

use serde::Serialize;
use spinshop_kit::ApiError;
use spinshop_kit::ApiResult;
use spinshop_kit::contracts::ProductView;
use spinshop_kit::limits::MAX_QTY;

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

/// An item as the cart stores it (and asks orders for): no price, which is read
/// fresh each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// Prices the cart at the catalog's current prices, as `lookup` answers them (read
/// from products beforehand); it answers `None` for a product that no longer exists.
/// Such a line stays in the cart, shown with `available: false`, no name or price
/// and a zero line total, and is left out of the total: silently dropping it would
/// hide why a checkout fails, and removing it is the user's call. The catalog prices
/// everything in one currency; the cart shows its lines' currency.
pub fn price_cart(
    items: &[StoredItem],
    mut lookup: impl FnMut(i64) -> Option<ProductView>,
) -> CartView {
    let mut lines = Vec::with_capacity(items.len());
    let mut currency = None;
    for item in items {
        let line = match lookup(item.product_id) {
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
    CartView {
        total: lines.iter().map(|line| line.line_total).sum(),
        items: lines,
        currency: currency.unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
    }
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
        let cart = price_cart(&items, |id| match id {
            1 => Some(product("Keyboard", 999, true)),
            2 => Some(product("Mouse", 500, false)),
            _ => None,
        });
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
        let cart = price_cart(&[], |_| unreachable!());
        assert_eq!((cart.total, cart.currency.as_str()), (0, "USD"));
        assert!(cart.items.is_empty());
    }
}
