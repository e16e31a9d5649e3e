//! Shared pieces of the text and markdown renderers: value display, long-string diffs, the
//! summary line, and the fields shown for a plug-in that is created.

use serde_json::Value;
use similar::TextDiff;

use crate::plan::{FieldChange, Plan, PluginSpec};

/// Strings longer than this (or spanning lines) are shown as a unified diff.
pub(crate) const LONG_STRING: usize = 60;

/// The summary line, e.g. `Plan: 2 to create, 1 to update, 1 to replace, 0 to delete; 5 to
/// attach, 1 to detach.`, or `No changes.` for an empty plan.
pub(crate) fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes.".to_owned();
    }
    let s = plan.summary();
    format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete; {} to attach, {} to detach.",
        s.create, s.update, s.replace, s.delete, s.attach, s.detach
    )
}

/// A value on one line: strings quoted, anything else as compact JSON; absent as `(absent)`.
pub(crate) fn show(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// For a change of a long or multi-line string, the unified diff of old and new. For a
/// created field (`creating`), only a multi-line string is worth a diff.
pub(crate) fn long_diff(change: &FieldChange, creating: bool) -> Option<String> {
    if change.sensitive {
        return None;
    }
    let as_str = |v: &Option<Value>| match v {
        None => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    };
    let (old, new) = (as_str(&change.old)?, as_str(&change.new)?);
    let long = |s: &str| s.contains('\n') || (!creating && s.chars().count() > LONG_STRING);
    if !long(&old) && !long(&new) {
        return None;
    }
    let old = with_newline(old);
    let new = with_newline(new);
    let diff = TextDiff::from_lines(&old, &new);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header("live", "desired")
            .to_string(),
    )
}

fn with_newline(mut s: String) -> String {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The fields a created (or re-created) plug-in will have, as changes from nothing:
/// app, remark (without the marker), then every content leaf; secrets are sensitive.
pub(crate) fn created_fields(spec: &PluginSpec) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if let Some(app) = &spec.roma_app_id {
        out.push(added("/roma_app_id", Value::String(app.clone())));
    }
    let (remark, _) = crate::plan::marker::split_marker(&spec.remark);
    if !remark.is_empty() {
        out.push(added("/remark", Value::String(remark)));
    }
    leaves("/content", &spec.content, spec, &mut out);
    out
}

fn added(path: &str, value: Value) -> FieldChange {
    FieldChange {
        path: path.to_owned(),
        old: None,
        new: Some(value),
        sensitive: false,
    }
}

fn leaves(path: &str, value: &Value, spec: &PluginSpec, out: &mut Vec<FieldChange>) {
    let pointer = path.strip_prefix("/content").unwrap_or(path);
    if spec.secrets.contains_key(pointer) {
        out.push(FieldChange {
            path: path.to_owned(),
            old: None,
            new: None,
            sensitive: true,
        });
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                leaves(&child, v, spec, out);
            }
        }
        v => out.push(added(path, v.clone())),
    }
}
