//! The callouts at the top of the markdown comment, above the first collapsible section,
//! so a reviewer sees them without opening anything: what the plan removes (and which APIs
//! lose a plug-in, by name), the secrets that change, what changed on the gateway outside
//! apigsync with its live and desired values (like Terraform's "Objects have changed
//! outside of Terraform"), and the notices.

use std::fmt::Write;

use crate::plan::{Cause, FieldChange, OpKind, Plan};

use super::budget::Comment;
use super::drift::HEADING;
use super::group::{Action, PluginChanges};
use super::md_text::{code, text};
use super::moves::{ApisByEnv, Bindings};
use super::path::dotted;
use super::values::show;

/// Values longer than this are not repeated in a callout (the plug-in's section has them).
const SHORT_VALUE: usize = 80;

/// Writes a callout: `head`, then `items` while they fit, then how many did not.
pub(super) fn callout(c: &mut Comment<'_>, head: &str, items: &[String], what: &'static str) {
    if items.is_empty() {
        return;
    }
    if !c.push(head) {
        c.count(what, items.len());
        return;
    }
    let shown = items.iter().take_while(|item| c.push(item)).count();
    let rest = items.len() - shown;
    if rest > 0 {
        c.count(what, rest);
        c.closing(&format!("> - … {rest} more, left out (see the end)\n"));
    }
    c.closing("\n");
}

/// The caution callout's head.
pub(super) const CAUTION: &str =
    "> [!CAUTION]\n> **This plan removes things.** Review these first:\n>\n";

/// One line per plug-in that is deleted, replaced or unbound from APIs, naming the APIs
/// that lose it and those that move to another plug-in of its type.
pub(super) fn destructive_items(
    groups: &[PluginChanges<'_>],
    views: &[Bindings<'_>],
) -> Vec<String> {
    groups
        .iter()
        .zip(views)
        .filter(|(g, _)| g.destructive())
        .map(|(g, v)| {
            let mut parts: Vec<String> = Vec::new();
            match g.action {
                Action::Delete => parts.push("the plug-in is removed from the gateway".to_owned()),
                Action::Replace => parts.push(
                    "replaced: the new plug-in is created and bound first (under a temporary name), then the old one is unbound and deleted and the new one renamed".to_owned(),
                ),
                _ => {}
            }
            if !v.lost.is_empty() {
                parts.push(format!("APIs that lose it: {}", apis_text(&v.lost)));
            }
            for ((env, to), apis) in &v.moved_out {
                parts.push(format!(
                    "moves to {} in {}: {}",
                    code(to),
                    text(env),
                    api_list(apis)
                ));
            }
            let reason = if g.reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", text(&g.reasons.join("; ")))
            };
            format!(
                "> - **{}** {} ({}): {}{reason}\n",
                g.action.verb(),
                code(g.name),
                text(&super::markdown::type_label(g)),
                parts.join("; ")
            )
        })
        .collect()
}

/// The secrets callout's head.
pub(super) const SECRETS: &str =
    "> [!IMPORTANT]\n> **Secrets that change** (values are never shown):\n>\n";

/// One line per secret field an update changes.
pub(super) fn secret_items(groups: &[PluginChanges<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for g in groups.iter().filter(|g| g.action == Action::Update) {
        for change in g.changes.iter().filter(|c| c.sensitive) {
            out.push(format!(
                "> - {} ({}): {} (sensitive value changed)\n",
                code(g.name),
                text(&super::markdown::type_label(g)),
                code(&dotted(&change.path))
            ));
        }
    }
    out
}

/// The drift callout's head.
pub(super) fn drift_head() -> String {
    format!("> [!IMPORTANT]\n> **{HEADING}:**\n>\n")
}

/// One line per drifted field (live and desired value) or binding (the APIs by name).
pub(super) fn drift_items(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for op in plan.operations.iter().filter(|op| op.cause.is_drift()) {
        let too = if op.cause == Cause::Both {
            " (the files changed it too)"
        } else {
            ""
        };
        match &op.kind {
            OpKind::UpdatePlugin { spec, changes, .. } if !changes.is_empty() => {
                for change in changes {
                    out.push(format!(
                        "> - {} {}: {}{too}\n",
                        code(&spec.name),
                        code(&dotted(&change.path)),
                        live_and_desired(change)
                    ));
                }
            }
            OpKind::Attach(b) | OpKind::Detach(b) => {
                let why = match op.kind {
                    OpKind::Attach(_) => "unbound on the gateway",
                    _ => "bound on the gateway, not in the files",
                };
                let apis: Vec<&str> = b.apis.iter().map(|a| a.label()).collect();
                out.push(format!(
                    "> - {} {} in {}: {} ({why}){too}\n",
                    op.kind.verb(),
                    code(&b.plugin),
                    text(&b.env_name),
                    api_list(&apis)
                ));
            }
            other => out.push(format!(
                "> - {} {}{too}\n",
                other.verb(),
                code(other.plugin_name())
            )),
        }
    }
    out
}

/// `live `60`, desired `600``; a secret as "(sensitive value changed)".
fn live_and_desired(change: &FieldChange) -> String {
    if change.sensitive {
        return "(sensitive value changed)".to_owned();
    }
    let short = |v: Option<&serde_json::Value>| {
        let shown = show(v);
        if shown.chars().count() > SHORT_VALUE || shown.contains("\\n") {
            "(long text, see its section)".to_owned()
        } else if v.is_none() {
            shown
        } else {
            code(&shown)
        }
    };
    format!(
        "live {}, desired {}",
        short(change.old.as_ref()),
        short(change.new.as_ref())
    )
}

/// `RELEASE: `a`, `b`; TEST: `c``.
pub(super) fn apis_text(apis: &ApisByEnv<'_>) -> String {
    let parts: Vec<String> = apis
        .iter()
        .map(|(env, apis)| format!("{}: {}", text(env), api_list(apis)))
        .collect();
    parts.join("; ")
}

/// `` `a`, `b` ``.
pub(super) fn api_list(apis: &[&str]) -> String {
    let mut out = String::new();
    for (i, api) in apis.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}", code(api));
    }
    out
}
