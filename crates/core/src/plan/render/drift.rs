//! The operations that undo changes made on the gateway since the last apply (drift), one
//! line each, for the section the text and markdown renderings give them.

use crate::plan::{Cause, OpKind, Plan};

/// The heading of the drift section.
pub(super) const HEADING: &str =
    "Changed on the gateway since the last apply: applying will undo it";

/// One line per operation whose cause is drift or both, e.g. `detach cors_public in
/// RELEASE: health (the files changed it too)`.
pub(super) fn drift_lines(plan: &Plan) -> Vec<String> {
    plan.operations
        .iter()
        .filter(|op| op.cause.is_drift())
        .map(|op| {
            let what = match &op.kind {
                OpKind::UpdatePlugin { spec, .. } => format!("update {}", spec.name),
                OpKind::Attach(b) | OpKind::Detach(b) => {
                    let verb = if matches!(op.kind, OpKind::Attach(_)) {
                        "attach"
                    } else {
                        "detach"
                    };
                    let apis: Vec<&str> = b.apis.iter().map(|a| a.label()).collect();
                    format!("{verb} {} in {}: {}", b.plugin, b.env_name, apis.join(", "))
                }
                other => other.plugin_name().to_owned(),
            };
            if op.cause == Cause::Both {
                format!("{what} (the files changed it too)")
            } else {
                what
            }
        })
        .collect()
}
