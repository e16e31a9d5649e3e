//! What an apply did: one entry per operation, as text or JSON.

use serde::Serialize;

use super::{ApiState, StepOutcome, describe};
use crate::plan::{OpId, Operation};

/// The outcome of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationReport {
    /// The plan's operation id.
    pub id: OpId,
    /// What the operation does, in words.
    pub description: String,
    /// Done, failed (with the error) or not attempted (with the reason).
    #[serde(flatten)]
    pub outcome: StepOutcome,
}

impl OperationReport {
    /// The report of `op` with `outcome`.
    pub fn new(op: &Operation, outcome: StepOutcome) -> Self {
        Self {
            id: op.id.clone(),
            description: describe(op),
            outcome,
        }
    }
}

/// Every operation of an apply, in plan order, and where the APIs of the binding changes
/// that did not complete were left.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One entry per plan operation.
    pub operations: Vec<OperationReport>,
    /// For each (API, environment, plug-in type) an operation not done touches: the
    /// plug-in of that type it is bound to now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<ApiState>,
}

impl Report {
    fn count(&self, f: impl Fn(&StepOutcome) -> bool) -> usize {
        self.operations.iter().filter(|o| f(&o.outcome)).count()
    }

    /// Operations that succeeded.
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::Done))
    }

    /// Operations that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::Failed { .. }))
    }

    /// Operations not started.
    pub fn not_attempted(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::NotAttempted { .. }))
    }

    /// True when every operation is done.
    pub fn is_success(&self) -> bool {
        self.done() == self.operations.len()
    }

    /// The summary line, e.g. `Apply complete: 7 done, 0 failed, 0 not attempted.`
    pub fn summary(&self) -> String {
        let head = if self.is_success() {
            "Apply complete"
        } else {
            "Apply failed"
        };
        format!(
            "{head}: {} done, {} failed, {} not attempted.",
            self.done(),
            self.failed(),
            self.not_attempted()
        )
    }

    /// Failures and skipped operations, one per line, then the summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for op in &self.operations {
            match &op.outcome {
                StepOutcome::Done => {}
                StepOutcome::Failed { error, .. } => {
                    out.push_str(&format!("  failed: {}: {error}\n", op.description));
                }
                StepOutcome::NotAttempted { reason } => {
                    out.push_str(&format!("  not attempted: {} ({reason})\n", op.description));
                }
            }
        }
        if !self.apis.is_empty() {
            out.push_str(
                "  where the APIs of the binding changes that did not complete are now:\n",
            );
            for api in &self.apis {
                out.push_str(&format!("    {api}\n"));
            }
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }
}
