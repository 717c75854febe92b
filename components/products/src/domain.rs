//! Catalog rules: what a valid product, stock level and reservation request are,
//! parsed from request bodies into values that are valid by construction, and the
//! shapes the API answers with.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use spinshop_kit::contracts::ReserveBody;
use spinshop_kit::limits::MAX_QTY;
use spinshop_kit::request::path_id;
use spinshop_kit::{ApiError, ApiResult};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
/// 100 million in major units: far above any real price, far below overflow when
/// orders multiply it by quantities and add lines up.
pub const MAX_PRICE: i64 = 10_000_000_000;
/// Bounds stock so `reserved + qty` and order arithmetic stay far from overflow.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Lines per reservation; an order is a handful of lines, not a bulk import.
pub const MAX_ITEMS: usize = 100;
pub const DEFAULT_CURRENCY: &str = "USD";

/// A product name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> ApiResult<Name> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(ApiError::invalid_field(
                "name",
                format!("name must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        Ok(Name(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: trimmed, at most 5000 characters; blank means none.
fn parse_description(raw: &str) -> ApiResult<Option<String>> {
    let description = raw.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid_field(
            "description",
            format!("description must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok((!description.is_empty()).then(|| description.to_string()))
}

/// A price in minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(i64);

impl Price {
    pub fn parse(cents: i64) -> ApiResult<Price> {
        if !(0..=MAX_PRICE).contains(&cents) {
            return Err(ApiError::invalid_field(
                "price",
                format!("price must be an integer number of cents from 0 to {MAX_PRICE}"),
            ));
        }
        Ok(Price(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }
}

/// An ISO 4217 code as three upper-case letters. Lower case is refused rather than
/// fixed, so a client learns the form the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> ApiResult<Currency> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(raw.to_string()))
        } else {
            Err(ApiError::invalid_field(
                "currency",
                "currency must be 3 upper-case letters (ISO 4217), e.g. USD",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency(DEFAULT_CURRENCY.to_string())
    }
}

/// Units on the shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i64);

impl Stock {
    pub fn parse(units: i64) -> ApiResult<Stock> {
        if !(0..=MAX_STOCK).contains(&units) {
            return Err(ApiError::invalid_field(
                "stock",
                format!("stock must be an integer from 0 to {MAX_STOCK}"),
            ));
        }
        Ok(Stock(units))
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

/// Units of one product in one reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(units: i64, field: &str) -> ApiResult<Quantity> {
        if !(1..=MAX_QTY).contains(&units) {
            return Err(ApiError::invalid_field(
                field,
                format!("{field} must be between 1 and {MAX_QTY}"),
            ));
        }
        Ok(Quantity(units))
    }

    pub fn units(self) -> i64 {
        self.0
    }
}

/// A product id taken from the path; anything that is not one names no product.
pub fn parse_product_id(raw: &str) -> ApiResult<i64> {
    path_id(raw, || no_such_product_raw(raw))
}

pub fn no_such_product(id: i64) -> ApiError {
    no_such_product_raw(&id.to_string())
}

fn no_such_product_raw(id: &str) -> ApiError {
    ApiError::not_found(format!("no product with id {id}"))
}

/// `POST /products` and `PUT /products/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub name: String,
    pub price: i64,
    pub stock: Option<i64>,
    pub description: Option<String>,
    pub currency: Option<String>,
}

/// Every field of a product an admin sets: a new product, or a full replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub name: Name,
    pub description: Option<String>,
    pub price: Price,
    pub currency: Currency,
    pub stock: Stock,
}

impl NewProduct {
    /// A new product: stock defaults to 0, currency to USD, description to none.
    pub fn parse(body: ProductBody) -> ApiResult<NewProduct> {
        let stock = body.stock.unwrap_or(0);
        Self::build(body, stock)
    }

    /// A full replacement (`PUT`). Absent optional fields take their defaults, except
    /// stock: silently zeroing the shelf because a client left it out would be a loss.
    pub fn replacement(body: ProductBody) -> ApiResult<NewProduct> {
        let stock = body.stock.ok_or_else(|| {
            ApiError::invalid_field("stock", "stock is required when replacing a product")
        })?;
        Self::build(body, stock)
    }

    fn build(body: ProductBody, stock: i64) -> ApiResult<NewProduct> {
        Ok(NewProduct {
            name: Name::parse(&body.name)?,
            description: body
                .description
                .as_deref()
                .map(parse_description)
                .transpose()?
                .flatten(),
            price: Price::parse(body.price)?,
            currency: body
                .currency
                .as_deref()
                .map(Currency::parse)
                .transpose()?
                .unwrap_or_default(),
            stock: Stock::parse(stock)?,
        })
    }
}

/// `PATCH /products/{id}`: only the fields present change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatchBody {
    pub name: Option<String>,
    /// `""` removes the description.
    pub description: Option<String>,
    pub price: Option<i64>,
    pub currency: Option<String>,
    pub stock: Option<i64>,
}

/// A validated partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPatch {
    pub name: Option<Name>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    pub price: Option<Price>,
    pub currency: Option<Currency>,
    pub stock: Option<Stock>,
}

impl ProductPatch {
    pub fn parse(body: ProductPatchBody) -> ApiResult<ProductPatch> {
        let patch = ProductPatch {
            name: body.name.as_deref().map(Name::parse).transpose()?,
            description: body
                .description
                .as_deref()
                .map(parse_description)
                .transpose()?,
            price: body.price.map(Price::parse).transpose()?,
            currency: body.currency.as_deref().map(Currency::parse).transpose()?,
            stock: body.stock.map(Stock::parse).transpose()?,
        };
        if patch.is_empty() {
            return Err(ApiError::validation(
                "nothing to update: send at least one of name, description, price, currency, stock",
            ));
        }
        Ok(patch)
    }

    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.price.is_none()
            && self.currency.is_none()
            && self.stock.is_none()
    }
}

