//! Ordering: fills `depends_on` and sorts a plan's operations.
//!
//! The safety rule behind them: nothing that removes a binding or a plug-in runs before
//! what replaces it is in place (create → attach → detach → delete → rename), so a failed
//! step leaves every API on its old plug-in. Rules (each has a test below):
//! 1. Binding changes of one (plug-in, environment) run one at a time, attaches first: the
//!    service fails concurrent binding changes of a plug-in and environment with APIG.3500
//!    (SPEC §3.8).
//! 2. An attach waits for the create or update of its plug-in (a created plug-in has no id
//!    before that, and new bindings should get the new content).
//! 3. A delete waits for every detach of its plug-in (APIG.3462 otherwise, SPEC §3.6).
//! 4. A detach waits for the attaches, in its environment, of other plug-ins of its type to
//!    the same APIs: the attach replaces the detached plug-in on those APIs (one plug-in of a
//!    type per API and environment, SPEC §3.8), so the API is never without one; the detach
//!    then removes what is left (the executor sends only the APIs still bound).
//! 5. In a replacement, every detach and delete of a plug-in it retires waits for every
//!    create, update and attach of the new plug-in, and the rename waits for the deletes
//!    (the name must be free) and the create.
//!
//! Everything else is independent and may run in parallel. The list order is a
//! topological order that prefers stage order (upserts, attaches, detaches, deletes,
//! renames), then plug-in name, environment name and id, so it is deterministic and
//! executable in sequence. No rule makes an edge into an earlier stage, so there is no cycle.

use std::collections::{BTreeMap, BTreeSet};

use crate::fast_hash::HashMap;

use super::model::{BindingOp, OpKind, Operation, Replacement, Stage};

/// Fills `depends_on` of `ops` by the rules above and returns them in plan order.
pub(crate) fn order(mut ops: Vec<Operation>, replacements: &[Replacement]) -> Vec<Operation> {
    let deps = dependencies(&ops, replacements);
    for (op, deps) in ops.iter_mut().zip(deps) {
        op.depends_on = deps.into_iter().collect();
    }
    topological(ops)
}

fn binding(op: &Operation) -> Option<&BindingOp> {
    match &op.kind {
        OpKind::Attach(b) | OpKind::Detach(b) => Some(b),
        _ => None,
    }
}

fn sort_key(op: &Operation) -> (Stage, &str, &str, &str) {
    let env = binding(op).map_or("", |b| b.env_name.as_str());
    (op.stage, op.kind.plugin_name(), env, op.id.as_str())
}

