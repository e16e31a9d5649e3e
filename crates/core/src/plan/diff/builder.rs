//! The operation builder: creates, updates, removals and binding changes of one plan.

use std::collections::{BTreeMap, BTreeSet};

use crate::fast_hash::HashMap;

use crate::model::{DesiredPlugin, Live, LivePlugin};

use super::super::model::{
    ApiItem, BindingOp, Cause, FieldChange, MAX_APIS_PER_CALL, Notice, NoticeKind, OpKind,
    Operation, PluginSpec, Replacement,
};
use super::fields::{adoptable_as_is, field_changes};
use super::kinds::kind_change;
use super::{Ownership, live_bindings, spec};

/// Accumulates operations and notices.
pub(super) struct Builder<'a> {
    pub(super) live: &'a Live,
    pub(super) api_names: HashMap<&'a str, &'a str>,
    pub(super) ops: Vec<Operation>,
    pub(super) notices: Vec<Notice>,
    pub(super) replacements: Vec<Replacement>,
    pub(super) ownership: &'a Ownership<'a>,
}

impl Builder<'_> {
    pub(super) fn push(&mut self, id: String, kind: OpKind, replace: bool, reason: Option<String>) {
        self.ops.push(Operation {
            id,
            stage: kind.stage(),
            kind,
            depends_on: Vec::new(),
            replace,
            reason,
            cause: Cause::Files,
        });
    }

    pub(super) fn create(&mut self, spec: PluginSpec, replace: bool, reason: Option<String>) {
        let id = format!("create/{}", spec.name);
        let kind = OpKind::CreatePlugin {
            spec,
            temp_name: None,
        };
        self.push(id, kind, replace, reason);
    }

    /// Creates desired `p` under its name and attaches it where it is wanted.
    pub(super) fn fresh(
        &mut self,
        p: &DesiredPlugin,
        want: &BTreeMap<String, BTreeSet<String>>,
        replace: bool,
        reason: Option<String>,
    ) {
        self.create(spec(p, self.ownership), replace, reason);
        let no_bindings = BTreeMap::new();
        let plugin_type = p.plugin_type.as_str();
        self.bindings(&p.name, plugin_type, None, want, &no_bindings, replace);
    }

    /// Detaches every binding of `l` and deletes it.
    pub(super) fn remove(&mut self, l: &LivePlugin, replace: bool, reason: Option<String>) {
        self.bindings(
            &l.name,
            &l.plugin_type,
            Some(&l.id),
            &BTreeMap::new(),
            &live_bindings(l),
            replace,
        );
        let kind = OpKind::DeletePlugin {
            plugin_id: l.id.clone(),
            name: l.name.clone(),
        };
        self.push(format!("delete/{}", l.name), kind, replace, reason);
    }

    /// A desired plug-in that exists live (managed, or being adopted), under its name or,
    /// for the leftover of an interrupted replacement, under its temporary name (then the
    /// update renames it); `temp` is a leftover temporary plug-in beside it, if any.
    pub(super) fn existing(
        &mut self,
        p: &DesiredPlugin,
        l: &LivePlugin,
        want: &BTreeMap<String, BTreeSet<String>>,
        adopting: bool,
        temp: Option<&LivePlugin>,
    ) {
        let reason = kind_change(p, l);
        let as_is = adopting && reason.is_none() && adoptable_as_is(p, l);
        if adopting {
            let how = if as_is {
                "adopted as is (it already equals the manifest); the ownership marker is written at its next change"
            } else if reason.is_some() {
                "its type or scope differs, so it is REPLACED by a new plug-in of that name once the new one is bound"
            } else {
                "apigsync will manage it"
            };
            self.notices.push(Notice {
                kind: NoticeKind::Adopts,
                plugin: p.name.clone(),
                message: format!(
                    "adopts unmanaged plug-in {:?} (id {}): {how}, and all its bindings from now on",
                    p.name, l.id
                ),
                location: Some(p.location.clone()),
            });
        }
        if let Some(reason) = reason {
            self.replace(p, l, want, reason, temp);
            return;
        }
        if let Some(t) = temp {
            self.clean_up(p, t);
        }
        let spec = spec(p, self.ownership);
        let mut changes = if as_is {
            Vec::new()
        } else {
            field_changes(p, l, &spec)
        };
        if l.name != p.name {
            changes.insert(
                0,
                FieldChange {
                    path: "/plugin_name".to_owned(),
                    old: Some(l.name.clone().into()),
                    new: Some(p.name.clone().into()),
                    sensitive: false,
                },
            );
        }
        if !changes.is_empty() || (adopting && !as_is) {
            let reason = if l.name != p.name {
                Some(format!(
                    "finish an interrupted replacement: rename {} → {}",
                    l.name, p.name
                ))
            } else {
                adopting.then(|| "adopt: write the ownership marker".to_owned())
            };
            let kind = OpKind::UpdatePlugin {
                plugin_id: l.id.clone(),
                spec,
                changes,
            };
            self.push(format!("update/{}", p.name), kind, false, reason);
        }
        self.bindings(
            &p.name,
            p.plugin_type.as_str(),
            Some(&l.id),
            want,
            &live_bindings(l),
            false,
        );
    }

    /// Attach `want − have` and detach `have − want`, per environment, in chunks.
    pub(super) fn bindings(
        &mut self,
        plugin: &str,
        plugin_type: &str,
        plugin_id: Option<&str>,
        want: &BTreeMap<String, BTreeSet<String>>,
        have: &BTreeMap<String, BTreeSet<String>>,
        replace: bool,
    ) {
        let envs: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
        let empty = BTreeSet::new();
        for env_id in envs {
            let w = want.get(env_id).unwrap_or(&empty);
            let h = have.get(env_id).unwrap_or(&empty);
            let detach: Vec<&String> = h.difference(w).collect();
            let attach: Vec<&String> = w.difference(h).collect();
            for (apis, attaching) in [(detach, false), (attach, true)] {
                let mut items: Vec<ApiItem> =
                    apis.into_iter().map(|id| self.api_item(id)).collect();
                items.sort_by(|a, b| (a.label(), &a.id).cmp(&(b.label(), &b.id)));
                let env_name = self.env_name(env_id);
                for (n, chunk) in items.chunks(MAX_APIS_PER_CALL).enumerate() {
                    let op = BindingOp {
                        plugin: plugin.to_owned(),
                        plugin_id: plugin_id.map(str::to_owned),
                        plugin_type: plugin_type.to_owned(),
                        env_id: env_id.clone(),
                        env_name: env_name.clone(),
                        apis: chunk.to_vec(),
                    };
                    let verb = if attaching { "attach" } else { "detach" };
                    let id = format!("{verb}/{plugin}/{env_name}/{}", n + 1);
                    let kind = if attaching {
                        OpKind::Attach(op)
                    } else {
                        OpKind::Detach(op)
                    };
                    self.push(id, kind, replace, None);
                }
            }
        }
    }

    fn api_item(&self, id: &str) -> ApiItem {
        ApiItem {
            id: id.to_owned(),
            name: self.api_names.get(id).map(|n| (*n).to_owned()),
        }
    }

    fn env_name(&self, env_id: &str) -> String {
        self.live
            .envs
            .iter()
            .find(|e| e.id == env_id)
            .map_or_else(|| env_id.to_owned(), |e| e.name.clone())
    }
}
