//! `POST /pay`: charge an order once, however often and however concurrently the
//! client sends the request.
//!
//! Every request names an idempotency key. The first request for a (user, key)
//! claims it with `INSERT ... ON CONFLICT DO NOTHING`; a twin arriving meanwhile
//! finds the claim and waits for the holder's stored answer, then replays it
//! byte for byte (`idempotent-replayed: true`). The same key with another request
//! is 409 `idempotency_key_reused`. The payments table's UNIQUE (user_id,
//! idempotency_key) means a key can record at most one charge, and its one-success
//! index per order means two keys can't both pay one order.
//!
//! A final answer (201 paid, 402 declined, or 409 when the order was cancelled
//! before it could be marked paid and the charge was refunded) is stored with the
//! key. Anything that fails before a final answer releases the claim, so the key
//! can be retried:
//! - before the charge is recorded (order unreadable, not payable, wrong amount):
//!   nothing happened, and a retry starts over;
//! - after the charge is recorded (orders unreachable for `/paid`, the answer
//!   not stored): the client gets 503 `unavailable`. A retry with the same key
//!   finds the charge that key already made, does not charge again, re-sends
//!   `/paid` (idempotent at orders), and stores and returns the answer. That is how
//!   a payment whose order missed the news heals.
//!
//! A claim whose holder died without releasing it (a trapped instance) is taken
//! over by a retry once it is old enough; the same healing path then applies.
//!
//! A charge is marked settled once orders has heard of it. One left unsettled by a
//! request that died (the database or orders gone mid-way, and no retry from the
//! client) is taken over by a later payment request, of any customer, which tells
//! orders: a succeeded charge never stays without its paid order.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use spinshop_kit::auth::Caller;
use spinshop_kit::http::idempotency::MAX_IDEMPOTENCY_KEY_CHARS;
use spinshop_kit::pg::db::Db;
use spinshop_kit::time::Backoff;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult, join};

use crate::SERVICE;
use crate::config::Config;
use crate::domain::{
    Card, IdempotencyKey, NewPayment, Payment, PaymentMethod, PaymentRequest, PaymentStatus,
    authorize, check_payable, parse_amount,
};
use crate::siblings::{PaidAnswer, Siblings};
use crate::store::{self, StoredResponse};

/// How long a twin waits for the request holding its key to answer.
const WAIT_FOR_TWIN: Duration = Duration::from_secs(15);
const FIRST_POLL: Duration = Duration::from_millis(10);
const LONGEST_POLL: Duration = Duration::from_millis(250);

/// `POST /pay` as sent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayBody {
    #[serde(deserialize_with = "spinshop_kit::http::request::id")]
    order_id: i64,
    amount: i64,
    method: String,
    card: Option<CardBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardBody {
    number: String,
    exp_month: u32,
    exp_year: u32,
    cvc: String,
}

impl PayBody {
    /// The request, checked field by field in the order they are sent.
    fn into_request(self) -> ApiResult<PaymentRequest> {
        Ok(PaymentRequest {
            order_id: self.order_id,
            amount: parse_amount(self.amount)?,
            method: PaymentMethod::parse(&self.method)?,
            card: self.card.map(CardBody::parse).transpose()?,
        })
    }
}

impl CardBody {
    fn parse(self) -> ApiResult<Card> {
        Card::parse(&self.number, self.exp_month, self.exp_year, &self.cvc)
    }
}

