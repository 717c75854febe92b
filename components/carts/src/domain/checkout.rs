//! Checking a cart out: the idempotency key its order is placed under.

use spinshop_kit::digest::sha256_hex;

use super::StoredCart;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StoredItem;

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
}
