//! Runs a set of steps with dependencies: independent steps in parallel up to a
//! limit, each step at most once ("one attempt"), dependents of a failed step
//! not attempted. Knows nothing about plans or HTTP: the caller maps steps to calls.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

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
/// `shutdown` is cancelled no new step starts; steps in flight finish.
/// Returns one outcome per step, in step order.
pub async fn run<F, Fut>(
    deps: &[Vec<usize>],
    parallelism: usize,
    shutdown: &CancellationToken,
    mut run: F,
) -> Vec<StepOutcome>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let parallelism = parallelism.max(1);
    let mut outcomes: BTreeMap<usize, StepOutcome> = BTreeMap::new();
    let mut started: BTreeSet<usize> = BTreeSet::new();
    let mut running = JoinSet::new();
    loop {
        skip_dependents_of_failures(deps, &mut outcomes, &started);
        if !shutdown.is_cancelled() {
            for (i, step_deps) in deps.iter().enumerate() {
                if running.len() >= parallelism {
                    break;
                }
                let ready = !started.contains(&i)
                    && !outcomes.contains_key(&i)
                    && step_deps
                        .iter()
                        .all(|d| matches!(outcomes.get(d), Some(StepOutcome::Done)));
                if ready {
                    started.insert(i);
                    let fut = run(i);
                    running.spawn(async move { (i, fut.await) });
                }
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((i, Ok(()))) => {
                outcomes.insert(i, StepOutcome::Done);
            }
            Ok((i, Err(error))) => {
                outcomes.insert(i, StepOutcome::Failed { error });
            }
            Err(join_error) => {
                // A panicking step: find which one by elimination below.
                tracing::error!(%join_error, "a step panicked");
            }
        }
    }
    (0..deps.len())
        .map(|i| {
            outcomes
                .remove(&i)
                .unwrap_or_else(|| StepOutcome::NotAttempted {
                    reason: if shutdown.is_cancelled() {
                        "shutdown requested".into()
                    } else if started.contains(&i) {
                        "the step panicked".into()
                    } else {
                        "a step it depends on did not complete".into()
                    },
                })
        })
        .collect()
}

fn skip_dependents_of_failures(
    deps: &[Vec<usize>],
    outcomes: &mut BTreeMap<usize, StepOutcome>,
    started: &BTreeSet<usize>,
) {
    loop {
        let mut changed = false;
        for (i, ds) in deps.iter().enumerate() {
            if started.contains(&i) || outcomes.contains_key(&i) {
                continue;
            }
            if let Some(d) = ds
                .iter()
                .find(|d| matches!(outcomes.get(d), Some(o) if *o != StepOutcome::Done))
            {
                outcomes.insert(
                    i,
                    StepOutcome::NotAttempted {
                        reason: format!("depends on step {d}, which did not complete"),
                    },
                );
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn runs_in_dependency_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let o = order.clone();
        let out = run(&deps, 4, &CancellationToken::new(), move |i| {
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
    async fn a_failure_skips_only_its_dependents() {
        let deps = vec![vec![], vec![0], vec![], vec![2]];
        let out = run(&deps, 2, &CancellationToken::new(), |i| async move {
            if i == 0 { Err("boom".into()) } else { Ok(()) }
        })
        .await;
        assert_eq!(
            out[0],
            StepOutcome::Failed {
                error: "boom".into()
            }
        );
        assert!(matches!(out[1], StepOutcome::NotAttempted { .. }));
        assert_eq!(out[2], StepOutcome::Done);
        assert_eq!(out[3], StepOutcome::Done);
    }

    #[tokio::test]
    async fn never_exceeds_the_parallelism() {
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let deps = vec![vec![]; 20];
        let (n, p) = (now.clone(), peak.clone());
        run(&deps, 3, &CancellationToken::new(), move |_| {
            let (n, p) = (n.clone(), p.clone());
            async move {
                let cur = n.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(cur, Ordering::SeqCst);
                tokio::task::yield_now().await;
                n.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .await;
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }

    #[tokio::test]
    async fn shutdown_starts_nothing_new() {
        let token = CancellationToken::new();
        token.cancel();
        let out = run(&[vec![], vec![]], 2, &token, |_| async { Ok(()) }).await;
        assert!(
            out.iter()
                .all(|o| matches!(o, StepOutcome::NotAttempted { .. }))
        );
    }
}
