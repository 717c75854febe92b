//! Every SQL statement of the products service, and row decoding.
//!
//! Stock rules are enforced by the statements and constraints themselves
//! (`products_reserved_within_stock`, conditional updates), never by reading a
//! value in Rust and writing it back, so concurrent requests can't oversell.

use spinshop_kit::contracts::ReservedLine;
use spinshop_kit::http::paging::Paging;
use spinshop_kit::pg::db::{Db, DbError, Param, Row, text};
use spinshop_kit::{ApiError, ApiResult, ts};

use crate::domain::image::{
    ImageFormat, ImagePatch, ImageUpload, MAX_IMAGES_PER_PRODUCT, ProductImage, StoredImage,
};
use crate::domain::{
    Category, CategoryCount, CategoryPatch, CategoryRef, Facets, ListFilter, NewCategory,
    NewProduct, Placement, PriceBand, Product, ProductPatch, Reservation, ReservationLine,
    ReservationRequest, ReservationStatus, Slug, Sort, Stock, StockLevel, no_such_category,
    no_such_product, price_band_starts_sql, too_deep, unknown_category,
};

/// A product's columns, its category's slug and name and its images (aggregated in
/// their order) among them: subqueries, so the list also serves `RETURNING` and a
/// page of products is still one statement.
const PRODUCT_COLUMNS: &str = concat!(
    "id, name, description, price, currency, stock, reserved, available, ",
    "archived_at IS NOT NULL AS archived, ",
    "(SELECT c.slug FROM catalog.categories c WHERE c.id = category_id) AS category_slug, ",
    "(SELECT c.name FROM catalog.categories c WHERE c.id = category_id) AS category_name, ",
    ts!("created_at"),
    " AS created_at, ",
    ts!("updated_at"),
    " AS updated_at, ",
    "(SELECT COALESCE(jsonb_agg(jsonb_build_object(",
    "'id', pi.id, 'sha256', i.sha256, 'content_type', i.content_type, 'alt', pi.alt, ",
    "'width', i.width, 'height', i.height) ORDER BY pi.position), '[]'::jsonb) ",
    "FROM catalog.product_images pi JOIN catalog.images i ON i.sha256 = pi.image_sha256 ",
    "WHERE pi.product_id = products.id) AS images"
);

/// One image of a product (alias `pi`, its file `i`), as [`decode_image`] reads it.
const IMAGE_COLUMNS: &str = "pi.id, i.sha256, i.content_type, pi.alt, i.width, i.height";

const STOCK_COLUMNS: &str = "id, stock, reserved, archived_at IS NOT NULL AS archived";

const RESERVATION_COLUMNS: &str = concat!(
    "order_id, status, ",
    ts!("created_at"),
    " AS created_at, ",
    ts!("updated_at"),
    " AS updated_at"
);

// The listing's filters over `catalog.products`, each a fragment with fixed
// parameters (`list_params` gives them in this order):
// `$1` the search as sent, `$2` the words it asks for, `$3` the words it excludes,
// `$4` availability, `$5` include archived, `$6` category slug, `$7`/`$8` lowest and
// highest price; NULL (`$5`: false) where the query doesn't filter.

/// The search's wanted words (`$2`) as a `to_tsquery` text, each word (`typed`) as
/// `each` makes it and matching as the start of a word: `keyboard:* & mou:*`. Only
/// letters and digits are kept of what was sent, so this is always a valid
/// `to_tsquery` text (NULL when none is left).
fn wanted_words(each: &str) -> String {
    format!(
        "(SELECT string_agg({each} || ':*', ' & ' ORDER BY position) \
         FROM unnest(string_to_array( \
                trim(regexp_replace(lower($2::text), '[^[:alnum:]]+', ' ', 'g')), ' ')) \
              WITH ORDINALITY AS typed_words (typed, position))"
    )
}

/// A word of the search (`typed`) replaced by the word of the catalog most like it
/// (`catalog.search_words`: pg_trgm's similarity of 0.4 or more, the more used word on
/// a tie), or kept when none is: "keybord" becomes "keyboard".
const CLOSEST_WORD: &str = "coalesce( \
     (SELECT w.word FROM catalog.search_words w \
      WHERE w.word OPERATOR(catalog.%) typed AND catalog.similarity(w.word, typed) >= 0.4 \
      ORDER BY catalog.similarity(w.word, typed) DESC, w.products DESC, w.word \
      LIMIT 1), \
     typed)";

/// `query` without the search's excluded words (`$3`).
fn excluding(query: &str) -> String {
    format!(
        "CASE WHEN $3::text IS NULL THEN {query} \
         ELSE {query} && websearch_to_tsquery('english', $3::text) END"
    )
}

