//! Staleness: does a saved plan still match the live state it was computed from?
//!
//! A plan records a fingerprint of every live object it read ([`Read`]); [`check_stale`]
//! recomputes them from a fresh [`Live`] and names each object that changed, vanished or
//! appeared, so `apply --plan FILE` can refuse a plan made against an older state.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::model::{Live, LivePlugin};
use serde::{Deserialize, Serialize};

use super::fingerprint::{live_bindings, live_plugin};
use super::marker;
use super::model::{OpKind, Plan, Read, ReadObject};

/// One live object that differs from what a plan read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The object.
    pub object: ReadObject,
    /// How it differs.
    pub kind: DriftKind,
    /// For bindings, the environment's name (from the live state, else the plan), shown
    /// instead of its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_name: Option<String>,
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
                let env = self.env_name.as_deref().unwrap_or(env_id);
                write!(
                    f,
                    "bindings of plug-in {plugin:?} in environment {env} {what}"
                )
            }
        }
    }
}

/// The name of the environment of a bindings read: from the live state, else from the
/// plan's binding operations.
fn env_name(object: &ReadObject, plan: &Plan, live: &Live) -> Option<String> {
    let ReadObject::Bindings { env_id, .. } = object else {
        return None;
    };
    let from_live = live.envs.iter().find(|e| &e.id == env_id).map(|e| &e.name);
    let from_plan = || {
        plan.operations.iter().find_map(|op| match &op.kind {
            OpKind::Attach(b) | OpKind::Detach(b) if &b.env_id == env_id => Some(&b.env_name),
            _ => None,
        })
    };
    from_live.or_else(from_plan).cloned()
}

/// The objects read by `plan` whose live fingerprint differs now, plus plug-ins of the plan's
/// owner that the plan did not read at all. Empty when the plan is still current.
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
                by_name(name).map(live_plugin)
            }
            ReadObject::Bindings { plugin, env_id } => match by_name(plugin) {
                // The plug-in's own read reports it gone; unfetched bindings cannot be compared.
                None => continue,
                Some(p) if p.bindings.is_none() => continue,
                Some(p) => live_bindings(p, env_id),
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
            env_name: env_name(object, plan, live),
        });
    }
    for p in &live.plugins {
        let managed = marker::owner_of(p.remark.as_deref()).as_ref() == Some(&plan.owner);
        if managed && !read_names.contains(p.name.as_str()) {
            drifts.push(Drift {
                object: ReadObject::Plugin {
                    name: p.name.clone(),
                },
                kind: DriftKind::Appeared,
                env_name: None,
            });
        }
    }
    drifts
}
