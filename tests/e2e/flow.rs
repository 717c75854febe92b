//! The whole shopping flow across components, once with Spin's service chaining
//! (`http://<component>.spin.internal`) and once with self-requests through the public
//! router (Fermyon Cloud's way), the two values of `internal_mode`.

use serde_json::json;
use spinshop_tests::build::Build;
use spinshop_tests::{Shop, TestApp, one_item};

async fn order_pay_and_check_out(app: &TestApp) {
    let Shop {
        customer, product, ..
    } = Shop::open(app, 5).await;
    let token = Some(customer.access_token.as_str());

    let placed = app
        .place_order(
            &customer,
            &json!({"user_id": customer.user_id, "items": [{"product_id": product, "qty": 2}]}),
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text());
    let order = placed.json();
    assert_eq!(order["total"], 1998);
    assert_eq!(order["items"][0]["name"], "Keyboard");

    let pay = json!({"order_id": order["id"].to_string(), "amount": 1998, "method": "card"});
    let paid = app.pay(&customer, Some("flow-1"), &pay).await;
    assert_eq!(paid.status, 201, "{}", paid.text());
    let replay = app.pay(&customer, Some("flow-1"), &pay).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, paid.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));

    let order = app.order(&customer, &order["id"]).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["payment_status"], "paid");
    assert_eq!(app.stock_of(product).await, (3, 0, 3));

    let added = app.add_to_cart(&customer, product, 1).await;
    assert_eq!(added.status, 200, "{}", added.text());
    let checkout = app
        .request("POST", "/api/carts/cart/checkout", None, token)
        .await;
    assert_eq!(checkout.status, 201, "{}", checkout.text());
    assert_eq!(checkout.json()["total"], 999);
    let cart = app.cart(&customer).await;
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn the_flow_works_with_service_chaining() {
    let app = TestApp::spawn_with_variables(&[("internal_mode", "chaining")]).await;
    order_pay_and_check_out(&app).await;
}

#[tokio::test]
async fn the_flow_works_with_self_requests() {
    let app = TestApp::spawn_with_variables(&[("internal_mode", "self")]).await;
    order_pay_and_check_out(&app).await;
}

