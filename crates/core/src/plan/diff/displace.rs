//! Displacement: an attach replaces any other plug-in of its type on that API and
//! environment (the gateway keeps one per type: SPEC §3.8, "binding another plug-in of the
//! same type overwrites (replaces) the previous binding").
//!
//! apigsync changes only plug-ins it manages, so displacing one it does not manage is a plan
//! error unless the Binding says `displace: true`; then the plan shows it as a destructive
//! change. Displacing a managed plug-in that this plan does not detach is a notice.

use crate::fast_hash::{HashMap, HashSet};

use crate::model::LivePlugin;

use super::super::error::PlanError;
use super::super::model::{Notice, NoticeKind, OpKind};
use super::builder::Builder;
use super::rules::Origin;

/// The first desired binding document of each (plug-in, env id, API id).
pub(super) type Origins<'a> = HashMap<(&'a str, &'a str, &'a str), Origin<'a>>;

impl Builder<'_> {
    /// Checks every attach against the live plug-ins of its type bound to the same API and
    /// environment that this plan does not detach there: an error for each unmanaged one
    /// (unless its Binding opts in with `displace: true`), a notice otherwise.
    pub(super) fn displacement(&mut self, origins: &Origins<'_>) -> Vec<PlanError> {
        let mut detached: HashSet<(&str, &str, &str)> = HashSet::default();
        for op in &self.ops {
            if let OpKind::Detach(d) = &op.kind {
                detached.extend(
                    d.apis
                        .iter()
                        .map(|a| (d.plugin.as_str(), d.env_id.as_str(), a.id.as_str())),
                );
            }
        }
        // (env, type, API) → live plug-ins bound there.
        let mut bound: HashMap<(&str, &str, &str), Vec<&LivePlugin>> = HashMap::default();
        for other in &self.live.plugins {
            for b in other.bindings.iter().flatten() {
                bound
                    .entry((&b.env_id, &other.plugin_type, &b.api_id))
                    .or_default()
                    .push(other);
            }
        }
        let mut notices = Vec::new();
        let mut errors = Vec::new();
        for op in &self.ops {
            let OpKind::Attach(a) = &op.kind else {
                continue;
            };
            for api in &a.apis {
                let key = (a.env_id.as_str(), a.plugin_type.as_str(), api.id.as_str());
                let origin = origins.get(&(a.plugin.as_str(), a.env_id.as_str(), api.id.as_str()));
                for other in bound.get(&key).into_iter().flatten() {
                    if other.name == a.plugin
                        || detached.contains(&(
                            other.name.as_str(),
                            a.env_id.as_str(),
                            api.id.as_str(),
                        ))
                    {
                        continue;
                    }
                    // Ours: managed by this folder's owner (another owner's is not ours to move).
                    let is_managed = self.ownership.manages(other);
                    let opted_in = origin.is_some_and(|o| o.displace);
                    if !is_managed
                        && !opted_in
                        && let Some(o) = origin
                    {
                        errors.push(PlanError::WouldDisplace {
                            location: o.location.clone(),
                            plugin: a.plugin.clone(),
                            other: other.name.clone(),
                            plugin_type: a.plugin_type.clone(),
                            api: api.label().to_owned(),
                            env: a.env_name.clone(),
                        });
                        continue;
                    }
                    let message = if is_managed {
                        format!(
                            "binding {:?} displaces managed plug-in {:?} of type {} on API {} in {}",
                            a.plugin,
                            other.name,
                            a.plugin_type,
                            api.label(),
                            a.env_name
                        )
                    } else {
                        format!(
                            "DESTRUCTIVE: binding {:?} displaces plug-in {:?} of type {}, which apigsync does not manage, from API {} in {} (displace: true); {:?} loses this binding",
                            a.plugin,
                            other.name,
                            a.plugin_type,
                            api.label(),
                            a.env_name,
                            other.name
                        )
                    };
                    notices.push(Notice {
                        kind: NoticeKind::Displaces,
                        plugin: a.plugin.clone(),
                        message,
                        location: origin.map(|o| o.location.clone()),
                    });
                }
            }
        }
        self.notices.extend(notices);
        errors
    }
}
