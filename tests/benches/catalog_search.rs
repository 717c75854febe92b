//! The product list's search at 10,000 products: how long Postgres takes over each of
//! the two statements a listing runs (the page, and the total with the facets), for
//! representative queries. Not a timed test: the figures are read, not asserted.
//!
//!     cargo bench -p spinshop-tests --bench catalog_search
//!
//! A fresh database (the test host's: migrations, the demo catalog's categories and
//! products), filled up to 10,000 products with generated names, descriptions,
//! prices, categories and ages, then `VACUUM ANALYZE`d. Each query is asked of the real
//! products component once (its total is printed), then each of its statements, as
//! the service builds them (`products::listing`), is run under `EXPLAIN (ANALYZE,
//! BUFFERS)` as the products role: a warm-up, then `RUNS` times; the median and the
//! slowest execution time are printed, and the plans of the last run after the table.
//! The report also goes to `bench/results/<date>-catalog-search.txt`.

use std::fmt::Write as _;

use products::listing::{ListFilter, ListQuery, list_facets_sql, list_page_sql};
use spinshop_cli::migrate;
use spinshop_tests::{TestApp, workspace_root};
use tokio_postgres::types::ToSql;

const PRODUCTS: i64 = 10_000;
const RUNS: usize = 7;
const PAGE: i64 = 20;

/// The queries measured: what the storefront sends for a search, a category, a
/// price range and each sort.
const QUERIES: &[(&str, &str)] = &[
    ("browse, newest (default)", ""),
    ("plain word", "q=wireless"),
    ("two words", "q=wireless%20keyboard"),
    ("phrase", "q=%22noise%20cancelling%22"),
    ("-word", "q=wireless%20-mouse"),
    ("misspelled", "q=wireles"),
    ("misspelled", "q=keybord"),
    ("short", "q=mous"),
    ("two misspelled", "q=wireles%20keybord"),
    ("misspelled -word", "q=keybord%20-wireless"),
    ("like nothing", "q=zzzz"),
    ("category (top-level)", "category=electronics"),
    ("category + word", "category=audio&q=wireless"),
    ("price range", "min_price=1000&max_price=4999"),
    ("sort price_asc", "sort=price_asc"),
    ("sort price_desc", "sort=price_desc"),
    ("sort newest", "sort=newest"),
    ("sort relevance", "q=portable%20speaker&sort=relevance"),
    ("word, price_asc", "q=charger&sort=price_asc"),
    ("deep page", "q=wireless&offset=200"),
];

/// `key=value&...` as the listing reads it (values URL-decoded as the service does).
fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key.to_string(), decode(value))
        })
        .collect()
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Fills the catalog up to `PRODUCTS`: names from a word, a kind and a number;
/// descriptions from a few phrases and a maker's name of its own, so that a
/// misspelling is corrected among some 10,000 words; prices from 1.00 to 600.00;
/// each kind in the demo category it belongs to; one product a minute back in time.
const FILL: &str = "
WITH words AS (
  SELECT ARRAY['Wireless','Compact','Ergonomic','Portable','Mechanical','Silent',
               'Travel','Pro','Mini','Classic','Gaming','Studio'] AS adjectives,
         ARRAY['mouse','keyboard','headphones','speaker','charger','cable','hub',
               'monitor','lamp','stand','earbuds','webcam','microphone','dock','pad'] AS kinds,
         ARRAY['computers','computers','audio','audio','desk','cables-and-hubs',
               'cables-and-hubs','computers','desk','desk','audio','computers','audio',
               'cables-and-hubs','desk'] AS kind_categories,
         ARRAY['with noise cancelling for calls','with a braided cable','in matte black',
               'that folds flat for travel','with a two year warranty','pairs over bluetooth',
               'for a small desk','with a long battery life'] AS features)
INSERT INTO catalog.products (name, description, price, stock, category_id, created_at)
SELECT adjectives[1 + i % 12] || ' ' || kinds[1 + (i / 12) % 15] || ' ' || i,
       'A ' || lower(adjectives[1 + (i / 7) % 12]) || ' ' || kinds[1 + (i / 12) % 15] || ' '
         || features[1 + i % 8] || ', and ' || features[1 + (i / 8) % 8] || '. Made by '
         || initcap(translate(left(md5(i::text), 8), '0123456789', 'ghijklmnop')) || '.',
       100 + (i * 7919) % 59900,
       i % 40,
       (SELECT id FROM catalog.categories WHERE slug = kind_categories[1 + (i / 12) % 15]),
       now() - i * interval '1 minute'
