//! Renderings of the plans of several targets (a folder with `targets:`): one section
//! per target, in target order, headed by its name and gateway; a target that could not
//! be planned shows why. Markdown makes one pull-request comment for all of them.

use std::fmt::Write;

use crate::model::Live;
use crate::plan::Plan;

use super::budget::Comment;
use super::markdown::CommentOptions;
use super::md_text::{code, text as md_text};
use super::values::summary_line;

/// One target's part of a grouped rendering.
#[derive(Debug, Clone, Copy)]
pub struct TargetSection<'a> {
    /// The target's name.
    pub name: &'a str,
    /// Its plan (with the live state it was made from, for markdown), or why there is none.
    pub result: Result<(&'a Plan, Option<&'a Live>), &'a str>,
}

fn gateway(plan: &Plan) -> String {
    match (&plan.target.flavour, &plan.target.instance_id) {
        (Some(flavour), Some(instance)) => format!("{flavour} instance {instance}"),
        _ => "gateway".to_owned(),
    }
}

/// The plans as text: each target under a `Target NAME (gateway):` heading, then one
/// summary line per target.
pub fn text_set(sections: &[TargetSection<'_>], color: bool) -> String {
    let mut out = String::new();
    for s in sections {
        match s.result {
            Ok((plan, _)) => {
                let _ = writeln!(out, "Target {} ({}):", s.name, gateway(plan));
                out.push_str(&super::text(plan, color));
            }
            Err(why) => {
                let _ = writeln!(out, "Target {}: not planned: {why}", s.name);
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} target(s):", sections.len());
    for s in sections {
        let line = match s.result {
            Ok((plan, _)) => summary_line(plan),
            Err(_) => "not planned (error above)".to_owned(),
        };
        let _ = writeln!(out, "  {}: {line}", s.name);
    }
    out
}

/// The plans as one pull-request comment: a table of the targets and their summaries,
/// then each target's plan under its own heading.
pub fn markdown_set(sections: &[TargetSection<'_>]) -> String {
    markdown_set_with(sections, &CommentOptions::default())
}

/// [`markdown_set`] within the size and with the pointer to the full plan of `options`.
pub fn markdown_set_with(sections: &[TargetSection<'_>], options: &CommentOptions<'_>) -> String {
    let mut c = Comment::new(options.limit, options.full_plan);
    let mut head =
        String::from("### apigsync plan\n\n| target | gateway | plan |\n|---|---|---|\n");
    for s in sections {
        let (gw, line) = match s.result {
            Ok((plan, _)) => (gateway(plan), summary_line(plan)),
            Err(_) => ("?".to_owned(), "**not planned** (see below)".to_owned()),
        };
        let _ = writeln!(
            head,
            "| {} | {} | {} |",
            code(s.name),
            md_text(&gw),
            md_text(&line)
        );
    }
    head.push('\n');
    c.push(&head);
    for s in sections {
        if !c.push(&format!("#### Target {}\n\n", code(s.name))) {
            c.count("target(s)", 1);
            continue;
        }
        match s.result {
            Ok((plan, live)) => super::markdown::body(&mut c, plan, live),
            Err(why) => c.push_or_count(
                &format!("> [!CAUTION]\n> Not planned: {}\n\n", md_text(why)),
                "target error(s)",
            ),
        }
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTarget;

    fn plan(name: &str) -> Plan {
        Plan::new(PlanTarget {
            flavour: Some(crate::model::Flavour::Apig),
            instance_id: Some("i1".into()),
            name: Some(name.into()),
        })
    }

    #[test]
    fn each_target_has_its_heading_and_a_summary_line() {
        let (a, b) = (plan("staging"), plan("prod"));
        let sections = [
            TargetSection {
                name: "staging",
                result: Ok((&a, None)),
            },
            TargetSection {
                name: "prod",
                result: Ok((&b, None)),
            },
            TargetSection {
                name: "dr",
                result: Err("cannot connect"),
            },
        ];
        let text = text_set(&sections, false);
        assert!(
            text.starts_with("Target staging (apig instance i1):\nNo changes.\n"),
            "{text}"
        );
        assert!(
            text.contains("Target dr: not planned: cannot connect"),
            "{text}"
        );
        assert!(text.ends_with("3 target(s):\n  staging: No changes.\n  prod: No changes.\n  dr: not planned (error above)\n"), "{text}");
        let md = markdown_set(&sections);
        assert_eq!(md.matches("### apigsync plan").count(), 1, "{md}");
        assert!(
            md.contains("| `prod` | apig instance i1 | No changes. |"),
            "{md}"
        );
        assert!(
            md.contains("#### Target `dr`\n\n> [!CAUTION]\n> Not planned: cannot connect"),
            "{md}"
        );
    }
}
