//! The operations of a plan grouped per plug-in, destructive changes first: the order in
//! which a reviewer reads a plan (execution order interleaves plug-ins by phase).

use std::collections::HashMap;

use crate::model::{Live, LivePlugin};
use crate::plan::{BindingOp, FieldChange, OpKind, Plan, PluginSpec};

/// What happens to one plug-in as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Action {
    /// Deleted (prune).
    Delete,
    /// Deleted and created again (a change the service cannot make in place).
    Replace,
    /// Only its bindings change, some of them removed.
    Detach,
    /// Created.
    Create,
    /// Updated in place.
    Update,
    /// Only bindings added.
    Attach,
}

impl Action {
    /// Whether a reviewer should look at it first: it removes something.
    pub(crate) fn destructive(self) -> bool {
        matches!(self, Action::Delete | Action::Replace | Action::Detach)
    }

    /// The verb shown for it.
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Replace => "replace",
            Action::Detach => "detach",
            Action::Create => "create",
            Action::Update => "update",
            Action::Attach => "attach",
        }
    }
}

/// Every change the plan makes to one plug-in.
#[derive(Debug)]
pub(crate) struct PluginChanges<'a> {
    /// The plug-in's name.
    pub name: &'a str,
    /// What happens to it as a whole.
    pub action: Action,
    /// The live plug-in it deletes, replaces or updates, when the live state is at hand.
    pub live: Option<&'a LivePlugin>,
    /// The live id it deletes (delete, replace).
    pub deleted_id: Option<&'a str>,
    /// The plug-in it creates (create, replace) or writes (update).
    pub spec: Option<&'a PluginSpec>,
    /// Whether `spec` is created (else updated in place).
    pub created: bool,
    /// The fields an update changes.
    pub changes: &'a [FieldChange],
    /// Why (replace, adoption), once each.
    pub reasons: Vec<&'a str>,
    /// Bindings removed, and whether each is part of a replace.
    pub detach: Vec<(&'a BindingOp, bool)>,
    /// Bindings added, and whether each is part of a replace.
    pub attach: Vec<(&'a BindingOp, bool)>,
}

impl PluginChanges<'_> {
    /// Whether a reviewer should look at it first: it deletes or replaces the plug-in, or
    /// removes bindings for good (a replace re-attaches its own).
    pub(crate) fn destructive(&self) -> bool {
        self.action.destructive() || self.detach.iter().any(|(_, replace)| !replace)
    }

    /// The plug-in type before (live) and after (desired), as far as the plan tells.
    pub(crate) fn types(&self) -> (Option<String>, Option<String>) {
        let old = self
            .live
            .map(|p| p.plugin_type.clone())
            .or_else(|| self.detach.first().map(|(b, _)| b.plugin_type.clone()));
        let new = self
            .spec
            .map(|s| s.plugin_type.to_string())
            .or_else(|| self.attach.first().map(|(b, _)| b.plugin_type.clone()));
        match self.action {
            Action::Delete => (old, None),
            Action::Create => (None, new),
            _ => (old.clone().or(new.clone()), new.or(old)),
        }
    }
}

/// The plan's changes per plug-in: deletes, replaces and binding removals first, then
/// creates, updates and binding additions; in plan order within each.
pub(crate) fn by_plugin<'a>(plan: &'a Plan, live: Option<&'a Live>) -> Vec<PluginChanges<'a>> {
    // A replacement works under a temporary name: its steps belong to the final name.
    let final_names: HashMap<&str, &str> = plan
        .replacements
        .iter()
        .map(|r| (r.new.as_str(), r.plugin.as_str()))
        .collect();
    let live_plugins = live.map(|l| l.plugins.as_slice()).unwrap_or_default();
    let by_name: HashMap<&str, &LivePlugin> =
        live_plugins.iter().map(|p| (p.name.as_str(), p)).collect();
    let by_id: HashMap<&str, &LivePlugin> =
        live_plugins.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut groups: Vec<PluginChanges<'a>> = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for op in &plan.operations {
        let name = op.kind.plugin_name();
        let name = final_names.get(name).copied().unwrap_or(name);
        let index = match index_of.get(name) {
            Some(i) => *i,
            None => {
                index_of.insert(name, groups.len());
                groups.push(PluginChanges {
                    name,
                    action: Action::Attach,
                    live: by_name.get(name).copied(),
                    deleted_id: None,
                    spec: None,
                    created: false,
                    changes: &[],
                    reasons: Vec::new(),
                    detach: Vec::new(),
                    attach: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        if let Some(reason) = op.reason.as_deref()
            && !group.reasons.contains(&reason)
        {
            group.reasons.push(reason);
        }
        match &op.kind {
            OpKind::CreatePlugin { spec, .. } => {
                group.spec = Some(spec);
                group.created = true;
            }
            OpKind::RenamePlugin { spec, .. } => group.spec = Some(spec),
            OpKind::UpdatePlugin { spec, changes, .. } => {
                group.spec = Some(spec);
                group.changes = changes;
            }
            OpKind::DeletePlugin { plugin_id, .. } => {
                group.deleted_id = Some(plugin_id);
                if let Some(found) = by_id.get(plugin_id.as_str()) {
                    group.live = Some(found);
                }
            }
            OpKind::Attach(b) => group.attach.push((b, op.replace)),
            OpKind::Detach(b) => group.detach.push((b, op.replace)),
        }
    }
    for group in &mut groups {
        group.action = match (group.deleted_id, group.spec, group.created) {
            (Some(_), Some(_), _) => Action::Replace,
            (Some(_), None, _) => Action::Delete,
            (None, Some(_), true) => Action::Create,
            (None, Some(_), false) => Action::Update,
            (None, None, _) if !group.detach.is_empty() => Action::Detach,
            (None, None, _) => Action::Attach,
        };
    }
    // Deletes, replaces, then other removals; a stable sort keeps plan order within each.
    groups.sort_by_key(|g| (!g.destructive(), g.destructive().then_some(g.action)));
    groups
}
