//! Evaluation of Rego policies against a plan's JSON document with `regorus`.

use serde_json::Value;

use super::report::{Finding, FindingLevel, PolicyReport};

/// The package conftest looks in when no namespace is named.
pub const DEFAULT_NAMESPACE: &str = "main";

/// One policy file's text.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// Where it was read from (for errors).
    pub path: String,
    /// The Rego text.
    pub text: String,
}

/// Why policies could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A file is not valid Rego (v1 syntax: `deny contains msg if { … }`).
    #[error("policy {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A rule failed while it ran.
    #[error("policy package {package}: {message}")]
    Eval {
        /// The package.
        package: String,
        /// The evaluator's message.
        message: String,
    },
    /// Policies were asked for and none was evaluated.
    #[error(
        "no policy evaluated: the {files} .rego file(s) hold no rule named deny, violation or warn \
         (or starting with deny_, violation_, warn_) in a package under {namespaces} \
         (name other packages with --policy-namespace)"
    )]
    NoneEvaluated {
        /// How many files were read.
        files: usize,
        /// The namespaces looked in, e.g. `main`.
        namespaces: String,
    },
}

/// Evaluates the `deny`, `violation` and `warn` rules of the packages under `namespaces`
/// (`main` when empty) in `sources` against `input`, the plan's JSON document, with `data`
/// as the data document (e.g. `{"apigsync": {"env": {…}}}`). Asking with no rule to
/// evaluate is an error: a typo must not pass as "no denial".
pub fn evaluate(
    sources: &[PolicySource],
    namespaces: &[String],
    input: &Value,
    data: &Value,
) -> Result<PolicyReport, PolicyError> {
    let namespaces: Vec<&str> = if namespaces.is_empty() {
        vec![DEFAULT_NAMESPACE]
    } else {
        namespaces.iter().map(String::as_str).collect()
    };
    let mut engine = regorus::Engine::new();
    for source in sources {
        engine
            .add_policy(source.path.clone(), source.text.clone())
            .map_err(|e| PolicyError::Parse {
                path: source.path.clone(),
                message: e.to_string(),
            })?;
    }
    let packages = engine.get_packages().map_err(|e| PolicyError::Eval {
        package: "?".to_owned(),
        message: e.to_string(),
    })?;
    let mut packages: Vec<String> = packages
        .into_iter()
        .filter_map(|p| p.strip_prefix("data.").map(str::to_owned))
        .filter(|p| {
            namespaces
                .iter()
                .any(|ns| p == ns || p.starts_with(&format!("{ns}.")))
        })
        .collect();
    packages.sort();
    packages.dedup();
    let data = regorus::Value::from_json_str(&data.to_string()).map_err(|e| PolicyError::Eval {
        package: "data".to_owned(),
        message: e.to_string(),
    })?;
    engine.add_data(data).map_err(|e| PolicyError::Eval {
        package: "data".to_owned(),
        message: e.to_string(),
    })?;
    engine
        .set_input_json(&input.to_string())
        .map_err(|e| PolicyError::Eval {
            package: "input".to_owned(),
            message: e.to_string(),
        })?;
    let mut report = PolicyReport {
        rules: Vec::new(),
        findings: Vec::new(),
    };
    for package in &packages {
        let rules = package_rules(&mut engine, package)?;
        for (rule, value) in rules {
            let Some(level) = level_of(&rule) else {
                continue;
            };
            let name = format!("{package}.{rule}");
            for message in messages(&value) {
                report.findings.push(Finding {
                    level,
                    rule: name.clone(),
                    message,
                });
            }
            report.rules.push(name);
        }
    }
    if report.rules.is_empty() {
        return Err(PolicyError::NoneEvaluated {
            files: sources.len(),
            namespaces: namespaces.join(", "),
        });
    }
    report.rules.sort();
    report.findings.sort();
    Ok(report)
}