/// What a search looks for, worked out once per statement (a `WITH` query the
/// statements of the list begin with), read by `SEARCH_MATCH` and `SEARCH_RANK`:
/// - as sent: the words in web search syntax and, when it has no quoted phrase, each
///   wanted word as the start of a word too (`key` finds keyboards);
/// - when that matches no product the availability and archive filters keep: each
///   wanted word replaced by the closest word of the catalog, as the start of a word,
///   the excluded words still excluded.
fn search_query() -> String {
    let widened = excluding(&format!("to_tsquery('english', {})", wanted_words("typed")));
    let corrected = excluding(&format!(
        "to_tsquery('english', {})",
        wanted_words(CLOSEST_WORD)
    ));
    format!(
        "search_query AS MATERIALIZED ( \
           SELECT CASE \
             WHEN EXISTS (SELECT 1 FROM catalog.products exact \
                          WHERE exact.search @@ found.as_sent \
                          AND ($4::boolean IS NULL OR exact.available = $4::boolean) \
                          AND ($5::boolean OR exact.archived_at IS NULL)) \
             THEN found.as_sent ELSE found.corrected END AS query \
           FROM (SELECT CASE WHEN strpos($1::text, '\"') > 0 THEN sent \
                        ELSE coalesce(sent || ({widened}), sent) END AS as_sent, \
                        ({corrected}) AS corrected \
                 FROM websearch_to_tsquery('english', $1::text) AS sent) found)"
    )
}

/// Full-text match of the search (`products_search_idx`), or no search. The query is
/// a value to the planner (an InitPlan), which the index is searched for.
const SEARCH_MATCH: &str = "($1::text IS NULL OR search @@ (SELECT query FROM search_query))";

/// How well a product matches the search: the full-text rank, where a word in the
/// name weighs 1.0 and one in the description 0.4, and a word as sent counts again
/// over one it only begins.
const SEARCH_RANK: &str = "ts_rank(search, (SELECT query FROM search_query)) \
     + ts_rank(search, websearch_to_tsquery('english', $1::text))";

const STATE_MATCH: &str = "($4::boolean IS NULL OR available = $4::boolean) \
     AND ($5::boolean OR archived_at IS NULL)";

/// The category or, for a top-level one, any category under it.
const CATEGORY_MATCH: &str = "($6::text IS NULL OR category_id IN ( \
     SELECT c.id FROM catalog.categories c \
     JOIN catalog.categories f ON f.id IN (c.id, c.parent_id) WHERE f.slug = $6::text))";

const PRICE_MATCH: &str = "($7::bigint IS NULL OR price >= $7::bigint) \
     AND ($8::bigint IS NULL OR price <= $8::bigint)";

/// A category's columns, its count of products that are not archived, including
/// those of the categories under it (`c` the category).
const CATEGORY_COLUMNS: &str = "c.slug, c.name, parent.slug AS parent, \
     (SELECT count(*) FROM catalog.products p \
      JOIN catalog.categories pc ON pc.id = p.category_id \
      WHERE p.archived_at IS NULL AND c.id IN (pc.id, pc.parent_id)) AS count";

const CATEGORY_FROM: &str = "FROM catalog.categories c \
     LEFT JOIN catalog.categories parent ON parent.id = c.parent_id";

