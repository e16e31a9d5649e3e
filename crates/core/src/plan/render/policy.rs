//! The policy results of a plan (`plan --policy`) in the text and markdown renderings:
//! one line per finding, naming its rule, denials first.

use std::fmt::Write;

use crate::policy::{FindingLevel, PolicyReport};

use super::budget::Comment;
use super::md_text::{code, text};

/// The text section: a heading, one line per finding, the policies' summary line.
pub(super) fn text_section(report: &PolicyReport) -> String {
    let mut out = String::new();
    if !report.findings.is_empty() {
        out.push_str("Policies:\n");
        for f in &report.findings {
            let _ = writeln!(out, "  {} {}: {}", f.level.as_str(), f.rule, f.message);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", report.summary_line());
    out
}

/// The markdown callout, near the top of the comment: a caution when a rule denies the
/// plan, a warning for warnings alone, a note when every rule passed.
pub(super) fn markdown_section(c: &mut Comment<'_>, report: &PolicyReport) {
    let kind = if report.denied() {
        "CAUTION"
    } else if report.findings.is_empty() {
        "NOTE"
    } else {
        "WARNING"
    };
    let verdict = if report.denied() {
        " The plan is refused: apply will not run it."
    } else {
        ""
    };
    let head = format!(
        "> [!{kind}]\n> **{}**{verdict}\n",
        text(&report.summary_line())
    );
    let items: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            let level = match f.level {
                FindingLevel::Deny => "**deny**",
                FindingLevel::Warn => "warn",
            };
            format!("> - {level} {}: {}\n", code(&f.rule), text(&f.message))
        })
        .collect();
    if items.is_empty() {
        c.push(&head);
        c.closing("\n");
    } else {
        super::md_top::callout(c, &format!("{head}>\n"), &items, "policy finding(s)");
    }
}
