//! What one reconcile found and did, as one value handed to every observer (status page,
//! notifications, Kubernetes Events): the target, the folder's revision, the result, the
//! drift with its fields and values (secrets masked), what is pending and what failed.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::apply::{Report, StepOutcome, describe};
use crate::plan::{Cause, FieldChange, OpKind, Operation, Plan};

/// What a secret field shows instead of its values.
pub const MASKED: &str = "(sensitive)";

/// How a reconcile ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The gateway equals the files.
    InSync,
    /// Operations were applied, all done.
    Applied,
    /// Differences found and, by the sync mode, not applied.
    Reported,
    /// Not the leader: the gateway was neither read nor written.
    Standby,
    /// Some operations failed.
    ApplyFailed,
    /// The reconcile failed before applying (folder, gateway, plan).
    Failed,
}

impl Outcome {
    /// The outcome as the status page and events spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InSync => "in_sync",
            Outcome::Applied => "applied",
            Outcome::Reported => "reported",
            Outcome::Standby => "standby",
            Outcome::ApplyFailed => "apply_failed",
            Outcome::Failed => "failed",
        }
    }
}

/// One changed field: its JSON pointer and its values as text (a secret's masked).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Field {
    /// JSON pointer into the plug-in body, e.g. `/content/max_age`.
    pub path: String,
    /// The gateway's value.
    pub old: String,
    /// The files' value.
    pub new: String,
}

impl Field {
    fn of(change: &FieldChange) -> Self {
        let text = |v: &Option<serde_json::Value>| match v {
            _ if change.sensitive => MASKED.to_owned(),
            Some(v) => v.to_string(),
            None => "(absent)".to_owned(),
        };
        Self {
            path: change.path.clone(),
            old: text(&change.old),
            new: text(&change.new),
        }
    }
}

/// One operation of a plan, as observers show it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Change {
    /// The plug-in it is about.
    pub plugin: String,
    /// What it does, e.g. `update plug-in cors_public`.
    pub operation: String,
    /// `files`, `drift` or `both`.
    pub cause: &'static str,
    /// The fields an update changes.
    pub fields: Vec<Field>,
}

impl Change {
    /// `op` as observers show it.
    pub fn of(op: &Operation) -> Self {
        let fields = match &op.kind {
            OpKind::UpdatePlugin { changes, .. } => changes.iter().map(Field::of).collect(),
            _ => Vec::new(),
        };
        Self {
            plugin: op.kind.plugin_name().to_owned(),
            operation: describe(op),
            cause: op.cause.as_str(),
            fields,
        }
    }
}

/// An operation that failed, and why (error text a server sends is masked of our
/// credentials by the client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The operation.
    pub change: Change,
    /// Why it failed.
    pub error: String,
    /// The kind of failure (`throttled`, `rejected`, …).
    pub kind: String,
}

/// One reconcile, as every observer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    /// The target's name under `targets:`, `None` for the single `target:`.
    pub target: Option<String>,
    /// The gateway: instance id at endpoint.
    pub gateway: String,
    /// The folder's revision (git commit), when known.
    pub revision: Option<String>,
    /// When it ended (RFC 3339).
    pub at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// How old the oldest part of the view of the gateway was as it ended, in seconds
    /// (`apigsync_oldest_read_seconds`): how long a console edit can have gone unseen.
    pub view_age_s: Option<u64>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it failed (outcome `failed`).
    pub error: Option<String>,
    /// Operations caused by a change on the gateway (drift or both).
    pub drift: Vec<Change>,
    /// Operations found and not applied (by the sync mode, or not attempted).
    pub pending: Vec<Change>,
    /// Operations applied.
    pub applied: Vec<Change>,
    /// Operations that failed.
    pub failed: Vec<Failure>,
}

impl ReconcileReport {
    /// The target's label: its name, else the gateway.
    pub fn label(&self) -> &str {
        self.target.as_deref().unwrap_or(&self.gateway)
    }

    /// The plug-ins that drifted, each once, in order.
    pub fn drifted_plugins(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.drift.iter().map(|c| c.plugin.as_str()).collect();
        names.dedup();
        names
    }
}

/// What a reconcile leaves for its report: the plan found and, if applied, the
/// executor's report of it.
#[derive(Debug, Default)]
pub struct Found {
    /// The full plan (before the sync mode left anything out).
    pub plan: Option<Plan>,
    /// The executor's report of the part applied.
    pub applied: Option<Report>,
}

impl Found {
    /// Drift, pending, applied and failed operations of the plan and the apply.
    pub fn split(&self) -> (Vec<Change>, Vec<Change>, Vec<Change>, Vec<Failure>) {
        let Some(plan) = &self.plan else {
            return Default::default();
        };
        let drift = plan
            .operations
            .iter()
            .filter(|op| op.cause != Cause::Files)
            .map(Change::of)
            .collect();
        let (mut pending, mut applied, mut failed) = (Vec::new(), Vec::new(), Vec::new());
        let outcomes: std::collections::HashMap<_, _> = self
            .applied
            .iter()
            .flat_map(|r| &r.operations)
            .map(|o| (&o.id, &o.outcome))
            .collect();
        for op in &plan.operations {
            match outcomes.get(&op.id) {
                Some(StepOutcome::Done) => applied.push(Change::of(op)),
                Some(StepOutcome::Failed { error, kind }) => failed.push(Failure {
                    change: Change::of(op),
                    error: error.clone(),
                    kind: kind.to_string(),
                }),
                _ => pending.push(Change::of(op)),
            }
        }
        (drift, pending, applied, failed)
    }
}

/// Something told of every reconcile and every change of leadership.
pub trait Observer: Send + Sync {
    /// One reconcile ended. Must not block: slow work goes to a background task.
    fn reconciled(&self, report: &ReconcileReport);
    /// This replica started (`true`) or stopped (`false`) leading.
    fn leadership(&self, _leading: bool) {}
}

/// Every observer, told in order. Cheap to clone.
#[derive(Clone, Default)]
pub struct Observers(Vec<Arc<dyn Observer>>);

impl Observers {
    /// Adds `observer`.
    pub fn with(mut self, observer: Arc<dyn Observer>) -> Self {
        self.0.push(observer);
        self
    }

    /// Tells every observer of `report`.
    pub fn reconciled(&self, report: &ReconcileReport) {
        for o in &self.0 {
            o.reconciled(report);
        }
    }

    /// Tells every observer of a change of leadership.
    pub fn leadership(&self, leading: bool) {
        for o in &self.0 {
            o.leadership(leading);
        }
    }
}

/// Milliseconds of `d`, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_secret_field_shows_neither_value() {
        let change = FieldChange {
            path: "/content/sasl_password".into(),
            old: Some(json!("old-secret")),
            new: Some(json!("new-secret")),
            sensitive: true,
        };
        let field = Field::of(&change);
        assert_eq!(field.old, "(sensitive)");
        assert_eq!(field.new, "(sensitive)");
    }

    #[test]
    fn a_plain_field_shows_both_values_as_json() {
        let change = FieldChange {
            path: "/content/max_age".into(),
            old: Some(json!(60)),
            new: Some(json!(600)),
            sensitive: false,
        };
        let field = Field::of(&change);
        assert_eq!((field.old.as_str(), field.new.as_str()), ("60", "600"));
    }
}
