//! Every call carts makes: products for current prices, orders to place the order.

use serde::Serialize;
use serde_json::{Value, json};
use spinshop_kit::client::{CallContext, Method, call, call_with_headers};
use spinshop_kit::contracts::ProductView;
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

use crate::SERVICE;
use crate::domain::StoredItem;

/// The order orders is asked to place for a cart: its items, and what the checkout
/// passed on as it came (orders validates it).
#[derive(Serialize)]
pub struct OrderToPlace<'a> {
    pub items: &'a [StoredItem],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Value>,
}

pub struct Siblings<'a> {
    request: &'a ApiRequest,
}

impl<'a> Siblings<'a> {
    /// Calls made while serving `request` (its id travels with them).
    pub fn new(request: &'a ApiRequest) -> Siblings<'a> {
        Siblings { request }
    }

    /// The product as the catalog shows it now; `None` when it no longer exists.
    pub async fn product(&self, id: i64) -> ApiResult<Option<ProductView>> {
        let context = CallContext::own(SERVICE, self.request);
        let reply = call(
            &context,
            "products",
            Method::Get,
            &format!("/api/products/products/{id}"),
            None,
        )
        .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        reply.into_json("products").map(Some)
    }

    /// Like [`Siblings::product`], but an unknown product is a 404 for our caller.
    pub async fn existing_product(&self, id: i64) -> ApiResult<ProductView> {
        self.product(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no product with id {id}")))
    }

    /// Places the order as the user (their bearer is forwarded) under `idempotency_key`.
    /// Orders' refusals (409 `insufficient_stock`, 404 unknown product) are relayed.
    pub async fn place_order(
        &self,
        order: &OrderToPlace<'_>,
        idempotency_key: &str,
    ) -> ApiResult<Value> {
        let context = CallContext::for_caller(SERVICE, self.request);
        call_with_headers(
            &context,
            "orders",
            Method::Post,
            "/api/orders/orders",
            Some(&json!(order)),
            &[("idempotency-key", idempotency_key)],
        )
        .await?
        .into_json("orders")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_request_carries_the_items_and_the_extras_given() {
        let items = [StoredItem {
            product_id: 7,
            qty: 2,
        }];
        let bare = OrderToPlace {
            items: &items,
            shipping_address: None,
            notes: None,
        };
        assert_eq!(
            serde_json::to_value(&bare).unwrap(),
            json!({"items": [{"product_id": 7, "qty": 2}]})
        );
        let with_address = OrderToPlace {
            shipping_address: Some(json!("1 Main St")),
            ..bare
        };
        assert_eq!(
            serde_json::to_value(&with_address).unwrap()["shipping_address"],
            "1 Main St"
        );
    }
}