FROM words, generate_series(1, $1::bigint) AS i";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app = TestApp::spawn().await;
    migrate::load_demo_catalog(&app.superuser_url())
        .await
        .expect("the demo catalog");
    let db = app.db().await;
    let demo = app.count("catalog.products").await;
    db.execute(FILL, &[&(PRODUCTS - demo)])
        .await
        .expect("filling the catalog");
    // As autovacuum leaves them: statistics, and the GIN indexes' pending entries merged.
    for table in ["products", "search_words", "categories"] {
        db.batch_execute(&format!("VACUUM ANALYZE catalog.{table}"))
            .await
            .unwrap();
    }
    let role = app.connect_as("spinshop_products").await;

    let mut report = String::new();
    let header = db
        .query_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, version() AS version",
            &[],
        )
        .await
        .unwrap();
    let day: String = header.get("day");
    let version: String = header.get("version");
    writeln!(report, "spinshop catalog search benchmark, {day}").unwrap();
    writeln!(report, "machine: {}", machine()).unwrap();
    writeln!(report, "postgres: {version}").unwrap();
    writeln!(
        report,
        "catalog: {} products, {} categories; EXPLAIN (ANALYZE, BUFFERS) as spinshop_products, \
         {RUNS} runs after a warm-up; times in ms",
        app.count("catalog.products").await,
        app.count("catalog.categories").await
    )
    .unwrap();
    writeln!(report).unwrap();
    writeln!(
        report,
        "{:<26} {:<36} {:>6} | {:>8} {:>8} | {:>8} {:>8} | {:>8}",
        "query", "parameters", "total", "page p50", "max", "facet p50", "max", "both p50"
    )
    .unwrap();

    let mut plans = String::new();
    let mut slowest: f64 = 0.0;
    for (label, raw) in QUERIES {
        let answer = app.get(&format!("/api/products/search?{raw}"), None).await;
        assert_eq!(answer.status, 200, "{raw}: {}", answer.text());
        let total = answer.json()["total"].as_i64().unwrap();

        let pairs = parse_query(raw);
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let (filter, sort) = ListFilter::parse(&ListQuery {
            q: get("q"),
            category: get("category"),
            sort: get("sort"),
            min_price: get("min_price"),
            max_price: get("max_price"),
            available: get("available"),
            include_archived: get("include_archived"),
        })
        .unwrap();
        let offset: i64 = get("offset").map_or(0, |o| o.parse().unwrap());
        let params = Params::of(&filter);
        let mut paged = params.filter();
        paged.extend([&PAGE as &(dyn ToSql + Sync), &offset]);

        let (page_times, page_plan) = explain(&role, &list_page_sql(sort), &paged).await;
        let (facet_times, facet_plan) = explain(&role, &list_facets_sql(), &params.filter()).await;
        let both: Vec<f64> = page_times
            .iter()
            .zip(&facet_times)
            .map(|(a, b)| a + b)
            .collect();
        slowest = slowest.max(max(&page_times)).max(max(&facet_times));
        writeln!(
            report,
            "{label:<26} {raw:<36} {total:>6} | {:>8.3} {:>8.3} | {:>8.3} {:>8.3} | {:>8.3}",
            median(&page_times),
            max(&page_times),
            median(&facet_times),
            max(&facet_times),
            median(&both),
        )
        .unwrap();
        let sort_name = format!("{sort:?}");
        writeln!(plans, "\n=== {label}: {raw} (sort {sort_name})\n--- the page\n{page_plan}--- the total and the facets\n{facet_plan}").unwrap();
    }
    writeln!(report).unwrap();
    writeln!(
        report,
        "slowest single statement: {slowest:.3} ms (execution time as Postgres reports it)"
    )
    .unwrap();
    writeln!(report, "\nThe plans of the last run of each statement:").unwrap();
    report.push_str(&plans);

    print!("{report}");
    let path = workspace_root()
        .join("bench/results")
        .join(format!("{day}-catalog-search.txt"));
    std::fs::write(&path, &report).expect("writing the report");
    eprintln!("written to {}", path.display());
}

/// The listing's parameters in the order the statements take them (`$1`..`$8`, see
/// `products::store`): the search as sent, its wanted and excluded words,
/// availability, include archived, category, lowest and highest price.
struct Params {
    text: Option<String>,
    wanted: Option<String>,
    excluded: Option<String>,
    available: Option<bool>,
    include_archived: bool,
    category: Option<String>,
    min_price: Option<i64>,
    max_price: Option<i64>,
}

impl Params {
    fn of(filter: &ListFilter) -> Params {
        let search = filter.search.as_ref();
        Params {
            text: search.map(|s| s.text.clone()),
            wanted: search.and_then(|s| s.wanted.clone()),
            excluded: search.and_then(|s| s.excluded.clone()),
            available: filter.available,
            include_archived: filter.include_archived,
            category: filter.category.as_ref().map(|c| c.as_str().to_string()),
            min_price: filter.min_price,
            max_price: filter.max_price,
        }
    }

    fn filter(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.text,
            &self.wanted,
            &self.excluded,
            &self.available,
            &self.include_archived,
            &self.category,
            &self.min_price,
            &self.max_price,
        ]
    }
}

/// Execution times of `RUNS` runs of `sql` under `EXPLAIN (ANALYZE, BUFFERS)`, after
/// one that warms the cache, and the plan of the last.
async fn explain(
    db: &tokio_postgres::Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> (Vec<f64>, String) {
    let explained = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
    let mut times = Vec::new();
    let mut plan = String::new();
    for run in 0..=RUNS {
        let rows = db
            .query(&explained, params)
            .await
            .unwrap_or_else(|err| panic!("explaining {sql}: {err}"));
        plan = rows
            .iter()
            .map(|row| format!("{}\n", row.get::<_, String>(0)))
            .collect();
        let time = plan
            .lines()
            .find_map(|line| line.trim().strip_prefix("Execution Time: "))
            .and_then(|ms| ms.trim_end_matches(" ms").parse::<f64>().ok())
            .expect("an execution time");
        if run > 0 {
            times.push(time);
        }
    }
    (times, plan)
}

fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn max(times: &[f64]) -> f64 {
    times.iter().copied().fold(0.0, f64::max)
}

/// The processor, the cores and the kernel, as `bench/run` names the machine.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown processor".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cores} cores, Linux {}", kernel.trim())
}
