//! The JSON rendering: the plan itself, pretty-printed (format in `docs/plan-format.md`).

use crate::plan::Plan;

/// The plan as pretty JSON, with a trailing newline.
pub fn json(plan: &Plan) -> String {
    // A plan holds only strings, numbers, booleans and JSON values: serialisation cannot fail.
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_default();
    out.push('\n');
    out
}
