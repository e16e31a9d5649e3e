//! The markdown rendering, for pull-request comments: the summary, a table of operations,
//! the field changes of each plug-in in a collapsible section, and the notices. Stable:
//! the same plan always renders the same bytes.

use std::fmt::Write;

use crate::plan::{FieldChange, OpKind, Plan};

use super::drift::{HEADING, drift_lines};
use super::path::dotted;
use super::steps::{describe, in_replacement, starting_at};
use super::values::{created_fields, long_diff, show, summary_line};

/// The plan as GitHub-flavoured markdown.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::from("### apigsync plan\n\n");
    if let (Some(flavour), Some(instance)) = (&plan.target.flavour, &plan.target.instance_id) {
        let _ = writeln!(out, "Target: {flavour} instance `{instance}`\n");
    }
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    let drift = drift_lines(plan);
    if !drift.is_empty() {
        let _ = writeln!(out, "> [!CAUTION]\n> {HEADING}:");
        for line in drift {
            let _ = writeln!(out, "> - {}", escape(&line));
        }
        out.push('\n');
    }
    if !plan.notices.is_empty() {
        out.push_str("> [!WARNING]\n");
        for n in &plan.notices {
            let _ = writeln!(out, "> - {}", escape(&n.message));
        }
        out.push('\n');
    }
    if plan.is_empty() {
        return out;
    }
    out.push_str("| # | operation | plug-in | details |\n|---|---|---|---|\n");
    let mut row = 0;
    for op in &plan.operations {
        if let Some(view) = starting_at(plan, op) {
            row += 1;
            let steps: Vec<String> = view
                .steps
                .iter()
                .enumerate()
                .map(|(n, step)| format!("{}. {}", n + 1, escape(&describe(step))))
                .collect();
            let _ = writeln!(
                out,
                "| {row} | replace | `{}` | {}: {} |",
                code(&view.replacement.plugin),
                escape(&view.replacement.reason),
                steps.join("<br>")
            );
        }
        if in_replacement(plan, op) {
            continue;
        }
        let (verb, mut details) = match &op.kind {
            OpKind::CreatePlugin { spec, .. } => {
                ("create", format!("{}, {}", spec.plugin_type, spec.scope))
            }
            OpKind::UpdatePlugin { changes, .. } => {
                ("update", format!("{} field(s)", changes.len()))
            }
            OpKind::RenamePlugin { spec, .. } => ("rename", format!("to `{}`", code(&spec.name))),
            OpKind::DeletePlugin { plugin_id, .. } => {
                ("delete", format!("id `{}`", code(plugin_id)))
            }
            OpKind::Attach(b) | OpKind::Detach(b) => {
                let verb = match &op.kind {
                    OpKind::Attach(_) => "attach",
                    _ => "detach",
                };
                let apis: Vec<String> = b
                    .apis
                    .iter()
                    .map(|a| format!("`{}`", code(a.label())))
                    .collect();
                (
                    verb,
                    format!("{}: {}", escape(&b.env_name), apis.join(", ")),
                )
            }
        };
        if let Some(reason) = &op.reason {
            details.push_str(&format!(" ({})", escape(reason)));
        }
        row += 1;
        let _ = writeln!(
            out,
            "| {row} | {verb} | `{}` | {details} |",
            code(op.kind.plugin_name())
        );
    }
    out.push('\n');
    for op in &plan.operations {
        let (name, changes, what) = if let Some(view) = starting_at(plan, op) {
            let Some(spec) = view.spec else { continue };
            (
                &view.replacement.plugin,
                created_fields(spec),
                "replaced plug-in",
            )
        } else if in_replacement(plan, op) {
            continue;
        } else {
            match &op.kind {
                OpKind::CreatePlugin { spec, .. } => {
                    (&spec.name, created_fields(spec), "new plug-in")
                }
                OpKind::UpdatePlugin { spec, changes, .. } => {
                    (&spec.name, changes.clone(), "changes")
                }
                _ => continue,
            }
        };
        if changes.is_empty() {
            continue;
        }
        let creating = what != "changes";
        let _ = writeln!(
            out,
            "<details><summary><code>{name}</code>: {what}</summary>\n"
        );
        details(&mut out, &changes, creating);
        out.push_str("\n</details>\n\n");
    }
    out
}

fn details(out: &mut String, changes: &[FieldChange], creating: bool) {
    let mut diffs = String::new();
    out.push_str("| field | live | desired |\n|---|---|---|\n");
    for c in changes {
        let field = format!("`{}`", code(&dotted(&c.path)));
        let cell = |v: &Option<serde_json::Value>| match v {
            None => "-".to_owned(),
            Some(v) => format!("`{}`", code(&show(Some(v)))),
        };
        let (old, new) = if c.sensitive {
            let what = if creating {
                "(sensitive value)"
            } else {
                "(sensitive value changed)"
            };
            ("-".to_owned(), what.to_owned())
        } else if let Some(diff) = long_diff(c, creating) {
            let _ = writeln!(
                diffs,
                "\n`{}`:\n\n```diff\n{}```",
                dotted(&c.path),
                diff.replace("```", "` ` `")
            );
            ("-".to_owned(), "(long text, see the diff below)".to_owned())
        } else {
            (cell(&c.old), cell(&c.new))
        };
        let _ = writeln!(out, "| {field} | {old} | {new} |");
    }
    out.push_str(&diffs);
}

/// Makes plain text safe inside a table cell: no pipes, no newlines, no HTML.
fn escape(s: &str) -> String {
    code(s).replace('<', "&lt;").replace('>', "&gt;")
}

/// Makes text safe inside inline code in a table cell: no pipes, no newlines, no backticks.
fn code(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ").replace('`', "'")
}
