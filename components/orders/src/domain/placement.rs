//! Placing an order: what a valid order request is, whose it may be, and how it is
//! priced from the catalog's answers.

use serde::Serialize;
use spinshop_kit::contracts::ReservedLine;
pub use spinshop_kit::http::idempotency::IdempotencyKey;
use spinshop_kit::limits::MAX_QTY;
use spinshop_kit::{ApiError, ApiResult};

use super::{Order, OrderLine};

/// Lines per order: bounds the statements one reservation runs at products.
pub const MAX_ITEMS: usize = 50;
/// Longest `shipping_address` and `notes`, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// A requested product and quantity, one line of an order request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequestedItem {
    pub product_id: i64,
    pub qty: i64,
}

/// A valid order request: 1 to 50 distinct products, each 1 to 1000 units.
#[derive(Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub items: Vec<RequestedItem>,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
}

impl OrderRequest {
    /// Validates a request. A product listed twice is merged into one line (the
    /// quantities add up), since a client adding the same thing twice means "more".
    pub fn parse(
        requested: &[RequestedItem],
        shipping_address: Option<String>,
        notes: Option<String>,
    ) -> ApiResult<OrderRequest> {
        if requested.is_empty() || requested.len() > MAX_ITEMS {
            return Err(ApiError::invalid_field(
                "items",
                format!("items must hold 1 to {MAX_ITEMS} entries"),
            ));
        }
        let mut items: Vec<RequestedItem> = Vec::with_capacity(requested.len());
        for (index, item) in requested.iter().enumerate() {
            if !(1..=MAX_QTY).contains(&item.qty) {
                return Err(ApiError::invalid_field(
                    &format!("items[{index}].qty"),
                    format!("qty must be between 1 and {MAX_QTY}"),
                ));
            }
            match items.iter_mut().find(|i| i.product_id == item.product_id) {
                Some(merged) => merged.qty += item.qty,
                None => items.push(RequestedItem {
                    product_id: item.product_id,
                    qty: item.qty,
                }),
            }
        }
        if let Some(item) = items.iter().find(|item| item.qty > MAX_QTY) {
            return Err(ApiError::invalid_field(
                "items",
                format!(
                    "qty must be between 1 and {MAX_QTY}; product {} adds up to {}",
                    item.product_id, item.qty
                ),
            ));
        }
        Ok(OrderRequest {
            items,
            shipping_address: parse_text("shipping_address", shipping_address)?,
            notes: parse_text("notes", notes)?,
        })
    }

    /// Whether `order` is what this request would place: a repeated Idempotency-Key
    /// must come with the same request, or it is a client bug worth reporting.
    pub fn matches(&self, order: &Order) -> bool {
        let mut wanted: Vec<(i64, i64)> = self
            .items
            .iter()
            .map(|item| (item.product_id, item.qty))
            .collect();
        let mut placed: Vec<(i64, i64)> = order
            .items
            .iter()
            .map(|line| (line.product_id, line.qty))
            .collect();
        wanted.sort_unstable();
        placed.sort_unstable();
        wanted == placed
            && self.shipping_address == order.shipping_address
            && self.notes == order.notes
    }
}

/// An optional free text: trimmed, blank means absent, at most 1000 characters.
fn parse_text(field: &str, raw: Option<String>) -> ApiResult<Option<String>> {
    let Some(text) = raw.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// The only order a user may place is their own; a `user_id` naming anyone else is
/// refused rather than ignored, so a confused client learns of it.
pub fn check_user_id(claimed: Option<i64>, caller: i64) -> ApiResult<()> {
    match claimed {
        Some(user_id) if user_id != caller => Err(ApiError::Forbidden(
            "user_id must be the caller's own id".into(),
        )),
        _ => Ok(()),
    }
}

/// The lines, total and currency of an order about to be placed.
#[derive(Debug, PartialEq, Eq)]
pub struct PricedOrder {
    pub lines: Vec<OrderLine>,
    pub total: i64,
    pub currency: String,
}

/// Prices `items` with the lines products reserved for them (the same products, in
/// any order). One order is paid in one currency, so mixing them is refused; so is a
/// total beyond 64 bits.
pub fn price(items: &[RequestedItem], reserved: &[ReservedLine]) -> ApiResult<PricedOrder> {
    let too_large = || ApiError::Unprocessable("the order total is too large".into());
    let mut lines = Vec::with_capacity(items.len());
    let mut total: i64 = 0;
    let mut currency: Option<(&str, i64)> = None;
    for item in items {
        let product = reserved
            .iter()
            .find(|line| line.product_id == item.product_id)
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "products reserved no line for product {}",
                    item.product_id
                ))
            })?;
        match currency {
            None => currency = Some((&product.currency, product.product_id)),
            Some((first, first_id)) if first != product.currency => {
                return Err(ApiError::Unprocessable(format!(
                    "an order is paid in one currency: product {first_id} is priced in {first}, \
                     product {} in {}",
                    product.product_id, product.currency
                )));
            }
            Some(_) => {}
        }
        let line_total = product.price.checked_mul(item.qty).ok_or_else(too_large)?;
        total = total.checked_add(line_total).ok_or_else(too_large)?;
        lines.push(OrderLine {
            product_id: item.product_id,
            name: product.name.clone(),
            qty: item.qty,
            unit_price: product.price,
            line_total,
        });
    }
    let (currency, _) = currency.ok_or_else(|| ApiError::internal("pricing an empty order"))?;
    Ok(PricedOrder {
        lines,
        total,
        currency: currency.to_string(),
    })
}
