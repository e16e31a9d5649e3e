//! One line per operation, and the replacement items that group their steps; shared by the
//! renderers, the apply report and progress output.

use std::collections::HashMap;

use crate::plan::{BindingOp, OpKind, Operation, Plan, PluginSpec, Replacement};

/// A one-line description of an operation, e.g. `attach cors_public to 2 API(s) in RELEASE:
/// users_list, users_get`.
pub fn describe(op: &Operation) -> String {
    let binding = |verb: &str, prep: &str, b: &BindingOp| {
        let names: Vec<&str> = b.apis.iter().map(|a| a.label()).collect();
        format!(
            "{verb} {} {prep} {} API(s) in {}: {}",
            b.plugin,
            b.apis.len(),
            b.env_name,
            names.join(", ")
        )
    };
    match &op.kind {
        OpKind::CreatePlugin { spec, temp_name } => match temp_name {
            Some(temp) => format!(
                "create plug-in {temp} ({}) to replace {}",
                spec.plugin_type, spec.name
            ),
            None => format!("create plug-in {} ({})", spec.name, spec.plugin_type),
        },
        OpKind::UpdatePlugin { spec, .. } => format!("update plug-in {}", spec.name),
        OpKind::RenamePlugin { from, spec, .. } => {
            format!("rename plug-in {from} to {}", spec.name)
        }
        OpKind::DeletePlugin { name, .. } => format!("delete plug-in {name}"),
        OpKind::Attach(b) => binding("attach", "to", b),
        OpKind::Detach(b) => binding("detach", "from", b),
    }
}

/// A replacement with its operations in plan order and the body of the new plug-in.
pub(crate) struct ReplacementView<'a> {
    /// The replacement.
    pub(crate) replacement: &'a Replacement,
    /// Its steps.
    pub(crate) steps: Vec<&'a Operation>,
    /// The final body of the new plug-in.
    pub(crate) spec: Option<&'a PluginSpec>,
}

/// The replacement whose first step is `op`, if any.
pub(crate) fn starting_at<'a>(
    plan: &'a Plan,
    index: &HashMap<&str, &'a Operation>,
    op: &Operation,
) -> Option<ReplacementView<'a>> {
    let r = plan
        .replacements
        .iter()
        .find(|r| r.steps.first() == Some(&op.id))?;
    let steps: Vec<&Operation> = r
        .steps
        .iter()
        .filter_map(|id| index.get(id.as_str()).copied())
        .collect();
    let spec = steps.iter().rev().find_map(|op| match &op.kind {
        OpKind::RenamePlugin { spec, .. } | OpKind::CreatePlugin { spec, .. } => Some(spec),
        _ => None,
    });
    Some(ReplacementView {
        replacement: r,
        steps,
        spec,
    })
}

/// Whether `op` is a step of a replacement (shown inside the replacement's item).
pub(crate) fn in_replacement(plan: &Plan, op: &Operation) -> bool {
    plan.replacement_of(&op.id).is_some()
}