fn dependencies(ops: &[Operation], replacements: &[Replacement]) -> Vec<BTreeSet<String>> {
    let mut deps = vec![BTreeSet::new(); ops.len()];
    let mut upserts: HashMap<&str, &str> = HashMap::default();
    let mut chains: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut by_plugin: HashMap<&str, Vec<usize>> = HashMap::default();
    // (env, type, API) → attaches there.
    let mut attaches_at: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::default();
    for (i, op) in ops.iter().enumerate() {
        by_plugin.entry(op.kind.plugin_name()).or_default().push(i);
        match &op.kind {
            OpKind::CreatePlugin { .. } | OpKind::UpdatePlugin { .. } => {
                upserts.insert(op.kind.plugin_name(), &op.id);
            }
            OpKind::Attach(b) | OpKind::Detach(b) => {
                chains.entry((&b.plugin, &b.env_id)).or_default().push(i);
                if let OpKind::Attach(_) = &op.kind {
                    for api in &b.apis {
                        attaches_at
                            .entry((&b.env_id, &b.plugin_type, &api.id))
                            .or_default()
                            .push(i);
                    }
                }
            }
            OpKind::DeletePlugin { .. } | OpKind::RenamePlugin { .. } => {}
        }
    }
    // Rule 1: a chain per (plug-in, env), attaches before detaches, then by id.
    for chain in chains.values_mut() {
        chain.sort_by_key(|&i| (ops[i].stage, ops[i].id.as_str()));
        for pair in chain.windows(2) {
            deps[pair[1]].insert(ops[pair[0]].id.clone());
        }
    }
    let of = |name: &str, pick: fn(&OpKind) -> bool| -> Vec<String> {
        by_plugin
            .get(name)
            .into_iter()
            .flatten()
            .filter(|&&j| pick(&ops[j].kind))
            .map(|&j| ops[j].id.clone())
            .collect()
    };
    for (i, op) in ops.iter().enumerate() {
        match &op.kind {
            // Rule 2.
            OpKind::Attach(b) => {
                if let Some(up) = upserts.get(b.plugin.as_str()) {
                    deps[i].insert((*up).to_owned());
                }
            }
            // Rule 4.
            OpKind::Detach(d) => {
                for api in &d.apis {
                    let key = (d.env_id.as_str(), d.plugin_type.as_str(), api.id.as_str());
                    for &j in attaches_at.get(&key).into_iter().flatten() {
                        if binding(&ops[j]).is_some_and(|a| a.plugin != d.plugin) {
                            deps[i].insert(ops[j].id.clone());
                        }
                    }
                }
            }
            // Rule 3.
            OpKind::DeletePlugin { name, .. } => {
                deps[i].extend(of(name, |k| matches!(k, OpKind::Detach(_))));
            }
            _ => {}
        }
    }
    // Rule 5.
    for r in replacements {
        let new_side = of(&r.new, |k| {
            matches!(
                k,
                OpKind::CreatePlugin { .. } | OpKind::UpdatePlugin { .. } | OpKind::Attach(_)
            )
        });
        for old in &r.old {
            for &j in by_plugin.get(old.as_str()).into_iter().flatten() {
                if matches!(ops[j].kind, OpKind::Detach(_) | OpKind::DeletePlugin { .. }) {
                    deps[j].extend(new_side.iter().cloned());
                }
            }
        }
        for &j in by_plugin.get(r.new.as_str()).into_iter().flatten() {
            if matches!(ops[j].kind, OpKind::RenamePlugin { .. }) {
                for old in &r.old {
                    deps[j].extend(of(old, |k| matches!(k, OpKind::DeletePlugin { .. })));
                }
                deps[j].extend(of(&r.new, |k| matches!(k, OpKind::CreatePlugin { .. })));
            }
        }
    }
    deps
}

