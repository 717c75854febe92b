//! The whole shopping flow across components, once with Spin's service chaining
//! (`http://<component>.spin.internal`) and once with self-requests through the public
//! router (Fermyon Cloud's way), the two values of `internal_mode`.

use serde_json::json;
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

#[tokio::test]
async fn the_flow_works_from_the_fermyon_cloud_manifest() {
    let app = TestApp::spawn_from("deploy/fermyon-cloud/spin.toml", &[]).await;
    order_pay_and_check_out(&app).await;
}

/// `deploy/fermyon-cloud/spin.toml` is `spin.toml` for a platform without service
/// chaining that runs WASIp2 components only: the same components, routes and
/// variables, with the WASIp2 build's files and commands, the `*.spin.internal`
/// hosts gone and `internal_mode` defaulting to `self`.
#[test]
fn the_fermyon_cloud_manifest_is_spin_toml_without_service_chaining() {
    let root = spinshop_tests::workspace_root();
    let read = |path: &str| -> toml::Table {
        let text = std::fs::read_to_string(root.join(path)).expect("reading a manifest");
        toml::from_str(&text).expect("a manifest in TOML")
    };
    let mut local = read("spin.toml");
    let mut cloud = read("deploy/fermyon-cloud/spin.toml");

    local["variables"]["internal_mode"]["default"] = "self".into();
    let cloud_dir = root.join("deploy/fermyon-cloud");
    for (name, component) in table_mut(&mut cloud, "component") {
        let component = component.as_table_mut().expect("a component table");
        let source = component["source"].as_str().expect("a file source");
        let source = lexical(&cloud_dir.join(source));
        let local_source = local["component"][name]["source"]
            .as_str()
            .expect("a source")
            .replace("/release/", "/wasip2/");
        assert_eq!(source, root.join(local_source), "{name}: source");
        component.remove("source");
        let build = component["build"].as_table_mut().expect("a build table");
        let command = build["command"].as_str().expect("a build command");
        let as_wasip3 = command
            .replace("--profile wasip2 ", "--release ")
            .replace(" --no-default-features --features wasip2", "");
        assert_ne!(as_wasip3, command, "{name}: builds for WASIp2");
        build.insert("command".into(), as_wasip3.into());
        let workdir = build.remove("workdir").expect("a build workdir");
        let workdir = cloud_dir.join(workdir.as_str().expect("a path"));
        assert_eq!(lexical(&workdir), root, "{name}: build workdir");
    }
    for (_, component) in table_mut(&mut local, "component") {
        let component = component.as_table_mut().expect("a component table");
        component.remove("source");
        if let Some(hosts) = component
            .get_mut("allowed_outbound_hosts")
            .and_then(toml::Value::as_array_mut)
        {
            hosts.retain(|host| !host.as_str().is_some_and(|h| h.contains(".spin.internal")));
        }
    }
    for (key, value) in &local {
        assert_eq!(Some(value), cloud.get(key), "[{key}] differs");
    }
    assert_eq!(
        local.len(),
        cloud.len(),
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
