//! `spin.toml` (manifest version 2): the parts of it the host acts on. Anything else
//! in the file (build commands, descriptions, other triggers) is ignored, as `spin up`
//! ignores what it does not need to run the app.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// An application as its manifest describes it, before variables are resolved.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The directory holding the manifest: component sources are relative to it.
    pub dir: PathBuf,
    pub name: String,
    pub variables: BTreeMap<String, VariableDecl>,
    pub http_triggers: Vec<HttpTrigger>,
    pub components: BTreeMap<String, ComponentDecl>,
}

/// An application variable (`[variables]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Secret values are never printed by the host.
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub description: Option<String>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpTrigger {
    pub route: RouteDecl,
    pub component: String,
}

/// A route is a path pattern, or `{ private = true }` for a component reachable
/// only by service chaining.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteDecl {
    Path(String),
    Private { private: bool },
}

/// One `[component.<name>]` table.
#[derive(Debug, Clone, Deserialize)]
pub struct ComponentDecl {
    pub source: String,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: templates over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The key-value stores the component may open, by label.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
}

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: u32,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableDecl>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, ComponentDecl>,
}

#[derive(Deserialize)]
struct RawApplication {
    name: String,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

impl Manifest {
    pub fn load(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Manifest::parse(&text, dir).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str, dir: PathBuf) -> anyhow::Result<Manifest> {
        let raw: RawManifest = toml::from_str(text).context("parsing the manifest")?;
        if raw.spin_manifest_version != 2 {
            bail!(
                "spin_manifest_version {} is not supported (only 2)",
                raw.spin_manifest_version
            );
        }
        for (name, decl) in &raw.variables {
            if decl.required && decl.default.is_some() {
                bail!("variable {name:?} is required and has a default: choose one");
            }
        }
        for trigger in &raw.trigger.http {
            if !raw.component.contains_key(&trigger.component) {
                bail!(
                    "a route names the component {:?}, which the manifest does not define",
                    trigger.component
                );
            }
            if let RouteDecl::Private { private: false } = trigger.route {
                bail!(
                    "component {:?}: a route must be a path or {{ private = true }}",
                    trigger.component
                );
            }
        }
        Ok(Manifest {
            dir,
            name: raw.application.name,
            variables: raw.variables,
            http_triggers: raw.trigger.http,
            components: raw.component,
        })
    }

    /// The `.wasm` file of a component.
    pub fn source_path(&self, component: &ComponentDecl) -> PathBuf {
        self.dir.join(&component.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_may_be_paths_or_private() {
        let manifest = Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "t"
            [[trigger.http]]
            route = "/a/..."
            component = "a"
            [[trigger.http]]
            route = { private = true }
            component = "b"
            [component.a]
            source = "a.wasm"
            [component.b]
            source = "b.wasm"
            allowed_outbound_hosts = ["http://a.spin.internal"]
            "#,
            PathBuf::from("/app"),
        )
        .expect("a valid manifest");
        assert!(matches!(&manifest.http_triggers[0].route, RouteDecl::Path(p) if p == "/a/..."));
        assert!(matches!(
            manifest.http_triggers[1].route,
            RouteDecl::Private { private: true }
        ));
        assert_eq!(
            manifest.source_path(&manifest.components["a"]),
            PathBuf::from("/app/a.wasm")
        );
    }

    #[test]
    fn a_route_to_an_undefined_component_is_an_error() {
        let err = Manifest::parse(
            r#"
            spin_manifest_version = 2
            [application]
            name = "t"
            [[trigger.http]]
            route = "/..."
            component = "ghost"
            "#,
            PathBuf::from("."),
        )
        .expect_err("ghost is not defined");
        assert!(format!("{err:#}").contains("ghost"));
    }
}
