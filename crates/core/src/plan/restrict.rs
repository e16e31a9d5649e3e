//! `--select`, `--no-delete` and `watch --sync files`: keep part of a plan, safely.
//!
//! An operation is kept when its plug-in matches a selection glob (or there is none),
//! with `no_delete` it removes nothing (no detach, no delete), and with `no_drift` its
//! cause is not `drift` alone (it comes from the files, or from both). An operation that
//! depends on one left out is left out too, transitively, so what remains is complete
//! and runnable on its own (e.g. a replacement is kept whole or not at all). Every
//! operation left out is named in one notice.

use std::collections::{HashMap, HashSet};

use super::model::{Cause, Notice, NoticeKind, OpKind, Plan};

/// What part of a plan to keep.
#[derive(Debug, Clone, Default)]
pub struct Restriction {
    /// Plug-in name globs (`*`, `?`, `[...]`); empty keeps every plug-in.
    pub select: Vec<glob::Pattern>,
    /// Leave out every detach and delete.
    pub no_delete: bool,
    /// Leave out every operation whose cause is drift alone: apply what the files changed
    /// and only report what changed on the gateway.
    pub no_drift: bool,
}

impl Restriction {
    /// Whether the restriction keeps everything.
    pub fn is_none(&self) -> bool {
        self.select.is_empty() && !self.no_delete && !self.no_drift
    }

    fn selects(&self, plugin: &str) -> bool {
        self.select.is_empty() || self.select.iter().any(|p| p.matches(plugin))
    }
}

/// `plan` without what `restriction` leaves out, with a notice per plug-in left out.
pub fn restrict(mut plan: Plan, restriction: &Restriction) -> Plan {
    if restriction.is_none() {
        return plan;
    }
    // A replacement works under a temporary name: it is selected by its final name.
    let final_names: HashMap<String, String> = plan
        .operations
        .iter()
        .filter_map(|op| match &op.kind {
            OpKind::CreatePlugin {
                spec,
                temp_name: Some(temp),
            } => Some((temp.clone(), spec.name.clone())),
            _ => None,
        })
        .collect();
    let mut left_out: HashSet<String> = HashSet::new();
    let mut kept = Vec::with_capacity(plan.operations.len());
    let mut notices = Vec::new();
    // Operations are in dependency order: a dependency is decided before its dependents.
    for op in plan.operations {
        let name = op.kind.plugin_name();
        let plugin = final_names
            .get(name)
            .map_or(name, String::as_str)
            .to_owned();
        let removes = matches!(op.kind, OpKind::Detach(_) | OpKind::DeletePlugin { .. });
        let why = if !restriction.selects(&plugin) {
            None
        } else if restriction.no_delete && removes {
            Some(format!("{} left out by --no-delete", op.id))
        } else if restriction.no_drift && op.cause == Cause::Drift {
            Some(format!(
                "{} left out: the gateway changed, not the files (drift is only reported)",
                op.id
            ))
        } else if let Some(dep) = op.depends_on.iter().find(|d| left_out.contains(*d)) {
            Some(format!(
                "{} left out: it depends on {dep}, which is left out",
                op.id
            ))
        } else {
            kept.push(op);
            continue;
        };
        if let Some(message) = why {
            notices.push(Notice {
                kind: NoticeKind::Withheld,
                plugin,
                message,
                location: None,
            });
        }
        left_out.insert(op.id);
    }
    plan.operations = kept;
    plan.notices.extend(notices);
    plan
}

#[cfg(test)]
mod tests {
    use super::super::model::{BindingOp, Operation, PlanTarget};
    use super::*;

    fn op(id: &str, kind: OpKind, deps: &[&str]) -> Operation {
        Operation {
            id: id.into(),
            stage: kind.stage(),
            kind,
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
            replace: false,
            reason: None,
            cause: Default::default(),
        }
    }

