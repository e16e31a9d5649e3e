//! Runs a set of steps with dependencies: independent steps in parallel up to a
//! limit, each step at most once ("one attempt"), dependents of a failed step
//! not attempted. Knows nothing about plans or HTTP: the caller maps steps to calls.
//!
//! The dependency graph is the only order: a step starts as soon as its own
//! dependencies are done, never waiting for a stage. The scheduler is linear in
//! steps plus dependencies: in-degree counts, a list of dependents per step and
//! a ready queue, so 100,000 operations cost no more than 10 times 10,000.

use std::collections::{HashMap, VecDeque};
use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::ErrorKind;

/// Why a step failed: the message a user reads, and its kind for metrics and back-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// Why, as the user should read it.
    pub message: String,
    /// What kind of failure it is.
    pub kind: ErrorKind,
}

impl StepError {
    /// A failure of `kind` that reads `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind,
        }
    }
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepOutcome {
    /// The step ran and succeeded.
    Done,
    /// The step ran and failed.
    Failed {
        /// Why, as the user should read it.
        error: String,
        /// What kind of failure it is.
        kind: ErrorKind,
    },
    /// The step was not started.
    NotAttempted {
        /// Why not (a failed dependency, or shutdown).
        reason: String,
    },
}

/// Runs steps `0..deps.len()`; `deps[i]` lists the steps that must be done before `i`.
///
/// `run(i)` performs step `i`. At most `parallelism` steps run at once. When
/// `shutdown` is cancelled no new step starts; steps in flight finish. A step
/// whose dependency failed is not attempted, and its reason names the failed
/// step by `name(failed)` (e.g. the operation id). Returns one outcome per step,
/// in step order.
pub async fn run<F, Fut>(
    deps: &[Vec<usize>],
    parallelism: usize,
    shutdown: &CancellationToken,
    name: impl Fn(usize) -> String,
    mut run: F,
) -> Vec<StepOutcome>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), StepError>> + Send + 'static,
{
    let mut graph = Graph::new(deps);
    let parallelism = parallelism.max(1);
    let mut running = JoinSet::new();
    let mut task_step: HashMap<tokio::task::Id, usize> = HashMap::new();
    loop {
        while running.len() < parallelism && !shutdown.is_cancelled() {
            let Some(i) = graph.ready.pop_front() else {
                break;
            };
            let fut = run(i);
            let handle = running.spawn(async move { (i, fut.await) });
            task_step.insert(handle.id(), i);
        }
        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        let (i, result) = match joined {
            Ok((id, (i, result))) => {
                task_step.remove(&id);
                (i, result)
            }
            Err(join_error) => {
                tracing::error!(%join_error, "a step panicked");
                let Some(i) = task_step.remove(&join_error.id()) else {
                    continue;
                };
                (
                    i,
                    Err(StepError::new(ErrorKind::Transient, "the step panicked")),
                )
            }
        };
        match result {
            Ok(()) => graph.done(i),
            Err(StepError { message, kind }) => {
                graph.outcomes[i] = Some(StepOutcome::Failed {
                    error: message,
                    kind,
                });
                graph.skip_dependents(i, &name);
            }
        }
    }
    let cancelled = shutdown.is_cancelled();
    graph
        .outcomes
        .into_iter()
        .map(|outcome| {
            outcome.unwrap_or_else(|| StepOutcome::NotAttempted {
                reason: if cancelled {
                    "shutdown requested".into()
                } else {
                    "its dependencies form a cycle or name an unknown step".into()
                },
            })
        })
        .collect()
}

/// The scheduler's bookkeeping: each step's count of unfinished dependencies, its
/// dependents, the steps ready to start and the outcomes so far.
struct Graph {
    waiting_on: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: VecDeque<usize>,
    outcomes: Vec<Option<StepOutcome>>,
}

impl Graph {
    fn new(deps: &[Vec<usize>]) -> Self {
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        let mut waiting_on = vec![0; n];
        for (i, step_deps) in deps.iter().enumerate() {
            for &d in step_deps {
                // An unknown step never completes: `i` waits forever and is reported.
                waiting_on[i] += 1;
                if let Some(list) = dependents.get_mut(d) {
                    list.push(i);
                }
            }
        }
        let ready = (0..n).filter(|&i| waiting_on[i] == 0).collect();
        Self {
            waiting_on,
            dependents,
            ready,
            outcomes: vec![None; n],
        }
    }

    /// Step `i` succeeded: dependents with nothing else to wait for become ready.
    fn done(&mut self, i: usize) {
        self.outcomes[i] = Some(StepOutcome::Done);
        for &dependent in &self.dependents[i] {
            self.waiting_on[dependent] -= 1;
            if self.waiting_on[dependent] == 0 && self.outcomes[dependent].is_none() {
                self.ready.push_back(dependent);
            }
        }
    }

