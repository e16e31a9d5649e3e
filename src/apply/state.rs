//! Where an apply that did not complete left each API whose binding changes did not all
//! complete: which plug-in of the type it is bound to now. Derived from the plan (a detach
//! lists the plug-in an API had; attaches and detaches of one API, type and environment
//! run in plan order) and what each operation is known to have done.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use super::StepOutcome;
use super::binding::Partial;
use crate::plan::{OpKind, Plan};

/// The state an API was left in, for one plug-in type and environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiState {
    /// API name (or id).
    pub api: String,
    /// Environment name.
    pub env: String,
    /// Plug-in type.
    pub plugin_type: String,
    /// The plug-in of that type from this plan it is bound to now (`None`: none of them).
    pub bound_to: Option<String>,
    /// The one it was bound to before, when the plan detaches it.
    pub before: Option<String>,
    /// False when a failed step's effect could not be read back.
    pub known: bool,
    /// The final name when `bound_to` is the temporary name of a replacement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacing: Option<String>,
}

impl fmt::Display for ApiState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}: ", self.api, self.env)?;
        if !self.known {
            return write!(
                f,
                "unknown ({} plug-in): a failed step's effect could not be read back; run plan to see",
                self.plugin_type
            );
        }
        match (&self.bound_to, &self.before) {
            (Some(now), Some(was)) if now == was => write!(f, "still bound to {now} (old)"),
            (Some(now), _) => {
                write!(f, "bound to {now} (new")?;
                if let Some(name) = &self.replacing {
                    write!(f, "; it becomes {name} when the replacement finishes")?;
                }
                write!(f, ")")
            }
            (None, Some(was)) => write!(
                f,
                "no {} plug-in of these manifests (detached from {was})",
                self.plugin_type
            ),
            (None, None) => write!(
                f,
                "no {} plug-in of these manifests (unchanged)",
                self.plugin_type
            ),
        }
    }
}

/// The state of every (API, type, environment) that an operation not done touches.
pub(super) fn api_states(
    plan: &Plan,
    outcomes: &[StepOutcome],
    partial: &HashMap<String, Partial>,
) -> Vec<ApiState> {
    // (env, type, api id) → indexes of the binding operations touching it, in plan order.
    let mut touching: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, op) in plan.operations.iter().enumerate() {
        if let OpKind::Attach(b) | OpKind::Detach(b) = &op.kind {
            for api in &b.apis {
                touching
                    .entry((&b.env_name, &b.plugin_type, &api.id))
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut states = Vec::new();
    for ((env, plugin_type, api_id), ops) in touching {
        if ops
            .iter()
            .all(|&i| outcomes.get(i) == Some(&StepOutcome::Done))
        {
            continue;
        }
        let mut label = api_id.to_owned();
        // A detach lists a binding that existed before the plan ran.
        let before = ops.iter().find_map(|&i| match &plan.operations[i].kind {
            OpKind::Detach(b) => Some(b.plugin.clone()),
            _ => None,
        });
        let mut bound_to = before.clone();
        let mut known = true;
        for &i in &ops {
            let op = &plan.operations[i];
            let (OpKind::Attach(b) | OpKind::Detach(b)) = &op.kind else {
                continue;
            };
            if let Some(api) = b.apis.iter().find(|a| a.id == api_id) {
                label = api.label().to_owned();
            }
            let p = partial.get(&op.id);
            let done = outcomes.get(i) == Some(&StepOutcome::Done)
                || p.is_some_and(|p| p.done.contains(api_id));
            known &= done || p.is_none_or(|p| p.known);
            match &op.kind {
                OpKind::Attach(_) if done => bound_to = Some(b.plugin.clone()),
                OpKind::Detach(_) if done && bound_to.as_deref() == Some(b.plugin.as_str()) => {
                    bound_to = None;
                }
                _ => {}
            }
        }
        let replacing = bound_to.as_ref().and_then(|now| {
            plan.replacements
                .iter()
                .find(|r| &r.new == now && r.plugin != *now)
                .map(|r| r.plugin.clone())
        });
        states.push(ApiState {
            api: label,
            env: env.to_owned(),
            plugin_type: plugin_type.to_owned(),
            bound_to,
            before,
            known,
            replacing,
        });
    }
    states.sort_by(|a, b| (&a.api, &a.env, &a.plugin_type).cmp(&(&b.api, &b.env, &b.plugin_type)));
    states
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::plan::{ApiItem, BindingOp, Operation, PlanTarget};

    fn op(id: &str, attach: bool, plugin: &str, apis: &[&str]) -> Operation {
        let b = BindingOp {
            plugin: plugin.into(),
            plugin_id: None,
            plugin_type: "cors".into(),
            env_id: "E".into(),
            env_name: "RELEASE".into(),
            apis: apis
                .iter()
                .map(|a| ApiItem {
                    id: (*a).into(),
                    name: Some(format!("{a}_name")),
                })
                .collect(),
        };
        let kind = if attach {
            OpKind::Attach(b)
        } else {
            OpKind::Detach(b)
        };
        Operation {
            id: id.into(),
            stage: kind.stage(),
            kind,
            depends_on: Vec::new(),
            replace: false,
            reason: None,
            cause: Default::default(),
        }
    }

    fn moved() -> Plan {
        let mut plan = Plan::new(PlanTarget::default());
        plan.operations = vec![
            op("attach/o_b", true, "o_b", &["a", "b"]),
            op("detach/o_c", false, "o_c", &["a", "b"]),
        ];
        plan
    }

    fn failed() -> StepOutcome {
        StepOutcome::Failed {
            error: "boom".into(),
            kind: crate::api::ErrorKind::Rejected,
        }
    }

    fn lines(states: &[ApiState]) -> Vec<String> {
        states.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_failed_attach_leaves_the_apis_on_the_old_plugin() {
        let skipped = StepOutcome::NotAttempted {
            reason: "dependency".into(),
        };
        let states = api_states(&moved(), &[failed(), skipped], &HashMap::new());
        assert_eq!(
            lines(&states),
            [
                "a_name in RELEASE: still bound to o_c (old)",
                "b_name in RELEASE: still bound to o_c (old)"
            ]
        );
    }

    #[test]
    fn an_attach_done_for_some_apis_moves_only_those() {
        let partial = HashMap::from([(
            "attach/o_b".to_owned(),
            Partial {
                done: BTreeSet::from(["a".to_owned()]),
                known: true,
            },
        )]);
        let skipped = StepOutcome::NotAttempted {
            reason: "dependency".into(),
        };
        let states = api_states(&moved(), &[failed(), skipped], &partial);
        assert_eq!(
            lines(&states),
            [
                "a_name in RELEASE: bound to o_b (new)",
                "b_name in RELEASE: still bound to o_c (old)"
            ]
        );
    }

    #[test]
    fn an_unreadable_outcome_is_reported_as_unknown_and_done_apis_are_left_out() {
        let mut plan = moved();
        plan.operations.push(op("attach/x", true, "x", &["c"]));
        let partial = HashMap::from([(
            "attach/o_b".to_owned(),
            Partial {
                done: BTreeSet::new(),
                known: false,
            },
        )]);
        let states = api_states(&plan, &[failed(), failed(), StepOutcome::Done], &partial);
        assert_eq!(states.len(), 2, "c's only change is done");
        assert!(states.iter().all(|s| !s.known));
        assert!(lines(&states)[0].contains("unknown"));
    }
}
