//! The catalog listing's query (`GET /products?q=&category=&sort=&min_price=&max_price=
//! &available=&include_archived=`): what to match, and in which order.

use spinshop_kit::{ApiError, ApiResult};

use super::{MAX_NAME_CHARS, MAX_PRICE, Slug};

/// What `GET /products` matches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilter {
    pub search: Option<Search>,
    /// A category's slug; a top-level category includes the categories under it.
    pub category: Option<Slug>,
    /// Lowest and highest price in cents, both included.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products that are (or are not) available.
    pub available: Option<bool>,
    /// Archived products are left out unless asked for: shoppers never want them,
    /// admins sometimes do.
    pub include_archived: bool,
}

/// The raw query parameters of `GET /products`, as sent.
#[derive(Default)]
pub struct ListQuery<'a> {
    pub q: Option<&'a str>,
    pub category: Option<&'a str>,
    pub sort: Option<&'a str>,
    pub min_price: Option<&'a str>,
    pub max_price: Option<&'a str>,
    pub available: Option<&'a str>,
    pub include_archived: Option<&'a str>,
}

impl ListFilter {
    /// The filter and the order of a listing.
    pub fn parse(query: &ListQuery) -> ApiResult<(ListFilter, Sort)> {
        let search = query.q.map(Search::parse).transpose()?.flatten();
        let sort = Sort::parse(query.sort, search.is_some())?;
        let min_price = query
            .min_price
            .map(|raw| parse_price("min_price", raw))
            .transpose()?;
        let max_price = query
            .max_price
            .map(|raw| parse_price("max_price", raw))
            .transpose()?;
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err(ApiError::invalid_field(
                "max_price",
                "max_price must not be below min_price",
            ));
        }
        let filter = ListFilter {
            search,
            category: query
                .category
                .map(|raw| Slug::parse(raw, "category"))
                .transpose()?,
            min_price,
            max_price,
            available: query
                .available
                .map(|raw| parse_flag("available", raw))
                .transpose()?,
            include_archived: query
                .include_archived
                .map(|raw| parse_flag("include_archived", raw))
                .transpose()?
                .unwrap_or(false),
        };
        Ok((filter, sort))
    }
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first; without a search the same as `Newest`.
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
}

impl Sort {
    /// `sort=`; absent: relevance when searching, else newest.
    pub fn parse(raw: Option<&str>, searching: bool) -> ApiResult<Sort> {
        Ok(match raw {
            None if searching => Sort::Relevance,
            None => Sort::Newest,
            Some("relevance") if searching => Sort::Relevance,
            // Nothing to rank by: a storefront may keep its sort control on relevance
            // when the search box is cleared.
            Some("relevance") => Sort::Newest,
            Some("price_asc") => Sort::PriceAsc,
            Some("price_desc") => Sort::PriceDesc,
            Some("newest") => Sort::Newest,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "sort",
                    "sort must be one of relevance, price_asc, price_desc, newest",
                ));
            }
        })
    }
}

/// A search: the words as sent, in `websearch_to_tsquery` syntax (`"a phrase"`,
/// `-word`, `or`), and the parts a corrected search is made of when nothing matches
/// the words themselves (see `store::search_query`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The query as sent (trimmed), for full-text search.
    pub text: String,
    /// The words the query asks for, quotes and operators removed: the words
    /// misspellings are corrected in; `None` when it only excludes.
    pub wanted: Option<String>,
    /// The words and phrases it excludes, each as `-"..."`: a corrected search
    /// still leaves them out.
    pub excluded: Option<String>,
}

