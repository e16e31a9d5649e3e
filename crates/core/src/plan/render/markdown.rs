//! The markdown rendering, for pull-request comments, read like Atlantis or tfcmt output:
//! one heading and the summary line; above the first collapsible section, what a reviewer
//! must see (`md_top`: removals with the APIs that lose a plug-in, changed secrets, drift
//! with live and desired values, notices); an overview table with one row per plug-in;
//! then one collapsible section per plug-in holding all its changes, old and new values
//! side by side (a secret is never shown: "(sensitive value changed)"). At most one
//! comment long (`budget`): whole blocks are left out, never cut, and the end says so.
//! Stable: the same plan and live state always render the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::Live;
use crate::plan::{FieldChange, Plan};

use super::budget::{COMMENT_LIMIT, Comment};
use super::group::{Action, PluginChanges, by_plugin};
use super::md_text::{code, fenced, html, text};
use super::md_top::{
    CAUTION, SECRETS, api_list, callout, destructive_items, drift_head, drift_items, secret_items,
};
use super::moves::{Bindings, bindings as binding_views};
use super::path::dotted;
use super::steps::describe;
use super::values::{created_fields, live_fields, long_diff, replaced_fields, show, summary_line};

/// How a markdown comment is written.
#[derive(Debug, Clone, Copy)]
pub struct CommentOptions<'a> {
    /// The most characters of the comment ([`COMMENT_LIMIT`], GitHub's limit, by default).
    pub limit: usize,
    /// Where the full plan is (e.g. the CI job's URL), named when something is left out.
    pub full_plan: Option<&'a str>,
}

impl CommentOptions<'_> {
    /// No size budget: the whole plan (for a file, a CI job summary).
    pub fn whole() -> Self {
        Self {
            limit: usize::MAX,
            full_plan: None,
        }
    }
}

impl Default for CommentOptions<'_> {
    fn default() -> Self {
        Self {
            limit: COMMENT_LIMIT,
            full_plan: None,
        }
    }
}

/// The plan as GitHub-flavoured markdown. `live`, the state the plan was made from, gives
/// the old values of deleted and replaced plug-ins (without it they are not shown).
pub fn markdown(plan: &Plan, live: Option<&Live>) -> String {
    markdown_with(plan, live, &CommentOptions::default())
}

/// [`markdown`] within the size and with the pointer to the full plan of `options`.
pub fn markdown_with(plan: &Plan, live: Option<&Live>, options: &CommentOptions<'_>) -> String {
    let mut c = Comment::new(options.limit, options.full_plan);
    c.push("### apigsync plan\n\n");
    body(&mut c, plan, live);
    c.finish()
}

/// Everything below the heading: target, summary, callouts, table, sections.
pub(super) fn body(c: &mut Comment<'_>, plan: &Plan, live: Option<&Live>) {
    let mut head = String::new();
    if let (Some(flavour), Some(instance)) = (&plan.target.flavour, &plan.target.instance_id) {
        let _ = writeln!(head, "Target: {flavour} instance {}\n", code(instance));
    }
    let _ = writeln!(head, "**{}**\n", summary_line(plan));
    c.push(&head);
    if let Some(report) = &plan.policy {
        super::policy::markdown_section(c, report);
    }
    let groups = by_plugin(plan, live);
    let views = binding_views(&groups);
    callout(
        c,
        CAUTION,
        &destructive_items(&groups, &views),
        "removal line(s)",
    );
    callout(c, SECRETS, &secret_items(&groups), "secret line(s)");
    callout(c, &drift_head(), &drift_items(plan), "drift line(s)");
    let notices: Vec<String> = plan
        .notices
        .iter()
        .map(|n| format!("> - {}\n", text(&n.message)))
        .collect();
    callout(c, "> [!WARNING]\n", &notices, "notice(s)");
    if groups.is_empty() {
        return;
    }
    overview(c, &groups, &views);
    for (group, view) in groups.iter().zip(&views) {
        c.push_or_count(&section(plan, group, view), "plug-in section(s)");
    }
}

/// One row per plug-in: type, what happens, how many fields, the binding changes.
fn overview(c: &mut Comment<'_>, groups: &[PluginChanges<'_>], views: &[Bindings<'_>]) {
    if !c.push("| plug-in | type | change | bindings |\n|---|---|---|---|\n") {
        c.count("overview row(s)", groups.len());
        return;
    }
    let rows: Vec<String> = groups
        .iter()
        .zip(views)
        .map(|(g, v)| overview_row(g, v))
        .collect();
    let shown = rows.iter().take_while(|row| c.push(row)).count();
    let rest = rows.len() - shown;
    if rest > 0 {
        c.count("overview row(s)", rest);
        c.closing(&format!(
            "| … | | {rest} more, left out (see the end) | |\n"
        ));
    }
    c.closing("\n");
}

fn overview_row(g: &PluginChanges<'_>, v: &Bindings<'_>) -> String {
    let mut change = if g.action.destructive() {
        format!("**{}**", g.action.verb())
    } else {
        g.action.verb().to_owned()
    };
    if g.action == Action::Update {
        let _ = write!(change, ", {} field(s)", g.changes.len());
        if g.changes.iter().any(|c| c.sensitive) {
            change.push_str(" (sensitive value changed)");
        }
    }
    format!(
        "| {} | {} | {change} | {} |\n",
        code(g.name),
        text(&type_label(g)),
        binding_counts(v)
    )
}