/// `PUT /products/{id}/stock`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBody {
    pub stock: i64,
}

/// What `GET /products` may filter on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilter {
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Only products that are (or are not) available.
    pub available: Option<bool>,
    /// Archived products are left out unless asked for: shoppers never want them,
    /// admins sometimes do.
    pub include_archived: bool,
}

impl ListFilter {
    pub fn parse(
        q: Option<&str>,
        available: Option<&str>,
        include_archived: Option<&str>,
    ) -> ApiResult<ListFilter> {
        let search = q.map(str::trim).filter(|q| !q.is_empty());
        if search.is_some_and(|q| q.chars().count() > MAX_NAME_CHARS) {
            return Err(ApiError::invalid_field(
                "q",
                format!("q must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        Ok(ListFilter {
            search: search.map(str::to_string),
            available: available
                .map(|raw| parse_flag("available", raw))
                .transpose()?,
            include_archived: include_archived
                .map(|raw| parse_flag("include_archived", raw))
                .transpose()?
                .unwrap_or(false),
        })
    }
}

fn parse_flag(field: &str, raw: &str) -> ApiResult<bool> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid_field(
            field,
            format!("{field} must be true or false"),
        )),
    }
}

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub price: i64,
    pub currency: String,
    pub stock: i64,
    pub reserved: i64,
    /// Not archived and `stock - reserved > 0` (computed by the database).
    pub available: bool,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /products/{id}/stock`. Here `available` counts the units that can still be
/// reserved (none once the product is archived), as in `insufficient_stock` details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    pub product_id: i64,
    pub stock: i64,
    pub reserved: i64,
    pub available: i64,
}

impl StockLevel {
    pub fn new(product_id: i64, stock: i64, reserved: i64, archived: bool) -> StockLevel {
        StockLevel {
            product_id,
            stock,
            reserved,
            available: if archived {
                0
            } else {
                (stock - reserved).max(0)
            },
        }
    }

    /// The 409 for a reservation line this level can't cover.
    pub fn insufficient_for(&self, requested: Quantity) -> ApiError {
        ApiError::Conflict {
            code: "insufficient_stock",
            message: format!(
                "insufficient stock for product {}: requested {}, available {}",
                self.product_id,
                requested.units(),
                self.available
            ),
            details: Some(json!({
                "product_id": self.product_id,
                "requested": requested.units(),
                "available": self.available,
            })),
        }
    }

    /// The 409 for setting stock below what open reservations hold.
    pub fn below_reserved(&self, requested: Stock) -> ApiError {
        ApiError::Conflict {
            code: "conflict",
            message: format!(
                "stock of product {} can't be set to {}: {} units are reserved for open orders",
                self.product_id,
                requested.units(),
                self.reserved
            ),
            details: Some(json!({
                "product_id": self.product_id,
                "stock": requested.units(),
                "reserved": self.reserved,
            })),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationLine {
    pub product_id: i64,
    pub qty: Quantity,
}

/// A valid request to hold stock for an order: 1 to 100 lines, each product once,
/// in product id order so concurrent reservations lock rows in the same order and
/// can't deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    pub order_id: i64,
    lines: Vec<ReservationLine>,
}

impl ReservationRequest {
    /// A product listed twice is refused rather than merged: the caller's order and
    /// the reservation would disagree about its lines.
    pub fn parse(body: ReserveBody) -> ApiResult<ReservationRequest> {
        if body.items.is_empty() {
            return Err(ApiError::invalid_field("items", "items must not be empty"));
        }
        if body.items.len() > MAX_ITEMS {
            return Err(ApiError::invalid_field(
                "items",
                format!("items must have at most {MAX_ITEMS} entries"),
            ));
        }
        let mut first_seen: HashMap<i64, usize> = HashMap::new();
        let mut lines = Vec::with_capacity(body.items.len());
        for (index, item) in body.items.iter().enumerate() {
            if let Some(first) = first_seen.insert(item.product_id, index) {
                return Err(ApiError::invalid_field(
                    &format!("items[{index}].product_id"),
                    format!(
                        "items[{index}].product_id repeats items[{first}].product_id ({}); \
                         list each product once",
                        item.product_id
                    ),
                ));
            }
            lines.push(ReservationLine {
                product_id: item.product_id,
                qty: Quantity::parse(item.qty, &format!("items[{index}].qty"))?,
            });
        }
        lines.sort_by_key(|line| line.product_id);
        Ok(ReservationRequest {
            order_id: body.order_id,
            lines,
        })
    }

    /// The lines in product id order.
    pub fn lines(&self) -> &[ReservationLine] {
        &self.lines
    }
}

/// A reservation moves from `reserved` to `released` or `committed`, never back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    Reserved,
    Released,
    Committed,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Reserved => "reserved",
            ReservationStatus::Released => "released",
            ReservationStatus::Committed => "committed",
        }
    }

    pub fn parse(raw: &str) -> Option<ReservationStatus> {
        match raw {
            "reserved" => Some(ReservationStatus::Reserved),
            "released" => Some(ReservationStatus::Released),
            "committed" => Some(ReservationStatus::Committed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservedItem {
    pub product_id: i64,
    pub qty: i64,
}

/// The stock held for one order.
#[derive(Debug, Clone, Serialize)]
pub struct Reservation {
    pub order_id: i64,
    pub status: ReservationStatus,
    pub items: Vec<ReservedItem>,
    pub created_at: String,
    pub updated_at: String,
}

impl Reservation {
    /// After a release or commit the reservation must be in `wanted`; being in the
    /// other final state means the request came too late (409 `invalid_state`).
    /// Finding it already in `wanted` is a repeat, and succeeds.
    pub fn ensure_status(self, wanted: ReservationStatus) -> ApiResult<Reservation> {
        if self.status == wanted {
            return Ok(self);
        }
        Err(ApiError::Conflict {
            code: "invalid_state",
            message: format!(
                "the reservation for order {} is {} and can't become {}",
                self.order_id,
                self.status.as_str(),
                wanted.as_str()
            ),
            details: Some(json!({ "order_id": self.order_id, "status": self.status })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> ProductBody {
        serde_json::from_value(json).unwrap()
    }

    fn field_of(err: &ApiError) -> String {
        err.body()["error"]["details"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn reserve(json: serde_json::Value) -> ApiResult<ReservationRequest> {
        ReservationRequest::parse(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Keyboard ").unwrap().as_str(), "Keyboard");
        assert_eq!(
            Name::parse(&"é".repeat(200))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            200
        );
        for bad in ["", "   ", &"x".repeat(201)] {
            let err = Name::parse(bad).unwrap_err();
            assert_eq!(err.status(), 400);
            assert_eq!(field_of(&err), "name");
        }
    }

    #[test]
    fn prices_stock_and_quantities_have_bounds() {
        assert_eq!(Price::parse(0).unwrap().cents(), 0);
        assert!(Price::parse(MAX_PRICE).is_ok());
        assert_eq!(field_of(&Price::parse(-1).unwrap_err()), "price");
        assert!(Price::parse(MAX_PRICE + 1).is_err());
        assert!(Stock::parse(0).is_ok());
        assert_eq!(field_of(&Stock::parse(-1).unwrap_err()), "stock");
        assert!(Quantity::parse(1, "qty").is_ok());
        assert!(Quantity::parse(1000, "qty").is_ok());
        for bad in [0, -1, 1001] {
            let err = Quantity::parse(bad, "items[2].qty").unwrap_err();
            assert_eq!(err.to_string(), "items[2].qty must be between 1 and 1000");
        }
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(Currency::parse("EUR").unwrap().as_str(), "EUR");
        for bad in ["usd", "US", "USDT", "U$D", ""] {
            assert_eq!(
                field_of(&Currency::parse(bad).unwrap_err()),
                "currency",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_new_product_takes_defaults() {
        let product = NewProduct::parse(body(json!({"name": "Keyboard", "price": 999}))).unwrap();
        assert_eq!(product.stock.units(), 0);
        assert_eq!(product.currency.as_str(), "USD");
        assert_eq!(product.description, None);
        let product = NewProduct::parse(body(
            json!({"name": "Mouse", "price": 1, "stock": 3, "description": "  ", "currency": "EUR"}),
        ))
        .unwrap();
        assert_eq!(product.description, None, "a blank description is none");
        assert_eq!(product.currency.as_str(), "EUR");
    }

    #[test]
    fn a_replacement_must_state_the_stock() {
        let err =
            NewProduct::replacement(body(json!({"name": "Keyboard", "price": 999}))).unwrap_err();
        assert_eq!(field_of(&err), "stock");
        assert!(
            NewProduct::replacement(body(json!({"name": "K", "price": 9, "stock": 0}))).is_ok()
        );
    }

    #[test]
    fn a_patch_changes_something_and_can_clear_the_description() {
        let patch = |json| ProductPatch::parse(serde_json::from_value(json).unwrap());
        assert_eq!(patch(json!({})).unwrap_err().status(), 400);
        let cleared = patch(json!({"description": ""})).unwrap();
        assert_eq!(cleared.description, Some(None));
        let priced = patch(json!({"price": 5})).unwrap();
        assert_eq!(priced.price, Some(Price(5)));
        assert_eq!(priced.name, None);
        assert_eq!(field_of(&patch(json!({"stock": -2})).unwrap_err()), "stock");
    }

    #[test]
    fn list_filters_parse_flags_strictly() {
        let filter = ListFilter::parse(Some("  key "), Some("true"), None).unwrap();
        assert_eq!(filter.search.as_deref(), Some("key"));
        assert_eq!(filter.available, Some(true));
        assert!(!filter.include_archived);
        assert_eq!(
            ListFilter::parse(Some(""), None, None).unwrap().search,
            None
        );
        assert!(
            ListFilter::parse(None, None, Some("true"))
                .unwrap()
                .include_archived
        );
        assert_eq!(
            field_of(&ListFilter::parse(None, Some("yes"), None).unwrap_err()),
            "available"
        );
        assert_eq!(
            field_of(&ListFilter::parse(None, None, Some("1")).unwrap_err()),
            "include_archived"
        );
    }

    #[test]
    fn reservation_lines_are_sorted_by_product() {
        let request = reserve(json!({"order_id": "12", "items": [
            {"product_id": 9, "qty": 1}, {"product_id": "3", "qty": 2}
        ]}))
        .unwrap();
        assert_eq!(request.order_id, 12);
        let ids: Vec<i64> = request.lines().iter().map(|line| line.product_id).collect();
        assert_eq!(ids, [3, 9]);
    }

    #[test]
    fn reservations_refuse_empty_oversized_and_repeated_lines() {
        let err = reserve(json!({"order_id": 1, "items": []})).unwrap_err();
        assert_eq!(field_of(&err), "items");
        let many: Vec<_> = (1..=101)
            .map(|id| json!({"product_id": id, "qty": 1}))
            .collect();
        assert_eq!(
            field_of(&reserve(json!({"order_id": 1, "items": many})).unwrap_err()),
            "items"
        );
        let err = reserve(json!({"order_id": 1, "items": [
            {"product_id": 4, "qty": 1}, {"product_id": 5, "qty": 1}, {"product_id": 4, "qty": 2}
        ]}))
        .unwrap_err();
        assert_eq!(field_of(&err), "items[2].product_id");
        let err =
            reserve(json!({"order_id": 1, "items": [{"product_id": 4, "qty": 0}]})).unwrap_err();
        assert_eq!(field_of(&err), "items[0].qty");
    }

    #[test]
    fn stock_levels_count_what_can_still_be_reserved() {
        assert_eq!(StockLevel::new(1, 10, 4, false).available, 6);
        assert_eq!(StockLevel::new(1, 10, 4, true).available, 0, "archived");
        let err = StockLevel::new(7, 3, 1, false).insufficient_for(Quantity(5));
        assert_eq!(err.status(), 409);
        assert_eq!(
            err.body()["error"]["details"],
            json!({"product_id": 7, "requested": 5, "available": 2})
        );
        assert_eq!(err.code(), "insufficient_stock");
        let err = StockLevel::new(7, 10, 6, false).below_reserved(Stock(5));
        assert_eq!(err.status(), 409);
        assert_eq!(err.body()["error"]["details"]["reserved"], 6);
    }

    #[test]
    fn finished_reservations_accept_repeats_but_not_the_other_ending() {
        let reservation = |status| Reservation {
            order_id: 5,
            status,
            items: Vec::new(),
            created_at: String::new(),
            updated_at: String::new(),
        };
        assert!(
            reservation(ReservationStatus::Released)
                .ensure_status(ReservationStatus::Released)
                .is_ok()
        );
        let err = reservation(ReservationStatus::Committed)
            .ensure_status(ReservationStatus::Released)
            .unwrap_err();
        assert_eq!(err.code(), "invalid_state");
        assert_eq!(err.body()["error"]["details"]["status"], "committed");
        for status in [
            ReservationStatus::Reserved,
            ReservationStatus::Released,
            ReservationStatus::Committed,
        ] {
            assert_eq!(ReservationStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn a_product_reads_as_the_view_siblings_take() {
        let product = Product {
            id: 3,
            name: "Keyboard".into(),
            description: None,
            price: 999,
            currency: "USD".into(),
            stock: 5,
            reserved: 1,
            available: true,
            archived: false,
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        };
        let json = serde_json::to_value(&product).unwrap();
        let view: spinshop_kit::contracts::ProductView = serde_json::from_value(json).unwrap();
        assert_eq!((view.id, view.price, view.available), (3, 999, true));
        assert_eq!(
            (view.name.as_str(), view.currency.as_str()),
            ("Keyboard", "USD")
        );
    }
}
