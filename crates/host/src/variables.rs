//! Application and component variables, resolved once when the app loads, the way
//! Spin resolves them: an explicit override, then `SPIN_VARIABLE_<NAME>` from the
//! environment, then the manifest default; a required variable with no value stops
//! the app from loading. Component variables are `{{ app_variable }}` templates.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, bail};

use crate::manifest::{Manifest, VariableDecl};

/// Where variable values come from besides the manifest.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Values given through the API (like `spin up --variable name=value`).
    pub explicit: HashMap<String, String>,
    /// Whether `SPIN_VARIABLE_<NAME>` environment variables apply.
    pub from_env: bool,
}

/// Why a component's `get` found no value: the error cases both variables
/// interfaces (`fermyon:spin/variables@2.0.0`, `spin:variables/variables@3.0.0`) share.
pub enum Lookup {
    InvalidName(String),
    Undefined(String),
}

/// Checks a variable name as Spin does: lower-case ASCII letters, digits and single
/// underscores, starting with a letter and not ending with an underscore.
pub fn validate_name(name: &str) -> Result<(), String> {
    let reason = if name.is_empty() {
        "must not be empty"
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        "may contain only lower-case letters, digits and underscores"
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        "must start with a lower-case letter"
    } else if name.ends_with('_') {
        "must end with a letter or digit"
    } else if name.contains("__") {
        "must not contain consecutive underscores"
    } else {
        return Ok(());
    };
    Err(format!("{name:?}: {reason}"))
}

/// Resolves every application variable to its value.
pub fn resolve_app_variables(
    declared: &BTreeMap<String, VariableDecl>,
    overrides: &Overrides,
) -> anyhow::Result<HashMap<String, String>> {
    for name in overrides.explicit.keys() {
        if !declared.contains_key(name) {
            bail!("variable {name:?} is given a value but spin.toml does not declare it");
        }
    }
    let mut values = HashMap::new();
    for (name, decl) in declared {
        validate_name(name).map_err(|reason| anyhow::anyhow!("invalid variable name {reason}"))?;
        let value = overrides
            .explicit
            .get(name)
            .cloned()
            .or_else(|| {
                overrides
                    .from_env
                    .then(|| std::env::var(env_name(name)).ok())
                    .flatten()
            })
            .or_else(|| decl.default.clone());
        match value {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None => bail!(
                "required variable {name:?} has no value (set {} or pass it explicitly)",
                env_name(name)
            ),
        }
    }
    Ok(values)
}

/// `SPIN_VARIABLE_<NAME>`.
pub fn env_name(variable: &str) -> String {
    format!("SPIN_VARIABLE_{}", variable.to_ascii_uppercase())
}

/// Expands `{{ name }}` expressions in `template` with application variables.
pub fn render(template: &str, app_variables: &HashMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("unmatched '{{{{' in {template:?}");
        };
        let name = after[..end].trim();
        let value = app_variables
            .get(name)
            .with_context(|| format!("{template:?} uses the undeclared variable {name:?}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Each component's own variables, resolved.
pub fn resolve_component_variables(
    manifest: &Manifest,
    app_variables: &HashMap<String, String>,
) -> anyhow::Result<HashMap<String, HashMap<String, String>>> {
    manifest
        .components
        .iter()
        .map(|(component, decl)| {
            let variables = decl
                .variables
                .iter()
                .map(|(name, template)| {
                    validate_name(name).map_err(|reason| {
                        anyhow::anyhow!("component {component:?}: invalid variable name {reason}")
                    })?;
                    let value = render(template, app_variables)
                        .with_context(|| format!("component {component:?}, variable {name:?}"))?;
                    Ok((name.clone(), value))
                })
                .collect::<anyhow::Result<HashMap<_, _>>>()?;
            Ok((component.clone(), variables))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_spins_rules() {
        for good in ["a", "abc", "a1b2", "a_1", "db_url"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_expand_and_reject_unknown_names() {
        let vars = HashMap::from([("host".to_string(), "db:5432".to_string())]);
        assert_eq!(
            render("postgres://{{ host }}/x", &vars).expect("renders"),
            "postgres://db:5432/x"
        );
        assert_eq!(
            render("{{host}}{{ host }}", &vars).expect("renders"),
            "db:5432db:5432"
        );
        assert!(render("{{ nope }}", &vars).is_err());
        assert!(render("{{ host", &vars).is_err());
    }

    #[test]
    fn explicit_beats_default_and_required_needs_a_value() {
        let declared = BTreeMap::from([
            (
                "a".to_string(),
                VariableDecl {
                    default: Some("default".into()),
                    ..Default::default()
                },
            ),
            (
                "b".to_string(),
                VariableDecl {
                    required: true,
                    ..Default::default()
                },
            ),
        ]);
        let mut overrides = Overrides::default();
        let err = resolve_app_variables(&declared, &overrides).expect_err("b is required");
        assert!(err.to_string().contains("\"b\""));
        overrides.explicit.insert("b".into(), "given".into());
        overrides.explicit.insert("a".into(), "explicit".into());
        let values = resolve_app_variables(&declared, &overrides).expect("resolves");
        assert_eq!(values["a"], "explicit");
        assert_eq!(values["b"], "given");
    }
}
