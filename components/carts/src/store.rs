//! Every SQL statement of the carts service, and row decoding.
//!
//! Every change to a cart runs in a transaction that first bumps the cart's version
//! ([`touch_cart`]); that also locks the cart row, so changes to one cart happen one
//! at a time and checks like the item limit can't race.

use spinshop_kit::limits::MAX_QTY;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiResult};

use crate::domain::{MAX_ITEMS, Quantity, StoredCart, StoredItem};

/// The cart, or `None` for a user who never had one (an empty cart to them).
pub async fn find_cart(db: &Db, user_id: i64) -> ApiResult<Option<StoredCart>> {
    let rows = db
        .query(
            "SELECT c.version, i.product_id, i.qty \
             FROM carts.carts c LEFT JOIN carts.cart_items i ON i.user_id = c.user_id \
             WHERE c.user_id = $1 ORDER BY i.created_at, i.product_id",
            &[user_id.into()],
        )
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let version = first.get("version")?;
    let mut items = Vec::new();
    for row in rows.iter() {
        let product_id: Option<i64> = row.get("product_id")?;
        let qty: Option<i32> = row.get("qty")?;
        if let (Some(product_id), Some(qty)) = (product_id, qty) {
            items.push(StoredItem {
                product_id,
                qty: qty.into(),
            });
        }
    }
    Ok(Some(StoredCart { version, items }))
}

/// Creates the cart on first use, or bumps its version; locks the cart row until
/// the transaction ends.
pub async fn touch_cart(db: &Db, user_id: i64) -> ApiResult<()> {
    db.execute(
        "INSERT INTO carts.carts (user_id) VALUES ($1) \
         ON CONFLICT (user_id) DO UPDATE SET version = carts.version + 1, updated_at = now()",
        &[user_id.into()],
    )
    .await?;
    Ok(())
}

/// Adds `qty` units, to an existing line if there is one. The qty CHECK refuses a
/// line beyond [`MAX_QTY`]; the item limit is checked after the insert, inside the
/// caller's transaction, so a refused add leaves nothing behind.
pub async fn add_item(db: &Db, user_id: i64, product_id: i64, qty: Quantity) -> ApiResult<()> {
    let qty = i32::try_from(qty.get()).map_err(|_| ApiError::internal("qty out of range"))?;
    db.execute(
        "INSERT INTO carts.cart_items (user_id, product_id, qty) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, product_id) \
         DO UPDATE SET qty = cart_items.qty + EXCLUDED.qty, updated_at = now()",
        &[user_id.into(), product_id.into(), qty.into()],
    )
    .await
    .map_err(|err| {
        if err.violates("cart_items_qty_check") {
            ApiError::invalid_field(
                "qty",
                format!("a cart holds at most {MAX_QTY} units of a product"),
            )
        } else {
            err.into()
        }
    })?;
    let count: i64 = db
        .query(
            "SELECT count(*) AS items FROM carts.cart_items WHERE user_id = $1",
            &[user_id.into()],
        )
        .await?
        .first()
        .map(|row| row.get("items"))
        .transpose()?
        .unwrap_or(0);
    if count > MAX_ITEMS {
        return Err(ApiError::validation(format!(
            "a cart holds at most {MAX_ITEMS} different products"
        )));
    }
    Ok(())
}

/// Sets a line's quantity; false when the product is not in the cart.
pub async fn set_item_qty(
    db: &Db,
    user_id: i64,
    product_id: i64,
    qty: Quantity,
) -> ApiResult<bool> {
    let qty = i32::try_from(qty.get()).map_err(|_| ApiError::internal("qty out of range"))?;
    let updated = db
        .execute(
            "UPDATE carts.cart_items SET qty = $3, updated_at = now() \
             WHERE user_id = $1 AND product_id = $2",
            &[user_id.into(), product_id.into(), qty.into()],
        )
        .await?;
    Ok(updated > 0)
}

/// Removes a line; false when the product is not in the cart.
pub async fn remove_item(db: &Db, user_id: i64, product_id: i64) -> ApiResult<bool> {
    let removed = db
        .execute(
            "DELETE FROM carts.cart_items WHERE user_id = $1 AND product_id = $2",
            &[user_id.into(), product_id.into()],
        )
        .await?;
    Ok(removed > 0)
}

pub async fn clear_cart(db: &Db, user_id: i64) -> ApiResult<()> {
    db.execute(
        "DELETE FROM carts.cart_items WHERE user_id = $1",
        &[user_id.into()],
    )
    .await?;
    Ok(())
}

/// Removes the lines an order was placed for, exactly as they were ordered: a line
/// added or changed while the checkout was under way stays in the cart.
pub async fn remove_ordered(db: &Db, user_id: i64, ordered: &[StoredItem]) -> ApiResult<()> {
    for item in ordered {
        let qty = i32::try_from(item.qty).map_err(|_| ApiError::internal("qty out of range"))?;
        db.execute(
            "DELETE FROM carts.cart_items WHERE user_id = $1 AND product_id = $2 AND qty = $3",
            &[user_id.into(), item.product_id.into(), qty.into()],
        )
        .await?;
    }
    Ok(())
}
