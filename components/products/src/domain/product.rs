//! A product: its name, description, price and currency, what an admin may set
//! when creating, replacing or patching one, and the product as the API shows it.

use serde::Serialize;
use spinshop_kit::{ApiError, ApiResult};

use super::image::ProductImage;
use super::{CategoryRef, Slug, Stock};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
/// 100 million in major units: far above any real price, far below overflow when
/// orders multiply it by quantities and add lines up.
pub const MAX_PRICE: i64 = 10_000_000_000;
pub const DEFAULT_CURRENCY: &str = "USD";

/// A product name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> ApiResult<Name> {
        trimmed_name(raw, MAX_NAME_CHARS).map(Name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A `name` field (of a product, of a category): trimmed, 1 to `max` characters.
pub(super) fn trimmed_name(raw: &str, max: usize) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > max {
        return Err(ApiError::invalid_field(
            "name",
            format!("name must be 1 to {max} characters"),
        ));
    }
    Ok(name.to_string())
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

/// The 404 for a product id that names no product.
pub fn no_such_product(id: i64) -> ApiError {
    ApiError::not_found(format!("no product with id {id}"))
}

/// What an admin sends to create or replace a product, as sent.
pub struct ProductFields<'a> {
    pub name: &'a str,
    pub price: i64,
    pub stock: Option<i64>,
    pub description: Option<&'a str>,
    pub currency: Option<&'a str>,
    /// A category's slug; absent or null: none.
    pub category: Option<&'a str>,
}

/// Every field of a product an admin sets: a new product, or a full replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub name: Name,
    pub description: Option<String>,
    pub price: Price,
    pub currency: Currency,
    pub stock: Stock,
    pub category: Option<Slug>,
}

impl NewProduct {
    /// A new product: stock defaults to 0, currency to USD, description to none.
    pub fn parse(fields: ProductFields) -> ApiResult<NewProduct> {
        let stock = fields.stock.unwrap_or(0);
        Self::build(fields, stock)
    }

    /// A full replacement (`PUT`). Absent optional fields take their defaults, except
    /// stock: silently zeroing the shelf because a client left it out would be a loss.
    pub fn replacement(fields: ProductFields) -> ApiResult<NewProduct> {
        let stock = fields.stock.ok_or_else(|| {
            ApiError::invalid_field("stock", "stock is required when replacing a product")
        })?;
        Self::build(fields, stock)
    }

    fn build(fields: ProductFields, stock: i64) -> ApiResult<NewProduct> {
        Ok(NewProduct {
            name: Name::parse(fields.name)?,
            description: fields
                .description
                .map(parse_description)
                .transpose()?
                .flatten(),
            price: Price::parse(fields.price)?,
            currency: fields
                .currency
                .map(Currency::parse)
                .transpose()?
                .unwrap_or_default(),
            stock: Stock::parse(stock)?,
            category: fields
                .category
                .map(|raw| Slug::parse(raw, "category"))
                .transpose()?,
        })
    }
}

/// What an admin sends to change some fields of a product, as sent.
#[derive(Default)]
pub struct ProductFieldsPatch<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub price: Option<i64>,
    pub currency: Option<&'a str>,
    pub stock: Option<i64>,
    /// `Some(None)`: take the product out of its category.
    pub category: Option<Option<&'a str>>,
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
    /// `Some(None)` takes the product out of its category.
    pub category: Option<Option<Slug>>,
}

impl ProductPatch {
    /// Each field sent is checked; `Some("")` as description removes it.
    pub fn parse(fields: ProductFieldsPatch) -> ApiResult<ProductPatch> {
        let patch = ProductPatch {
            name: fields.name.map(Name::parse).transpose()?,
            description: fields.description.map(parse_description).transpose()?,
            price: fields.price.map(Price::parse).transpose()?,
            currency: fields.currency.map(Currency::parse).transpose()?,
            stock: fields.stock.map(Stock::parse).transpose()?,
            category: fields
                .category
                .map(|category| category.map(|raw| Slug::parse(raw, "category")).transpose())
                .transpose()?,
        };
        if patch.is_empty() {
            return Err(ApiError::validation(
                "nothing to update: send at least one of name, description, price, currency, stock, category",
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
            && self.category.is_none()
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
    pub category: Option<CategoryRef>,
    /// In the order the admin set, the first the one to show first.
    pub images: Vec<ProductImage>,
    pub created_at: String,
    pub updated_at: String,
}
