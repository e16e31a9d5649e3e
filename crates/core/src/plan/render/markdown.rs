//! The markdown rendering, for pull-request comments, read like Atlantis or tfcmt output:
//! one heading and the summary line; destructive changes (deletes, replaces, binding
//! removals) called out first; changes made on the gateway outside apigsync (drift) apart
//! from what the files change; notices; an overview table with one row per plug-in; then
//! one collapsible section per plug-in holding all its changes, old and new values side by
//! side (secrets as "(sensitive)" on both sides). Stable: the same plan and live state
//! always render the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::Live;
use crate::plan::{BindingOp, FieldChange, Plan};

use super::drift::{HEADING, drift_lines};
use super::group::{Action, PluginChanges, by_plugin};
use super::md_text::{code, fenced, html, text};
use super::path::dotted;
use super::steps::describe;
use super::values::{created_fields, live_fields, long_diff, replaced_fields, show, summary_line};

/// The plan as GitHub-flavoured markdown. `live`, the state the plan was made from, gives
/// the old values of deleted and replaced plug-ins (without it they are not shown).
pub fn markdown(plan: &Plan, live: Option<&Live>) -> String {
    let mut out = String::from("### apigsync plan\n\n");
    if let (Some(flavour), Some(instance)) = (&plan.target.flavour, &plan.target.instance_id) {
        let _ = writeln!(out, "Target: {flavour} instance {}\n", code(instance));
    }
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    let groups = by_plugin(plan, live);
    destructive_callout(&mut out, &groups);
    let drift = drift_lines(plan);
    if !drift.is_empty() {
        let _ = writeln!(out, "> [!IMPORTANT]\n> **{HEADING}:**\n>");
        for line in drift {
            let _ = writeln!(out, "> - {}", text(&line));
        }
        out.push('\n');
    }
    if !plan.notices.is_empty() {
        out.push_str("> [!WARNING]\n");
        for n in &plan.notices {
            let _ = writeln!(out, "> - {}", text(&n.message));
        }
        out.push('\n');
    }
    if groups.is_empty() {
        return out;
    }
    overview(&mut out, &groups);
    for group in &groups {
        section(&mut out, plan, group);
    }
    out
}

/// The deletes, replaces and binding removals, each on one line, under a caution sign.
fn destructive_callout(out: &mut String, groups: &[PluginChanges<'_>]) {
    let destructive: Vec<&PluginChanges<'_>> = groups.iter().filter(|g| g.destructive()).collect();
    if destructive.is_empty() {
        return;
    }
    out.push_str("> [!CAUTION]\n> **This plan removes things.** Review these first:\n>\n");
    for g in destructive {
        let what = match g.action {
            Action::Delete => {
                "the plug-in and all its bindings are removed from the gateway".to_owned()
            }
            Action::Replace => {
                "replaced: the new plug-in is created and bound first (under a temporary name), then the old one is unbound and deleted and the new one renamed".to_owned()
            }
            _ => format!("unbound from {}", bindings_count(&g.detach)),
        };
        let reason = if g.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", text(&g.reasons.join("; ")))
        };
        let _ = writeln!(
            out,
            "> - **{}** {} ({}): {what}{reason}",
            g.action.verb(),
            code(g.name),
            text(&type_label(g))
        );
    }
    out.push('\n');
}

