//! Checks across documents: duplicate plug-in names, bindings to undeclared
//! plug-ins, two plug-ins of one type on one API in one environment, and what
//! the project's flavour does not offer.

use std::collections::BTreeMap;

use super::document::{BindingDoc, PluginDoc, api_label};
use super::error::Diags;
use crate::content::did_you_mean;
use crate::model::{
    ApiRef, Flavour, Location, PluginType, RELEASE_ENV_ID, RELEASE_ENV_NAME, Scope,
};

/// Runs every cross-document check.
pub(crate) fn run(
    plugins: &[PluginDoc],
    bindings: &[BindingDoc],
    flavour: Option<Flavour>,
    diags: &mut Diags,
) {
    let mut by_name: BTreeMap<&str, &PluginDoc> = BTreeMap::new();
    for p in plugins {
        if let Some(first) = by_name.get(p.plugin.name.as_str()) {
            diags.push(
                p.plugin.location.clone(),
                format!(
                    "plug-in {:?} is declared twice: here and at {}",
                    p.plugin.name, first.plugin.location
                ),
            );
        } else {
            by_name.insert(&p.plugin.name, p);
        }
        if let Some(f) = flavour {
            flavour_support(p, f, diags);
        }
    }
    let names: Vec<&str> = by_name.keys().copied().collect();
    // (env, api, type) → (plug-in, where it was bound)
    let mut taken: BTreeMap<(String, &ApiRef, PluginType), (&str, &Location)> = BTreeMap::new();
    for b in bindings {
        if diags.is_invalid_plugin(&b.binding.plugin) {
            continue; // the plug-in's own errors say what is wrong
        }
        let Some(plugin) = by_name.get(b.binding.plugin.as_str()) else {
            let hint = did_you_mean(&b.binding.plugin, &names)
                .map(|k| format!(", did you mean {k:?}?"))
                .unwrap_or_default();
            diags.push(
                b.plugin_at.clone(),
                format!(
                    "binding refers to unknown plug-in {:?} (no kind: Plugin document declares it){hint}",
                    b.binding.plugin
                ),
            );
            continue;
        };
        let kind = plugin.plugin.plugin_type;
        for (api, at) in b.binding.apis.iter().zip(&b.api_at) {
            let key = (env_key(&b.binding.env), api, kind);
            match taken.get(&key) {
                Some((other, first)) if *other == plugin.plugin.name => diags.push(
                    at.clone(),
                    format!(
                        "plug-in {other:?} is already bound to API {} in environment {} at {first}",
                        api_label(api),
                        b.binding.env
                    ),
                ),
                Some((other, first)) => diags.push(
                    at.clone(),
                    format!(
                        "API {} in environment {} would get two {kind} plug-ins, {:?} and {other:?} (bound at {first}); \
                         the gateway keeps only one plug-in of a type per API and environment",
                        api_label(api),
                        b.binding.env,
                        plugin.plugin.name
                    ),
                ),
                None => {
                    taken.insert(key, (plugin.plugin.name.as_str(), at));
                }
            }
        }
    }
}

/// The environment as compared: the release environment's id and name are one.
fn env_key(env: &str) -> String {
    if env == RELEASE_ENV_ID {
        RELEASE_ENV_NAME.to_owned()
    } else {
        env.to_owned()
    }
}

fn flavour_support(p: &PluginDoc, flavour: Flavour, diags: &mut Diags) {
    let kind = p.plugin.plugin_type;
    if !flavour.supports(kind) {
        diags.push(
            p.type_at.clone(),
            format!("plug-in type {kind} is not offered by flavour {flavour} (target.flavour in apigsync.yaml)"),
        );
    }
    if p.plugin.scope == Scope::App && !flavour.supports_app_scope() {
        diags.push(
            p.scope_at.clone(),
            format!(
                "scope app exists only on flavour roma, the target is {flavour}; use scope global"
            ),
        );
    }
}
