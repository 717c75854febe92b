//! The platform check: every import of a built component must be in the world
//! `wit/world.wit` declares (what Spin gives components), so a component that
//! needs anything else is caught before it is deployed. WASI interfaces are
//! compared by package and interface name, with any 0.2.x versions compatible.

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

/// The imports of the component at `wasm` that the world `component` in
/// `world_wit` does not allow.
pub fn unsupported_imports(wasm: &Path, world_wit: &Path) -> anyhow::Result<Vec<String>> {
    let allowed = world_imports(world_wit, "component")?;
    let engine = crate::compile::engine()?;
    let component = crate::compile::load(&engine, wasm)?;
    Ok(component
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.to_string())
        .filter(|name| !allowed.iter().any(|a| compatible(a, name)))
        .collect())
}

/// Same interface, and versions equal or both 0.2.x.
fn compatible(allowed: &str, import: &str) -> bool {
    let (allowed_name, allowed_version) = split_version(allowed);
    let (import_name, import_version) = split_version(import);
    allowed_name == import_name
        && (allowed_version == import_version
            || (is_wasi_0_2(allowed_version) && is_wasi_0_2(import_version)))
}

fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (name, None),
    }
}

fn is_wasi_0_2(version: Option<&str>) -> bool {
    version.is_some_and(|v| v.starts_with("0.2.") && !v.contains('-'))
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
    }
}
