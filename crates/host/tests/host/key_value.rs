//! `fermyon:spin/key-value@2.0.0` as Spin gives it: only the stores a component's
//! `key_value_stores` lists open (anything else is `access-denied`), the default store
//! is shared by the app's components and outlives the app, and a manifest naming a
//! store the host does not define does not load.

use crate::common::{self, Probe, on_both_probes, post, probe_app};
use serde_json::{Value, json};
use spinshop_host::App;

on_both_probes!(
    a_component_reads_its_writes_in_the_default_store,
    a_store_the_manifest_does_not_grant_is_access_denied,
);

async fn steps(app: &App, path: &str, label: &str, steps: Value) -> Value {
    let reply = post(app, path, &json!({ "label": label, "steps": steps })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

async fn a_component_reads_its_writes_in_the_default_store(probe: Probe) {
    let app = probe_app(probe).build().await.expect("the probe app loads");
    let body = steps(
        &app,
        "/api/a/kv",
        "default",
        json!([
            {"get": "greeting"},
            {"set": ["greeting", "hello"]},
            {"get": "greeting"},
            {"exists": "greeting"},
            {"set": ["other", "x"]},
            {"keys": true},
            {"delete": "other"},
            {"delete": "never-set"},
            {"exists": "other"},
        ]),
    )
    .await;
    let results: Vec<&Value> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| &r["ok"])
        .collect();
    assert_eq!(results[0], &Value::Null);
    assert_eq!(results[2], "hello");
    assert_eq!(results[3], true);
    assert_eq!(results[5], &json!(["greeting", "other"]));
    assert_eq!(results[8], false);
}

async fn a_store_the_manifest_does_not_grant_is_access_denied(probe: Probe) {
    let app = probe_app(probe).build().await.expect("the probe app loads");
    // b lists no key_value_stores: even the default store is refused, as on Spin.
    let body = steps(&app, "/api/b/kv", "default", json!([])).await;
    assert_eq!(body["open_error"], "access-denied");
    // a may open `default` only.
    let body = steps(&app, "/api/a/kv", "sessions", json!([])).await;
    assert_eq!(body["open_error"], "access-denied");
}

#[tokio::test]
async fn the_default_store_outlives_the_app_in_its_file() {
    let dir = std::env::temp_dir().join(format!("spinshop-kv-test-{}", std::process::id()));
    let file = dir.join("key_value.log");
    let _ = std::fs::remove_file(&file);
    {
        let app = probe_app(Probe::P2)
            .key_value_file(&file)
            .build()
            .await
            .expect("the probe app loads");
        steps(
            &app,
            "/api/a/kv",
            "default",
            json!([{"set": ["kept", "yes"]}]),
        )
        .await;
    }
    let app = probe_app(Probe::P2)
        .key_value_file(&file)
        .build()
        .await
        .expect("the probe app loads again");
    let body = steps(&app, "/api/a/kv", "default", json!([{"get": "kept"}])).await;
    assert_eq!(body["results"][0]["ok"], "yes");
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_store_label_the_host_does_not_define_stops_the_app_loading() {
    let manifest = std::fs::read_to_string(common::fixture_manifest()).expect("the fixture");
    let manifest = manifest.replace(
        "key_value_stores = [\"default\"]",
        "key_value_stores = [\"default\", \"sessions\"]",
    );
    let path = common::fixture_manifest()
        .with_file_name(format!("spin-unknown-store-{}.toml", std::process::id()));
    std::fs::write(&path, manifest).expect("writing a manifest");
    common::build_probe();
    let outcome = App::builder(&path)
        .env_overrides(false)
        .variable("token", "s3cret")
        .build()
        .await;
    let _ = std::fs::remove_file(&path);
    let err = outcome.err().expect("an unknown store label is refused");
    assert!(format!("{err:#}").contains("sessions"), "{err:#}");
}
