//! `spinshop migrate`: applies or reverts the SQL in `migrations/` (sqlx's format,
//! so `sqlx migrate run` works too), creates the database when missing, creates the
//! first admin, and loads a small demo catalog on request. Every step is idempotent.
//! It warns when the server has fewer connections than the services' pools may hold.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use products::image::ImageUpload;
use spinshop_host::manifest::Manifest;
use users::credentials::{Email, PASSWORD_MIN_LENGTH, Password};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/spinshop";
/// Connections Spin keeps, at most, in a component's pool for one connection string.
pub const SPIN_POOL_SIZE: u32 = 64;
/// The users service refuses longer passwords: hashing cost must stay bounded.
/// Connections beyond the services' pools, for `spinshop migrate`, `psql` and monitoring.
const TOOL_CONNECTIONS: u32 = 10;

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Database to migrate, as a superuser (it creates the services' roles).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Folder of `<version>_<name>.up.sql` / `.down.sql` files.
    #[arg(long, default_value = "migrations")]
    migrations: PathBuf,
    /// Revert every migration instead of applying them.
    #[arg(long, conflicts_with = "down_to")]
    revert: bool,
    /// Revert the migrations newer than VERSION.
    #[arg(long, value_name = "VERSION")]
    down_to: Option<i64>,
    /// The first admin's email (default: the manifest's `admin_email` variable).
    #[arg(long, env = "SPIN_VARIABLE_ADMIN_EMAIL")]
    admin_email: Option<String>,
    /// The first admin's password (default: the manifest's `admin_password` variable).
    #[arg(long, env = "SPIN_VARIABLE_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Where the variables' defaults come from.
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    /// Also load a small demo catalog when the catalog is empty.
    #[arg(long)]
    demo: bool,
    /// Drop the database first and start from nothing (everything in it is lost).
    #[arg(long, conflicts_with_all = ["revert", "down_to"])]
    fresh: bool,
}

