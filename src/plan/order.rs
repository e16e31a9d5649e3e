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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
    for (i, op) in ops.iter().enumerate() {
        match &op.kind {
            // Rule 2.
            OpKind::Attach(b) => {
                if let Some(up) = upserts.get(b.plugin.as_str()) {
                    deps[i].insert((*up).to_owned());
                }
                // Rule 5.
                let apis: HashSet<&str> = b.apis.iter().map(|a| a.id.as_str()).collect();
                for other in ops {
                    if let OpKind::Detach(d) = &other.kind {
                        let displaces = d.plugin != b.plugin
                            && d.plugin_type == b.plugin_type
                            && d.env_id == b.env_id
                            && d.apis.iter().any(|a| apis.contains(a.id.as_str()));
                        if displaces {
                            deps[i].insert(other.id.clone());
                        }
                    }
                }
            }
            // Rule 3.
            OpKind::DeletePlugin { name, .. } => {
                for other in ops {
                    if matches!(&other.kind, OpKind::Detach(d) if d.plugin == *name) {
                        deps[i].insert(other.id.clone());
                    }
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