/// Kahn's algorithm, taking the smallest ready operation by [`sort_key`] each time.
fn topological(ops: Vec<Operation>) -> Vec<Operation> {
    let index: HashMap<&str, usize> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| (op.id.as_str(), i))
        .collect();
    let mut pending: Vec<usize> = ops
        .iter()
        .map(|op| {
            op.depends_on
                .iter()
                .filter(|d| index.contains_key(d.as_str()))
                .count()
        })
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (i, op) in ops.iter().enumerate() {
        for d in &op.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                dependents[j].push(i);
            }
        }
    }
    let mut ready: BTreeSet<(_, usize)> = (0..ops.len())
        .filter(|&i| pending[i] == 0)
        .map(|i| (sort_key(&ops[i]), i))
        .collect();
    let mut order = Vec::with_capacity(ops.len());
    while let Some((_, i)) = ready.pop_first() {
        order.push(i);
        for &j in &dependents[i] {
            pending[j] -= 1;
            if pending[j] == 0 {
                ready.insert((sort_key(&ops[j]), j));
            }
        }
    }
    debug_assert_eq!(
        order.len(),
        ops.len(),
        "the ordering rules never make a cycle"
    );
    let mut slots: Vec<Option<Operation>> = ops.into_iter().map(Some).collect();
    let mut sorted: Vec<Operation> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    // Unreachable by the rules; kept so that a bug loses no operation.
    sorted.extend(slots.into_iter().flatten());
    sorted
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{PluginType, Scope};
    use crate::plan::model::{ApiItem, PluginSpec};

    fn op(id: &str, kind: OpKind, replace: bool) -> Operation {
        Operation {
            id: id.to_owned(),
            stage: kind.stage(),
            kind,
            depends_on: Vec::new(),
            replace,
            reason: None,
            cause: Default::default(),
        }
    }

    fn spec(name: &str) -> PluginSpec {
        PluginSpec {
            name: name.to_owned(),
            plugin_type: PluginType::Cors,
            scope: Scope::Global,
            roma_app_id: None,
            remark: String::new(),
            content: json!({}),
            secrets: Default::default(),
        }
    }

    fn create(name: &str) -> Operation {
        op(
            &format!("create/{name}"),
            OpKind::CreatePlugin {
                spec: spec(name),
                temp_name: None,
            },
            false,
        )
    }

    fn update(name: &str) -> Operation {
        let kind = OpKind::UpdatePlugin {
            plugin_id: format!("id-{name}"),
            spec: spec(name),
            changes: vec![],
        };
        op(&format!("update/{name}"), kind, false)
    }

    fn delete(name: &str) -> Operation {
        let kind = OpKind::DeletePlugin {
            plugin_id: format!("id-{name}"),
            name: name.to_owned(),
        };
        op(&format!("delete/{name}"), kind, false)
    }

    fn binding(plugin: &str, env: &str, apis: &[&str]) -> BindingOp {
        BindingOp {
            plugin: plugin.to_owned(),
            plugin_id: None,
            plugin_type: "cors".to_owned(),
            env_id: format!("env-{env}"),
            env_name: env.to_owned(),
            apis: apis
                .iter()
                .map(|a| ApiItem {
                    id: (*a).to_owned(),
                    name: None,
                })
                .collect(),
        }
    }

    fn attach(plugin: &str, env: &str, n: usize, apis: &[&str]) -> Operation {
        op(
            &format!("attach/{plugin}/{env}/{n}"),
            OpKind::Attach(binding(plugin, env, apis)),
            false,
        )
    }

    fn detach(plugin: &str, env: &str, n: usize, apis: &[&str]) -> Operation {
        op(
            &format!("detach/{plugin}/{env}/{n}"),
            OpKind::Detach(binding(plugin, env, apis)),
            false,
        )
    }

    fn ordered(ops: Vec<Operation>) -> Vec<(String, Vec<String>)> {
        ordered_with(ops, &[])
    }

    fn ordered_with(ops: Vec<Operation>, rs: &[Replacement]) -> Vec<(String, Vec<String>)> {
        order(ops, rs)
            .into_iter()
            .map(|op| (op.id, op.depends_on))
            .collect()
    }

    fn deps_of<'a>(got: &'a [(String, Vec<String>)], id: &str) -> &'a [String] {
        &got.iter().find(|(i, _)| i == id).expect("op present").1
    }

    #[test]
    fn stages_come_in_order_upserts_attaches_detaches_deletes() {
        let got = ordered(vec![
            delete("z"),
            attach("b", "RELEASE", 1, &["x"]),
            detach("c", "RELEASE", 1, &["y"]),
            create("b"),
            update("a"),
        ]);
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "update/a",
                "create/b",
                "attach/b/RELEASE/1",
                "detach/c/RELEASE/1",
                "delete/z"
            ]
        );
    }

    #[test]
    fn binding_changes_of_one_plugin_and_env_are_chained_attaches_first() {
        let got = ordered(vec![
            attach("a", "RELEASE", 2, &["p"]),
            attach("a", "RELEASE", 1, &["q"]),
            detach("a", "RELEASE", 1, &["r"]),
            attach("a", "TEST", 1, &["q"]),
        ]);
        assert_eq!(deps_of(&got, "attach/a/RELEASE/1"), [] as [String; 0]);
        assert_eq!(deps_of(&got, "attach/a/RELEASE/2"), ["attach/a/RELEASE/1"]);
        assert_eq!(deps_of(&got, "detach/a/RELEASE/1"), ["attach/a/RELEASE/2"]);
        assert_eq!(
            deps_of(&got, "attach/a/TEST/1"),
            [] as [String; 0],
            "another env is independent"
        );
    }

    #[test]
    fn attach_waits_for_the_create_or_update_of_its_plugin() {
        let got = ordered(vec![
            create("a"),
            update("b"),
            attach("a", "E", 1, &["x"]),
            attach("b", "E", 1, &["y"]),
        ]);
        assert_eq!(deps_of(&got, "attach/a/E/1"), ["create/a"]);
        assert_eq!(deps_of(&got, "attach/b/E/1"), ["update/b"]);
    }

    #[test]
    fn delete_waits_for_every_detach_of_its_plugin() {
        let got = ordered(vec![
            delete("a"),
            detach("a", "E", 1, &["x"]),
            detach("a", "F", 1, &["y"]),
            detach("b", "E", 1, &["z"]),
        ]);
        assert_eq!(deps_of(&got, "delete/a"), ["detach/a/E/1", "detach/a/F/1"]);
    }

    #[test]
    fn a_detach_waits_for_same_type_attaches_of_other_plugins_to_the_same_apis() {
        let mut other_type = attach("c", "E", 1, &["x"]);
        if let OpKind::Attach(b) = &mut other_type.kind {
            b.plugin_type = "rate_limit".to_owned();
        }
        let got = ordered(vec![
            detach("a", "E", 1, &["x", "y"]),
            attach("b", "E", 1, &["x"]),
            attach("d", "E", 1, &["z"]),
            attach("e", "F", 1, &["x"]),
            other_type,
        ]);
        assert_eq!(deps_of(&got, "detach/a/E/1"), ["attach/b/E/1"]);
    }

    #[test]
    fn moving_apis_to_a_new_plugin_creates_and_attaches_before_the_old_one_goes() {
        let got = ordered(vec![
            delete("o_c"),
            detach("o_c", "E", 1, &["x", "y"]),
            create("o_b"),
            attach("o_b", "E", 1, &["x", "y"]),
        ]);
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "create/o_b",
                "attach/o_b/E/1",
                "detach/o_c/E/1",
                "delete/o_c"
            ]
        );
        assert_eq!(deps_of(&got, "detach/o_c/E/1"), ["attach/o_b/E/1"]);
    }

    #[test]
    fn two_plugins_swapping_apis_make_no_cycle() {
        let got = ordered(vec![
            detach("a", "E", 1, &["x"]),
            attach("a", "E", 1, &["y"]),
            detach("b", "E", 1, &["y"]),
            attach("b", "E", 1, &["x"]),
        ]);
        assert_eq!(got.len(), 4);
        assert_eq!(
            deps_of(&got, "detach/a/E/1"),
            ["attach/a/E/1", "attach/b/E/1"]
        );
        assert_eq!(
            deps_of(&got, "detach/b/E/1"),
            ["attach/a/E/1", "attach/b/E/1"]
        );
    }

    #[test]
    fn a_replacement_runs_create_attach_detach_delete_rename() {
        let tmp = "edge__apigsync_tmp";
        let mut create_tmp = create("edge");
        create_tmp.id = format!("create/{tmp}");
        if let OpKind::CreatePlugin { temp_name, .. } = &mut create_tmp.kind {
            *temp_name = Some(tmp.to_owned());
        }
        let rename = op(
            "rename/edge",
            OpKind::RenamePlugin {
                plugin_id: None,
                from: tmp.to_owned(),
                spec: spec("edge"),
            },
            true,
        );
        let ops = vec![
            rename,
            delete("edge"),
            detach("edge", "E", 1, &["x"]),
            attach(tmp, "E", 1, &["x"]),
            create_tmp,
            create("other"),
        ];
        let r = Replacement {
            plugin: "edge".to_owned(),
            reason: "type changed".to_owned(),
            new: tmp.to_owned(),
            old: vec!["edge".to_owned()],
            steps: Vec::new(),
        };
        let got = ordered_with(ops, &[r]);
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        let create_id = format!("create/{tmp}");
        let attach_id = format!("attach/{tmp}/E/1");
        assert_eq!(
            ids,
            [
                "create/edge__apigsync_tmp",
                "create/other",
                "attach/edge__apigsync_tmp/E/1",
                "detach/edge/E/1",
                "delete/edge",
                "rename/edge"
            ]
        );
        assert_eq!(
            deps_of(&got, "detach/edge/E/1"),
            [attach_id.clone(), create_id.clone()]
        );
        assert_eq!(
            deps_of(&got, "delete/edge"),
            [attach_id, create_id.clone(), "detach/edge/E/1".to_owned()]
        );
        assert_eq!(
            deps_of(&got, "rename/edge"),
            [create_id, "delete/edge".to_owned()]
        );
    }

    #[test]
    fn ordering_is_deterministic_whatever_the_input_order() {
        let ops = vec![
            create("b"),
            create("a"),
            attach("a", "E", 1, &["x"]),
            attach("b", "E", 1, &["y"]),
            detach("c", "E", 1, &["x"]),
            delete("c"),
        ];
        let mut reversed = ops.clone();
        reversed.reverse();
        assert_eq!(ordered(ops), ordered(reversed));
    }
}