/// The rules of `package` and their values (undefined rules are absent).
fn package_rules(
    engine: &mut regorus::Engine,
    package: &str,
) -> Result<Vec<(String, Value)>, PolicyError> {
    let failed = |message: String| PolicyError::Eval {
        package: package.to_owned(),
        message,
    };
    let results = engine
        .eval_query(format!("data.{package}"), false)
        .map_err(|e| failed(e.to_string()))?;
    let Some(value) = results
        .result
        .first()
        .and_then(|r| r.expressions.first())
        .map(|e| &e.value)
    else {
        return Ok(Vec::new());
    };
    let json = value.to_json_str().map_err(|e| failed(e.to_string()))?;
    let parsed: Value = serde_json::from_str(&json).map_err(|e| failed(e.to_string()))?;
    Ok(match parsed {
        Value::Object(map) => map.into_iter().collect(),
        _ => Vec::new(),
    })
}

/// The level of a rule by conftest's naming, `None` for any other rule.
fn level_of(rule: &str) -> Option<FindingLevel> {
    let named = |prefix: &str| rule == prefix || rule.starts_with(&format!("{prefix}_"));
    if named("deny") || named("violation") {
        Some(FindingLevel::Deny)
    } else if named("warn") {
        Some(FindingLevel::Warn)
    } else {
        None
    }
}

/// The messages of a rule's value: each string of a set, each object's `msg`; `true` (a
/// boolean rule) as the rule's own verdict.
fn messages(value: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => Some(
            o.get("msg")
                .and_then(Value::as_str)
                .map_or_else(|| v.to_string(), str::to_owned),
        ),
        Value::Bool(false) | Value::Null => None,
        Value::Bool(true) => Some("(the rule holds)".to_owned()),
        other => Some(other.to_string()),
    };
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(text: &str) -> PolicySource {
        PolicySource {
            path: "p.rego".to_owned(),
            text: text.to_owned(),
        }
    }

    const POLICY: &str = r#"package main

deny contains msg if {
    some op in input.operations
    op.kind == "delete_plugin"
    msg := sprintf("deletes %s", [op.name])
}

warn_big contains {"msg": "many operations"} if count(input.operations) > 1

helper := 1
"#;

    #[test]
    fn deny_and_warn_rules_give_findings_and_other_rules_are_ignored() {
        let input = json!({"operations": [
            {"kind": "delete_plugin", "name": "old"},
            {"kind": "create_plugin", "name": "new"}
        ]});
        let report = evaluate(&[source(POLICY)], &[], &input, &json!({})).unwrap();
        assert_eq!(report.rules, ["main.deny", "main.warn_big"]);
        assert_eq!(
            report.findings,
            [
                Finding {
                    level: FindingLevel::Deny,
                    rule: "main.deny".into(),
                    message: "deletes old".into()
                },
                Finding {
                    level: FindingLevel::Warn,
                    rule: "main.warn_big".into(),
                    message: "many operations".into()
                },
            ]
        );
        assert!(report.denied());
        let quiet = evaluate(
            &[source(POLICY)],
            &[],
            &json!({"operations": []}),
            &json!({}),
        )
        .unwrap();
        assert!(!quiet.denied());
        assert_eq!(quiet.findings, []);
        assert_eq!(
            quiet.summary_line(),
            "Policies: 2 rule(s) evaluated, 0 denial(s), 0 warning(s)."
        );
    }

    #[test]
    fn asking_for_policies_and_evaluating_none_is_an_error() {
        let err = evaluate(
            &[source(POLICY)],
            &["gateway".to_owned()],
            &json!({}),
            &json!({}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no policy evaluated: the 1 .rego file(s) hold no rule named deny, violation or warn \
             (or starting with deny_, violation_, warn_) in a package under gateway \
             (name other packages with --policy-namespace)"
        );
        let broken = evaluate(
            &[source("package main\ndeny contains")],
            &[],
            &json!({}),
            &json!({}),
        );
        assert!(
            matches!(broken, Err(PolicyError::Parse { ref path, .. }) if path == "p.rego"),
            "{broken:?}"
        );
    }
}