pub async fn pay(req: &ApiRequest, caller: Caller) -> ApiResult<ApiResponse> {
    let settled = settle_abandoned(req).await;
    let key = idempotency_key(req)?;
    let request = req.json::<PayBody>()?.into_request()?;
    let fingerprint = request.fingerprint(&Config::get().await?.fingerprint_key);
    settled?;

    if let Claim::Replay(stored) = claim(req, caller.user_id, &key, &fingerprint).await? {
        return Ok(respond(&stored).with_header("idempotent-replayed", "true"));
    }
    // Each step opens its own connection: none is held while orders answers, so a
    // burst of payments can't take the connections orders needs (see `kit::pg::db`).
    let outcome = match charge(req, caller, &key, &request, &fingerprint).await {
        Ok((stored, payment_id)) => complete(req, caller.user_id, &key, &stored, payment_id)
            .await
            .map(|()| stored)
            .map_err(after_charge),
        Err(err) => Err(err),
    };
    match outcome {
        Ok(stored) => Ok(respond(&stored)),
        Err(err) => {
            let released =
                async { store::release_key(&Db::connect(req).await?, caller.user_id, &key).await }
                    .await;
            if let Err(release) = released {
                eprintln!(
                    "{SERVICE} {}: releasing idempotency key failed: {release}",
                    req.request_id
                );
            }
            Err(err)
        }
    }
}

/// Marks the charge settled and stores the key's final answer, together.
async fn complete(
    req: &ApiRequest,
    user_id: i64,
    key: &IdempotencyKey,
    stored: &StoredResponse,
    payment_id: i64,
) -> ApiResult<()> {
    let db = Db::connect(req).await?;
    db.transaction(async |db| {
        store::mark_settled(db, payment_id).await?;
        store::complete_key(db, user_id, key, stored, payment_id).await
    })
    .await
}

/// Settles the charges requests that died left unsettled (see the module
/// documentation). A charge that can't be settled now is tried again later.
async fn settle_abandoned(req: &ApiRequest) -> ApiResult<()> {
    let payments = store::take_over_unsettled(&Db::connect(req).await?).await?;
    let orders = Siblings::new(req);
    for payment in payments {
        let id = payment.id;
        let settled = async {
            settle(req, &orders, payment).await?;
            store::mark_settled(&Db::connect(req).await?, id).await
        }
        .await;
        if let Err(err) = settled {
            eprintln!(
                "{SERVICE} {}: settling abandoned payment {id} failed: {err}",
                req.request_id
            );
        }
    }
    Ok(())
}

enum Claim {
    /// This request holds the key and must settle it.
    Held,
    /// Another request with this key already answered: this is its answer.
    Replay(StoredResponse),
}