impl Search {
    /// `q=`; blank is no search at all.
    pub fn parse(raw: &str) -> ApiResult<Option<Search>> {
        let text = raw.trim();
        if text.chars().count() > MAX_NAME_CHARS {
            return Err(ApiError::invalid_field(
                "q",
                format!("q must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        if text.is_empty() {
            return Ok(None);
        }
        let (mut wanted, mut excluded) = (Vec::new(), Vec::new());
        for term in terms(text) {
            if term.excluded {
                excluded.push(format!("-\"{}\"", term.words));
            } else if !term.words.eq_ignore_ascii_case("or") {
                wanted.push(term.words);
            }
        }
        let joined = |parts: Vec<String>, by: &str| (!parts.is_empty()).then(|| parts.join(by));
        Ok(Some(Search {
            text: text.to_string(),
            wanted: joined(wanted, " "),
            excluded: joined(excluded, " "),
        }))
    }
}

/// A word or a quoted phrase of a search, and whether a `-` excludes it.
#[derive(Debug, PartialEq, Eq)]
struct Term {
    words: String,
    excluded: bool,
}

/// The terms of a search the way `websearch_to_tsquery` reads them: words split at
/// white space, `"..."` a phrase (an unclosed quote runs to the end), a leading `-`
/// excludes. Quotes inside a word and lone `-` are dropped.
fn terms(text: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return terms;
        }
        let excluded = rest.starts_with('-');
        let body = rest.trim_start_matches('-');
        let (words, next) = if let Some(phrase) = body.strip_prefix('"') {
            phrase.split_once('"').unwrap_or((phrase, ""))
        } else {
            body.split_once(char::is_whitespace).unwrap_or((body, ""))
        };
        let words: String = words.split_whitespace().collect::<Vec<_>>().join(" ");
        let words = words.replace('"', "");
        if !words.is_empty() {
            terms.push(Term { words, excluded });
        }
        rest = next;
    }
}

/// A price bound in cents: an integer from 0 to the highest price.
fn parse_price(field: &str, raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|cents| (0..=MAX_PRICE).contains(cents))
        .ok_or_else(|| {
            ApiError::invalid_field(
                field,
                format!("{field} must be an integer number of cents from 0 to {MAX_PRICE}"),
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn search(q: &str) -> Search {
        Search::parse(q).unwrap().unwrap()
    }

    #[test]
    fn terms_follow_websearch_syntax() {
        let s = search("  wireless -mouse ");
        assert_eq!(s.text, "wireless -mouse");
        assert_eq!(s.wanted.as_deref(), Some("wireless"));
        assert_eq!(s.excluded.as_deref(), Some("-\"mouse\""));

        let s = search("\"noise  cancelling\" headphones -\"in ear\" -cheap");
        assert_eq!(s.wanted.as_deref(), Some("noise cancelling headphones"));
        assert_eq!(s.excluded.as_deref(), Some("-\"in ear\" -\"cheap\""));

        let s = search("keyboard or mouse");
        assert_eq!(s.wanted.as_deref(), Some("keyboard mouse"));
        assert_eq!(s.excluded, None);

        let s = search("-mouse");
        assert_eq!(s.wanted, None);

        let s = search("\"unclosed phrase");
        assert_eq!(s.wanted.as_deref(), Some("unclosed phrase"));

        let s = search("a\"b - --c");
        assert_eq!(s.wanted.as_deref(), Some("ab"));
        assert_eq!(s.excluded.as_deref(), Some("-\"c\""));
    }

    #[test]
    fn blank_searches_are_none_and_long_ones_refused() {
        assert_eq!(Search::parse("   ").unwrap(), None);
        assert!(Search::parse(&"x".repeat(200)).is_ok());
        let err = Search::parse(&"x".repeat(201)).unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(err.body()["error"]["details"]["field"], "q");
    }

    #[test]
    fn sort_defaults_to_relevance_only_when_searching() {
        assert_eq!(Sort::parse(None, true).unwrap(), Sort::Relevance);
        assert_eq!(Sort::parse(None, false).unwrap(), Sort::Newest);
        assert_eq!(
            Sort::parse(Some("relevance"), true).unwrap(),
            Sort::Relevance
        );
        assert_eq!(Sort::parse(Some("relevance"), false).unwrap(), Sort::Newest);
        assert_eq!(
            Sort::parse(Some("price_asc"), true).unwrap(),
            Sort::PriceAsc
        );
        assert_eq!(
            Sort::parse(Some("price_desc"), false).unwrap(),
            Sort::PriceDesc
        );
        assert_eq!(Sort::parse(Some("newest"), true).unwrap(), Sort::Newest);
        for bad in ["", "price", "PRICE_ASC", "oldest"] {
            let err = Sort::parse(Some(bad), true).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert_eq!(err.body()["error"]["details"]["field"], "sort");
        }
    }

    #[test]
    fn prices_are_bounded_cents_and_ordered() {
        let parse = |min: Option<&str>, max: Option<&str>| {
            ListFilter::parse(&ListQuery {
                min_price: min,
                max_price: max,
                ..ListQuery::default()
            })
        };
        let (filter, sort) = parse(Some("0"), Some("2500")).unwrap();
        assert_eq!((filter.min_price, filter.max_price), (Some(0), Some(2500)));
        assert_eq!(sort, Sort::Newest);
        assert!(parse(Some("100"), Some("100")).is_ok());
        for (min, max, field) in [
            (Some("-1"), None, "min_price"),
            (Some("1.5"), None, "min_price"),
            (None, Some("ten"), "max_price"),
            (None, Some("10000000001"), "max_price"),
            (Some("200"), Some("100"), "max_price"),
        ] {
            let err = parse(min, max).unwrap_err();
            assert_eq!(err.status(), 400);
            assert_eq!(err.body()["error"]["details"]["field"], field);
        }
    }

    #[test]
    fn the_category_filter_is_a_slug() {
        let query = |category| ListQuery {
            category: Some(category),
            ..ListQuery::default()
        };
        let (filter, _) = ListFilter::parse(&query("audio")).unwrap();
        assert_eq!(filter.category.unwrap().as_str(), "audio");
        let err = ListFilter::parse(&query("Audio!")).unwrap_err();
        assert_eq!(err.body()["error"]["details"]["field"], "category");
    }
}
