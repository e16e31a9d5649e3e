//! Why a reconcile failed, typed end to end: the message users read, and the kind that
//! metrics, logs and watch's [`super::ErrorPolicy`] act on.

use crate::api::{ApiError, ErrorKind};
use crate::apply::{ApplyError, Report, StepOutcome};
use crate::plan::PlanErrors;

/// Why a reconcile (or one of its steps) failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The folder is unreadable or invalid, or no longer matches what was started: nothing
    /// was applied.
    #[error("{reason}")]
    Source {
        /// What is wrong with the folder, as the user should read it.
        reason: String,
    },
    /// The gateway could not be read.
    #[error("reading the live state of instance {instance} at {endpoint}")]
    Read {
        /// The instance read.
        instance: String,
        /// Its endpoint.
        endpoint: String,
        /// The call that failed.
        #[source]
        source: Box<ApiError>,
    },
    /// The differ refused to make a plan (see each error).
    #[error("cannot make a plan")]
    Plan(#[source] PlanErrors),
    /// The plan could not be started: nothing was sent.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The apply ran and some operations failed or were not attempted.
    #[error("{} of {} operation(s) failed or were not attempted ({kind})", report.failed() + report.not_attempted(), report.operations.len())]
    Operations {
        /// What the apply did, operation by operation.
        report: Box<Report>,
        /// The kind of the failures (throttling wins, since it asks for the longest wait).
        kind: ErrorKind,
    },
    /// Stopped on purpose (shutdown, lost leadership) before the reconcile ended.
    #[error("{0}")]
    Cancelled(&'static str),
}

impl ReconcileError {
    /// The kind of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReconcileError::Source { .. } | ReconcileError::Plan(_) | ReconcileError::Apply(_) => {
                ErrorKind::InvalidInput
            }
            ReconcileError::Read { source, .. } => source.kind(),
            ReconcileError::Operations { kind, .. } => *kind,
            ReconcileError::Cancelled(_) => ErrorKind::Cancelled,
        }
    }

    /// The failure of an apply whose `report` is not a success; the report back when it is.
    pub fn of_report(report: Report) -> Result<Report, Self> {
        let kinds: Vec<ErrorKind> = report
            .operations
            .iter()
            .filter_map(|o| match &o.outcome {
                StepOutcome::Failed { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect();
        if report.is_success() {
            return Ok(report);
        }
        let kind = [ErrorKind::Throttled, ErrorKind::Auth]
            .into_iter()
            .find(|k| kinds.contains(k))
            .or_else(|| kinds.first().copied())
            .unwrap_or(ErrorKind::Cancelled);
        Err(ReconcileError::Operations {
            report: Box::new(report),
            kind,
        })
    }
}
