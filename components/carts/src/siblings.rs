//! Every call carts makes: products for current prices, orders to place the order.

use serde_json::Value;
use spinshop_kit::client::{CallContext, Method, call, call_with_headers};
use spinshop_kit::contracts::ProductView;
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

use crate::SERVICE;

pub struct Siblings<'a> {
    request: &'a ApiRequest,
}

impl<'a> Siblings<'a> {
    /// Calls made while serving `request` (its id travels with them).
    pub fn new(request: &'a ApiRequest) -> Siblings<'a> {
        Siblings { request }
    }

    /// The product as the catalog shows it now; `None` when it no longer exists.
    pub fn product(&self, id: i64) -> ApiResult<Option<ProductView>> {
        let context = CallContext::own(SERVICE, self.request);
        let reply = call(
            &context,
            "products",
            Method::Get,
            &format!("/api/products/products/{id}"),
            None,
        )?;
        if reply.status == 404 {
            return Ok(None);
        }
        reply.into_json("products").map(Some)
    }

    /// Like [`Siblings::product`], but an unknown product is a 404 for our caller.
    pub fn existing_product(&self, id: i64) -> ApiResult<ProductView> {
        self.product(id)?
            .ok_or_else(|| ApiError::not_found(format!("no product with id {id}")))
    }

    /// Places the order as the user (their bearer is forwarded) under `idempotency_key`.
    /// Orders' refusals (409 `insufficient_stock`, 404 unknown product) are relayed.
    pub fn place_order(&self, order: &Value, idempotency_key: &str) -> ApiResult<Value> {
        let context = CallContext::for_caller(SERVICE, self.request);
        call_with_headers(
            &context,
            "orders",
            Method::Post,
            "/api/orders/orders",
            Some(order),
            &[("idempotency-key", idempotency_key)],
        )?
        .into_json("orders")
    }
}
