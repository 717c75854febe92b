//! The listing's facets: how many of the products a query matches fall in each
//! category and in each price band, so a shopper can narrow the query down.
//!
//! Each facet is counted over the query with every filter except its own: the
//! category counts ignore `category` (so the other categories stay in view and
//! can be switched to) and the price bands ignore `min_price` and `max_price`.
//! Only categories and bands with at least one product are listed.

use serde::Serialize;

/// Where the price bands start, in cents: under $10, $10 to $24.99, $25 to
/// $49.99, $50 to $99.99, $100 to $249.99, $250 to $499.99, $500 and more. Fixed
/// bands read the same on every page and for every query.
pub const PRICE_BAND_STARTS: [i64; 6] = [1_000, 2_500, 5_000, 10_000, 25_000, 50_000];

/// A price band: `min` to `max` cents, both included (`max` null for the last band),
/// so `min_price=<min>&max_price=<max>` selects exactly the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PriceBand {
    pub min: i64,
    pub max: Option<i64>,
    pub count: i64,
}

impl PriceBand {
    /// The band with `count` products, from its number as Postgres'
    /// `width_bucket(price, PRICE_BAND_STARTS)` gives it (0: below the first start).
    /// `None` for a number no band has.
    pub fn numbered(number: i64, count: i64) -> Option<PriceBand> {
        let index = usize::try_from(number).ok()?;
        if index > PRICE_BAND_STARTS.len() {
            return None;
        }
        let min = index.checked_sub(1).map_or(0, |i| PRICE_BAND_STARTS[i]);
        let max = PRICE_BAND_STARTS.get(index).map(|next| next - 1);
        Some(PriceBand { min, max, count })
    }
}

/// The band starts as a Postgres array literal, for `width_bucket`.
pub fn price_band_starts_sql() -> String {
    let starts: Vec<String> = PRICE_BAND_STARTS.iter().map(i64::to_string).collect();
    format!("ARRAY[{}]::bigint[]", starts.join(","))
}

/// A category with the number of matching products in it (a top-level category's
/// count includes the categories under it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub slug: String,
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Facets {
    pub categories: Vec<CategoryCount>,
    pub price_bands: Vec<PriceBand>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_every_price_without_gaps() {
        let bands: Vec<PriceBand> = (0..=PRICE_BAND_STARTS.len() as i64)
            .map(|n| PriceBand::numbered(n, 1).unwrap())
            .collect();
        assert_eq!(
            bands.first(),
            Some(&PriceBand {
                min: 0,
                max: Some(999),
                count: 1
            })
        );
        assert_eq!(bands.last().unwrap().min, 50_000);
        assert_eq!(bands.last().unwrap().max, None);
        for pair in bands.windows(2) {
            assert_eq!(pair[0].max.unwrap() + 1, pair[1].min);
        }
        assert_eq!(PriceBand::numbered(-1, 1), None);
        assert_eq!(PriceBand::numbered(7, 1), None);
    }

    #[test]
    fn the_band_starts_read_as_sql() {
        assert_eq!(
            price_band_starts_sql(),
            "ARRAY[1000,2500,5000,10000,25000,50000]::bigint[]"
        );
    }
}
