//! The JSON rendering: the plan itself, pretty-printed (format in `docs/plan-format.md`).

use crate::plan::{Plan, SCHEMA_VERSION};

/// The plan as pretty JSON, with a trailing newline.
pub fn json(plan: &Plan) -> String {
    // A plan holds only strings, numbers, booleans and JSON values: serialisation cannot fail.
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_default();
    out.push('\n');
    out
}

/// The plans of several targets as one pretty JSON document (the shape of a [`crate::plan::PlanSet`]),
/// with a trailing newline.
pub fn json_set(plans: &[&Plan]) -> String {
    #[derive(serde::Serialize)]
    struct Borrowed<'a> {
        schema_version: u32,
        plans: &'a [&'a Plan],
    }
    let set = Borrowed {
        schema_version: SCHEMA_VERSION,
        plans,
    };
    let mut out = serde_json::to_string_pretty(&set).unwrap_or_default();
    out.push('\n');
    out
}
