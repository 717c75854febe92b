//! Every call payments makes to orders, all to its INTERNAL endpoints with the service
//! token kit's client attaches.

use serde::Deserialize;
use serde_json::json;
use spinshop_kit::client::{CallContext, Method, call};
use spinshop_kit::contracts::{OrderStatus, PaidBody};
use spinshop_kit::{ApiError, ApiRequest, ApiResult};

use crate::SERVICE;
use crate::domain::Payment;

/// The part of an order (from `GET /api/orders/internal/orders/{id}`) a payment needs.
#[derive(Debug, Deserialize)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub status: OrderStatus,
    pub total: i64,
    pub currency: String,
}

/// What orders said to "this order is paid".
#[derive(Debug, PartialEq, Eq)]
pub enum PaidAnswer {
    Recorded,
    /// The order can't be paid any more (cancelled since payments read it).
    Refused,
}

pub struct Siblings<'a> {
    request: &'a ApiRequest,
}

impl<'a> Siblings<'a> {
    pub fn new(request: &'a ApiRequest) -> Siblings<'a> {
        Siblings { request }
    }

    /// The order, whoever owns it (orders' INTERNAL read: the caller was authenticated
    /// here already, so orders need not ask users again); unknown is orders' 404, relayed.
    pub async fn order(&self, id: i64) -> ApiResult<Order> {
        let context = CallContext::own(SERVICE, self.request);
        call(
            &context,
            "orders",
            Method::Get,
            &format!("/api/orders/internal/orders/{id}"),
            None,
        )
        .await?
        .into_json("orders")
    }

    /// pending -> paid (orders commits the stock); idempotent at orders.
    pub async fn mark_paid(&self, payment: &Payment) -> ApiResult<PaidAnswer> {
        match self.notify(payment, "paid").await? {
            status if (200..300).contains(&status) => Ok(PaidAnswer::Recorded),
            409 => Ok(PaidAnswer::Refused),
            status => Err(self.refused(payment, "paid", status)),
        }
    }

    /// The order's payment failed; it stays pending. Idempotent at orders.
    pub async fn mark_payment_failed(&self, payment: &Payment) -> ApiResult<()> {
        self.expect_success(payment, "payment-failed").await
    }

    /// The order's payment was refunded. Idempotent at orders.
    pub async fn mark_refunded(&self, payment: &Payment) -> ApiResult<()> {
        self.expect_success(payment, "refunded").await
    }

    async fn expect_success(&self, payment: &Payment, event: &str) -> ApiResult<()> {
        match self.notify(payment, event).await? {
            status if (200..300).contains(&status) => Ok(()),
            status => Err(self.refused(payment, event, status)),
        }
    }

    /// POSTs `event` about `payment` to orders; the answer's status.
    async fn notify(&self, payment: &Payment, event: &str) -> ApiResult<u16> {
        let context = CallContext::own(SERVICE, self.request);
        let reply = call(
            &context,
            "orders",
            Method::Post,
            &format!("/api/orders/internal/orders/{}/{event}", payment.order_id),
            Some(&json!(PaidBody {
                payment_id: payment.id
            })),
        )
        .await?;
        Ok(reply.status)
    }

    /// An internal call orders refused is ours to retry, not the client's to fix:
    /// it is logged and answered as 503.
    fn refused(&self, payment: &Payment, event: &str, status: u16) -> ApiError {
        eprintln!(
            "{SERVICE} {}: orders answered {status} to {event} for order {} (payment {})",
            self.request.request_id, payment.order_id, payment.id
        );
        ApiError::Unavailable("orders could not record the payment".into())
    }
}