/// The type, or `old → new` when a replace changes it.
pub(super) fn type_label(g: &PluginChanges<'_>) -> String {
    match g.types() {
        (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => "?".to_owned(),
    }
}

/// Per environment: `RELEASE: +3 −1, 2 moved in`.
fn binding_counts(v: &Bindings<'_>) -> String {
    #[derive(Default)]
    struct Counts {
        plus: usize,
        minus: usize,
        moved_in: usize,
        moved_out: usize,
        rebound: usize,
    }
    let mut per_env: BTreeMap<&str, Counts> = BTreeMap::new();
    for (env, apis) in &v.gained {
        per_env.entry(env).or_default().plus += apis.len();
    }
    for (env, apis) in &v.lost {
        per_env.entry(env).or_default().minus += apis.len();
    }
    for (env, apis) in &v.rebound {
        per_env.entry(env).or_default().rebound += apis.len();
    }
    for ((env, _), apis) in &v.moved_in {
        per_env.entry(env).or_default().moved_in += apis.len();
    }
    for ((env, _), apis) in &v.moved_out {
        per_env.entry(env).or_default().moved_out += apis.len();
    }
    let cells: Vec<String> = per_env
        .iter()
        .map(|(env, n)| {
            let mut parts = Vec::new();
            if n.plus > 0 {
                parts.push(format!("+{}", n.plus));
            }
            if n.minus > 0 {
                parts.push(format!("−{}", n.minus));
            }
            for (count, what) in [
                (n.moved_in, "moved in"),
                (n.moved_out, "moved out"),
                (n.rebound, "re-bound"),
            ] {
                if count > 0 {
                    parts.push(format!("{count} {what}"));
                }
            }
            format!("{}: {}", text(env), parts.join(" "))
        })
        .collect();
    cells.join(", ")
}

/// The collapsible section of one plug-in: its fields, then its binding changes.
fn section(plan: &Plan, g: &PluginChanges<'_>, v: &Bindings<'_>) -> String {
    let mut out = String::new();
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
            &mut out,
            &g.spec.map(created_fields).unwrap_or_default(),
            Columns::New,
        ),
        Action::Update => fields(&mut out, g.changes, Columns::Both),
        Action::Delete => match g.live {
            Some(live) => fields(&mut out, &live_fields(live), Columns::Old),
            None => {
                let _ = writeln!(out, "Plug-in id {}.\n", code(g.deleted_id.unwrap_or("?")));
            }
        },
        Action::Replace => {
            let old = g.live.map(live_fields).unwrap_or_default();
            let new = g.spec.map(created_fields).unwrap_or_default();
            fields(&mut out, &replaced_fields(&old, &new), Columns::Replace);
        }
        Action::Detach | Action::Attach => {}
    }
    bindings(&mut out, v);
    if g.action == Action::Replace {
        steps(&mut out, plan, g.name);
    }
    out.push_str("</details>\n\n");
    out
}

/// The steps of the replacement of `name`, in the order they run, folded.
fn steps(out: &mut String, plan: &Plan, name: &str) {
    let Some(r) = plan.replacements.iter().find(|r| r.plugin == name) else {
        return;
    };
    let _ = writeln!(
        out,
        "<details><summary>{} steps (if one fails, the old plug-in keeps its bindings)</summary>\n",
        r.steps.len()
    );
    let index = plan.index();
    for (n, id) in r.steps.iter().enumerate() {
        if let Some(op) = index.get(id.as_str()) {
            let _ = writeln!(out, "{}. {}", n + 1, text(&describe(op)));
        }
    }
    out.push_str("\n</details>\n\n");
}

/// Which value columns a field table has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// A created plug-in: the new value only.
    New,
    /// A deleted plug-in: the old value only.
    Old,
    /// An update: old and new.
    Both,
    /// A replace: old and new, of two different plug-ins.
    Replace,
}

fn fields(out: &mut String, changes: &[FieldChange], columns: Columns) {
    if changes.is_empty() {
        return;
    }
    out.push_str(match columns {
        Columns::New => "| field | value |\n|---|---|\n",
        Columns::Old => "| field | old value |\n|---|---|\n",
        Columns::Both | Columns::Replace => "| field | old | new |\n|---|---|---|\n",
    });
    let mut diffs = String::new();
    for c in changes {
        let field = code(&dotted(&c.path));
        let (old, new) = if c.sensitive {
            sensitive(columns)
        } else if let Some(diff) = long_diff(c, matches!(columns, Columns::New | Columns::Old)) {
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
            Columns::Both | Columns::Replace => writeln!(out, "| {field} | {old} | {new} |"),
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

/// A secret's cells: an update changes it; a created or replaced plug-in gets one.
fn sensitive(columns: Columns) -> (String, String) {
    match columns {
        Columns::Both => (
            "(sensitive)".to_owned(),
            "**(sensitive value changed)**".to_owned(),
        ),
        Columns::New | Columns::Old | Columns::Replace => {
            ("(sensitive)".to_owned(), "(sensitive value)".to_owned())
        }
    }
}

/// The binding changes of one plug-in: losses first, then moves, then additions.
fn bindings(out: &mut String, v: &Bindings<'_>) {
    let mut lines = Vec::new();
    for (env, apis) in &v.lost {
        lines.push(format!("- **detach** in {}: {}", text(env), api_list(apis)));
    }
    for ((env, to), apis) in &v.moved_out {
        lines.push(format!(
            "- move in {} to {}: {}",
            text(env),
            code(to),
            api_list(apis)
        ));
    }
    for (env, apis) in &v.rebound {
        lines.push(format!(
            "- re-bind to the new plug-in in {}: {}",
            text(env),
            api_list(apis)
        ));
    }
    for ((env, from), apis) in &v.moved_in {
        lines.push(format!(
            "- move in {} from {}: {}",
            text(env),
            code(from),
            api_list(apis)
        ));
    }
    for (env, apis) in &v.gained {
        lines.push(format!("- attach in {}: {}", text(env), api_list(apis)));
    }
    if lines.is_empty() {
        return;
    }
    out.push_str("Bindings:\n\n");
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
}
