//! Several targets in one folder: which documents a target reads (`targets: [names]`
//! on a document), the `vars` of a target (never in a secret field), and one report
//! of the diagnostics of every target (a problem of all of them shown once, one of
//! some of them naming those).

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::Diagnostic;
use super::yaml::{Node, Yaml};
use crate::content::did_you_mean;
use crate::model::{Desired, NamedTarget};

/// The desired state of one target of a folder.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetDesired {
    /// The target: its name (`None` for a project file with one `target:`) and configuration.
    pub target: NamedTarget,
    /// What the folder says this target's gateway should hold; `project.target` is this target.
    pub desired: Desired,
}

/// The target documents are read for.
pub(crate) struct TargetFilter<'a> {
    /// Every target the project file declares under `targets:` (empty with one `target:`).
    pub declared: Vec<&'a str>,
    /// The target being read, `None` with one `target:`.
    pub current: Option<&'a str>,
    /// Its `vars`.
    pub vars: &'a BTreeMap<String, Value>,
}

/// What a document's `targets:` field says about the target being read.
pub(crate) enum Membership {
    /// The document belongs to this target (no `targets:`, or one that names it).
    In,
    /// It names other targets only.
    Out,
    /// The field is wrong: the message, and where.
    Invalid(Vec<(super::yaml::Pos, String)>),
}

impl TargetFilter<'_> {
    /// The filter of the project file itself: no targets, no vars.
    pub(crate) fn none(vars: &BTreeMap<String, Value>) -> TargetFilter<'_> {
        TargetFilter {
            declared: Vec::new(),
            current: None,
            vars,
        }
    }

    /// Whether the document `doc` belongs to the target being read.
    pub(crate) fn membership(&self, doc: &Node) -> Membership {
        let Some(entry) = doc.entry("targets") else {
            return Membership::In;
        };
        let field = &entry.value;
        if self.declared.is_empty() {
            return Membership::Invalid(vec![(
                entry.key_pos,
                "\"targets\" limits a document to some targets, but apigsync.yaml has one \
                 target: declare several under targets: there"
                    .into(),
            )]);
        }
        let names: Vec<(super::yaml::Pos, Option<&str>)> = match &field.value {
            Yaml::Seq(items) if !items.is_empty() => items
                .iter()
                .map(|n| match &n.value {
                    Yaml::Str(s) => (n.pos, Some(s.as_str())),
                    _ => (n.pos, None),
                })
                .collect(),
            _ => {
                return Membership::Invalid(vec![(
                    field.pos,
                    format!(
                        "\"targets\" must be a list of target names, e.g. [{}]",
                        self.declared.join(", ")
                    ),
                )]);
            }
        };
        let mut problems = Vec::new();
        for (pos, name) in &names {
            match name {
                Some(n) if self.declared.contains(n) => {}
                Some(n) => {
                    let hint = did_you_mean(n, &self.declared)
                        .map(|k| format!(", did you mean {k:?}?"))
                        .unwrap_or_default();
                    problems.push((
                        *pos,
                        format!(
                            "unknown target {n:?}, apigsync.yaml declares {}{hint}",
                            self.declared.join(", ")
                        ),
                    ));
                }
                None => problems.push((*pos, "a target name must be a string".into())),
            }
        }
        if !problems.is_empty() {
            return Membership::Invalid(problems);
        }
        match self.current {
            Some(current) if names.iter().any(|(_, n)| *n == Some(current)) => Membership::In,
            _ => Membership::Out,
        }
    }

    /// Why a secret field written as `template` may not be read for this target: it
    /// names one of the target's `vars`, which live in apigsync.yaml, in git.
    pub(crate) fn secret_problem(&self, field: &str, template: &str) -> Option<String> {
        let name = super::subst::reference_name(template)?;
        self.vars.contains_key(name).then(|| {
            format!(
                "secret field {field} names ${{{name}}}, a var of target {}: vars are written \
                 in apigsync.yaml, so secrets come from the environment only; rename the \
                 variable or remove it from vars",
                self.current.unwrap_or("target")
            )
        })
    }
}

/// `env` with the target's `vars` over it (vars win).
pub(crate) fn env_with_vars(
    env: &BTreeMap<String, String>,
    target: &NamedTarget,
) -> BTreeMap<String, String> {
    let mut out = env.clone();
    for (name, text) in target.config.var_texts() {
        out.insert(name.clone(), text);
    }
    out
}

/// One report from each target's diagnostics: a problem every target has, once, as
/// is; a problem of only some targets, once, naming them.
pub(crate) fn merge_diagnostics(
    per_target: Vec<(Option<String>, Vec<Diagnostic>)>,
) -> Vec<Diagnostic> {
    let total = per_target.len();
    let mut seen: BTreeMap<Diagnostic, Vec<String>> = BTreeMap::new();
    for (name, diagnostics) in per_target {
        for d in diagnostics {
            let names = seen.entry(d).or_default();
            if let Some(n) = &name
                && !names.contains(n)
            {
                names.push(n.clone());
            }
        }
    }
    seen.into_iter()
        .map(|(mut d, names)| {
            if !names.is_empty() && names.len() < total {
                d.message = format!("{} (target {})", d.message, names.join(", "));
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;

    fn diag(line: usize, message: &str) -> Diagnostic {
        Diagnostic {
            location: Location::new(std::path::Path::new("a.yaml"), line, 1),
            message: message.into(),
        }
    }

    #[test]
    fn a_problem_of_every_target_is_shown_once_and_one_of_some_names_them() {
        let merged = merge_diagnostics(vec![
            (Some("prod".into()), vec![diag(1, "bad"), diag(2, "unset")]),
            (Some("staging".into()), vec![diag(1, "bad")]),
        ]);
        let shown: Vec<String> = merged.iter().map(|d| d.message.clone()).collect();
        assert_eq!(shown, ["bad", "unset (target prod)"]);
    }

    #[test]
    fn a_single_target_reports_as_is() {
        let merged = merge_diagnostics(vec![(None, vec![diag(2, "x"), diag(1, "y")])]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].message, "y");
    }
}