/// The users service's rule for passwords, as the manifest's `[variables]` default
/// it (spin.toml holds the one default; the first admin follows the same rule).
pub fn password_min_length(manifest: &Manifest) -> anyhow::Result<usize> {
    manifest
        .variables
        .get(PASSWORD_MIN_LENGTH)
        .and_then(|variable| variable.default.as_deref())
        .with_context(|| format!("the manifest has no default for {PASSWORD_MIN_LENGTH}"))?
        .trim()
        .parse()
        .with_context(|| format!("the manifest's {PASSWORD_MIN_LENGTH} is not a number"))
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    if args.fresh {
        drop_database(&args.database_url).await?;
    }
    create_database_if_missing(&args.database_url).await?;
    if args.revert || args.down_to.is_some() {
        revert(
            &args.database_url,
            &args.migrations,
            args.down_to.unwrap_or(0),
        )
        .await?;
        eprintln!(
            "reverted migrations newer than {}",
            args.down_to.unwrap_or(0)
        );
        return Ok(());
    }
    apply(&args.database_url, &args.migrations).await?;
    eprintln!("migrations applied");

    let manifest = Manifest::load(&args.manifest)?;
    let default_of = |name: &str| {
        manifest
            .variables
            .get(name)
            .and_then(|variable| variable.default.clone())
            .with_context(|| {
                format!(
                    "no --{} given and no default for {name} in the manifest",
                    name.replace('_', "-")
                )
            })
    };
    let admin_email = match args.admin_email {
        Some(email) => email,
        None => default_of("admin_email")?,
    };
    let admin_password = match args.admin_password {
        Some(password) => password,
        None => default_of("admin_password")?,
    };
    if ensure_admin(
        &args.database_url,
        &admin_email,
        &admin_password,
        password_min_length(&manifest)?,
    )
    .await?
    {
        eprintln!("created admin {admin_email}");
    }
    if args.demo {
        let loaded = load_demo_catalog(&args.database_url).await?;
        eprintln!("demo catalog: {loaded} products added");
    }
    let services = manifest
        .components
        .values()
        .filter(|component| component.variables.contains_key("db_url"))
        .count();
    if let Some(warning) = check_connection_budget(&args.database_url, services as u32).await? {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// The `max_connections` at which every service's pool can fill up and no request
/// ever waits for a connection slot: Spin's pool size per service, the slots the
/// server reserves for superusers, and room for tools.
pub fn max_connections_needed(services: u32, reserved: u32) -> u32 {
    services * SPIN_POOL_SIZE + reserved + TOOL_CONNECTIONS
}

/// What to say about a server with `max_connections` (`reserved` of them for
/// superusers) for `services` pools, when it can't hold them all.
pub fn connection_budget_warning(
    max_connections: u32,
    reserved: u32,
    services: u32,
) -> Option<String> {
    let needed = max_connections_needed(services, reserved);
    (max_connections < needed).then(|| {
        format!(
            "Postgres allows {max_connections} connections ({reserved} reserved for \
             superusers), and spinshop's {services} services may pool {} (Spin keeps up to \
             {SPIN_POOL_SIZE} per service and Spin process, the idle ones its instances \
             keep among them). spinshop works here: the server closes a service's idle \
             connections after 200 ms, and a request waits a moment for a free slot; but \
             under load requests queue for connections. Set max_connections \
             to {needed} or more, or put PgBouncer in front \
             (docs/running.md: \"Postgres connections\").",
            services * SPIN_POOL_SIZE
        )
    })
}

/// Asks the server for its connection limits and checks them against `services`
/// pools; the warning to print, if any.
pub async fn check_connection_budget(
    database_url: &str,
    services: u32,
) -> anyhow::Result<Option<String>> {
    let pool = pool(database_url).await?;
    // reserved_connections (for pg_use_reserved_connections) exists from Postgres 16.
    let (max_connections, reserved): (i32, i32) = sqlx::query_as(
        "SELECT current_setting('max_connections')::int4, \
                current_setting('superuser_reserved_connections')::int4 \
                + coalesce(current_setting('reserved_connections', true)::int4, 0)",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(connection_budget_warning(
        u32::try_from(max_connections)?,
        u32::try_from(reserved)?,
        services,
    ))
}

async fn pool(database_url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await
        .with_context(|| format!("connecting to {}", redacted(database_url)))
}

async fn migrator(dir: &Path) -> anyhow::Result<Migrator> {
    Migrator::new(dir.to_path_buf())
        .await
        .with_context(|| format!("reading migrations from {}", dir.display()))
}

/// Applies every pending migration.
pub async fn apply(database_url: &str, dir: &Path) -> anyhow::Result<()> {
    let pool = pool(database_url).await?;
    migrator(dir).await?.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Applies pending migrations up to and including `version`.
pub async fn apply_to(database_url: &str, dir: &Path, version: i64) -> anyhow::Result<()> {
    let pool = pool(database_url).await?;
    migrator(dir).await?.run_to(version, &pool).await?;
    pool.close().await;
    Ok(())
}

/// Reverts, newest first, every applied migration newer than `version` (0: all).
pub async fn revert(database_url: &str, dir: &Path, version: i64) -> anyhow::Result<()> {
    let pool = pool(database_url).await?;
    migrator(dir).await?.undo(&pool, version).await?;
    pool.close().await;
    Ok(())
}

/// The versions of the migrations in `dir`, oldest first.
pub async fn versions(dir: &Path) -> anyhow::Result<Vec<i64>> {
    let mut versions: Vec<i64> = migrator(dir)
        .await?
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    Ok(versions)
}

/// Creates the database named in the URL when it does not exist yet.
pub async fn create_database_if_missing(database_url: &str) -> anyhow::Result<()> {
    let options: PgConnectOptions = database_url.parse().context("parsing the database URL")?;
    let name = options
        .get_database()
        .context("the database URL names no database")?
        .to_string();
    let mut admin = options
        .database("postgres")
        .connect()
        .await
        .with_context(|| format!("connecting to {}", redacted(database_url)))?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        // The name is quoted as an identifier; CREATE DATABASE takes no parameters.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{quoted}\"")))
            .execute(&mut admin)
            .await?;
    }
    admin.close().await?;
    Ok(())
}

/// Drops the database named in the URL, closing its connections, if it exists.
pub async fn drop_database(database_url: &str) -> anyhow::Result<()> {
    let options: PgConnectOptions = database_url.parse().context("parsing the database URL")?;
    let name = options
        .get_database()
        .context("the database URL names no database")?
        .to_string();
    anyhow::ensure!(
        name != "postgres",
        "refusing to drop the server's maintenance database"
    );
    let mut admin = options
        .database("postgres")
        .connect()
        .await
        .with_context(|| format!("connecting to {}", redacted(database_url)))?;
    let quoted = name.replace('"', "\"\"");
    // The name is quoted as an identifier; DROP DATABASE takes no parameters.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{quoted}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    Ok(())
}

/// Creates the first admin unless an account with that email exists. Returns
/// whether it was created. The account follows the users service's rules, so the
/// admin can sign in and change the password like any user: a plausible email
/// (trimmed, lower-cased), a password of `password_min_length` characters or more
/// and at most [`users::credentials::MAX_PASSWORD_BYTES`], hashed as users hashes passwords.
pub async fn ensure_admin(
    database_url: &str,
    email: &str,
    password: &str,
    password_min_length: usize,
) -> anyhow::Result<bool> {
    let email =
        Email::parse(email).map_err(|err| anyhow::anyhow!("admin email {email:?}: {err}"))?;
    let password = Password::parse(
        password.to_string(),
        password_min_length,
        "the admin password",
    )
    .map_err(|err| anyhow::anyhow!("{err}"))?;
    let hash = users::password::hash_password(password.as_str())?;
    let pool = pool(database_url).await?;
    let created = sqlx::query(
        "INSERT INTO users.users (email, name, password_hash, role, email_verified) \
         VALUES ($1, 'Administrator', $2, 'admin', true) ON CONFLICT (email) DO NOTHING",
    )
    .bind(email.as_str())
    .bind(&hash)
    .execute(&pool)
    .await?
    .rows_affected()
        > 0;
    pool.close().await;
    Ok(created)
}

/// The demo catalog's categories: slug, name, parent.
const DEMO_CATEGORIES: &[(&str, &str, Option<&str>)] = &[
    ("electronics", "Electronics", None),
    ("audio", "Audio", Some("electronics")),
    ("computers", "Computers", Some("electronics")),
    ("accessories", "Accessories", None),
    ("desk", "Desk", Some("accessories")),
    ("cables-and-hubs", "Cables and hubs", Some("accessories")),
];

/// One product of the demo catalog, in its category (a slug of `DEMO_CATEGORIES`),
/// with its picture (drawn for spinshop: see `demo/images/README.md`).
struct DemoProduct {
    name: &'static str,
    description: &'static str,
    price: i64,
    stock: i64,
    category: &'static str,
    picture: &'static [u8],
    alt: &'static str,
}

const DEMO_PRODUCTS: &[DemoProduct] = &[
    DemoProduct {
        name: "Mechanical keyboard",
        description: "Tactile switches, full size.",
        price: 8999,
        stock: 25,
        category: "computers",
        picture: include_bytes!("../../../demo/images/mechanical-keyboard.webp"),
        alt: "A navy keyboard with white keys and two yellow ones",
    },
    DemoProduct {
        name: "Wireless mouse",
        description: "Two buttons and a wheel, 18 months on one battery.",
        price: 2999,
        stock: 40,
        category: "computers",
        picture: include_bytes!("../../../demo/images/wireless-mouse.webp"),
        alt: "A green mouse with a yellow wheel, sending radio waves",
    },
    DemoProduct {
        name: "Wireless keyboard",
        description: "Low-profile keys, pairs with three devices.",
        price: 5999,
        stock: 20,
        category: "computers",
        picture: include_bytes!("../../../demo/images/wireless-keyboard.webp"),
        alt: "A slim white keyboard with grey keys, sending radio waves",
    },
    DemoProduct {
        name: "27\" monitor",
        description: "1440p, matte.",
        price: 27999,
        stock: 8,
        category: "computers",
        picture: include_bytes!("../../../demo/images/27-monitor.webp"),
        alt: "A monitor on a stand showing green hills under a yellow sun",
    },
    DemoProduct {
        name: "Noise-cancelling headphones",
        description: "Over-ear, wireless, 30 hours.",
        price: 19999,
        stock: 12,
        category: "audio",
        picture: include_bytes!("../../../demo/images/noise-cancelling-headphones.webp"),
        alt: "Navy over-ear headphones",
    },
    DemoProduct {
        name: "Wireless earbuds",
        description: "In-ear, with a charging case.",
        price: 9999,
        stock: 30,
        category: "audio",
        picture: include_bytes!("../../../demo/images/wireless-earbuds.webp"),
        alt: "Two white earbuds beside their open green case",
    },
    DemoProduct {
        name: "Bookshelf speakers",
        description: "A pair, wired, for a desk or a shelf.",
        price: 14999,
        stock: 6,
        category: "audio",
        picture: include_bytes!("../../../demo/images/bookshelf-speakers.webp"),
        alt: "A pair of wooden speakers with dark cones",
    },
    DemoProduct {
        name: "Laptop stand",
        description: "Aluminium, folds flat.",
        price: 4599,
        stock: 15,
        category: "desk",
        picture: include_bytes!("../../../demo/images/laptop-stand.webp"),
        alt: "An open laptop tilted up on a grey stand",
    },
    DemoProduct {
        name: "Mouse pad",
        description: "Cloth, stitched edges, fits a mouse and a keyboard.",
        price: 1299,
        stock: 50,
        category: "desk",
        picture: include_bytes!("../../../demo/images/mouse-pad.webp"),
        alt: "A long navy mouse pad with a yellow stitched edge",
    },
    DemoProduct {
        name: "Wireless charger",
        description: "Charges a phone or earbuds laid on it.",
        price: 2499,
        stock: 35,
        category: "desk",
        picture: include_bytes!("../../../demo/images/wireless-charger.webp"),
        alt: "A round charging pad with a phone lying on it",
    },
    DemoProduct {
        name: "USB-C hub",
        description: "Four ports, power pass-through.",
        price: 3499,
        stock: 30,
        category: "cables-and-hubs",
        picture: include_bytes!("../../../demo/images/usb-c-hub.webp"),
        alt: "A grey hub with four ports and its cable",
    },
    DemoProduct {
        name: "USB-C cable",
        description: "Braided, 2 m, 100 W.",
        price: 1499,
        stock: 60,
        category: "cables-and-hubs",
        picture: include_bytes!("../../../demo/images/usb-c-cable.webp"),
        alt: "A coiled green cable with a plug at each end",
    },
];

/// The demo catalog: its categories and products, each product with its picture,
/// added only to an empty catalog. The pictures pass the rules an admin's upload does
/// (products' `image` module): their format, size and dimensions are read from their
/// bytes, and they are stored once under their content hash.
pub async fn load_demo_catalog(database_url: &str) -> anyhow::Result<u64> {
    let pool = pool(database_url).await?;
    let mut tx = pool.begin().await?;
    let empty: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM catalog.products) \
         AND NOT EXISTS (SELECT 1 FROM catalog.categories)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut added = 0;
    if empty {
        // Parents come before their children in the list.
        for (slug, name, parent) in DEMO_CATEGORIES {
            sqlx::query(
                "INSERT INTO catalog.categories (slug, name, parent_id) \
                 VALUES ($1, $2, (SELECT id FROM catalog.categories WHERE slug = $3))",
            )
            .bind(slug)
            .bind(name)
            .bind(parent)
            .execute(&mut *tx)
            .await?;
        }
        for product in DEMO_PRODUCTS {
            let picture = ImageUpload::parse(product.picture.to_vec())
                .map_err(|err| anyhow::anyhow!("the picture of {}: {err}", product.name))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO catalog.products (name, description, price, stock, category_id) \
                 VALUES ($1, $2, $3, $4, (SELECT id FROM catalog.categories WHERE slug = $5)) \
                 RETURNING id",
            )
            .bind(product.name)
            .bind(product.description)
            .bind(product.price)
            .bind(product.stock)
            .bind(product.category)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "WITH stored AS ( \
                   INSERT INTO catalog.images (sha256, content_type, width, height, bytes) \
                   VALUES ($2, $3, $4, $5, $6) \
                   ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256 RETURNING sha256) \
                 INSERT INTO catalog.product_images (product_id, image_sha256, alt, position) \
                 SELECT $1, sha256, $7, 0 FROM stored",
            )
            .bind(id)
            .bind(&picture.sha256)
            .bind(picture.format.content_type())
            .bind(i32::try_from(picture.width)?)
            .bind(i32::try_from(picture.height)?)
            .bind(&picture.bytes)
            .bind(product.alt)
            .execute(&mut *tx)
            .await?;
            added += 1;
        }
    }
    tx.commit().await?;
    pool.close().await;
    Ok(added)
}

