//! Staleness: does a saved plan still match the live state it was computed from?
//!
//! A plan records a fingerprint of every live object it read ([`Read`]); [`check_stale`]
//! recomputes them from a fresh [`Live`] and names each object that changed, vanished or
//! appeared, so `apply --plan FILE` can refuse a plan made against an older state.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{Live, LivePlugin};

use super::hash::fingerprint;
use super::marker;
use super::model::{Plan, Read, ReadObject};

/// The fingerprint of a live plug-in: id, name, type, scope, app, remark and content
/// (`update_time` left out: it changes without any change that matters).
pub(crate) fn plugin_fingerprint(plugin: &LivePlugin) -> String {
    fingerprint(&json!({
        "id": plugin.id,
        "name": plugin.name,
        "type": plugin.plugin_type,
        "scope": plugin.scope,
        "roma_app_id": plugin.roma_app_id,
        "remark": plugin.remark,
        "content": plugin.content,
    }))
}

/// The fingerprint of the set of APIs `plugin` is bound to in `env_id`, when its bindings
/// were fetched.
pub(crate) fn bindings_fingerprint(plugin: &LivePlugin, env_id: &str) -> Option<String> {
    let bindings = plugin.bindings.as_ref()?;
    let apis: BTreeSet<&str> = bindings
        .iter()
        .filter(|b| b.env_id == env_id)
        .map(|b| b.api_id.as_str())
        .collect();
    Some(fingerprint(&json!(apis)))
}

/// One live object that differs from what a plan read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The object.
    pub object: ReadObject,
    /// How it differs.
    pub kind: DriftKind,
}

/// How a live object differs from what a plan read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// It exists in both but its fingerprint changed.
    Changed,
    /// It existed and is gone.
    Vanished,
    /// It did not exist (or, for a managed plug-in, was not read) and now exists.
    Appeared,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DriftKind::Changed => "changed",
            DriftKind::Vanished => "was deleted",
            DriftKind::Appeared => "appeared",
        };
        match &self.object {
            ReadObject::Plugin { name } => write!(f, "plug-in {name:?} {what}"),
            ReadObject::Bindings { plugin, env_id } => {
                write!(
                    f,
                    "bindings of plug-in {plugin:?} in environment {env_id} {what}"
                )
            }
        }
    }
}

/// The objects read by `plan` whose live fingerprint differs now, plus managed plug-ins
/// that the plan did not read at all. Empty when the plan is still current.
pub fn check_stale(plan: &Plan, live: &Live) -> Vec<Drift> {
    let mut drifts = Vec::new();
    let mut live_by_name: HashMap<&str, &LivePlugin> = HashMap::new();
    for p in &live.plugins {
        live_by_name.entry(p.name.as_str()).or_insert(p);
    }
    let by_name = |name: &str| live_by_name.get(name).copied();
    let mut read_names = HashSet::new();
    for Read {
        object,
        fingerprint,
    } in &plan.reads
    {
        let now = match object {
            ReadObject::Plugin { name } => {
                read_names.insert(name.as_str());
                by_name(name).map(plugin_fingerprint)
            }
            ReadObject::Bindings { plugin, env_id } => match by_name(plugin) {
                // The plug-in's own read reports it gone; unfetched bindings cannot be compared.
                None => continue,
                Some(p) if p.bindings.is_none() => continue,
                Some(p) => bindings_fingerprint(p, env_id),
            },
        };
        let kind = match (fingerprint, &now) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => continue,
            (Some(_), Some(_)) => DriftKind::Changed,
            (Some(_), None) => DriftKind::Vanished,
            (None, Some(_)) => DriftKind::Appeared,
        };
        drifts.push(Drift {
            object: object.clone(),
            kind,
        });
    }
    for p in &live.plugins {
        let managed = marker::split_marker(p.remark.as_deref().unwrap_or(""))
            .1
            .is_some();
        if managed && !read_names.contains(p.name.as_str()) {
            drifts.push(Drift {
                object: ReadObject::Plugin {
                    name: p.name.clone(),
                },
                kind: DriftKind::Appeared,
            });
        }
    }
    drifts
}
