//! Variables: defaults, templates, required values, overrides and the guest API.

use crate::common::{Probe, build_probe, fixture_manifest, get, on_both_probes, probe_app, spawn};
use spinshop_host::App;

on_both_probes!(
    component_variables_are_templates_over_app_variables,
    explicit_values_override_defaults,
    a_component_sees_only_its_own_variables,
);

async fn component_variables_are_templates_over_app_variables(probe: Probe) {
    let app = spawn(probe).await;
    let reply = get(&app, "/api/a/var/greeting").await;
    assert_eq!(reply.body["value"], "hello, world");
    let reply = get(&app, "/api/a/var/token").await;
    assert_eq!(
        reply.body["value"], "s3cret",
        "secret variables read like any other"
    );
}

async fn explicit_values_override_defaults(probe: Probe) {
    let app = probe_app(probe)
        .variable("greeting", "bonjour")
        .build()
        .await
        .expect("loads");
    assert_eq!(
        get(&app, "/api/a/var/greeting").await.body["value"],
        "bonjour, world"
    );
}

async fn a_component_sees_only_its_own_variables(probe: Probe) {
    let app = spawn(probe).await;
    assert_eq!(
        get(&app, "/api/b/var/greeting").await.body["error"],
        "undefined"
    );
    assert_eq!(
        get(&app, "/api/a/var/nope").await.body["error"],
        "undefined"
    );
    assert_eq!(
        get(&app, "/api/a/var/Bad-Name").await.body["error"],
        "invalid-name"
    );
}

#[tokio::test]
async fn a_missing_required_variable_stops_the_load() {
    build_probe();
    let err = App::builder(fixture_manifest())
        .env_overrides(false)
        .build()
        .await
        .err()
        .expect("token is required");
    assert!(format!("{err:#}").contains("\"token\""), "{err:#}");
}

#[tokio::test]
async fn undeclared_overrides_are_rejected() {
    let err = probe_app(Probe::P2)
        .variable("tokn", "typo")
        .build()
        .await
        .err()
        .expect("tokn is not declared");
    assert!(format!("{err:#}").contains("tokn"));
}

#[tokio::test]
async fn the_environment_overrides_defaults_when_enabled() {
    // SAFETY: no other test reads SPIN_VARIABLE_FROM_ENV, and this one sets it
    // before loading the app, on the thread that reads it.
    unsafe { std::env::set_var("SPIN_VARIABLE_FROM_ENV", "from the environment") };
    let with_env = probe_app(Probe::P2)
        .env_overrides(true)
        .build()
        .await
        .expect("loads");
    assert_eq!(
        get(&with_env, "/api/a/var/from_env").await.body["value"],
        "from the environment"
    );
    let without = probe_app(Probe::P2).build().await.expect("loads");
    assert_eq!(
        get(&without, "/api/a/var/from_env").await.body["value"],
        "from the manifest"
    );
}