/// The URL without its password, for messages.
fn redacted(database_url: &str) -> String {
    let Some((scheme, rest)) = database_url.split_once("://") else {
        return "the database".into();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}@{host}")
        }
        None => database_url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_too_small_for_every_pool_is_named_with_the_size_it_needs() {
        let warning = connection_budget_warning(100, 3, 5).expect("a warning");
        assert!(warning.contains("may pool 320"), "{warning}");
        assert!(warning.contains("max_connections to 333"), "{warning}");
        assert_eq!(connection_budget_warning(333, 3, 5), None);
        assert_eq!(connection_budget_warning(100, 3, 1), None);
    }

    #[tokio::test]
    async fn an_admin_password_the_users_service_would_refuse_is_refused() {
        // Refused before connecting: the URL names no server that answers.
        let url = "postgres://postgres@127.0.0.1:1/nowhere";
        let short = ensure_admin(url, "admin@spinshop.local", "12345678", 12)
            .await
            .expect_err("too short for the configured rule");
        assert!(
            short.to_string().contains("at least 12 characters"),
            "{short}"
        );
        let long = "x".repeat(users::credentials::MAX_PASSWORD_BYTES + 1);
        let long = ensure_admin(url, "admin@spinshop.local", &long, 8)
            .await
            .expect_err("too long to hash");
        assert!(long.to_string().contains("at most 1024 bytes"), "{long}");
    }
}
