//! Watch mode: a level-triggered reconcile loop, like a Kubernetes controller.
//!
//! The loop never knows why it runs: every reconcile re-reads the whole folder
//! and the live state and diffs from scratch. Triggers are file changes
//! ([`trigger`]) and a resync interval. Like a kube-rs controller, a reconcile returns
//! `Result<(), ReconcileError>` and an [`ErrorPolicy`] turns it into the [`Action`]
//! that follows: the interval after a success, a file change after an invalid folder,
//! back-off after throttling or an outage. Two reconciles never overlap because the
//! loop runs them one at a time.

pub mod http;
pub mod kube_events;
pub mod leader;
pub mod lease_record;
pub mod metrics;
pub mod notify;
pub mod reconcile;
pub mod report;
pub mod revision;
pub mod status;
pub mod status_page;
pub mod sync_mode;
pub mod trigger;

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::pipeline::{Action, ErrorPolicy, ReconcileError};

/// Where an overflowing delay lands: never, for practical purposes (as tokio's own).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Timing of the loop.
#[derive(Debug, Clone)]
pub struct LoopTiming {
    /// Resync interval: reconcile at least this often (catches drift and lost events).
    pub interval: Duration,
    /// First delay after a failed reconcile.
    pub backoff_base: Duration,
    /// Longest delay after failed reconciles (never longer than `interval`).
    pub backoff_max: Duration,
}

impl LoopTiming {
    /// The error policy of one loop with this timing.
    pub fn policy(&self) -> ErrorPolicy {
        ErrorPolicy::new(self.interval, self.backoff_base, self.backoff_max)
    }
}

/// Why the loop woke a reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// At start, or the [`Action`] of the last reconcile came due (the resync interval,
    /// a back-off): a full scan of the gateway.
    Resync,
    /// A file change (or a change of leadership): the reconcile may read only what the
    /// change touches, when it holds a view of the gateway from an earlier read.
    Trigger,
}

/// Runs `reconcile` once at start, then on every trigger and when the [`Action`] its
/// result gets from `timing`'s [`ErrorPolicy`] says, until `shutdown` is cancelled. A
/// reconcile in flight is never interrupted by the loop; the reconcile itself watches
/// `shutdown` to stop starting new work.
pub async fn run_loop<F>(
    timing: LoopTiming,
    mut triggers: mpsc::Receiver<()>,
    shutdown: CancellationToken,
    mut reconcile: F,
) where
    F: AsyncFnMut(Wake) -> Result<(), ReconcileError>,
{
    let mut policy = timing.policy();
    let mut next = Some(Instant::now());
    loop {
        let wake = tokio::select! {
            biased;
            _ = shutdown.cancelled() => return,
            Some(()) = triggers.recv() => Wake::Trigger,
            _ = sleep_until(next) => Wake::Resync,
        };
        if shutdown.is_cancelled() {
            return;
        }
        let action = match reconcile(wake).await {
            Ok(()) => policy.on_success(),
            Err(error) => policy.on_error(&error),
        };
        next = match action {
            // Flags bound the interval; checked anyway, so no duration can panic here.
            Action::Requeue(delay) => {
                let now = Instant::now();
                Some(now.checked_add(delay).unwrap_or(now + FAR_FUTURE))
            }
            Action::AwaitChange => None,
        };
    }
}

/// Sleeps until `at`, or forever when there is no such time.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn timing() -> LoopTiming {
        LoopTiming {
            interval: Duration::from_secs(60),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reconciles_at_start_then_every_interval() {
        let (_tx, rx) = trigger::channel();
        let token = CancellationToken::new();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let task = tokio::spawn(run_loop(timing(), rx, token.clone(), async move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
        token.cancel();
        task.await.expect("loop ends on cancel");
    }

    #[tokio::test(start_paused = true)]
    async fn an_interval_of_u64_max_seconds_does_not_panic() {
        let (_tx, rx) = trigger::channel();
        let token = CancellationToken::new();
        let timing = LoopTiming {
            interval: Duration::from_secs(u64::MAX),
            ..timing()
        };
        let task = tokio::spawn(run_loop(timing, rx, token.clone(), async |_| Ok(())));
        tokio::time::sleep(Duration::from_secs(1)).await;
        token.cancel();
        task.await
            .expect("the loop neither panics nor hangs on a huge interval");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_triggers_causes_one_reconcile() {
        let (tx, rx) = trigger::channel();
        let token = CancellationToken::new();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let task = tokio::spawn(run_loop(timing(), rx, token.clone(), async move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }));
        tokio::time::sleep(Duration::from_secs(1)).await;
        for _ in 0..10 {
            let _ = tx.try_send(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(count.load(Ordering::SeqCst), 2, "start + one for the burst");
        token.cancel();
        task.await.expect("loop ends");
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_instead_of_waiting_the_interval() {
        let (_tx, rx) = trigger::channel();
        let token = CancellationToken::new();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let task = tokio::spawn(run_loop(timing(), rx, token.clone(), async move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            Err(ReconcileError::Operations {
                report: Box::default(),
                kind: crate::api::ErrorKind::Transient,
            })
        }));
        tokio::time::sleep(Duration::from_secs(10)).await;
        let n = count.load(Ordering::SeqCst);
        assert!(
            n >= 3,
            "retried with backoff well before the interval, got {n}"
        );
        token.cancel();
        task.await.expect("loop ends");
    }
}
