//! HTTP handlers: parse the request, do the work, respond. Each takes the `Caller`
//! the route table's check gives it (`lib.rs`).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use spinshop_kit::auth::Caller;
use spinshop_kit::http::request::path_id;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult, join_all};

use crate::domain::{Quantity, QuantityChange, checkout_key, price_cart};
use crate::siblings::{OrderToPlace, Siblings};
use crate::store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddItemBody {
    #[serde(deserialize_with = "spinshop_kit::http::request::id")]
    product_id: i64,
    qty: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchItemBody {
    qty: i64,
}

/// `POST /cart/checkout` may pass these on to the order; orders validates them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckoutBody {
    shipping_address: Option<Value>,
    notes: Option<Value>,
}

/// The caller's cart at current catalog prices. A user who never used their cart
/// sees an empty one; it is stored on its first change, so reading writes nothing.
pub async fn get_cart(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    cart_response(req, caller.user_id).await
}

/// Adds `qty` units of a product that exists now, or more of one already in the cart.
pub async fn add_item(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let body: AddItemBody = req.json()?;
    let qty = Quantity::parse(body.qty)?;
    Siblings::new(req).existing_product(body.product_id).await?;
    Db::connect(req)
        .await?
        .transaction(async |db| {
            store::touch_cart(db, caller.user_id).await?;
            store::add_item(db, caller.user_id, body.product_id, qty).await
        })
        .await?;
    cart_response(req, caller.user_id).await
}

/// Sets a line's quantity; 0 removes it.
pub async fn update_item(
    req: &ApiRequest,
    product_id: &str,
    caller: Caller,
) -> ApiResult<ApiResponse> {
    let product_id = parse_product_id(product_id)?;
    let change = QuantityChange::parse(req.json::<PatchItemBody>()?.qty)?;
    Db::connect(req)
        .await?
        .transaction(async |db| {
            store::touch_cart(db, caller.user_id).await?;
            let found = match change {
                QuantityChange::Set(qty) => {
                    store::set_item_qty(db, caller.user_id, product_id, qty).await?
                }
                QuantityChange::Remove => {
                    store::remove_item(db, caller.user_id, product_id).await?
                }
            };
            if found {
                Ok(())
            } else {
                Err(not_in_cart(product_id))
            }
        })
        .await?;
    cart_response(req, caller.user_id).await
}

pub async fn remove_item(
    req: &ApiRequest,
    product_id: &str,
    caller: Caller,
) -> ApiResult<ApiResponse> {
    let product_id = parse_product_id(product_id)?;
    Db::connect(req)
        .await?
        .transaction(async |db| {
            store::touch_cart(db, caller.user_id).await?;
            if store::remove_item(db, caller.user_id, product_id).await? {
                Ok(())
            } else {
                Err(not_in_cart(product_id))
            }
        })
        .await?;
    Ok(ApiResponse::no_content())
}

pub async fn clear_cart(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    Db::connect(req)
        .await?
        .transaction(async |db| {
            store::touch_cart(db, caller.user_id).await?;
            store::clear_cart(db, caller.user_id).await
        })
        .await?;
    Ok(ApiResponse::no_content())
}

/// Places an order with the cart's items through orders, then removes what was
/// ordered. The order's idempotency key comes from the cart's version and items, so
/// a checkout retried after any failure (orders' answer lost, the cart not emptied)
/// gets the same order back instead of a second one. When orders refuses (409 stock,
/// 503), the cart stays as it was.
pub async fn checkout(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let extras = if req.body().iter().all(u8::is_ascii_whitespace) {
        CheckoutBody::default()
    } else {
        req.json()?
    };
    let cart = store::find_cart(&Db::connect(req).await?, caller.user_id)
        .await?
        .filter(|cart| !cart.items.is_empty())
        .ok_or_else(|| ApiError::validation("the cart is empty"))?;
    let order = OrderToPlace {
        items: &cart.items,
        shipping_address: extras.shipping_address,
        notes: extras.notes,
    };
    let order = Siblings::new(req)
        .place_order(&order, &checkout_key(caller.user_id, &cart))
        .await?;
    Db::connect(req)
        .await?
        .transaction(async |db| {
            store::touch_cart(db, caller.user_id).await?;
            store::remove_ordered(db, caller.user_id, &cart.items).await
        })
        .await?;
    ApiResponse::created(&order)
}

/// The cart priced at products, asked about all its products at once. Its connection
/// is closed before products is asked: no connection is held while a sibling answers
/// (see `kit::pg::db`).
async fn cart_response(req: &ApiRequest, user_id: i64) -> ApiResult<ApiResponse> {
    let items = store::find_cart(&Db::connect(req).await?, user_id)
        .await?
        .map(|cart| cart.items)
        .unwrap_or_default();
    let siblings = Siblings::new(req);
    let looked_up = join_all(items.iter().map(|item| siblings.product(item.product_id))).await;
    let mut catalog = HashMap::new();
    for (item, product) in items.iter().zip(looked_up) {
        if let Some(product) = product? {
            catalog.insert(item.product_id, product);
        }
    }
    ApiResponse::ok(&price_cart(&items, |id| catalog.remove(&id)))
}

/// A path product id; anything that is not a positive integer is not in the cart.
fn parse_product_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || not_in_cart(raw))
}

fn not_in_cart(product_id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("product {product_id} is not in the cart"))
}
