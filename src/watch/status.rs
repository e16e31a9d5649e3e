//! What the status page shows: per target its last reconcile report, and the last events
//! of the process (reconciles that changed or found something, leadership changes). An
//! observer of every reconcile; read-only for the page.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::report::{Observer, Outcome, ReconcileReport};

/// Events kept for the page.
const EVENTS: usize = 30;

/// One line of the page's event list.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When (RFC 3339).
    pub at: String,
    /// The target's label, or the replica for a leadership change.
    pub target: String,
    /// What happened.
    pub text: String,
}

/// The state of the page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// This replica's identity.
    pub identity: String,
    /// Whether it leads (always, without leader election).
    pub leader: bool,
    /// The last report of each target, by label.
    pub targets: BTreeMap<String, ReconcileReport>,
    /// The last events, newest first.
    pub events: VecDeque<Entry>,
}

/// The shared store the observers write and the page reads. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StatusStore(Arc<Mutex<Status>>);

impl StatusStore {
    /// A store for replica `identity`, leading or not at start.
    pub fn new(identity: &str, leading: bool) -> Self {
        Self(Arc::new(Mutex::new(Status {
            identity: identity.to_owned(),
            leader: leading,
            ..Status::default()
        })))
    }

    /// A copy of the state now.
    pub fn snapshot(&self) -> Status {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        // A poisoned lock only means a panic elsewhere; the value is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(status: &mut Status, target: &str, text: String) {
        status.events.push_front(Entry {
            at: jiff::Timestamp::now().to_string(),
            target: target.to_owned(),
            text,
        });
        status.events.truncate(EVENTS);
    }
}

/// The event line of a report, or `None` when there is nothing to tell.
fn describe(report: &ReconcileReport) -> Option<String> {
    let mut parts = Vec::new();
    if !report.drift.is_empty() {
        let fields: Vec<String> = report
            .drift
            .iter()
            .flat_map(|c| {
                c.fields
                    .iter()
                    .map(move |f| format!("{} {}", c.plugin, f.path))
            })
            .collect();
        let plugins = report.drifted_plugins().join(", ");
        parts.push(if fields.is_empty() {
            format!("drift: {plugins}")
        } else {
            format!("drift: {}", fields.join(", "))
        });
    }
    match report.outcome {
        Outcome::Applied => parts.push(format!("applied {} operation(s)", report.applied.len())),
        Outcome::ApplyFailed => parts.push(format!(
            "{} operation(s) failed, {} applied",
            report.failed.len(),
            report.applied.len()
        )),
        Outcome::Failed => parts.push(format!(
            "reconcile failed: {}",
            report.error.as_deref().unwrap_or("unknown")
        )),
        Outcome::Reported => parts.push(format!("{} change(s) not applied", report.pending.len())),
        Outcome::InSync | Outcome::Standby => {}
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

impl Observer for StatusStore {
    fn reconciled(&self, report: &ReconcileReport) {
        let mut status = self.lock();
        let label = report.label().to_owned();
        let changed = status
            .targets
            .get(&label)
            .is_none_or(|last| last.outcome != report.outcome || last.drift != report.drift);
        if changed && let Some(text) = describe(report) {
            StatusStore::push(&mut status, &label, text);
        }
        status.targets.insert(label, report.clone());
    }

    fn leadership(&self, leading: bool) {
        let mut status = self.lock();
        status.leader = leading;
        let identity = status.identity.clone();
        let text = if leading {
            "this replica leads"
        } else {
            "this replica stands by"
        };
        StatusStore::push(&mut status, &identity, text.to_owned());
    }
}
