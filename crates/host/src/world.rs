//! The platform check: every import of a built component must be in the world
//! `wit/world.wit` declares for its kind (what Spin gives components): `component`
//! for a WASIp2 component (it exports `wasi:http/incoming-handler@0.2.x`),
//! `component-p3` for a WASIp3 one (it exports `wasi:http/handler@0.3.x`). So a
//! component that needs anything else is caught before it is deployed. WASI
//! interfaces are compared by package and interface name, with any 0.2.x versions
//! compatible, and any 0.3.x ones.

use std::path::Path;

use anyhow::{Context, anyhow};
use wit_parser::{AstItem, UnresolvedPackageGroup, WorldItem, WorldKey};

/// The interfaces a world imports, as `namespace:package/interface@version`.
pub fn world_imports(world_wit: &Path, world: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(world_wit)
        .with_context(|| format!("reading {}", world_wit.display()))?;
    let group = UnresolvedPackageGroup::parse(world_wit, &text)
        .map_err(|(map, err)| anyhow!("{}", err.render(&map)))?;
    let package = group.main;
    let (_, world) = package
        .worlds
        .iter()
        .find(|(_, w)| w.name == world)
        .with_context(|| format!("{} has no world {world:?}", world_wit.display()))?;
    let names = package
        .foreign_deps
        .iter()
        .flat_map(|(package_name, items)| {
            items
                .iter()
                .filter_map(move |(name, (item, _))| match item {
                    AstItem::Interface(id) => Some((*id, package_name.interface_id(name))),
                    AstItem::World(_) => None,
                })
        })
        .collect::<Vec<_>>();
    world
        .imports
        .iter()
        .map(|(key, item)| match (key, item) {
            (WorldKey::Interface(id), WorldItem::Interface { .. }) => names
                .iter()
                .find(|(known, _)| known == id)
                .map(|(_, name)| name.clone())
                .context("an import of the world is not a foreign interface"),
            (WorldKey::Name(name), _) => Ok(name.clone()),
            (WorldKey::Interface(_), _) => Err(anyhow!("unexpected world item")),
        })
        .collect()
}

/// Whether a component with these exports is a WASIp3 HTTP component.
pub fn exports_wasip3_handler<'a>(mut exports: impl Iterator<Item = &'a str>) -> bool {
    exports.any(|name| name.starts_with("wasi:http/handler@0.3"))
}

/// The world of `world_wit` a component exporting `exports` must fit.
pub fn world_for<'a>(exports: impl Iterator<Item = &'a str>) -> &'static str {
    if exports_wasip3_handler(exports) {
        "component-p3"
    } else {
        "component"
    }
}

/// The imports of the component at `wasm` that its world in `world_wit`
/// (`component` or `component-p3`, see [`world_for`]) does not allow.
pub fn unsupported_imports(wasm: &Path, world_wit: &Path) -> anyhow::Result<Vec<String>> {
    let engine = crate::compile::engine()?;
    let component = crate::compile::load(&engine, wasm)?;
    let component_type = component.component_type();
    let exports: Vec<String> = component_type
        .exports(&engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let allowed = world_imports(world_wit, world_for(exports.iter().map(String::as_str)))?;
    Ok(component_type
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .filter(|name| !allowed.iter().any(|a| compatible(a, name)))
        .collect())
}

/// Same interface, and versions equal, both 0.2.x or both 0.3.x.
fn compatible(allowed: &str, import: &str) -> bool {
    let (allowed_name, allowed_version) = split_version(allowed);
    let (import_name, import_version) = split_version(import);
    let same_minor =
        |minor| is_wasi_release(allowed_version, minor) && is_wasi_release(import_version, minor);
    allowed_name == import_name
        && (allowed_version == import_version || same_minor("0.2.") || same_minor("0.3."))
}

fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (name, None),
    }
}

/// A released (not release-candidate) WASI version starting with `minor`.
fn is_wasi_release(version: Option<&str>, minor: &str) -> bool {
    version.is_some_and(|v| v.starts_with(minor) && !v.contains('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_0_2_patch_versions_are_compatible() {
        assert!(compatible("wasi:io/streams@0.2.6", "wasi:io/streams@0.2.0"));
        assert!(!compatible(
            "wasi:io/streams@0.2.6",
            "wasi:io/streams@0.3.0"
        ));
        assert!(!compatible("wasi:io/streams@0.2.6", "wasi:io/poll@0.2.6"));
        assert!(compatible("wasi:http/types@0.3.0", "wasi:http/types@0.3.1"));
        assert!(!compatible(
            "wasi:http/types@0.3.0",
            "wasi:http/types@0.3.0-rc-2026-03-15"
        ));
        assert!(compatible(
            "spin:postgres/postgres@4.0.0",
            "spin:postgres/postgres@4.0.0"
        ));
        assert!(!compatible(
            "spin:postgres/postgres@4.0.0",
            "spin:postgres/postgres@3.0.0"
        ));
    }

    #[test]
    fn the_repository_world_lists_spins_interfaces() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/world.wit");
        let imports = world_imports(&wit, "component").expect("world.wit parses");
        assert!(imports.contains(&"spin:postgres/postgres@4.0.0".to_string()));
        assert!(imports.contains(&"fermyon:spin/variables@2.0.0".to_string()));
        assert!(imports.contains(&"fermyon:spin/key-value@2.0.0".to_string()));
        assert!(imports.contains(&"wasi:http/outgoing-handler@0.2.6".to_string()));
        assert!(!imports.iter().any(|i| i.starts_with("wasi:filesystem")));
        let imports = world_imports(&wit, "component-p3").expect("world.wit parses");
        assert!(imports.contains(&"spin:postgres/postgres@4.2.0".to_string()));
        assert!(imports.contains(&"spin:variables/variables@3.0.0".to_string()));
        assert!(imports.contains(&"spin:key-value/key-value@3.0.0".to_string()));
        assert!(imports.contains(&"wasi:http/client@0.3.0".to_string()));
    }
}
