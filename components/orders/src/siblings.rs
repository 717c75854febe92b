//! Every call orders makes to products and payments. Their INTERNAL endpoints are
//! reached with the service token kit's client attaches; a sibling that is down,
//! slow or failing becomes 503 `unavailable`.

use serde::Serialize;
use serde_json::json;
use spinshop_kit::client::{CallContext, Method, Reply, call};
use spinshop_kit::contracts::{
    OrderRefBody, RefundOrderBody, ReserveBody, ReserveItemBody, Reserved, ReservedLine,
};
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

use crate::SERVICE;
use crate::domain::RequestedItem;

pub struct Siblings<'a> {
    context: CallContext<'a>,
}

/// What payments did when asked to refund an order.
#[derive(Debug, PartialEq, Eq)]
pub enum Refund {
    Refunded,
    /// Payments holds no succeeded payment for the order.
    NothingToRefund,
}

impl<'a> Siblings<'a> {
    /// Calls made while serving `request` (its id travels with them). The caller's
    /// bearer token is not forwarded: siblings trust orders' service token here.
    pub fn new(request: &'a ApiRequest) -> Siblings<'a> {
        Siblings {
            context: CallContext::own(SERVICE, request),
        }
    }

    /// Holds stock for every item of the order, or for none (409 `insufficient_stock`
    /// and 404 for an unknown product relayed as products words them), and answers
    /// each line's name and price as products has them: one call prices and reserves.
    pub async fn reserve_stock(
        &self,
        order_id: i64,
        items: &[RequestedItem],
    ) -> ApiResult<Vec<ReservedLine>> {
        let body = ReserveBody {
            order_id,
            items: items
                .iter()
                .map(|item| ReserveItemBody {
                    product_id: item.product_id,
                    qty: item.qty,
                })
                .collect(),
        };
        let reserved: Reserved = self
            .post_products("/api/products/internal/reserve", &body)
            .await?
            .into_json("products")?;
        Ok(reserved.items)
    }

    /// Returns the order's reserved units to the shelf; idempotent at products.
    pub async fn release_stock(&self, order_id: i64) -> ApiResult<()> {
        self.post_products("/api/products/internal/release", &OrderRefBody { order_id })
            .await?
            .expect_success("products")
    }

    /// Takes a paid order's reserved units off the shelf; idempotent at products.
    /// Products refusing (4xx) means the reservation is gone or was released: that
    /// is an inconsistency to log, not a client error to relay to payments.
    pub async fn commit_stock(&self, order_id: i64) -> ApiResult<()> {
        let reply = self
            .post_products("/api/products/internal/commit", &OrderRefBody { order_id })
            .await?;
        if reply.is_success() {
            return Ok(());
        }
        match reply.into_error("products") {
            ApiError::Relayed { status, body } => Err(ApiError::internal(format!(
                "products refused to commit the stock of paid order {order_id}: {status} {body}"
            ))),
            unavailable => Err(unavailable),
        }
    }

    /// Asks payments to refund the order's succeeded payment (idempotent there).
    pub async fn refund_order(&self, order_id: i64) -> ApiResult<Refund> {
        let reply = call(
            &self.context,
            "payments",
            Method::Post,
            "/api/payments/internal/refund-order",
            Some(&json!(RefundOrderBody { order_id })),
        )
        .await?;
        if reply.status == 404 {
            return Ok(Refund::NothingToRefund);
        }
        reply.expect_success("payments").map(|()| Refund::Refunded)
    }

    async fn post_products(&self, path: &str, body: &impl Serialize) -> ApiResult<Reply> {
        call(
            &self.context,
            "products",
            Method::Post,
            path,
            Some(&json!(body)),
        )
        .await
    }
}