fn decode_product(row: &Row) -> ApiResult<Product> {
    Ok(Product {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        price: row.get("price")?,
        currency: row.get("currency")?,
        stock: row.get("stock")?,
        reserved: row.get("reserved")?,
        available: row.get("available")?,
        archived: row.get("archived")?,
        category: match (row.get("category_slug")?, row.get("category_name")?) {
            (Some(slug), Some(name)) => Some(CategoryRef { slug, name }),
            _ => None,
        },
        images: serde_json::from_value::<Vec<StoredImage>>(row.get("images")?)
            .map_err(|err| ApiError::internal(format!("product images: {err}")))?
            .into_iter()
            .map(StoredImage::into_product_image)
            .collect::<ApiResult<_>>()?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn decode_stock(row: &Row) -> ApiResult<StockLevel> {
    Ok(StockLevel::new(
        row.get("id")?,
        row.get("stock")?,
        row.get("reserved")?,
        row.get("archived")?,
    ))
}

/// Runs a statement that reads or writes one product. A write naming a category
/// that was deleted since its id was looked up is a 409.
async fn one_product(db: &Db, sql: &str, params: &[Param]) -> ApiResult<Option<Product>> {
    let rows = db.query(sql, params).await.map_err(|err| {
        if err.violates("products_category_id_fkey") {
            ApiError::conflict(
                "conflict",
                "the category was deleted meanwhile; send the product again",
            )
        } else {
            err.into()
        }
    })?;
    rows.first().map(|row| decode_product(&row)).transpose()
}

/// A stock write that matched no row: either there is no such product, or the
/// stock asked for is below what open reservations hold. Stock writes are
/// conditional (`WHERE reserved <= <new stock>`), so the refusal is decided on the
/// row as it is at write time, and a reservation made at the same moment can't
/// slip under it.
async fn stock_refused<T>(db: &Db, id: i64, requested: Stock) -> ApiResult<Option<T>> {
    match stock_level(db, id).await? {
        Some(level) => Err(level.below_reserved(requested)),
        None => Ok(None),
    }
}

fn list_params(filter: &ListFilter) -> Vec<Param> {
    let search = filter.search.as_ref();
    vec![
        search.map(|s| s.text.clone()).into(),
        search.and_then(|s| s.wanted.clone()).into(),
        search.and_then(|s| s.excluded.clone()).into(),
        filter.available.into(),
        filter.include_archived.into(),
        filter
            .category
            .as_ref()
            .map(|c| c.as_str().to_string())
            .into(),
        filter.min_price.into(),
        filter.max_price.into(),
    ]
}

/// One page of the listing, the number of products it holds, and its facets: two
/// statements, whatever the query (`list_page` and `list_facets`).
/// The product list: a page and the total, two statements.
pub async fn list_products(
    db: &Db,
    filter: &ListFilter,
    sort: Sort,
    paging: Paging,
) -> ApiResult<(Vec<Product>, i64)> {
    let params = list_params(filter);
    let products = list_page(db, &params, sort, paging).await?;
    let total = db.query(&list_total_sql(), &params).await?;
    let total = total.first().map(|row| row.get("total")).transpose()?;
    Ok((products, total.unwrap_or(0)))
}

/// A search: the page, then the total with the facets, two statements.
pub async fn search_products(
    db: &Db,
    filter: &ListFilter,
    sort: Sort,
    paging: Paging,
) -> ApiResult<(Vec<Product>, i64, Facets)> {
    let params = list_params(filter);
    let products = list_page(db, &params, sort, paging).await?;
    let (total, facets) = list_facets(db, &params).await?;
    Ok((products, total, facets))
}

/// Statement one: the page.
async fn list_page(
    db: &Db,
    filter: &[Param],
    sort: Sort,
    paging: Paging,
) -> ApiResult<Vec<Product>> {
    let mut params = filter.to_vec();
    params.extend([paging.limit.into(), paging.offset.into()]);
    db.query(&list_page_sql(sort), &params)
        .await?
        .map(decode_product)
}

/// The page's statement: the filter's parameters, then `$9` limit and `$10` offset.
pub fn list_page_sql(sort: Sort) -> String {
    // Qualified: a bare `created_at` would be the text column of the answer.
    let order_by = match sort {
        Sort::Relevance => format!("{SEARCH_RANK} DESC, products.id DESC"),
        Sort::PriceAsc => "products.price, products.id".to_string(),
        Sort::PriceDesc => "products.price DESC, products.id DESC".to_string(),
        Sort::Newest => "products.created_at DESC, products.id DESC".to_string(),
    };
    format!(
        "WITH {search_query} \
         SELECT {PRODUCT_COLUMNS} FROM catalog.products \
         WHERE {SEARCH_MATCH} AND {STATE_MATCH} AND {CATEGORY_MATCH} AND {PRICE_MATCH} \
         ORDER BY {order_by} LIMIT $9 OFFSET $10",
        search_query = search_query()
    )
}

/// The list's total: the filter's parameters.
fn list_total_sql() -> String {
    format!(
        "WITH {search_query} \
         SELECT count(*) AS total FROM catalog.products \
         WHERE {SEARCH_MATCH} AND {STATE_MATCH} AND {CATEGORY_MATCH} AND {PRICE_MATCH}",
        search_query = search_query()
    )
}

/// A search's statement two: over the products the search, availability and archive filters
/// match, the number that the category and price filters keep too (the total), the
/// count per category ignoring the category filter and the count per price band
/// ignoring the price filter (see `domain::facets`). One row per count. The products
/// are read once, into counts per category and band (`grouped`, a few dozen rows),
/// which the three answers add up.
async fn list_facets(db: &Db, filter: &[Param]) -> ApiResult<(i64, Facets)> {
    let rows = db.query(&list_facets_sql(), filter).await?;
    let (mut total, mut facets) = (0, Facets::default());
    for row in rows.iter() {
        let count: i64 = row.get("count")?;
        match row.get::<String>("facet")?.as_str() {
            "total" => total = count,
            "category" => facets.categories.push(CategoryCount {
                slug: row.get("slug")?,
                name: row.get("name")?,
                count,
            }),
            _ => facets
                .price_bands
                .extend(PriceBand::numbered(row.get("band")?, count)),
        }
    }
    facets
        .categories
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.slug.cmp(&b.slug)));
    facets.price_bands.sort_by_key(|band| band.min);
    Ok((total, facets))
}

/// The facets' statement: the filter's parameters.
pub fn list_facets_sql() -> String {
    format!(
        "WITH {search_query}, grouped AS ( \
           SELECT category_id, width_bucket(price, {bands})::bigint AS band, \
             count(*) FILTER (WHERE {CATEGORY_MATCH} AND {PRICE_MATCH}) AS kept, \
             count(*) FILTER (WHERE {PRICE_MATCH}) AS in_price, \
             count(*) FILTER (WHERE {CATEGORY_MATCH}) AS in_category \
           FROM catalog.products WHERE {SEARCH_MATCH} AND {STATE_MATCH} \
           GROUP BY category_id, band) \
         SELECT 'total' AS facet, NULL::text AS slug, NULL::text AS name, NULL::bigint AS band, \
           coalesce(sum(kept), 0)::bigint AS count FROM grouped \
         UNION ALL \
         SELECT 'category', c.slug, c.name, NULL, sum(g.in_price)::bigint FROM grouped g \
           JOIN catalog.categories own ON own.id = g.category_id \
           JOIN catalog.categories c ON c.id IN (own.id, own.parent_id) \
           GROUP BY c.slug, c.name HAVING sum(g.in_price) > 0 \
         UNION ALL \
         SELECT 'price', NULL, NULL, g.band, sum(g.in_category)::bigint FROM grouped g \
           GROUP BY g.band HAVING sum(g.in_category) > 0",
        search_query = search_query(),
        bands = price_band_starts_sql()
    )
}

pub async fn find_product(db: &Db, id: i64) -> ApiResult<Option<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM catalog.products WHERE id = $1");
    one_product(db, &sql, &[id.into()]).await
}

