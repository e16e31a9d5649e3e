//! The events `watch --notify` sends, from reconcile reports and leadership changes, and
//! which of them repeat what was already sent (the same drift is sent once, again only
//! when it changes or after the repeat period).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::super::report::{Change, Failure, Outcome, ReconcileReport};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Kind {
    /// The gateway changed since the last apply.
    DriftDetected,
    /// Every operation of an apply was done.
    ApplySucceeded,
    /// Some operations failed.
    ApplyFailed,
    /// The reconcile failed before applying.
    ReconcileFailed,
    /// This replica leads.
    LeadershipGained,
    /// This replica stopped leading.
    LeadershipLost,
}

impl Kind {
    /// The CloudEvents `type`.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::DriftDetected => "io.apigsync.drift.detected",
            Kind::ApplySucceeded => "io.apigsync.apply.succeeded",
            Kind::ApplyFailed => "io.apigsync.apply.failed",
            Kind::ReconcileFailed => "io.apigsync.reconcile.failed",
            Kind::LeadershipGained => "io.apigsync.leadership.gained",
            Kind::LeadershipLost => "io.apigsync.leadership.lost",
        }
    }

    /// A few words for a human.
    pub fn title(self) -> &'static str {
        match self {
            Kind::DriftDetected => "drift detected",
            Kind::ApplySucceeded => "apply succeeded",
            Kind::ApplyFailed => "apply failed",
            Kind::ReconcileFailed => "reconcile failed",
            Kind::LeadershipGained => "leadership gained",
            Kind::LeadershipLost => "leadership lost",
        }
    }
}

/// One event: what happened, to which target, and the details (the event's `data`).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// What happened.
    #[serde(skip)]
    pub kind: Kind,
    /// The target's label (the CloudEvents `subject`).
    pub target: String,
    /// The gateway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// The folder's revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The plug-ins concerned, each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<String>,
    /// The operations concerned, with their cause and fields (secrets masked).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The operations that failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// Why the reconcile failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Event {
    fn of(kind: Kind, report: &ReconcileReport, changes: Vec<Change>) -> Self {
        let mut plugins: Vec<String> = changes
            .iter()
            .map(|c| c.plugin.clone())
            .chain(report.failed.iter().map(|f| f.change.plugin.clone()))
            .collect();
        plugins.dedup();
        Self {
            kind,
            target: report.label().to_owned(),
            gateway: Some(report.gateway.clone()),
            revision: report.revision.clone(),
            plugins,
            changes,
            failures: Vec::new(),
            error: None,
        }
    }

    /// A change of leadership of this replica, for every target it watches.
    pub fn leadership(leading: bool, identity: &str) -> Self {
        Self {
            kind: if leading {
                Kind::LeadershipGained
            } else {
                Kind::LeadershipLost
            },
            target: identity.to_owned(),
            gateway: None,
            revision: None,
            plugins: Vec::new(),
            changes: Vec::new(),
            failures: Vec::new(),
            error: None,
        }
    }

    /// One line for a human: what, where, which plug-ins.
    pub fn summary(&self) -> String {
        let mut line = format!("apigsync: {} on {}", self.kind.title(), self.target);
        if !self.plugins.is_empty() {
            line.push_str(&format!(" ({})", self.plugins.join(", ")));
        }
        if let Some(revision) = &self.revision {
            line.push_str(&format!(" at {}", &revision[..revision.len().min(12)]));
        }
        line
    }
}

/// The events of one reconcile report (before de-duplication).
pub fn of_report(report: &ReconcileReport) -> Vec<Event> {
    let mut events = Vec::new();
    if !report.drift.is_empty() {
        events.push(Event::of(Kind::DriftDetected, report, report.drift.clone()));
    }
    match report.outcome {
        Outcome::Applied => {
            events.push(Event::of(
                Kind::ApplySucceeded,
                report,
                report.applied.clone(),
            ));
        }
        Outcome::ApplyFailed => {
            let mut event = Event::of(Kind::ApplyFailed, report, report.applied.clone());
            event.failures = report.failed.clone();
            events.push(event);
        }
        Outcome::Failed => {
            let mut event = Event::of(Kind::ReconcileFailed, report, Vec::new());
            event.error = report.error.clone();
            events.push(event);
        }
        Outcome::InSync | Outcome::Reported | Outcome::Standby => {}
    }
    events
}

/// The events of `report` that `dedupe` lets through (none for a standby reconcile).
pub fn admitted(dedupe: &std::sync::Mutex<Dedupe>, report: &ReconcileReport) -> Vec<Event> {
    if report.outcome == Outcome::Standby {
        return Vec::new();
    }
    let events = of_report(report);
    let still: Vec<Kind> = events.iter().map(|e| e.kind).collect();
    // A poisoned lock only means a panic elsewhere; the value is still usable.
    let mut dedupe = dedupe.lock().unwrap_or_else(|e| e.into_inner());
    dedupe.settled(report.label(), &still);
    events.into_iter().filter(|e| dedupe.admit(e)).collect()
}

/// Which events repeat the last one sent of their kind and target: drift and failures
/// are sent once, again when they change or after `repeat`.
#[derive(Debug)]
pub struct Dedupe {
    repeat: Duration,
    sent: HashMap<(Kind, String), (u64, Instant)>,
}

impl Dedupe {
    /// De-duplication that lets an unchanged event through again after `repeat`.
    pub fn new(repeat: Duration) -> Self {
        Self {
            repeat,
            sent: HashMap::new(),
        }
    }

    /// Whether `event` should be sent now; records it when so.
    pub fn admit(&mut self, event: &Event) -> bool {
        let key = (event.kind, event.target.clone());
        if !matches!(
            event.kind,
            Kind::DriftDetected | Kind::ReconcileFailed | Kind::ApplyFailed
        ) {
            return true;
        }
        let fingerprint = fingerprint(event);
        let now = Instant::now();
        if let Some((last, at)) = self.sent.get(&key)
            && *last == fingerprint
            && now.duration_since(*at) < self.repeat
        {
            return false;
        }
        self.sent.insert(key, (fingerprint, now));
        true
    }

    /// Forgets what was sent for `target` of a kind that no longer holds (the drift was
    /// healed, the failure passed), so its return is news again.
    pub fn settled(&mut self, target: &str, still: &[Kind]) {
        self.sent
            .retain(|(kind, t), _| t != target || still.contains(kind));
    }
}

fn fingerprint(event: &Event) -> u64 {
    let mut h = DefaultHasher::new();
    event.changes.hash(&mut h);
    for f in &event.failures {
        f.change.hash(&mut h);
        f.error.hash(&mut h);
    }
    event.error.hash(&mut h);
    h.finish()
}
