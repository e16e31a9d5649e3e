//! What the policies said about one plan: their findings, and what was evaluated (so an
//! empty report still proves the rules ran).

use serde::{Deserialize, Serialize};

/// The result of evaluating policies against one plan; part of the plan's JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// The rules evaluated, e.g. `main.deny` (package, then rule), sorted.
    pub rules: Vec<String>,
    /// What the rules said, denials first, then in rule order.
    pub findings: Vec<Finding>,
}

impl PolicyReport {
    /// Whether a `deny` or `violation` rule fired: the plan must not be applied.
    pub fn denied(&self) -> bool {
        self.findings.iter().any(|f| f.level == FindingLevel::Deny)
    }

    /// How many findings of `level`.
    pub fn count(&self, level: FindingLevel) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// One line: `Policies: 2 rule(s) evaluated, 1 denial(s), 0 warning(s).`
    pub fn summary_line(&self) -> String {
        format!(
            "Policies: {} rule(s) evaluated, {} denial(s), {} warning(s).",
            self.rules.len(),
            self.count(FindingLevel::Deny),
            self.count(FindingLevel::Warn)
        )
    }
}

/// One message of one rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    /// `deny` (from `deny` and `violation` rules) or `warn`.
    pub level: FindingLevel,
    /// The rule, e.g. `main.deny_public_cors`.
    pub rule: String,
    /// What the rule said (its string, or the `msg` of its object).
    pub message: String,
}

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingLevel {
    /// The plan is refused.
    Deny,
    /// Shown; the plan may be applied.
    Warn,
}

impl FindingLevel {
    /// `deny` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingLevel::Deny => "deny",
            FindingLevel::Warn => "warn",
        }
    }
}