/// The id of the category a product is put in; 400 when no category has the slug.
async fn product_category_id(db: &Db, slug: Option<&Slug>) -> ApiResult<Option<i64>> {
    let Some(slug) = slug else {
        return Ok(None);
    };
    let rows = db
        .query(
            "SELECT id FROM catalog.categories WHERE slug = $1",
            &[text(slug.as_str())],
        )
        .await?;
    match rows.first() {
        Some(row) => row.get("id").map(Some),
        None => Err(unknown_category("category", slug)),
    }
}

pub async fn insert_product(db: &Db, product: &NewProduct) -> ApiResult<Product> {
    let category_id = product_category_id(db, product.category.as_ref()).await?;
    let sql = format!(
        "INSERT INTO catalog.products (name, description, price, currency, stock, category_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {PRODUCT_COLUMNS}"
    );
    let params = [
        text(product.name.as_str()),
        product.description.clone().into(),
        product.price.cents().into(),
        text(product.currency.as_str()),
        product.stock.units().into(),
        category_id.into(),
    ];
    one_product(db, &sql, &params)
        .await?
        .ok_or_else(|| ApiError::internal("insert returned no row"))
}

/// Replaces every field an admin sets; `None` when there is no such product.
pub async fn replace_product(db: &Db, id: i64, product: &NewProduct) -> ApiResult<Option<Product>> {
    let category_id = product_category_id(db, product.category.as_ref()).await?;
    let sql = format!(
        "UPDATE catalog.products SET name = $2, description = $3, price = $4, currency = $5, \
           stock = $6, category_id = $7, updated_at = now() \
         WHERE id = $1 AND reserved <= $6 RETURNING {PRODUCT_COLUMNS}"
    );
    let params = [
        id.into(),
        text(product.name.as_str()),
        product.description.clone().into(),
        product.price.cents().into(),
        text(product.currency.as_str()),
        product.stock.units().into(),
        category_id.into(),
    ];
    match one_product(db, &sql, &params).await? {
        Some(product) => Ok(Some(product)),
        None => stock_refused(db, id, product.stock).await,
    }
}

/// Applies the fields `patch` sets; `None` when there is no such product.
pub async fn update_product(db: &Db, id: i64, patch: &ProductPatch) -> ApiResult<Option<Product>> {
    let category_id = match &patch.category {
        Some(slug) => product_category_id(db, slug.as_ref()).await?,
        None => None,
    };
    let sql = format!(
        "UPDATE catalog.products SET \
           name = COALESCE($2::text, name), \
           description = CASE WHEN $3::boolean THEN $4::text ELSE description END, \
           price = COALESCE($5::bigint, price), \
           currency = COALESCE($6::text, currency), \
           stock = COALESCE($7::bigint, stock), \
           category_id = CASE WHEN $8::boolean THEN $9::bigint ELSE category_id END, \
           updated_at = now() \
         WHERE id = $1 AND reserved <= COALESCE($7::bigint, stock) \
         RETURNING {PRODUCT_COLUMNS}"
    );
    let params = [
        id.into(),
        patch
            .name
            .as_ref()
            .map(|name| name.as_str().to_string())
            .into(),
        patch.description.is_some().into(),
        patch.description.clone().flatten().into(),
        patch.price.map(|price| price.cents()).into(),
        patch
            .currency
            .as_ref()
            .map(|c| c.as_str().to_string())
            .into(),
        patch.stock.map(Stock::units).into(),
        patch.category.is_some().into(),
        category_id.into(),
    ];
    match (one_product(db, &sql, &params).await?, patch.stock) {
        (Some(product), _) => Ok(Some(product)),
        (None, Some(stock)) => stock_refused(db, id, stock).await,
        (None, None) => Ok(None),
    }
}

/// What removing a product did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Deleted,
    /// Reservations (and so orders) refer to it: it stays, hidden and unsellable.
    Archived,
    NotFound,
}

