//! Secrets in plans: which content fields are secret, the plan-safe content (templates in
//! place of values), and [`resolve_secrets`], which puts the values back at apply time.
//!
//! Design: a plan file must be safe to store and post, so it never holds a secret value.
//! A secret that came from `${VAR}` is kept as its template and substituted again from the
//! environment at apply time. A secret written as a literal (allowed by
//! `options.allow_literal_secrets`) is kept as [`LITERAL_SECRET`] and read again from the
//! manifests: `resolve_secrets` takes an optional [`Desired`] for that. Either way the
//! resolved values must hash to the fingerprint in the spec's ownership marker, so a secret
//! that changed between plan and apply is refused instead of silently applied.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use thiserror::Error;

use crate::content;
use crate::manifest::subst::{SubstError, substitute};
use crate::model::{Desired, DesiredPlugin};

use super::marker;
use super::model::{LITERAL_SECRET, PluginSpec, SecretSlot};

/// The JSON pointers of the secret fields of a desired plug-in: those of its type
/// ([`content::secret_pointers`]) and those the loader recorded in [`DesiredPlugin::secrets`].
pub fn secret_pointers(plugin: &DesiredPlugin) -> BTreeSet<String> {
    content::secret_pointers(plugin.plugin_type)
        .iter()
        .map(|p| (*p).to_owned())
        .chain(plugin.secrets.keys().cloned())
        .collect()
}

/// The secret values present in a desired plug-in's content, in pointer order. An empty
/// string or `null` hides nothing and is not a secret value.
pub fn secret_values(plugin: &DesiredPlugin) -> Vec<(String, &Value)> {
    secret_pointers(plugin)
        .into_iter()
        .filter_map(|p| plugin.content.pointer(&p).map(|v| (p, v)))
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .collect()
}

/// `value` without the fields at `pointers` (absent pointers are ignored).
pub fn strip(value: &Value, pointers: &BTreeSet<String>) -> Value {
    let mut out = value.clone();
    for pointer in pointers {
        content::remove_pointer(&mut out, pointer);
    }
    out
}

/// The content to store in a plan, and the slots telling where each secret comes from.
pub fn plan_content(plugin: &DesiredPlugin) -> (Value, BTreeMap<String, SecretSlot>) {
    let mut out = plugin.content.clone();
    let mut slots = BTreeMap::new();
    for (pointer, _) in secret_values(plugin) {
        let slot = match plugin.secrets.get(&pointer) {
            Some(source) if !source.literal => SecretSlot::Env {
                template: source.template.clone(),
            },
            _ => SecretSlot::Literal,
        };
        let placeholder = match &slot {
            SecretSlot::Env { template } => template.clone(),
            SecretSlot::Literal => LITERAL_SECRET.to_owned(),
        };
        if let Some(target) = out.pointer_mut(&pointer) {
            *target = Value::String(placeholder);
        }
        slots.insert(pointer, slot);
    }
    (out, slots)
}

/// Why the secrets of a plan's plug-in body could not be resolved. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResolveError {
    /// A `${VAR}` template names a variable that is not set.
    #[error(
        "plug-in {plugin:?}: the secret at {pointer} needs the environment variable {var}, which is not set"
    )]
    MissingVar {
        /// Plug-in name.
        plugin: String,
        /// Secret field.
        pointer: String,
        /// Variable name.
        var: String,
    },
    /// A template is malformed.
    #[error(
        "plug-in {plugin:?}: the secret at {pointer} has a malformed template (expected ${{VAR}} or ${{VAR:-default}})"
    )]
    BadTemplate {
        /// Plug-in name.
        plugin: String,
        /// Secret field.
        pointer: String,
    },
    /// A literal secret cannot be resolved without the manifests.
    #[error(
        "plug-in {plugin:?}: the secret at {pointer} is written as a literal in the manifests; apply this plan with the manifest folder so it can be read from there"
    )]
    LiteralNeedsManifests {
        /// Plug-in name.
        plugin: String,
        /// Secret field.
        pointer: String,
    },
    /// The manifests no longer hold the literal secret.
    #[error(
        "plug-in {plugin:?}: the manifests no longer hold the secret at {pointer}; make a new plan"
    )]
    LiteralMissing {
        /// Plug-in name.
        plugin: String,
        /// Secret field.
        pointer: String,
    },
    /// The resolved secrets do not match the fingerprint recorded at plan time.
    #[error(
        "plug-in {plugin:?}: a secret changed since the plan was made (its fingerprint no longer matches); make a new plan"
    )]
    SecretChanged {
        /// Plug-in name.
        plugin: String,
    },
}

/// The content to send for `spec`, with every secret substituted back: `${VAR}` templates
/// from `env`, literals from the plug-in of the same name in `desired`. Checks that the
/// values still hash to the fingerprint of the spec's marker.
pub fn resolve_secrets(
    spec: &PluginSpec,
    env: &BTreeMap<String, String>,
    desired: Option<&Desired>,
) -> Result<Value, ResolveError> {
    let mut content = spec.content.clone();
    let mut values = Vec::new();
    for (pointer, slot) in &spec.secrets {
        let value = match slot {
            SecretSlot::Env { template } => {
                Value::String(substitute(template, env).map_err(|e| match e {
                    SubstError::Unset(var) => ResolveError::MissingVar {
                        plugin: spec.name.clone(),
                        pointer: pointer.clone(),
                        var,
                    },
                    SubstError::Unterminated | SubstError::BadName(_) => {
                        ResolveError::BadTemplate {
                            plugin: spec.name.clone(),
                            pointer: pointer.clone(),
                        }
                    }
                })?)
            }
            SecretSlot::Literal => {
                let desired = desired.ok_or_else(|| ResolveError::LiteralNeedsManifests {
                    plugin: spec.name.clone(),
                    pointer: pointer.clone(),
                })?;
                desired
                    .plugins
                    .iter()
                    .find(|p| p.name == spec.name)
                    .and_then(|p| p.content.pointer(pointer))
                    .cloned()
                    .ok_or_else(|| ResolveError::LiteralMissing {
                        plugin: spec.name.clone(),
                        pointer: pointer.clone(),
                    })?
            }
        };
        if let Some(target) = content.pointer_mut(pointer) {
            *target = value.clone();
        }
        values.push((pointer.as_str(), value));
    }
    let (_, expected) = marker::split_marker(&spec.remark);
    let actual = marker::fingerprint(&spec.name, values.iter().map(|(p, v)| (*p, v)));
    if expected.as_deref() != Some(actual.as_str()) {
        return Err(ResolveError::SecretChanged {
            plugin: spec.name.clone(),
        });
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_removes_nested_fields_and_ignores_absent_ones() {
        let v = serde_json::json!({"a": 1, "sasl": {"password": "p", "user": "u"}});
        let pointers: BTreeSet<String> =
            ["/sasl/password".to_owned(), "/absent/x".to_owned()].into();
        assert_eq!(
            strip(&v, &pointers),
            serde_json::json!({"a": 1, "sasl": {"user": "u"}})
        );
    }
}
