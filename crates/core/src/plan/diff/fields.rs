//! The field changes of an update, and whether an adoption can be a no-op.

use crate::content;
use crate::model::{DesiredPlugin, LivePlugin};

use super::super::changes::diff_values;
use super::super::fingerprint::applied_content;
use super::super::marker::{self, Applied};
use super::super::model::{FieldChange, PluginSpec};

/// Whether adopting unmanaged `l` for `p` (same type and scope) can be a no-op: `p`'s type
/// has no secret field (a secret the server does not return cannot be compared, so it must
/// be written) and its app, remark and content already equal the live ones. The marker is
/// then left for the plug-in's next change; until then the plug-in stays unmarked, so it is
/// adopted again by each plan (with `adopt`) and never pruned.
pub(super) fn adoptable_as_is(p: &DesiredPlugin, l: &LivePlugin) -> bool {
    content::secret_pointers(p.plugin_type).is_empty() && user_changes(p, l).is_empty()
}

/// Whether `l`'s marker records that the service stored another form than it was sent
/// (`s:`), and neither the files (against `c:`) nor the gateway (against `s:`) changed
/// since: the server's additions and rewrites are then no change.
fn unchanged_since_stored(p: &DesiredPlugin, l: &LivePlugin) -> bool {
    let (live_remark, marker) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
    let Some(Applied {
        content,
        stored: Some(stored),
        ..
    }) = marker.and_then(|m| m.applied)
    else {
        return false;
    };
    let files = applied_content(
        p.plugin_type,
        &p.content,
        p.remark.as_deref(),
        p.roma_app_id.as_deref(),
    );
    let gateway = applied_content(
        p.plugin_type,
        &l.content,
        Some(&live_remark),
        l.roma_app_id.as_deref(),
    );
    files == content && gateway == stored
}

/// The changes of the fields the user writes: app, remark (without the marker), content
/// (canonical: secrets and nulls removed).
fn user_changes(p: &DesiredPlugin, l: &LivePlugin) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    if unchanged_since_stored(p, l) {
        return changes;
    }
    let non_empty = |s: Option<&str>| {
        s.filter(|s| !s.is_empty())
            .map(|s| serde_json::Value::String(s.to_owned()))
    };
    diff_values(
        "/roma_app_id",
        non_empty(l.roma_app_id.as_deref()).as_ref(),
        non_empty(p.roma_app_id.as_deref()).as_ref(),
        &mut changes,
    );
    let (live_remark, _) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
    diff_values(
        "/remark",
        non_empty(Some(&live_remark)).as_ref(),
        non_empty(p.remark.as_deref()).as_ref(),
        &mut changes,
    );
    let comparable = |v: &serde_json::Value| content::canonical(p.plugin_type, v);
    diff_values(
        "/content",
        Some(&comparable(&l.content)),
        Some(&comparable(&p.content)),
        &mut changes,
    );
    changes
}

/// The changes an update makes: [`user_changes`], one sensitive change per secret field
/// whose marker fingerprint differs from the live marker's, and the marker itself when the
/// live plug-in has none (adoption) and no secret is written anyway.
pub(super) fn field_changes(
    p: &DesiredPlugin,
    l: &LivePlugin,
    spec: &PluginSpec,
) -> Vec<FieldChange> {
    let mut changes = user_changes(p, l);
    let (_, live) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
    let (_, desired) = marker::split_marker(&spec.remark);
    let pointers = content::secret_pointers(p.plugin_type);
    let sensitive: Vec<&str> = match (&live, &desired) {
        (Some(live), Some(desired)) => desired
            .changed_secrets(live)
            .into_iter()
            .filter_map(|i| pointers.get(i).copied())
            .collect(),
        // No marker to compare with: write every secret (each field when none is set).
        _ => {
            let present: Vec<&str> = content::secret_values(p.plugin_type, &p.content)
                .into_iter()
                .map(|(ptr, _)| ptr)
                .collect();
            if present.is_empty() {
                pointers.to_vec()
            } else {
                present
            }
        }
    };
    let remark_changed = changes.iter().any(|c| c.path == "/remark");
    if live.is_none() && sensitive.is_empty() && !remark_changed {
        changes.push(FieldChange {
            path: "/remark".to_owned(),
            old: l.remark.clone().map(serde_json::Value::String),
            new: Some(serde_json::Value::String(spec.remark.clone())),
            sensitive: false,
        });
    }
    for pointer in sensitive {
        changes.push(FieldChange {
            path: format!("/content{pointer}"),
            old: None,
            new: None,
            sensitive: true,
        });
    }
    changes
}