/// Deletes a product no reservation ever named; archives one that some did. The
/// foreign key from `reservation_items` decides, so a reservation made at the same
/// moment can't be left pointing at nothing.
pub async fn remove_product(db: &Db, id: i64) -> ApiResult<Removal> {
    match db
        .execute("DELETE FROM catalog.products WHERE id = $1", &[id.into()])
        .await
    {
        Ok(0) => Ok(Removal::NotFound),
        Ok(_) => Ok(Removal::Deleted),
        Err(err) if err.violates("reservation_items_product_id_fkey") => {
            let archived = db
                .execute(
                    "UPDATE catalog.products \
                 SET archived_at = COALESCE(archived_at, now()), updated_at = now() \
                 WHERE id = $1",
                    &[id.into()],
                )
                .await?;
            Ok(if archived > 0 {
                Removal::Archived
            } else {
                Removal::NotFound
            })
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn stock_level(db: &Db, id: i64) -> ApiResult<Option<StockLevel>> {
    let sql = format!("SELECT {STOCK_COLUMNS} FROM catalog.products WHERE id = $1");
    let rows = db.query(&sql, &[id.into()]).await?;
    rows.first().map(|row| decode_stock(&row)).transpose()
}

/// Sets the units on the shelf; `None` when there is no such product.
pub async fn set_stock(db: &Db, id: i64, stock: Stock) -> ApiResult<Option<StockLevel>> {
    let sql = format!(
        "UPDATE catalog.products SET stock = $2, updated_at = now() \
         WHERE id = $1 AND reserved <= $2 RETURNING {STOCK_COLUMNS}"
    );
    let rows = db.query(&sql, &[id.into(), stock.units().into()]).await?;
    match rows.first() {
        Some(row) => decode_stock(&row).map(Some),
        None => stock_refused(db, id, stock).await,
    }
}

// Categories --------------------------------------------------------------------

fn decode_category(row: &Row) -> ApiResult<Category> {
    Ok(Category {
        slug: row.get("slug")?,
        name: row.get("name")?,
        parent: row.get("parent")?,
        count: row.get("count")?,
    })
}

/// Every category, top-level or not, by name.
pub async fn list_categories(db: &Db) -> ApiResult<Vec<Category>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} {CATEGORY_FROM} ORDER BY c.name, c.slug");
    db.query(&sql, &[]).await?.map(decode_category)
}

pub async fn find_category(db: &Db, slug: &Slug) -> ApiResult<Option<Category>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} {CATEGORY_FROM} WHERE c.slug = $1");
    let rows = db.query(&sql, &[text(slug.as_str())]).await?;
    rows.first().map(|row| decode_category(&row)).transpose()
}

/// The parent a category is about to be put under, locked until the transaction
/// ends so it can't move meanwhile: its id, and its own parent's slug when it has
/// one. 400 when no category has the slug.
async fn lock_parent(db: &Db, parent: &Slug) -> ApiResult<(i64, Option<String>)> {
    let rows = db
        .query(
            "SELECT c.id, grandparent.slug AS grandparent FROM catalog.categories c \
             LEFT JOIN catalog.categories grandparent ON grandparent.id = c.parent_id \
             WHERE c.slug = $1 FOR SHARE OF c",
            &[text(parent.as_str())],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| unknown_category("parent", parent))?;
    Ok((row.get("id")?, row.get("grandparent")?))
}

/// A write the tree's constraints refused: a slug already taken, or (when another
/// request moved a category at the same moment) three levels deep.
fn category_refused(err: DbError, slug: &Slug) -> ApiError {
    if err.violates("categories_slug_key") {
        ApiError::conflict(
            "slug_taken",
            format!("a category with slug {} already exists", slug.as_str()),
        )
    } else if err.violates("categories_parent_fkey") {
        too_deep("categories nest two levels deep at most".to_string())
    } else {
        err.into()
    }
}

pub async fn insert_category(db: &Db, category: &NewCategory) -> ApiResult<Category> {
    db.transaction(async |db| {
        let parent_id = match &category.parent {
            Some(parent) => {
                let (id, grandparent) = lock_parent(db, parent).await?;
                Placement {
                    slug: &category.slug,
                    has_children: false,
                    parent,
                    grandparent: grandparent.as_deref(),
                }
                .check()?;
                Some(id)
            }
            None => None,
        };
        db.execute(
            "INSERT INTO catalog.categories (slug, name, parent_id) VALUES ($1, $2, $3)",
            &[
                text(category.slug.as_str()),
                text(category.name.as_str()),
                parent_id.into(),
            ],
        )
        .await
        .map_err(|err| category_refused(err, &category.slug))?;
        find_category(db, &category.slug)
            .await?
            .ok_or_else(|| ApiError::internal("inserted category vanished"))
    })
    .await
}