#[tokio::test]
async fn self_requests_to_internal_endpoints_still_need_the_service_token() {
    // In self mode internal endpoints are reachable through the public router, so the
    // service credential is all that protects them.
    let app = TestApp::spawn_with_variables(&[("internal_mode", "self")]).await;
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Mouse", 500, 3).await;
    let refused = app
        .post(
            "/api/products/internal/reserve",
            &json!({"order_id": 1, "items": [{"product_id": product, "qty": 1}]}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.stock_of(product).await, (3, 0, 3));
}

#[tokio::test]
async fn internal_calls_carry_the_request_id_and_a_service_token() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let Some(app) = TestApp::spawn_on_host("uses an outbound interceptor", move |b| {
        b.intercept(move |outbound| {
            let header = |name: &str| {
                outbound
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            record.lock().unwrap().push((
                outbound.url.clone(),
                header("x-request-id"),
                header("x-service-token").is_some(),
            ));
            None
        })
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", 1500, 2).await;
    let customer = app.register("trace@example.com", "password-1").await;
    let request = app
        .request_to("POST", "/api/orders/orders")
        .bearer(&customer.access_token)
        .header("x-request-id", "trace-42")
        .json(&one_item(product, 1));
    // Only the calls made for this request: setting up (an admin creating the
    // product, the customer's registration and its event) made calls of its own,
    // under other request ids.
    app.settle_outboxes().await;
    seen.lock().unwrap().clear();
    let response = request.send().await;
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-request-id"), Some("trace-42"));

    let seen = seen.lock().unwrap();
    let urls: Vec<&str> = seen.iter().map(|(url, _, _)| url.as_str()).collect();
    assert!(
        urls.iter()
            .any(|u| u.starts_with("http://users.spin.internal/api/users/auth/introspect")),
        "{urls:?}"
    );
    assert!(
        urls.iter()
            .any(|u| u.starts_with("http://products.spin.internal/api/products/internal/reserve")),
        "{urls:?}"
    );
    for (url, request_id, has_token) in seen.iter() {
        assert_eq!(request_id.as_deref(), Some("trace-42"), "{url}");
        assert!(has_token, "{url} carries no service token");
    }
}

/// The manifest `spin cloud deploy` takes: self-requests, the WASIp2 build.
const FERMYON_CLOUD: &str = "deploy/fermyon-cloud/spin.toml";
/// The manifest `spin aka deploy` takes: service chaining, the WASIp3 build.
const AKAMAI_FUNCTIONS: &str = "deploy/akamai-functions/spin.toml";

#[tokio::test]
async fn the_flow_works_from_the_fermyon_cloud_manifest() {
    let app = TestApp::spawn_from(FERMYON_CLOUD, &[]).await;
    order_pay_and_check_out(&app).await;
}

#[tokio::test]
async fn the_flow_works_from_the_akamai_functions_manifest() {
    let app = TestApp::spawn_from(AKAMAI_FUNCTIONS, &[]).await;
    order_pay_and_check_out(&app).await;
}

/// `deploy/fermyon-cloud/spin.toml` is `spin.toml` for a platform without service
/// chaining that runs WASIp2 components only: the same components, routes and
/// variables, with the WASIp2 build's files and commands, the `*.spin.internal`
/// hosts gone, `internal_mode` defaulting to `self` and the rate limits counting
/// what its key-value store can hold (checked on their own below).
#[test]
fn the_fermyon_cloud_manifest_is_spin_toml_without_service_chaining() {
    let cloud = read_manifest(FERMYON_CLOUD);
    assert_deploys_spin_toml(FERMYON_CLOUD, Build::Wasip2, |local| {
        local["variables"]["internal_mode"]["default"] = "self".into();
        // Checked on their own, against the platform's key-value quota.
        for name in ["rate_limit_clients", "rate_limit_user_keys"] {
            local["variables"][name]["default"] = cloud["variables"][name]["default"].clone();
        }
        for (_, component) in table_mut(local, "component") {
            if let Some(hosts) = component
                .get_mut("allowed_outbound_hosts")
                .and_then(toml::Value::as_array_mut)
            {
                hosts.retain(|host| !host.as_str().is_some_and(|h| h.contains(".spin.internal")));
            }
        }
    });
}

/// `deploy/akamai-functions/spin.toml` is `spin.toml` as it is, WASIp3 build and
/// service chaining included, naming Akamai Functions' target environment so that
/// `spin build` checks every component against what the platform provides.
#[test]
fn the_akamai_functions_manifest_is_spin_toml_targeting_akamai_functions() {
    let akamai = read_manifest(AKAMAI_FUNCTIONS);
    assert_eq!(
        akamai["application"]["targets"],
        toml::Value::Array(vec!["akamai-functions".into()]),
        "the manifest names the akamai-functions environment"
    );
    assert_deploys_spin_toml(AKAMAI_FUNCTIONS, Build::Wasip3, |local| {
        local["application"]
            .as_table_mut()
            .expect("an [application] table")
            .insert("targets".into(), akamai["application"]["targets"].clone());
    });
}

/// Fermyon Cloud's key-value store holds at most 1,024 keys, and a key once written
/// stays. The front door's counters are the only keys spinshop writes: one per
/// route class and client counted, and one per shared budget. The cloud manifest's
/// defaults must bound them below the quota: no counters per client address (one
/// more for every address that ever calls) and users sharing a bounded number.
#[test]
fn the_fermyon_cloud_manifest_keeps_the_key_value_store_within_its_1024_keys() {
    const FERMYON_CLOUD_MAX_KEYS: u64 = 1024;
    let cloud = read_manifest(FERMYON_CLOUD);
    let default = |name: &str| -> String {
        cloud["variables"][name]["default"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has a default"))
            .to_string()
    };
    let clients = default("rate_limit_clients");
    let clients: Vec<&str> = clients
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        !clients.contains(&"address"),
        "counting per client address keeps a key for every address that ever calls"
    );
    assert!(
        clients.contains(&"user"),
        "with no client counted the rate limits are off"
    );
    let user_keys: u64 = default("rate_limit_user_keys").parse().expect("a number");
    assert!(
        user_keys > 0,
        "a counter per user keeps a key for every user"
    );

    let keys = route_classes() * user_keys + shared_budgets();
    assert!(
        keys <= FERMYON_CLOUD_MAX_KEYS,
        "{} route classes x {user_keys} user counters + {} budgets = {keys} keys > {FERMYON_CLOUD_MAX_KEYS}",
        route_classes(),
        shared_budgets()
    );
    // Every component keeps counters, so each must read the bounded settings.
    for (name, component) in cloud["component"].as_table().expect("components") {
        let variables = &component["variables"];
        for variable in ["rate_limit_clients", "rate_limit_user_keys"] {
            assert_eq!(
                variables.get(variable).and_then(toml::Value::as_str),
                Some(format!("{{{{ {variable} }}}}").as_str()),
                "{name} passes {variable} on"
            );
        }
    }
}

/// The route classes the front door counts each client in (`RouteClass` in
/// crates/kit/src/http/door.rs), each a key per client.
fn route_classes() -> u64 {
    let door = read_source("crates/kit/src/http/door.rs");
    let body = door
        .split_once("pub enum RouteClass {")
        .and_then(|(_, rest)| rest.split_once('}'))
        .expect("door.rs declares enum RouteClass")
        .0;
    body.split(',')
        .filter(|variant| !variant.trim().is_empty())
        .count() as u64
}

/// The shared budgets the components open (`SharedBudget::open("<name>", ...)`),
/// each one key.
fn shared_budgets() -> u64 {
    let root = spinshop_tests::workspace_root();
    let mut names = std::collections::BTreeSet::new();
    for component in spinshop_tests::components() {
        let dir = root.join("components").join(&component).join("src");
        for file in rust_files(&dir) {
            let text = std::fs::read_to_string(&file).expect("reading a source file");
            let marker = "SharedBudget::open(\"";
            let mut rest = text.as_str();
            while let Some(at) = rest.find(marker) {
                rest = &rest[at + marker.len()..];
                let name = rest.split('"').next().expect("a budget name");
                names.insert(name.to_string());
            }
        }
    }
    assert!(
        !names.is_empty(),
        "the password-hash budget is opened somewhere"
    );
    names.len() as u64
}

fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("reading a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

fn read_source(path: &str) -> String {
    std::fs::read_to_string(spinshop_tests::workspace_root().join(path))
        .unwrap_or_else(|err| panic!("reading {path}: {err}"))
}

/// What a shopper's requests cost in outbound requests (each sibling call is one, a
/// self-request on Fermyon Cloud, where an app may make 500 an hour), counted as the
/// components make them, events' deliveries included. docs/deploying.md quotes these
/// numbers.
#[tokio::test]
async fn what_each_step_of_a_purchase_costs_in_outbound_requests() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let Some(app) = TestApp::spawn_on_host_from(
        FERMYON_CLOUD,
        "counts outbound requests with an interceptor",
        move |b| {
            b.intercept(move |outbound| {
                record.lock().unwrap().push(format!(
                    "{} -> {} {}",
                    outbound.component_from, outbound.method, outbound.url
                ));
                None
            })
        },
    )
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    let product = app.create_product(&admin, "Lamp", 1500, 5).await;
    app.settle_outboxes().await;
    let calls = || {
        let taken = std::mem::take(&mut *seen.lock().unwrap());
        (taken.len(), taken)
    };
    calls();

    // users: notifications (user.registered), notifications (the verification mail,
    // kept in the local mailbox: no mail API is configured).
    let customer = app.register("shopper@example.com", "password-1").await;
    app.settle_outboxes().await;
    let (registering, made) = calls();
    assert_eq!(registering, 2, "{made:#?}");

    // orders: users (who is asking), products (price and reserve), notifications
    // (order.created).
    let placed = app.place_order(&customer, &one_item(product, 1)).await;
    assert_eq!(placed.status, 201, "{}", placed.text());
    app.settle_outboxes().await;
    let (placing, made) = calls();
    assert_eq!(placing, 3, "{made:#?}");

    // payments: users (who is paying), orders (the order, then "paid"); orders:
    // products (commit the stock), notifications (order.paid); payments:
    // notifications (payment.succeeded).
    let order = placed.json();
    let pay =
        json!({"order_id": order["id"].to_string(), "amount": order["total"], "method": "card"});
    let paid = app.pay(&customer, Some("count-1"), &pay).await;
    assert_eq!(paid.status, 201, "{}", paid.text());
    app.settle_outboxes().await;
    let (paying, made) = calls();
    assert_eq!(paying, 6, "{made:#?}");

    // Any signed-in request outside users: users (who is asking).
    let read = app.order(&customer, &order["id"]).await;
    assert_eq!(read["status"], "paid");
    let (reading, made) = calls();
    assert_eq!(reading, 1, "{made:#?}");

    // carts: users, products (does it exist), products (the cart's one line, priced).
    let added = app.add_to_cart(&customer, product, 1).await;
    assert_eq!(added.status, 200, "{}", added.text());
    let (adding, made) = calls();
    assert_eq!(adding, 3, "{made:#?}");

    // carts: users, orders (place, as the customer); orders: the three of a placement.
    let checkout = app
        .request(
            "POST",
            "/api/carts/cart/checkout",
            None,
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(checkout.status, 201, "{}", checkout.text());
    app.settle_outboxes().await;
    let (checking_out, made) = calls();
    assert_eq!(checking_out, 5, "{made:#?}");
}

fn read_manifest(path: &str) -> toml::Table {
    let text = std::fs::read_to_string(spinshop_tests::workspace_root().join(path))
        .unwrap_or_else(|err| panic!("reading {path}: {err}"));
    toml::from_str(&text).expect("a manifest in TOML")
}

/// Asserts that the manifest at `deployed` is spin.toml after `adjust` (what the
/// platform needs changed), with each component's source and build in `build`:
/// the same components, routes and variables, paths relative to its own folder and
/// every build run from the workspace.
fn assert_deploys_spin_toml(deployed: &str, build: Build, adjust: impl FnOnce(&mut toml::Table)) {
    let root = spinshop_tests::workspace_root();
    let mut local = read_manifest("spin.toml");
    let mut platform = read_manifest(deployed);
    adjust(&mut local);
    let dir = root
        .join(deployed)
        .parent()
        .expect("a folder")
        .to_path_buf();
    for (name, component) in table_mut(&mut platform, "component") {
        let component = component.as_table_mut().expect("a component table");
        let source = component["source"].as_str().expect("a file source");
        let source = lexical(&dir.join(source));
        let local_source = local["component"][name]["source"]
            .as_str()
            .expect("a source");
        let local_source = match build {
            Build::Wasip3 => local_source.to_string(),
            Build::Wasip2 => local_source.replace("/release/", "/wasip2/"),
        };
        assert_eq!(source, root.join(local_source), "{name}: source");
        component.remove("source");
        let build_table = component["build"].as_table_mut().expect("a build table");
        let command = build_table["command"].as_str().expect("a build command");
        let as_wasip3 = command
            .replace("--profile wasip2 ", "--release ")
            .replace(" --no-default-features --features wasip2", "");
        match build {
            Build::Wasip3 => assert_eq!(as_wasip3, command, "{name}: builds for WASIp3"),
            Build::Wasip2 => assert_ne!(as_wasip3, command, "{name}: builds for WASIp2"),
        }
        build_table.insert("command".into(), as_wasip3.into());
        let workdir = build_table.remove("workdir").expect("a build workdir");
        let workdir = dir.join(workdir.as_str().expect("a path"));
        assert_eq!(lexical(&workdir), root, "{name}: build workdir");
    }
    for (_, component) in table_mut(&mut local, "component") {
        component
            .as_table_mut()
            .expect("a component table")
            .remove("source");
    }
    for (key, value) in &local {
        assert_eq!(Some(value), platform.get(key), "[{key}] differs");
    }
    assert_eq!(
        local.len(),
        platform.len(),
        "the manifests have different sections"
    );
}

/// `path` with its `..` steps taken, without asking the file system (the `.wasm`
/// files need not be built yet).
fn lexical(path: &std::path::Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn table_mut<'a>(manifest: &'a mut toml::Table, key: &str) -> &'a mut toml::Table {
    manifest
        .get_mut(key)
        .and_then(toml::Value::as_table_mut)
        .unwrap_or_else(|| panic!("a [{key}] table"))
}