/// Claims `key`, or waits for the twin that holds it to answer. Each attempt opens
/// its own connection, so twins waiting hold none and can't starve the pool.
async fn claim(
    req: &ApiRequest,
    user_id: i64,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> ApiResult<Claim> {
    let mut backoff = Backoff::new(FIRST_POLL, LONGEST_POLL, WAIT_FOR_TWIN);
    loop {
        let db = Db::connect(req).await?;
        if store::claim_key(&db, user_id, key, fingerprint).await? {
            return Ok(Claim::Held);
        }
        // No state: the holder released the key just now; claim it again.
        if let Some(state) = store::key_state(&db, user_id, key).await? {
            if state.request_hash != fingerprint {
                return Err(key_reused());
            }
            if let Some(response) = state.response {
                return Ok(Claim::Replay(response));
            }
            if state.abandoned && store::take_over_key(&db, user_id, key).await? {
                return Ok(Claim::Held);
            }
        }
        drop(db);
        if !backoff.wait().await {
            return Err(ApiError::conflict(
                "conflict",
                "another request with this idempotency key is still in progress; retry later",
            ));
        }
    }
}

/// Charges the order (or finds the charge this key already made) and settles it.
/// Returns the final answer and the payment it is about.
async fn charge(
    req: &ApiRequest,
    caller: Caller,
    key: &IdempotencyKey,
    request: &PaymentRequest,
    fingerprint: &str,
) -> ApiResult<(StoredResponse, i64)> {
    let orders = Siblings::new(req);
    // The charge this key made, if any, and the order it would be for, asked at once:
    // a new payment needs both, and a repeat wastes one read of the order.
    let (charged, order) = join(
        async { store::payment_for_key(&Db::connect(req).await?, caller.user_id, key).await },
        orders.order(request.order_id),
    )
    .await;
    let payment = match charged? {
        Some((payment, hash)) if hash == fingerprint => payment,
        Some(_) => return Err(key_reused()),
        None => {
            let order = order?;
            if order.user_id != caller.user_id {
                // Another customer's order is not found, as orders would say; an
                // admin sees it but can't pay for it.
                return Err(if caller.is_admin() {
                    ApiError::Forbidden("only the order's owner can pay for it".into())
                } else {
                    ApiError::not_found(format!("no order with id {}", order.id))
                });
            }
            check_payable(order.id, order.status, order.total, request.amount)?;
            let decision = authorize(request.card.as_ref());
            store::insert_payment(
                &Db::connect(req).await?,
                &NewPayment {
                    user_id: caller.user_id,
                    order_id: order.id,
                    idempotency_key: key,
                    request_hash: fingerprint,
                    amount: request.amount,
                    currency: &order.currency,
                    status: decision.status(),
                    method: request.method,
                    card_last4: request.card_last4(),
                },
            )
            .await?
        }
    };
    let id = payment.id;
    let stored = settle(req, &orders, payment).await.map_err(after_charge)?;
    Ok((stored, id))
}

/// Tells orders what happened to a recorded charge and decides the final answer.
async fn settle(
    req: &ApiRequest,
    orders: &Siblings<'_>,
    payment: Payment,
) -> ApiResult<StoredResponse> {
    match payment.status {
        PaymentStatus::Succeeded => match orders.mark_paid(&payment).await? {
            PaidAnswer::Recorded => stored_json(201, &payment),
            // The order was cancelled after it was read: the money goes back.
            PaidAnswer::Refused => {
                let db = Db::connect(req).await?;
                store::refund_payment(&db, payment.id).await?;
                let payment = store::find_payment(&db, payment.id)
                    .await?
                    .ok_or_else(|| ApiError::internal("a recorded payment vanished"))?;
                Ok(stored_error(&refunded_before_paid(&payment)))
            }
        },
        PaymentStatus::Failed => {
            orders.mark_payment_failed(&payment).await?;
            Ok(stored_error(&declined(&payment)))
        }
        PaymentStatus::Refunded => Ok(stored_error(&refunded_before_paid(&payment))),
    }
}

/// Once a charge is recorded, a failure is ours, not the client's: 503, and the
/// same key heals it (see the module documentation).
fn after_charge(err: impl Into<ApiError>) -> ApiError {
    let err = err.into();
    eprintln!("{SERVICE}: a recorded charge could not be settled: {err:#}");
    ApiError::Unavailable(
        "the payment could not be completed; retry with the same idempotency key".into(),
    )
}

fn key_reused() -> ApiError {
    ApiError::conflict(
        "idempotency_key_reused",
        "this idempotency key was used for a different request",
    )
}

fn stored_json(status: u16, value: &impl Serialize) -> ApiResult<StoredResponse> {
    let body = serde_json::to_string(value).map_err(|err| ApiError::Internal(err.into()))?;
    Ok(StoredResponse { status, body })
}

fn stored_error(err: &ApiError) -> StoredResponse {
    StoredResponse {
        status: err.status(),
        body: err.body().to_string(),
    }
}

fn respond(stored: &StoredResponse) -> ApiResponse {
    ApiResponse {
        status: stored.status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: stored.body.clone().into_bytes(),
    }
}

/// A payment's idempotency key, which every payment must carry.
fn idempotency_key(req: &ApiRequest) -> ApiResult<IdempotencyKey> {
    IdempotencyKey::from_request(req, invalid_idempotency_key)?.ok_or_else(invalid_idempotency_key)
}

fn invalid_idempotency_key() -> ApiError {
    ApiError::invalid_field(
        "X-Idempotency-Key",
        format!(
            "the X-Idempotency-Key header is required, 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"
        ),
    )
}

/// The 402 a declined payment answers, naming the failed payment it recorded.
fn declined(payment: &Payment) -> ApiError {
    ApiError::PaymentRequired {
        code: "payment_declined",
        message: "the card was declined".into(),
        details: Some(json!({ "payment": payment })),
    }
}

/// The 409 for a charge whose order was cancelled before it could be marked paid:
/// the charge was refunded, so the key's final answer is this conflict.
fn refunded_before_paid(payment: &Payment) -> ApiError {
    ApiError::Conflict {
        code: "invalid_state",
        message: format!(
            "order {} can no longer be paid; payment {} was refunded",
            payment.order_id, payment.id
        ),
        details: Some(json!({ "payment": payment })),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use spinshop_kit::http::request::parse_json;

    use super::*;

    fn card_body(number: &str) -> Value {
        json!({ "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123" })
    }

    fn request(json: Value) -> ApiResult<PaymentRequest> {
        parse_json::<PayBody>(json.to_string().as_bytes())?.into_request()
    }

    #[test]
    fn keys_are_required_and_bounded() {
        let pay = || ApiRequest::new(spinshop_kit::Method::Post, "/api/payments/pay", b"", "");
        let key = idempotency_key(&pay().with_header("X-Idempotency-Key", "k-1")).unwrap();
        assert_eq!(key.as_str(), "k-1");
        let long = "k".repeat(201);
        for bad in [
            pay(),
            pay().with_header("x-idempotency-key", ""),
            pay().with_header("x-idempotency-key", &long),
        ] {
            assert_eq!(idempotency_key(&bad).unwrap_err().status(), 400);
        }
    }

    #[test]
    fn requests_accept_string_ids_and_only_card_payments() {
        let parsed = request(json!({"order_id": "7", "amount": 999, "method": "card"}))
            .ok()
            .unwrap();
        assert_eq!(
            (parsed.order_id, parsed.amount, parsed.card_last4()),
            (7, 999, None)
        );
        assert!(request(json!({"order_id": 7, "amount": -1, "method": "card"})).is_err());
        assert!(request(json!({"order_id": 7, "amount": 1, "method": "cash"})).is_err());
        assert!(request(json!({"order_id": 7, "amount": 1, "method": "card", "tip": 1})).is_err());
    }

    #[test]
    fn fingerprints_ignore_spelling_and_notice_changes() {
        let fingerprint =
            |body: &Value, secret: &str| request(body.clone()).ok().unwrap().fingerprint(secret);
        let plain = json!({"order_id": 7, "amount": 999, "method": "card", "card": card_body("4242424242424242")});
        let spelled = json!({"order_id": "7", "amount": 999, "method": "card", "card": card_body("4242 4242 4242 4242")});
        let other = json!({"order_id": 7, "amount": 998, "method": "card", "card": card_body("4242424242424242")});
        let secret = "secret-0123456789";
        assert_eq!(fingerprint(&plain, secret), fingerprint(&spelled, secret));
        assert_ne!(fingerprint(&plain, secret), fingerprint(&other, secret));
        assert_ne!(
            fingerprint(&plain, secret),
            fingerprint(&plain, "another-secret-0123")
        );
        assert_eq!(fingerprint(&plain, secret).len(), 64);
    }

    #[test]
    fn payments_show_last4_only_when_there_is_a_card_and_never_the_owner() {
        let payment = Payment {
            id: 1,
            order_id: 2,
            user_id: 3,
            amount: 999,
            currency: "USD".into(),
            status: PaymentStatus::Failed,
            method: "card".into(),
            card_last4: None,
            created_at: "2025-01-01T00:00:00.000000Z".into(),
        };
        let shown = serde_json::to_value(&payment).unwrap();
        assert!(shown.get("card_last4").is_none() && shown.get("user_id").is_none());
        assert_eq!(shown["status"], "failed");
        let err = declined(&payment);
        assert_eq!((err.status(), err.code()), (402, "payment_declined"));
        assert_eq!(err.body()["error"]["details"]["payment"]["id"], 1);
        assert!(
            payment.visible_to(3, false)
                && payment.visible_to(9, true)
                && !payment.visible_to(9, false)
        );
    }
}
