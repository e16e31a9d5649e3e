//! Targets: the gateways one folder manages. A project file holds either one
//! `target:` or a `targets:` map from a name to a target; every command works on
//! each [`NamedTarget`] in turn, with that target's `vars`.

use serde_json::Value;

use super::{ProjectFile, TargetConfig};

/// Longest target name, in characters.
pub const MAX_TARGET_NAME_LEN: usize = 63;

/// One gateway of a project: its name (`None` for the single `target:`) and its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTarget {
    /// The key under `targets:`, or `None` for a project file with one `target:`.
    pub name: Option<String>,
    /// Where the gateway is, and the `vars` of its documents.
    pub config: TargetConfig,
}

impl NamedTarget {
    /// The name as shown to a user: the target's name, or `target` for the single one.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("target")
    }
}

impl ProjectFile {
    /// The targets of this project, in file order: the `targets:` map, else the one `target:`.
    pub fn named_targets(&self) -> Vec<NamedTarget> {
        if self.targets.is_empty() {
            return vec![NamedTarget {
                name: None,
                config: self.target.clone(),
            }];
        }
        self.targets
            .iter()
            .map(|(name, config)| NamedTarget {
                name: Some(name.clone()),
                config: config.clone(),
            })
            .collect()
    }

    /// This project narrowed to `target`: its configuration as the one `target:`, same options.
    pub fn for_target(&self, target: &NamedTarget) -> ProjectFile {
        ProjectFile {
            target: target.config.clone(),
            targets: Default::default(),
            options: self.options.clone(),
        }
    }
}

impl TargetConfig {
    /// Whether `other` names the same gateway (every field but `vars`).
    pub fn same_gateway(&self, other: &TargetConfig) -> bool {
        let bare = |t: &TargetConfig| TargetConfig {
            vars: Default::default(),
            ..t.clone()
        };
        bare(self) == bare(other)
    }

    /// The `vars` as the text `${VAR}` substitution puts in place (numbers and booleans
    /// as written in YAML; a typed field reads them back as numbers and booleans).
    pub fn var_texts(&self) -> impl Iterator<Item = (&String, String)> {
        self.vars.iter().map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (name, text)
        })
    }
}

/// Why `name` is not a valid target name, or `None` when it is: 1 to
/// [`MAX_TARGET_NAME_LEN`] characters of `a-z`, `0-9`, `-` and `_`, starting with a
/// letter or digit (it labels metrics, plans and log lines).
pub fn target_name_problem(name: &str) -> Option<String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if name.is_empty() || name.len() > MAX_TARGET_NAME_LEN {
        return Some(format!(
            "target name {name:?} must be 1 to {MAX_TARGET_NAME_LEN} characters long"
        ));
    }
    if !name.chars().all(|c| alnum(c) || c == '-' || c == '_') || !name.starts_with(alnum) {
        return Some(format!(
            "target name {name:?} may only hold lowercase letters, digits, '-' and '_', and must start with a letter or digit"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_with_one_target_has_one_unnamed_target() {
        let project = ProjectFile::default();
        let targets = project.named_targets();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].name, None);
        assert_eq!(targets[0].label(), "target");
    }

    #[test]
    fn a_project_with_targets_narrows_to_each_with_the_same_options() {
        let mut project = ProjectFile::default();
        project.options.owner = "team-a".into();
        for name in ["staging", "prod"] {
            project.targets.insert(name.into(), TargetConfig::default());
        }
        let names: Vec<_> = project
            .named_targets()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, [Some("staging".into()), Some("prod".into())]);
        let narrowed = project.for_target(&project.named_targets()[0]);
        assert!(narrowed.targets.is_empty());
        assert_eq!(narrowed.options.owner, "team-a");
    }

    #[test]
    fn vars_are_not_part_of_the_gateway_and_read_as_written() {
        let mut a = TargetConfig::default();
        a.vars.insert("ORIGIN".into(), Value::from("https://x"));
        a.vars.insert("MAX_AGE".into(), Value::from(600));
        assert!(a.same_gateway(&TargetConfig::default()));
        let texts: Vec<_> = a.var_texts().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(texts, ["MAX_AGE=600", "ORIGIN=https://x"]);
    }

    #[test]
    fn target_names_are_lowercase_labels() {
        for ok in ["prod", "staging-eu", "eu_de", "1st"] {
            assert_eq!(target_name_problem(ok), None, "{ok}");
        }
        for bad in ["", "Prod", "-x", "a b", &"x".repeat(64)] {
            assert!(target_name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