    fn binding(plugin: &str) -> BindingOp {
        BindingOp {
            plugin: plugin.into(),
            plugin_id: Some("id".into()),
            plugin_type: "cors".into(),
            env_id: "e".into(),
            env_name: "RELEASE".into(),
            apis: vec![],
        }
    }

    fn plan() -> Plan {
        let mut plan = Plan::new(PlanTarget::default());
        plan.operations = vec![
            op(
                "attach/cors_a/RELEASE/1",
                OpKind::Attach(binding("cors_a")),
                &[],
            ),
            op(
                "detach/cors_b/RELEASE/1",
                OpKind::Detach(binding("cors_b")),
                &["attach/cors_a/RELEASE/1"],
            ),
            op(
                "delete/cors_b",
                OpKind::DeletePlugin {
                    plugin_id: "b".into(),
                    name: "cors_b".into(),
                },
                &["detach/cors_b/RELEASE/1"],
            ),
            op(
                "attach/rate_x/RELEASE/1",
                OpKind::Attach(binding("rate_x")),
                &[],
            ),
        ];
        plan
    }

    fn ids(plan: &Plan) -> Vec<&str> {
        plan.operations.iter().map(|o| o.id.as_str()).collect()
    }

    fn select(globs: &[&str]) -> Restriction {
        Restriction {
            select: globs
                .iter()
                .map(|g| glob::Pattern::new(g).expect("glob"))
                .collect(),
            ..Restriction::default()
        }
    }

    #[test]
    fn select_keeps_the_matching_plugins_and_what_they_need() {
        let plan = restrict(plan(), &select(&["cors_*"]));
        assert_eq!(
            ids(&plan),
            [
                "attach/cors_a/RELEASE/1",
                "detach/cors_b/RELEASE/1",
                "delete/cors_b"
            ]
        );
    }

    #[test]
    fn an_operation_whose_dependency_is_not_selected_is_left_out_with_a_notice() {
        let plan = restrict(plan(), &select(&["cors_b"]));
        assert!(ids(&plan).is_empty(), "{:?}", ids(&plan));
        assert_eq!(plan.notices.len(), 2);
        assert!(plan.notices.iter().all(|n| n.kind == NoticeKind::Withheld));
    }

    #[test]
    fn no_delete_keeps_creates_updates_and_attaches_only() {
        let restriction = Restriction {
            no_delete: true,
            ..Restriction::default()
        };
        let plan = restrict(plan(), &restriction);
        assert_eq!(
            ids(&plan),
            ["attach/cors_a/RELEASE/1", "attach/rate_x/RELEASE/1"]
        );
        assert_eq!(plan.notices.len(), 2, "{:?}", plan.notices);
    }

    #[test]
    fn no_delete_leaves_out_the_delete_of_a_plugin_that_has_no_bindings() {
        let mut plan = Plan::new(PlanTarget::default());
        plan.operations = vec![op(
            "delete/unbound",
            OpKind::DeletePlugin {
                plugin_id: "u".into(),
                name: "unbound".into(),
            },
            &[],
        )];
        let restriction = Restriction {
            no_delete: true,
            ..Restriction::default()
        };
        let plan = restrict(plan, &restriction);
        assert!(ids(&plan).is_empty(), "{:?}", ids(&plan));
        assert_eq!(
            plan.notices[0].message,
            "delete/unbound left out by --no-delete"
        );
    }

    #[test]
    fn no_drift_leaves_out_drift_and_what_depends_on_it_and_keeps_files_and_both() {
        let mut plan = plan();
        plan.operations[0].cause = Cause::Drift;
        plan.operations[3].cause = Cause::Both;
        let restriction = Restriction {
            no_drift: true,
            ..Restriction::default()
        };
        let plan = restrict(plan, &restriction);
        assert_eq!(ids(&plan), ["attach/rate_x/RELEASE/1"]);
        assert_eq!(plan.notices.len(), 3, "{:?}", plan.notices);
    }
}
