//! What follows a reconcile, like kube-rs's `Action` and `error_policy`: a success waits
//! for the resync interval, and each kind of failure gets the wait it needs.

use std::time::Duration;

use super::ReconcileError;
use crate::api::{Backoff, ErrorKind};

/// When to reconcile next (a file change always triggers one sooner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reconcile again after this long.
    Requeue(Duration),
    /// Wait for a file change: nothing else can make the next reconcile differ.
    AwaitChange,
}

/// Decides the [`Action`] after each reconcile of one target.
#[derive(Debug)]
pub struct ErrorPolicy {
    interval: Duration,
    backoff: Backoff,
    throttled: Backoff,
}

impl ErrorPolicy {
    /// A policy that resyncs every `interval` and backs off from `base` to `max` (each at
    /// most the interval) after transient failures.
    pub fn new(interval: Duration, base: Duration, max: Duration) -> Self {
        let max = max.min(interval);
        Self {
            interval,
            backoff: Backoff::new(base.min(interval)).with_max(max),
            throttled: Backoff::new((base * 10).min(max)).with_max(max),
        }
    }

    /// After a success: the resync interval; every back-off starts again from its base.
    pub fn on_success(&mut self) -> Action {
        self.backoff.reset();
        self.throttled.reset();
        Action::Requeue(self.interval)
    }

    /// After `error`:
    /// - an invalid folder, or secrets missing from the environment, wait for a file change
    ///   (the interval would repeat them);
    /// - a plan error (which the gateway may resolve: another owner's plug-in removed) and
    ///   an auth failure (credentials files are re-read then) wait the resync interval;
    /// - throttling backs off from ten times the base, so the gateway's quota recovers;
    /// - anything transient (an outage, an unconfirmed change, a refusal) retries soon,
    ///   with back-off.
    pub fn on_error(&mut self, error: &ReconcileError) -> Action {
        match (error, error.kind()) {
            (ReconcileError::Source { .. } | ReconcileError::Apply(_), _) => Action::AwaitChange,
            (_, ErrorKind::InvalidInput | ErrorKind::Auth) => Action::Requeue(self.interval),
            (_, ErrorKind::Throttled) => Action::Requeue(next(&mut self.throttled, self.interval)),
            (_, ErrorKind::Cancelled) => Action::Requeue(self.interval),
            (_, ErrorKind::Transient | ErrorKind::Rejected | ErrorKind::Unconfirmed) => {
                Action::Requeue(next(&mut self.backoff, self.interval))
            }
        }
    }
}

fn next(backoff: &mut Backoff, interval: Duration) -> Duration {
    backoff.next().unwrap_or(interval).min(interval)
}
