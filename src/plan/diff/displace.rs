//! Displacement: an attach replaces any other plug-in of its type on that API and
//! environment (the gateway keeps one per type).

use std::collections::{HashMap, HashSet};

use crate::model::{Desired, LivePlugin};

use super::super::model::{Notice, NoticeKind, OpKind};
use super::builder::Builder;
use super::managed;

impl Builder<'_> {
    /// A notice for each attach that displaces another plug-in of the same type that this
    /// plan does not detach from that API.
    pub(super) fn displacement_notices(&mut self, desired: &Desired) {
        let mut detached: HashSet<(&str, &str, &str)> = HashSet::new();
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
        let mut bound: HashMap<(&str, &str, &str), Vec<&LivePlugin>> = HashMap::new();
        for other in &self.live.plugins {
            for b in other.bindings.iter().flatten() {
                bound
                    .entry((&b.env_id, &other.plugin_type, &b.api_id))
                    .or_default()
                    .push(other);
            }
        }
        let mut notices = Vec::new();
        for op in &self.ops {
            let OpKind::Attach(a) = &op.kind else {
                continue;
            };
            for api in &a.apis {
                let key = (a.env_id.as_str(), a.plugin_type.as_str(), api.id.as_str());
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
                    let whose = if managed(other) {
                        "managed"
                    } else {
                        "unmanaged"
                    };
                    notices.push(Notice {
                        kind: NoticeKind::Displaces,
                        plugin: a.plugin.clone(),
                        message: format!(
                            "binding {:?} displaces {whose} plug-in {:?} of type {} on API {} in {}",
                            a.plugin,
                            other.name,
                            a.plugin_type,
                            api.label(),
                            a.env_name
                        ),
                        location: desired
                            .bindings
                            .iter()
                            .find(|b| b.plugin == a.plugin)
                            .map(|b| b.location.clone()),
                    });
                }
            }
        }
        self.notices.extend(notices);
    }
}
