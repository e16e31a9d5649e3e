//! Ordering: fills `depends_on` and sorts a plan's operations.
//!
//! Rules (each has a test below):
//! 1. Binding changes of one (plug-in, environment) run one at a time, detaches first: the
//!    service fails concurrent binding changes of a plug-in and environment with APIG.3500.
//! 2. An attach waits for the create or update of its plug-in (a created plug-in has no id
//!    before that, and new bindings should get the new content).
//! 3. A delete waits for every detach of its plug-in (APIG.3462 otherwise).
//! 4. In a replace, the create waits for the delete of the plug-in of the same name.
//! 5. An attach waits for the detaches, in its environment, of other plug-ins of its type
//!    from the same APIs: one plug-in of a type per API and environment, so attaching first
//!    would displace the other and the detach would then remove nothing.
//!
//! Everything else is independent and may run in parallel. The list order is a
//! topological order that prefers stage order (upserts, detaches, attaches, deletes), then
//! plug-in name, environment name and id, so it is deterministic and executable in sequence.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{BindingOp, OpKind, Operation, Stage};

/// Fills `depends_on` of `ops` by the rules above and returns them in plan order.
pub(crate) fn order(mut ops: Vec<Operation>) -> Vec<Operation> {
    let deps = dependencies(&ops);
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

fn dependencies(ops: &[Operation]) -> Vec<BTreeSet<String>> {
    let mut deps = vec![BTreeSet::new(); ops.len()];
    let mut upserts: HashMap<&str, &str> = HashMap::new();
    let mut deletes: HashMap<&str, &str> = HashMap::new();
    let mut chains: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        match &op.kind {
            OpKind::CreatePlugin { spec } | OpKind::UpdatePlugin { spec, .. } => {
                upserts.insert(&spec.name, &op.id);
            }
            OpKind::DeletePlugin { name, .. } => {
                deletes.insert(name, &op.id);
            }
            OpKind::Attach(b) | OpKind::Detach(b) => {
                chains.entry((&b.plugin, &b.env_id)).or_default().push(i);
            }
        }
    }
    // Rule 1: a chain per (plug-in, env), detaches before attaches, then by id.
    for chain in chains.values_mut() {
        chain.sort_by_key(|&i| (ops[i].stage, ops[i].id.as_str()));
        for pair in chain.windows(2) {
            deps[pair[1]].insert(ops[pair[0]].id.clone());
        }
    }
    // Indexes for rules 3 and 5: detaches by plug-in, and by (env, type, API).
    let mut detaches_of: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut detaches_at: HashMap<(&str, &str, &str), Vec<&Operation>> = HashMap::new();
    for op in ops {
        if let OpKind::Detach(d) = &op.kind {
            detaches_of.entry(&d.plugin).or_default().push(&op.id);
            for api in &d.apis {
                detaches_at
                    .entry((&d.env_id, &d.plugin_type, &api.id))
                    .or_default()
                    .push(op);
            }
        }
    }
    for (i, op) in ops.iter().enumerate() {
        match &op.kind {
            OpKind::Attach(b) => {
                // Rule 2.
                if let Some(up) = upserts.get(b.plugin.as_str()) {
                    deps[i].insert((*up).to_owned());
                }
                // Rule 5.
                for api in &b.apis {
                    let key = (b.env_id.as_str(), b.plugin_type.as_str(), api.id.as_str());
                    for other in detaches_at.get(&key).into_iter().flatten() {
                        if binding(other).is_some_and(|d| d.plugin != b.plugin) {
                            deps[i].insert(other.id.clone());
                        }
                    }
                }
            }
            // Rule 3.
            OpKind::DeletePlugin { name, .. } => {
                for id in detaches_of.get(name.as_str()).into_iter().flatten() {
                    deps[i].insert((*id).to_owned());
                }
            }
            // Rule 4.
            OpKind::CreatePlugin { spec } if op.replace => {
                if let Some(del) = deletes.get(spec.name.as_str()) {
                    deps[i].insert((*del).to_owned());
                }
            }
            _ => {}
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
            OpKind::CreatePlugin { spec: spec(name) },
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
        order(ops)
            .into_iter()
            .map(|op| (op.id, op.depends_on))
            .collect()
    }

    fn deps_of<'a>(got: &'a [(String, Vec<String>)], id: &str) -> &'a [String] {
        &got.iter().find(|(i, _)| i == id).expect("op present").1
    }

    #[test]
    fn stages_come_in_order_upserts_detaches_attaches_deletes() {
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
                "detach/c/RELEASE/1",
                "attach/b/RELEASE/1",
                "delete/z"
            ]
        );
    }

    #[test]
    fn binding_changes_of_one_plugin_and_env_are_chained_detaches_first() {
        let got = ordered(vec![
            attach("a", "RELEASE", 2, &["p"]),
            attach("a", "RELEASE", 1, &["q"]),
            detach("a", "RELEASE", 1, &["r"]),
            attach("a", "TEST", 1, &["q"]),
        ]);
        assert_eq!(deps_of(&got, "detach/a/RELEASE/1"), [] as [String; 0]);
        assert_eq!(deps_of(&got, "attach/a/RELEASE/1"), ["detach/a/RELEASE/1"]);
        assert_eq!(deps_of(&got, "attach/a/RELEASE/2"), ["attach/a/RELEASE/1"]);
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
    fn replace_runs_detach_delete_create_attach() {
        let mut ops = vec![
            create("a"),
            delete("a"),
            detach("a", "E", 1, &["x"]),
            attach("a", "E", 1, &["x"]),
            create("b"),
        ];
        for op in ops.iter_mut().filter(|op| op.kind.plugin_name() == "a") {
            op.replace = true;
        }
        let got = ordered(ops);
        let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "create/b",
                "detach/a/E/1",
                "delete/a",
                "create/a",
                "attach/a/E/1"
            ]
        );
        assert_eq!(deps_of(&got, "create/a"), ["delete/a"]);
        assert_eq!(deps_of(&got, "attach/a/E/1"), ["create/a", "detach/a/E/1"]);
    }

    #[test]
    fn attach_waits_for_same_type_detaches_from_the_same_apis() {
        let mut other_type = detach("c", "E", 1, &["x"]);
        if let OpKind::Detach(b) = &mut other_type.kind {
            b.plugin_type = "rate_limit".to_owned();
        }
        let got = ordered(vec![
            attach("b", "E", 1, &["x", "y"]),
            detach("a", "E", 1, &["x"]),
            detach("d", "E", 1, &["z"]),
            detach("e", "F", 1, &["x"]),
            other_type,
        ]);
        assert_eq!(deps_of(&got, "attach/b/E/1"), ["detach/a/E/1"]);
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
