//! Every built component imports only what `wit/world.wit` allows (what Spin
//! provides): the WASIp3 build spin.toml names and the WASIp2 build the Fermyon Cloud
//! manifest names.

use std::io::Write;
use std::path::Path;

use spinshop_host::manifest::Manifest;
use spinshop_host::world::unsupported_imports;

use crate::common::build_probe;

#[test]
fn built_components_import_only_the_platform_world() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let world = root.join("wit/world.wit");
    let mut checked = 0;
    let mut problems = Vec::new();
    for manifest in ["spin.toml", "deploy/fermyon-cloud/spin.toml"] {
        let manifest = Manifest::load(&root.join(manifest)).expect("the manifest loads");
        for (name, component) in &manifest.components {
            let wasm = manifest.source_path(component);
            if !wasm.exists() {
                eprintln!("{name}: {} is not built, not checked", wasm.display());
                continue;
            }
            let outside =
                unsupported_imports(&wasm, &world).expect("the component can be inspected");
            if !outside.is_empty() {
                problems.push(format!("{} imports {outside:?}", wasm.display()));
            }
            checked += 1;
        }
    }
    if checked == 0 {
        // Past libtest's capture, in the form `./dev test` counts skipped tests by.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: built_components_import_only_the_platform_world: \
             no component is built (./dev build wasip3, ./dev build wasip2)"
        );
        return;
    }
    assert!(
        problems.is_empty(),
        "imports outside wit/world.wit: {problems:#?}"
    );
}

#[test]
fn both_probe_components_fit_their_worlds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    build_probe();
    for probe in ["host_probe.wasm", "host_probe_p3.wasm"] {
        let probe = root.join("target/wasm32-wasip2/release").join(probe);
        let outside =
            unsupported_imports(&probe, &root.join("wit/world.wit")).expect("inspectable");
        assert_eq!(outside, Vec::<String>::new(), "{}", probe.display());
    }
}

#[test]
fn an_import_outside_the_world_is_reported() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    build_probe();
    let probe = root.join("target/wasm32-wasip2/release/host_probe.wasm");
    let world = std::fs::read_to_string(root.join("wit/world.wit")).expect("world.wit");
    let narrower = world.replace("import spin:postgres/postgres@4.0.0;", "");
    let path = std::env::temp_dir().join(format!("spinshop-world-{}.wit", std::process::id()));
    std::fs::write(&path, narrower).expect("writing a temp world");
    let outside = unsupported_imports(&probe, &path).expect("inspectable");
    let _ = std::fs::remove_file(&path);
    assert_eq!(outside, ["spin:postgres/postgres@4.0.0"]);
}
