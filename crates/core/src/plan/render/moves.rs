//! What the binding changes of a plan mean for each API: an API unbound from one plug-in
//! and bound to another of the same type in the same environment moves (it keeps a plug-in
//! of that type); one unbound and bound again by the same plug-in name (a replacement) is
//! re-bound; only the rest is lost or gained. A reviewer reads losses first.

use std::collections::{BTreeMap, HashMap};

use super::group::PluginChanges;

/// APIs (by label) per environment name, both sorted.
pub(crate) type ApisByEnv<'a> = BTreeMap<&'a str, Vec<&'a str>>;

/// The binding changes of one plug-in, by what they mean for the APIs.
#[derive(Debug, Default)]
pub(crate) struct Bindings<'a> {
    /// APIs that lose this plug-in and get no other of its type.
    pub lost: ApisByEnv<'a>,
    /// APIs that get this plug-in and lose no other of its type.
    pub gained: ApisByEnv<'a>,
    /// APIs that keep the plug-in's name through a replacement.
    pub rebound: ApisByEnv<'a>,
    /// APIs that move from this plug-in to another: (environment, other plug-in) → APIs.
    pub moved_out: BTreeMap<(&'a str, &'a str), Vec<&'a str>>,
    /// APIs that move to this plug-in from another: (environment, other plug-in) → APIs.
    pub moved_in: BTreeMap<(&'a str, &'a str), Vec<&'a str>>,
}

/// The [`Bindings`] of each group, in the groups' order.
pub(crate) fn bindings<'a>(groups: &[PluginChanges<'a>]) -> Vec<Bindings<'a>> {
    // (environment id, API id) → (group, plug-in type), for attaches and for detaches.
    type Side<'a> = HashMap<(&'a str, &'a str), Vec<(usize, &'a str)>>;
    let mut attached: Side<'a> = HashMap::new();
    let mut detached: Side<'a> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        for (side, ops) in [(&mut attached, &g.attach), (&mut detached, &g.detach)] {
            for (b, _) in ops {
                for api in &b.apis {
                    side.entry((b.env_id.as_str(), api.id.as_str()))
                        .or_default()
                        .push((i, b.plugin_type.as_str()));
                }
            }
        }
    }
    // A group that both unbinds and binds an API re-binds it: it moves nowhere.
    let holds = |side: &Side<'a>, key: (&str, &str), group: usize| {
        side.get(&key)
            .is_some_and(|v| v.iter().any(|(j, _)| *j == group))
    };
    let mut out: Vec<Bindings<'a>> = groups.iter().map(|_| Bindings::default()).collect();
    for (i, g) in groups.iter().enumerate() {
        let view = &mut out[i];
        for (b, _) in &g.detach {
            for api in &b.apis {
                let key = (b.env_id.as_str(), api.id.as_str());
                let other = attached.get(&key).map(Vec::as_slice).unwrap_or_default();
                let (env, label) = (b.env_name.as_str(), api.label());
                if other.iter().any(|(j, _)| *j == i) {
                    view.rebound.entry(env).or_default().push(label);
                } else if let Some((j, _)) = other
                    .iter()
                    .find(|(j, t)| *t == b.plugin_type && !holds(&detached, key, *j))
                {
                    view.moved_out
                        .entry((env, groups[*j].name))
                        .or_default()
                        .push(label);
                } else {
                    view.lost.entry(env).or_default().push(label);
                }
            }
        }
        for (b, _) in &g.attach {
            for api in &b.apis {
                let key = (b.env_id.as_str(), api.id.as_str());
                let other = detached.get(&key).map(Vec::as_slice).unwrap_or_default();
                let (env, label) = (b.env_name.as_str(), api.label());
                if other.iter().any(|(j, _)| *j == i) {
                    continue; // counted as re-bound on the detach side
                } else if let Some((j, _)) = other
                    .iter()
                    .find(|(j, t)| *t == b.plugin_type && !holds(&attached, key, *j))
                {
                    view.moved_in
                        .entry((env, groups[*j].name))
                        .or_default()
                        .push(label);
                } else {
                    view.gained.entry(env).or_default().push(label);
                }
            }
        }
    }
    for view in &mut out {
        for apis in view
            .lost
            .values_mut()
            .chain(view.gained.values_mut())
            .chain(view.rebound.values_mut())
            .chain(view.moved_out.values_mut())
            .chain(view.moved_in.values_mut())
        {
            apis.sort_unstable();
            apis.dedup();
        }
    }
    out
}
