//! The text rendering, for terminals and CI logs: plug-in changes with only the changed
//! fields (old → new, long strings as a unified diff), binding changes, notices, and the
//! summary line. Colour only when asked.

use std::fmt::Write;

use owo_colors::OwoColorize;

use crate::plan::{FieldChange, OpKind, Plan};

use super::drift::{HEADING, drift_lines};
use super::path::dotted;
use super::steps::{describe, in_replacement, starting_at};
use super::values::{created_fields, long_diff, show, summary_line};

#[derive(Clone, Copy)]
enum Tone {
    Add,
    Remove,
    Change,
    Replace,
    Note,
}

fn paint(s: &str, tone: Tone, color: bool) -> String {
    if !color {
        return s.to_owned();
    }
    match tone {
        Tone::Add => s.green().to_string(),
        Tone::Remove => s.red().to_string(),
        Tone::Change => s.yellow().to_string(),
        Tone::Replace => s.magenta().to_string(),
        Tone::Note => s.cyan().to_string(),
    }
}

/// The plan as text; `color` adds ANSI colours.
pub fn text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let mut plugins = String::new();
    let mut bindings = String::new();
    let index = plan.index();
    for op in &plan.operations {
        if let Some(view) = starting_at(plan, &index, op) {
            let r = view.replacement;
            let kind = view
                .spec
                .map(|s| format!(" ({}, {})", s.plugin_type, s.scope))
                .unwrap_or_default();
            let head = format!("  -/+ replace {}{kind}", r.plugin);
            let _ = writeln!(
                plugins,
                "{}: {}",
                paint(&head, Tone::Replace, color),
                r.reason
            );
            for (n, step) in view.steps.iter().enumerate() {
                let _ = writeln!(plugins, "      {}. {}", n + 1, describe(step));
            }
            if let Some(spec) = view.spec {
                fields(&mut plugins, &created_fields(spec), color, true);
            }
        }
        if in_replacement(plan, op) {
            continue;
        }
        match &op.kind {
            OpKind::CreatePlugin { spec, .. } => {
                let head = format!(
                    "  + create {} ({}, {})",
                    spec.name, spec.plugin_type, spec.scope
                );
                let _ = write!(plugins, "{}", paint(&head, Tone::Add, color));
                if let Some(reason) = &op.reason {
                    let _ = write!(plugins, ": {reason}");
                }
                plugins.push('\n');
                fields(&mut plugins, &created_fields(spec), color, true);
            }
            OpKind::UpdatePlugin { spec, changes, .. } => {
                let head = format!(
                    "  ~ update {} ({}, {})",
                    spec.name, spec.plugin_type, spec.scope
                );
                let _ = write!(plugins, "{}", paint(&head, Tone::Change, color));
                if let Some(reason) = &op.reason {
                    let _ = write!(plugins, ": {reason}");
                }
                plugins.push('\n');
                fields(&mut plugins, changes, color, false);
            }
            OpKind::RenamePlugin { from, spec, .. } => {
                let head = format!("  ~ rename {from} → {}", spec.name);
                let _ = writeln!(plugins, "{}", paint(&head, Tone::Change, color));
            }
            OpKind::DeletePlugin { plugin_id, name } => {
                let head = format!("  - delete {name} (id {plugin_id})");
                let _ = writeln!(plugins, "{}", paint(&head, Tone::Remove, color));
            }
            OpKind::Attach(b) | OpKind::Detach(b) => {
                let (line, tone) = match &op.kind {
                    OpKind::Attach(_) => (
                        format!("  + attach {} in {}", b.plugin, b.env_name),
                        Tone::Add,
                    ),
                    _ => (
                        format!("  - detach {} in {}", b.plugin, b.env_name),
                        Tone::Remove,
                    ),
                };
                let apis: Vec<&str> = b.apis.iter().map(|a| a.label()).collect();
                let _ = writeln!(
                    bindings,
                    "{}: {}",
                    paint(&line, tone, color),
                    apis.join(", ")
                );
            }
        }
    }
    if !plugins.is_empty() {
        let _ = writeln!(out, "Plug-ins:\n{plugins}");
    }
    if !bindings.is_empty() {
        let _ = writeln!(out, "Bindings:\n{bindings}");
    }
    let drift = drift_lines(plan);
    if !drift.is_empty() {
        let _ = writeln!(out, "{HEADING}:");
        for line in drift {
            let _ = writeln!(out, "{}", paint(&format!("  ! {line}"), Tone::Note, color));
        }
        out.push('\n');
    }
    if !plan.notices.is_empty() {
        out.push_str("Notices:\n");
        for n in &plan.notices {
            let line = format!("  ! {}", n.message);
            let _ = writeln!(out, "{}", paint(&line, Tone::Note, color));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    if let Some(report) = &plan.policy {
        out.push('\n');
        out.push_str(&super::policy::text_section(report));
    }
    out
}

fn fields(out: &mut String, changes: &[FieldChange], color: bool, creating: bool) {
    for c in changes {
        let name = dotted(&c.path);
        if c.sensitive {
            let what = if creating {
                "(sensitive value)"
            } else {
                "(sensitive value changed)"
            };
            let _ = writeln!(out, "      {name}: {what}");
        } else if let Some(diff) = long_diff(c, creating) {
            let _ = writeln!(out, "      {name}:");
            for line in diff.lines() {
                let tone = match line.chars().next() {
                    Some('+') => Some(Tone::Add),
                    Some('-') => Some(Tone::Remove),
                    _ => None,
                };
                let line = format!("        {line}");
                let _ = writeln!(
                    out,
                    "{}",
                    tone.map_or(line.clone(), |t| paint(&line, t, color))
                );
            }
        } else {
            let arrow = match (&c.old, &c.new) {
                (None, Some(new)) => paint(&show(Some(new)), Tone::Add, color),
                (Some(old), None) => format!(
                    "{} → (absent)",
                    paint(&show(Some(old)), Tone::Remove, color)
                ),
                (old, new) => format!(
                    "{} → {}",
                    paint(&show(old.as_ref()), Tone::Remove, color),
                    paint(&show(new.as_ref()), Tone::Add, color)
                ),
            };
            let _ = writeln!(out, "      {name}: {arrow}");
        }
    }
}
