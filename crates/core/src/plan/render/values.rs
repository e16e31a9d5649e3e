//! Shared pieces of the text and markdown renderers: value display, long-string diffs, the
//! summary line, and the fields shown for a plug-in that is created.

use serde_json::Value;
use similar::TextDiff;

use crate::model::{LivePlugin, PluginType};
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
    let secrets: Vec<&str> = spec.secrets.keys().map(String::as_str).collect();
    content_leaves("/content", &spec.content, &secrets, &mut |path, value| {
        out.push(match value {
            Some(v) => added(path, v.clone()),
            None => sensitive(path),
        });
    });
    out
}

/// The fields of a live plug-in that is deleted or replaced, as changes to nothing: app,
/// remark (without the marker), then every content leaf. The secret fields of its type are
/// sensitive, whatever the server returned; a type apigsync does not know shows no content.
pub(crate) fn live_fields(plugin: &LivePlugin) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if let Some(app) = &plugin.roma_app_id {
        out.push(removed("/roma_app_id", Value::String(app.clone())));
    }
    let (remark, _) = crate::plan::marker::split_marker(plugin.remark.as_deref().unwrap_or(""));
    if !remark.is_empty() {
        out.push(removed("/remark", Value::String(remark)));
    }
    if let Ok(kind) = plugin.plugin_type.parse::<PluginType>() {
        let secrets = crate::content::secret_pointers(kind);
        content_leaves("/content", &plugin.content, secrets, &mut |path, value| {
            out.push(match value {
                Some(v) => removed(path, v.clone()),
                None => sensitive(path),
            });
        });
    }
    out
}

/// Old and new side by side for a replaced plug-in: the new fields in their order, each
/// with the old value of the same field, then the old fields that go away.
pub(crate) fn replaced_fields(old: &[FieldChange], new: &[FieldChange]) -> Vec<FieldChange> {
    let old_of = |path: &str| old.iter().find(|o| o.path == path);
    let mut out: Vec<FieldChange> = new
        .iter()
        .map(|n| {
            let before = old_of(&n.path);
            FieldChange {
                path: n.path.clone(),
                old: before.and_then(|o| o.old.clone()),
                new: n.new.clone(),
                sensitive: n.sensitive || before.is_some_and(|o| o.sensitive),
            }
        })
        .collect();
    out.extend(
        old.iter()
            .filter(|o| !new.iter().any(|n| n.path == o.path))
            .cloned(),
    );
    out
}

/// Visits the leaves of `value` below `path`; a pointer in `secrets` (relative to the
/// content) is visited as `None`, never with its value.
fn content_leaves(
    path: &str,
    value: &Value,
    secrets: &[&str],
    visit: &mut dyn FnMut(&str, Option<&Value>),
) {
    let pointer = path.strip_prefix("/content").unwrap_or(path);
    if secrets.contains(&pointer) {
        visit(path, None);
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                content_leaves(&child, v, secrets, visit);
            }
        }
        v => visit(path, Some(v)),
    }
}

fn removed(path: &str, value: Value) -> FieldChange {
    FieldChange {
        path: path.to_owned(),
        old: Some(value),
        new: None,
        sensitive: false,
    }
}

fn sensitive(path: &str) -> FieldChange {
    FieldChange {
        path: path.to_owned(),
        old: None,
        new: None,
        sensitive: true,
    }
}

fn added(path: &str, value: Value) -> FieldChange {
    FieldChange {
        path: path.to_owned(),
        old: None,
        new: Some(value),
        sensitive: false,
    }
}