    /// Step `failed` did not succeed: every step that depends on it, directly or
    /// through others, is not attempted, and says which step failed.
    fn skip_dependents(&mut self, failed: usize, name: &impl Fn(usize) -> String) {
        let reason = format!("depends on {}, which failed", name(failed));
        let mut stack = self.dependents[failed].clone();
        while let Some(i) = stack.pop() {
            if self.outcomes[i].is_some() {
                continue;
            }
            self.outcomes[i] = Some(StepOutcome::NotAttempted {
                reason: reason.clone(),
            });
            stack.extend_from_slice(&self.dependents[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::*;

    fn label(i: usize) -> String {
        format!("op-{i}")
    }

    #[tokio::test]
    async fn runs_in_dependency_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let o = order.clone();
        let out = run(&deps, 4, &CancellationToken::new(), label, move |i| {
            let o = o.clone();
            async move {
                o.lock().expect("lock").push(i);
                Ok(())
            }
        })
        .await;
        assert!(out.iter().all(|x| *x == StepOutcome::Done));
        let order = order.lock().expect("lock").clone();
        let pos = |x| order.iter().position(|&y| y == x).expect("ran");
        assert!(pos(0) < pos(1) && pos(1) < pos(2));
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents_and_names_the_failed_step() {
        let deps = vec![vec![], vec![0], vec![], vec![2], vec![1]];
        let out = run(&deps, 2, &CancellationToken::new(), label, |i| async move {
            if i == 0 {
                Err(StepError::new(ErrorKind::Rejected, "boom"))
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(
            out[0],
            StepOutcome::Failed {
                error: "boom".into(),
                kind: ErrorKind::Rejected,
            }
        );
        let skipped = StepOutcome::NotAttempted {
            reason: "depends on op-0, which failed".into(),
        };
        assert_eq!(out[1], skipped);
        assert_eq!(out[4], skipped, "a transitive dependent names the root");
        assert_eq!(out[2], StepOutcome::Done);
        assert_eq!(out[3], StepOutcome::Done);
    }

    #[tokio::test]
    async fn a_cycle_is_not_attempted() {
        let out = run(
            &[vec![1], vec![0], vec![]],
            2,
            &CancellationToken::new(),
            label,
            |_| async { Ok(()) },
        )
        .await;
        assert!(matches!(out[0], StepOutcome::NotAttempted { .. }));
        assert!(matches!(out[1], StepOutcome::NotAttempted { .. }));
        assert_eq!(out[2], StepOutcome::Done);
    }

    /// Runs 20 independent steps that each hold for a second of paused time, and
    /// returns the most that were in flight at once.
    async fn peak_in_flight(parallelism: usize) -> usize {
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let deps = vec![vec![]; 20];
        let (n, p) = (now.clone(), peak.clone());
        let out = run(
            &deps,
            parallelism,
            &CancellationToken::new(),
            label,
            move |_| {
                let (n, p) = (n.clone(), p.clone());
                async move {
                    let cur = n.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(cur, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    n.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }
            },
        )
        .await;
        assert!(out.iter().all(|o| *o == StepOutcome::Done));
        peak.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn peak_in_flight_reaches_the_parallelism_and_never_exceeds_it() {
        assert_eq!(peak_in_flight(3).await, 3);
        assert_eq!(peak_in_flight(1).await, 1);
        assert_eq!(peak_in_flight(8).await, 8);
    }

    #[tokio::test]
    async fn shutdown_starts_nothing_new() {
        let token = CancellationToken::new();
        token.cancel();
        let out = run(&[vec![], vec![]], 2, &token, label, |_| async { Ok(()) }).await;
        assert!(
            out.iter()
                .all(|o| matches!(o, StepOutcome::NotAttempted { .. }))
        );
    }

    /// The wall time of `n` independent steps and of an `n`-step chain.
    async fn run_both(n: usize) -> Duration {
        let started = Instant::now();
        let independent = vec![vec![]; n];
        let chain: Vec<Vec<usize>> = (0..n)
            .map(|i| if i == 0 { vec![] } else { vec![i - 1] })
            .collect();
        for deps in [independent, chain] {
            let out = run(&deps, 8, &CancellationToken::new(), label, |_| async {
                Ok(())
            })
            .await;
            assert!(out.iter().all(|o| *o == StepOutcome::Done));
        }
        started.elapsed()
    }

    /// Linear, not quadratic: ten times the steps cost about ten times the time
    /// (the bound is generous, 40 times plus two seconds; quadratic would be minutes).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_thousand_steps_cost_about_ten_times_ten_thousand() {
        let mut small = Duration::MAX;
        for _ in 0..3 {
            small = small.min(run_both(10_000).await);
        }
        let large = run_both(100_000).await;
        assert!(
            large <= small * 40 + Duration::from_secs(2),
            "10,000 steps: {small:?}; 100,000 steps: {large:?}"
        );
    }
}