/// Renames and/or moves a category; `None` when there is no such category.
pub async fn update_category(
    db: &Db,
    slug: &Slug,
    patch: &CategoryPatch,
) -> ApiResult<Option<Category>> {
    db.transaction(async |db| {
        let rows = db
            .query(
                "SELECT c.id, EXISTS (SELECT 1 FROM catalog.categories child \
                   WHERE child.parent_id = c.id) AS has_children \
                 FROM catalog.categories c WHERE c.slug = $1 FOR UPDATE",
                &[text(slug.as_str())],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let (id, has_children): (i64, bool) = (row.get("id")?, row.get("has_children")?);
        let parent_id = match &patch.parent {
            Some(Some(parent)) => {
                let (parent_id, grandparent) = lock_parent(db, parent).await?;
                Placement {
                    slug,
                    has_children,
                    parent,
                    grandparent: grandparent.as_deref(),
                }
                .check()?;
                Some(parent_id)
            }
            _ => None,
        };
        db.execute(
            "UPDATE catalog.categories SET name = COALESCE($2::text, name), \
               parent_id = CASE WHEN $3::boolean THEN $4::bigint ELSE parent_id END, \
               updated_at = now() \
             WHERE id = $1",
            &[
                id.into(),
                patch.name.as_ref().map(|n| n.as_str().to_string()).into(),
                patch.parent.is_some().into(),
                parent_id.into(),
            ],
        )
        .await
        .map_err(|err| category_refused(err, slug))?;
        find_category(db, slug).await
    })
    .await
}

/// Deletes a category that holds no products and has no categories under it; the
/// foreign keys decide, so a product put in it at the same moment can't be left
/// pointing at nothing. Archived products (which its count leaves out) don't hold
/// it: they lose their category with it.
pub async fn delete_category(db: &Db, slug: &Slug) -> ApiResult<()> {
    db.transaction(async |db| {
        db.execute(
            "UPDATE catalog.products SET category_id = NULL, updated_at = now() \
             WHERE archived_at IS NOT NULL \
               AND category_id = (SELECT id FROM catalog.categories WHERE slug = $1)",
            &[text(slug.as_str())],
        )
        .await?;
        let deleted = db
            .execute(
                "DELETE FROM catalog.categories WHERE slug = $1",
                &[text(slug.as_str())],
            )
            .await;
        category_deleted(deleted, slug)
    })
    .await
}

fn category_deleted(deleted: Result<u64, DbError>, slug: &Slug) -> ApiResult<()> {
    match deleted {
        Ok(0) => Err(no_such_category(slug.as_str())),
        Ok(_) => Ok(()),
        Err(err) if err.violates("products_category_id_fkey") => Err(ApiError::conflict(
            "category_not_empty",
            format!(
                "category {} still holds products; move or delete them first",
                slug.as_str()
            ),
        )),
        Err(err) if err.violates("categories_parent_fkey") => Err(ApiError::conflict(
            "category_has_children",
            format!(
                "category {} has categories under it; move or delete them first",
                slug.as_str()
            ),
        )),
        Err(err) => Err(err.into()),
    }
}

// Images ------------------------------------------------------------------------
//
// Each file is stored once (`catalog.images`, keyed by the SHA-256 of its bytes);
// `catalog.product_images` lists the files a product shows, its positions 0, 1, ...
// without gaps (unique per product, checked at the end of each statement, at most
// 8). Every change to a product's images first locks the product's row, so changes
// to one product's images happen one at a time and the positions stay consistent.
// A file no product shows any more is deleted with its last use, by a trigger.

fn decode_image(row: &Row) -> ApiResult<ProductImage> {
    StoredImage {
        id: row.get("id")?,
        sha256: row.get("sha256")?,
        content_type: row.get("content_type")?,
        alt: row.get("alt")?,
        width: u32::try_from(row.get::<i32>("width")?).unwrap_or_default(),
        height: u32::try_from(row.get::<i32>("height")?).unwrap_or_default(),
    }
    .into_product_image()
}

/// Locks the product's row for a change to its images and counts them; `None` when
/// there is no such product.
async fn lock_images(db: &Db, product_id: i64) -> ApiResult<Option<i64>> {
    let rows = db
        .query(
            "SELECT (SELECT count(*) FROM catalog.product_images pi WHERE pi.product_id = p.id) \
               AS images \
             FROM catalog.products p WHERE p.id = $1 FOR NO KEY UPDATE",
            &[product_id.into()],
        )
        .await?;
    rows.first().map(|row| row.get("images")).transpose()
}

async fn find_image(db: &Db, product_id: i64, image_id: i64) -> ApiResult<Option<ProductImage>> {
    let rows = db
        .query(
            &format!(
                "SELECT {IMAGE_COLUMNS} FROM catalog.product_images pi \
                 JOIN catalog.images i ON i.sha256 = pi.image_sha256 \
                 WHERE pi.product_id = $1 AND pi.id = $2"
            ),
            &[product_id.into(), image_id.into()],
        )
        .await?;
    rows.first().map(|row| decode_image(&row)).transpose()
}

/// What adding an image to a product came to.
pub enum Added {
    Image(ProductImage),
    NoSuchProduct,
    /// The product already shows [`MAX_IMAGES_PER_PRODUCT`] images.
    Full,
}

/// Adds `upload` as the product's last image. Bytes already stored (for this product
/// or another) are not stored again: the file row is taken, and locked, so the
/// trigger can't delete it before the new use is recorded.
pub async fn add_image(
    db: &Db,
    product_id: i64,
    upload: &ImageUpload,
    alt: &str,
) -> ApiResult<Added> {
    db.transaction(async |db| {
        let Some(count) = lock_images(db, product_id).await? else {
            return Ok(Added::NoSuchProduct);
        };
        if count >= MAX_IMAGES_PER_PRODUCT {
            return Ok(Added::Full);
        }
        let rows = db
            .query(
                "WITH stored AS ( \
                   INSERT INTO catalog.images (sha256, content_type, width, height, bytes) \
                   VALUES ($2, $3, $4, $5, $6) \
                   ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256 \
                   RETURNING sha256) \
                 INSERT INTO catalog.product_images (product_id, image_sha256, alt, position) \
                 SELECT $1, sha256, $7, $8 FROM stored RETURNING id",
                &[
                    product_id.into(),
                    text(&upload.sha256),
                    text(upload.format.content_type()),
                    i32::try_from(upload.width).unwrap_or(i32::MAX).into(),
                    i32::try_from(upload.height).unwrap_or(i32::MAX).into(),
                    Param::Binary(upload.bytes.clone()),
                    text(alt),
                    (count as i32).into(),
                ],
            )
            .await?;
        let id: i64 = rows
            .first()
            .ok_or_else(|| ApiError::internal("image insert returned no row"))?
            .get("id")?;
        find_image(db, product_id, id)
            .await?
            .map(Added::Image)
            .ok_or_else(|| ApiError::internal(format!("image {id} vanished")))
    })
    .await
}

/// Changes an image's alt text, its place in the product's order, or both; the
/// images between its old and new place move by one to make room. `None` when the
/// product has no such image.
pub async fn update_image(
    db: &Db,
    product_id: i64,
    image_id: i64,
    patch: &ImagePatch,
) -> ApiResult<Option<ProductImage>> {
    db.transaction(async |db| {
        let Some(count) = lock_images(db, product_id).await? else {
            return Ok(None);
        };
        let rows = db
            .query(
                "SELECT position FROM catalog.product_images WHERE product_id = $1 AND id = $2",
                &[product_id.into(), image_id.into()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let from: i32 = row.get("position")?;
        let last = i32::try_from(count - 1).unwrap_or_default();
        let to = patch.position.map_or(from, |position| position.min(last));
        db.execute(
            "UPDATE catalog.product_images SET \
               position = CASE WHEN id = $2 THEN $3::integer \
                               WHEN $3::integer < $4::integer THEN position + 1 \
                               ELSE position - 1 END, \
               alt = CASE WHEN id = $2 THEN COALESCE($5::text, alt) ELSE alt END \
             WHERE product_id = $1 \
               AND (id = $2 OR position BETWEEN LEAST($3::integer, $4::integer) \
                                        AND GREATEST($3::integer, $4::integer))",
            &[
                product_id.into(),
                image_id.into(),
                to.into(),
                from.into(),
                patch.alt.clone().into(),
            ],
        )
        .await?;
        find_image(db, product_id, image_id).await
    })
    .await
}

/// Removes one of a product's images; the ones after it move up. False when the
/// product has no such image.
pub async fn delete_image(db: &Db, product_id: i64, image_id: i64) -> ApiResult<bool> {
    db.transaction(async |db| {
        if lock_images(db, product_id).await?.is_none() {
            return Ok(false);
        }
        let rows = db
            .query(
                "DELETE FROM catalog.product_images WHERE product_id = $1 AND id = $2 \
                 RETURNING position",
                &[product_id.into(), image_id.into()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        let position: i32 = row.get("position")?;
        db.execute(
            "UPDATE catalog.product_images SET position = position - 1 \
             WHERE product_id = $1 AND position > $2",
            &[product_id.into(), position.into()],
        )
        .await?;
        Ok(true)
    })
    .await
}

/// A stored file, as it is served.
pub struct ImageFile {
    pub format: ImageFormat,
    /// `None` when not asked for (the client has it already).
    pub bytes: Option<Vec<u8>>,
}

/// The file stored under `sha256`, its bytes only when `with_bytes`: a client that
/// already holds them learns that it does without them being read.
pub async fn image_file(db: &Db, sha256: &str, with_bytes: bool) -> ApiResult<Option<ImageFile>> {
    let rows = db
        .query(
            "SELECT content_type, CASE WHEN $2::boolean THEN bytes END AS bytes \
             FROM catalog.images WHERE sha256 = $1",
            &[text(sha256), with_bytes.into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let content_type: String = row.get("content_type")?;
    Ok(Some(ImageFile {
        format: ImageFormat::from_content_type(&content_type)
            .ok_or_else(|| ApiError::internal(format!("stored image of type {content_type}")))?,
        bytes: row.get("bytes")?,
    }))
}

// Reservations ------------------------------------------------------------------

pub async fn find_reservation(db: &Db, order_id: i64) -> ApiResult<Option<Reservation>> {
    let sql = format!("SELECT {RESERVATION_COLUMNS} FROM catalog.reservations WHERE order_id = $1");
    let rows = db.query(&sql, &[order_id.into()]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let items = db
        .query(
            "SELECT i.product_id, i.qty, p.name, p.price, p.currency \
             FROM catalog.reservation_items i JOIN catalog.products p ON p.id = i.product_id \
             WHERE i.order_id = $1 ORDER BY i.product_id",
            &[order_id.into()],
        )
        .await?
        .map(decode_reserved_line)?;
    decode_reservation(&row, items).map(Some)
}

async fn existing_reservation(db: &Db, order_id: i64) -> ApiResult<Reservation> {
    find_reservation(db, order_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("reservation {order_id} vanished")))
}

/// Holds stock for every line of an order, or for none.
///
/// The reservation row, keyed by order id, goes in first with `ON CONFLICT DO
/// NOTHING`: a repeat (even a concurrent one, which waits on the key) finds the
/// first reservation and returns it without holding anything twice. Each line is one
/// statement that holds the units only while enough unreserved stock remains, and
/// records and prices the line; lines come in product id order so concurrent
/// reservations lock rows in the same order. Any failing line rolls the whole
/// transaction back.
pub async fn reserve(db: &Db, request: &ReservationRequest) -> ApiResult<Reservation> {
    let order_id = request.order_id;
    db.transaction(async |db| {
        let sql = format!(
            "INSERT INTO catalog.reservations (order_id) VALUES ($1) \
             ON CONFLICT (order_id) DO NOTHING RETURNING {RESERVATION_COLUMNS}"
        );
        let inserted = db.query(&sql, &[order_id.into()]).await?;
        let Some(row) = inserted.first() else {
            return existing_reservation(db, order_id).await;
        };
        let mut items = Vec::new();
        for line in request.lines() {
            items.push(hold(db, order_id, line).await?);
        }
        decode_reservation(&row, items)
    })
    .await
}

/// Holds one line's units and records the line, in one statement (a data-modifying
/// `WITH` runs whether or not the outer query reads it); nothing held means too
/// little stock, an archived product or none at all, told apart afterwards.
async fn hold(db: &Db, order_id: i64, line: &ReservationLine) -> ApiResult<ReservedLine> {
    let rows = db
        .query(
            "WITH held AS ( \
           UPDATE catalog.products SET reserved = reserved + $3::bigint, updated_at = now() \
           WHERE id = $2::bigint AND archived_at IS NULL AND stock - reserved >= $3::bigint \
           RETURNING id, name, price, currency), \
         recorded AS ( \
           INSERT INTO catalog.reservation_items (order_id, product_id, qty) \
           SELECT $1::bigint, id, $3::bigint FROM held) \
         SELECT id AS product_id, $3::bigint AS qty, name, price, currency FROM held",
            &[
                order_id.into(),
                line.product_id.into(),
                line.qty.units().into(),
            ],
        )
        .await?;
    match rows.first() {
        Some(row) => decode_reserved_line(&row),
        None => Err(match stock_level(db, line.product_id).await? {
            Some(level) => level.insufficient_for(line.qty),
            None => no_such_product(line.product_id),
        }),
    }
}

fn decode_reservation(row: &Row, items: Vec<ReservedLine>) -> ApiResult<Reservation> {
    let status: String = row.get("status")?;
    Ok(Reservation {
        order_id: row.get("order_id")?,
        status: ReservationStatus::parse(&status)
            .ok_or_else(|| ApiError::internal(format!("unknown reservation status {status}")))?,
        items,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

fn decode_reserved_line(row: &Row) -> ApiResult<ReservedLine> {
    Ok(ReservedLine {
        product_id: row.get("product_id")?,
        qty: row.get("qty")?,
        name: row.get("name")?,
        price: row.get("price")?,
        currency: row.get("currency")?,
    })
}

/// Locks the products an order's reservation holds, in id order (the order
/// `reserve` locks them in), before a bulk update touches them.
async fn lock_reserved_products(db: &Db, order_id: i64) -> ApiResult<()> {
    db.query(
        "SELECT p.id FROM catalog.products p \
         JOIN catalog.reservation_items i ON i.product_id = p.id \
         WHERE i.order_id = $1 ORDER BY p.id FOR UPDATE OF p",
        &[order_id.into()],
    )
    .await?;
    Ok(())
}

/// Moves an open reservation to `to`; true when this call made the move. Only one
/// of any number of concurrent calls can, so stock is adjusted exactly once.
async fn close_reservation(db: &Db, order_id: i64, to: ReservationStatus) -> ApiResult<bool> {
    let moved = db
        .execute(
            "UPDATE catalog.reservations SET status = $2, updated_at = now() \
         WHERE order_id = $1 AND status = 'reserved'",
            &[order_id.into(), text(to.as_str())],
        )
        .await?;
    Ok(moved > 0)
}

/// Gives an open reservation's units back to the shelf. Releasing an order nothing
/// was reserved for records it as released, so a reserve that arrives late for that
/// order (a retry, a slow request) finds it released and holds nothing.
pub async fn release(db: &Db, order_id: i64) -> ApiResult<Reservation> {
    db.transaction(async |db| {
        db.execute(
            "INSERT INTO catalog.reservations (order_id, status) VALUES ($1, 'released') \
             ON CONFLICT (order_id) DO NOTHING",
            &[order_id.into()],
        )
        .await?;
        if close_reservation(db, order_id, ReservationStatus::Released).await? {
            lock_reserved_products(db, order_id).await?;
            db.execute(
                "UPDATE catalog.products p SET reserved = p.reserved - i.qty, updated_at = now() \
                 FROM catalog.reservation_items i \
                 WHERE i.order_id = $1 AND p.id = i.product_id",
                &[order_id.into()],
            )
            .await?;
        }
        existing_reservation(db, order_id).await
    })
    .await
}

/// Takes an open reservation's units off the shelf for good (the order was paid).
/// `None` when nothing was ever reserved for the order.
pub async fn commit(db: &Db, order_id: i64) -> ApiResult<Option<Reservation>> {
    db.transaction(async |db| {
        if close_reservation(db, order_id, ReservationStatus::Committed).await? {
            lock_reserved_products(db, order_id).await?;
            db.execute(
                "UPDATE catalog.products p \
                 SET stock = p.stock - i.qty, reserved = p.reserved - i.qty, updated_at = now() \
                 FROM catalog.reservation_items i \
                 WHERE i.order_id = $1 AND p.id = i.product_id",
                &[order_id.into()],
            )
            .await?;
        }
        find_reservation(db, order_id).await
    })
    .await
}