/// One row per plug-in: type, what happens, how many fields, the binding changes.
fn overview(out: &mut String, groups: &[PluginChanges<'_>]) {
    out.push_str("| plug-in | type | change | bindings |\n|---|---|---|---|\n");
    for g in groups {
        let fields = match g.action {
            Action::Update => format!(", {} field(s)", g.changes.len()),
            _ => String::new(),
        };
        let verb = if g.action.destructive() {
            format!("**{}**", g.action.verb())
        } else {
            g.action.verb().to_owned()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {verb}{fields} | {} |",
            code(g.name),
            text(&type_label(g)),
            binding_counts(g)
        );
    }
    out.push('\n');
}

/// The type, or `old → new` when a replace changes it.
fn type_label(g: &PluginChanges<'_>) -> String {
    match g.types() {
        (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => "?".to_owned(),
    }
}

/// Per environment: `RELEASE: +3 −1`.
fn binding_counts(g: &PluginChanges<'_>) -> String {
    let mut per_env: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (b, _) in &g.attach {
        per_env.entry(&b.env_name).or_default().0 += b.apis.len();
    }
    for (b, _) in &g.detach {
        per_env.entry(&b.env_name).or_default().1 += b.apis.len();
    }
    let cells: Vec<String> = per_env
        .iter()
        .map(|(env, (plus, minus))| {
            let mut s = format!("{}:", text(env));
            if *plus > 0 {
                let _ = write!(s, " +{plus}");
            }
            if *minus > 0 {
                let _ = write!(s, " −{minus}");
            }
            s
        })
        .collect();
    cells.join(", ")
}

fn bindings_count(ops: &[(&BindingOp, bool)]) -> String {
    let mut per_env: BTreeMap<&str, usize> = BTreeMap::new();
    for (b, _) in ops {
        *per_env.entry(&b.env_name).or_default() += b.apis.len();
    }
    let parts: Vec<String> = per_env
        .iter()
        .map(|(env, n)| format!("{n} API(s) in {}", text(env)))
        .collect();
    parts.join(", ")
}

/// The collapsible section of one plug-in: its fields, then its binding changes.
fn section(out: &mut String, plan: &Plan, g: &PluginChanges<'_>) {
    let open = if g.destructive() { " open" } else { "" };
    let _ = writeln!(
        out,
        "<details{open}><summary><b>{}</b> <code>{}</code> ({})</summary>\n",
        g.action.verb(),
        html(g.name),
        html(&type_label(g))
    );
    if !g.reasons.is_empty() {
        let _ = writeln!(out, "Why: {}\n", text(&g.reasons.join("; ")));
    }
    match g.action {
        Action::Create => fields(
            out,
            &g.spec.map(created_fields).unwrap_or_default(),
            Columns::New,
        ),
        Action::Update => fields(out, g.changes, Columns::Both),
        Action::Delete => match g.live {
            Some(live) => fields(out, &live_fields(live), Columns::Old),
            None => {
                let _ = writeln!(out, "Plug-in id {}.\n", code(g.deleted_id.unwrap_or("?")));
            }
        },
        Action::Replace => {
            let old = g.live.map(live_fields).unwrap_or_default();
            let new = g.spec.map(created_fields).unwrap_or_default();
            fields(out, &replaced_fields(&old, &new), Columns::Both);
            steps(out, plan, g.name);
        }
        Action::Detach | Action::Attach => {}
    }
    bindings(out, g);
    out.push_str("</details>\n\n");
}

/// The steps of the replacement of `name`, in the order they run.
fn steps(out: &mut String, plan: &Plan, name: &str) {
    let Some(r) = plan.replacements.iter().find(|r| r.plugin == name) else {
        return;
    };
    out.push_str("Steps (if one fails, the old plug-in keeps its bindings):\n\n");
    let index = plan.index();
    for (n, id) in r.steps.iter().enumerate() {
        if let Some(op) = index.get(id.as_str()) {
            let _ = writeln!(out, "{}. {}", n + 1, text(&describe(op)));
        }
    }
    out.push('\n');
}

/// Which value columns a field table has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// A created plug-in: the new value only.
    New,
    /// A deleted plug-in: the old value only.
    Old,
    /// An update or a replace: old and new.
    Both,
}

fn fields(out: &mut String, changes: &[FieldChange], columns: Columns) {
    if changes.is_empty() {
        return;
    }
    out.push_str(match columns {
        Columns::New => "| field | value |\n|---|---|\n",
        Columns::Old => "| field | old value |\n|---|---|\n",
        Columns::Both => "| field | old | new |\n|---|---|---|\n",
    });
    let mut diffs = String::new();
    for c in changes {
        let field = code(&dotted(&c.path));
        let (old, new) = if c.sensitive {
            ("(sensitive)".to_owned(), "(sensitive)".to_owned())
        } else if let Some(diff) = long_diff(c, columns != Columns::Both) {
            let _ = write!(
                diffs,
                "{}:\n\n{}\n",
                code(&dotted(&c.path)),
                fenced("diff", &diff)
            );
            let see = "(long text, see below)".to_owned();
            (see.clone(), see)
        } else {
            (value(c.old.as_ref()), value(c.new.as_ref()))
        };
        let _ = match columns {
            Columns::New => writeln!(out, "| {field} | {new} |"),
            Columns::Old => writeln!(out, "| {field} | {old} |"),
            Columns::Both => writeln!(out, "| {field} | {old} | {new} |"),
        };
    }
    out.push('\n');
    out.push_str(&diffs);
}

fn value(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => code(&show(Some(v))),
    }
}

/// The binding changes of one plug-in, removals first.
fn bindings(out: &mut String, g: &PluginChanges<'_>) {
    if g.detach.is_empty() && g.attach.is_empty() {
        return;
    }
    out.push_str("Bindings:\n\n");
    // A replacement binds the new plug-in before it unbinds the old one: list them so.
    let order = if g.action == Action::Replace {
        [
            (&g.attach, "attach", "attach the new plug-in"),
            (&g.detach, "detach", "then detach the old one"),
        ]
    } else {
        [
            (&g.detach, "detach", "detach"),
            (&g.attach, "attach", "re-attach"),
        ]
    };
    for (ops, verb, again) in order {
        for (b, replace) in ops.iter() {
            let apis: Vec<String> = b.apis.iter().map(|a| code(a.label())).collect();
            let (verb, strong) = match (verb, *replace) {
                ("detach", false) => (verb, true),
                (_, true) => (again, false),
                _ => (verb, false),
            };
            let verb = if strong {
                format!("**{verb}**")
            } else {
                verb.to_owned()
            };
            let _ = writeln!(
                out,
                "- {verb} in {}: {}",
                text(&b.env_name),
                apis.join(", ")
            );
        }
    }
    out.push('\n');
}
