//! Secrets in plans: which content fields are secret, the plan-safe content (templates in
//! place of values), and [`resolve_secrets`], which puts the values back at apply time.
//!
//! Design: a plan file must be safe to store and post, so it never holds a secret value.
//! A secret that came from `${VAR}` is kept as its template and substituted again from the
//! environment at apply time. A secret written as a literal (allowed by
//! `options.allow_literal_secrets`) is kept as [`LITERAL_SECRET`] and read again from the
//! manifests: `resolve_secrets` takes an optional [`Desired`] for that. Either way the
//! resolved values must match the fingerprints in the spec's ownership marker, so a secret
//! that changed between plan and apply is refused instead of silently applied.
//!
//! This module depends on [`super::marker`], never the other way round: the marker takes
//! secret values, whoever collects them.

use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

use crate::content;
use crate::manifest::subst::{SubstError, substitute};
use crate::model::{Desired, DesiredPlugin};

use super::fingerprint::MarkerKey;
use super::marker::{self, Marker};
use super::model::{LITERAL_SECRET, PluginSpec, SecretSlot};

/// The content to store in a plan, and the slots telling where each secret comes from.
pub fn plan_content(plugin: &DesiredPlugin) -> (Value, BTreeMap<String, SecretSlot>) {
    let mut out = plugin.content.clone();
    let mut slots = BTreeMap::new();
    for (pointer, _) in content::secret_values(plugin.plugin_type, &plugin.content) {
        let slot = match plugin.secrets.get(pointer) {
            Some(source) if !source.literal => SecretSlot::Env {
                template: source.template.clone(),
            },
            _ => SecretSlot::Literal,
        };
        let placeholder = match &slot {
            SecretSlot::Env { template } => template.clone(),
            SecretSlot::Literal => LITERAL_SECRET.to_owned(),
        };
        if let Some(target) = out.pointer_mut(pointer) {
            *target = Value::String(placeholder);
        }
        slots.insert(pointer.to_owned(), slot);
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
        "plug-in {plugin:?}: a secret changed since the plan was made (its fingerprint no longer matches; or apply runs with another APIGSYNC_MARKER_KEY than plan); make a new plan"
    )]
    SecretChanged {
        /// Plug-in name.
        plugin: String,
    },
}

/// The content to send for `spec`, with every secret substituted back: `${VAR}` templates
/// from `env`, literals from the plug-in of the same name in `desired`. Checks that the
/// values still match the fingerprints of the spec's marker, computed with the marker key
/// in `env` ([`super::fingerprint::MARKER_KEY_VAR`]).
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
    let matches = expected.is_some_and(|expected| {
        let actual = Marker::new(
            &MarkerKey::from_env(env),
            &expected.owner,
            &spec.name,
            spec.plugin_type,
            values.iter().map(|(p, v)| (*p, v)),
        );
        actual.secrets == expected.secrets
    });
    if !matches {
        return Err(ResolveError::SecretChanged {
            plugin: spec.name.clone(),
        });
    }
    Ok(content)
}
