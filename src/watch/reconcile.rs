//! One reconcile of watch mode: read the folder, read the gateway, diff, then
//! heal (apply) or report. Level-triggered: it never knows why it runs.
//!
//! Fail closed: an unreadable or invalid folder, or one that suddenly declares
//! nothing while the last good read declared plug-ins, or that names another
//! target than at start, applies nothing and flips readiness; the next good read
//! recovers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::ValueEnum;
use tokio_util::sync::CancellationToken;

use super::Outcome;
use super::http::Health;
use super::leader::{Leading, always_leading};
use super::metrics::{ApiCallLabels, Metrics, OperationLabels, ResultLabel};
use crate::api::{Client, ClientStats, error_chain, fetch_live};
use crate::apply::{self, ApplyOptions, Report, StepOutcome};
use crate::manifest;
use crate::model::{Desired, OptionFlags, TargetConfig};
use crate::plan::{self, DiffOptions, OpKind, Plan};

/// What to do when the gateway differs from the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DriftPolicy {
    /// Apply the plan: undo console edits, apply new commits.
    #[default]
    Heal,
    /// Only log and count the difference; change nothing.
    Report,
}

/// Everything a reconcile needs, decided once at start.
pub struct Reconciler {
    /// The manifest folder (may be or sit below a symlink that git-sync swaps).
    pub dir: PathBuf,
    /// The client of the target instance.
    pub client: Client,
    /// Variables for `${VAR}` substitution.
    pub env: BTreeMap<String, String>,
    /// Options from flags, applied to the project file's on each read
    /// ([`crate::model::Options::with_flags`]); parallelism is decided once at start.
    pub overrides: OptionFlags,
    /// Heal or report.
    pub drift: DriftPolicy,
    /// Metrics to update.
    pub metrics: Metrics,
    /// Readiness to update.
    pub health: Arc<Health>,
    /// Cancelled on SIGTERM: the executor starts no new operation.
    pub shutdown: CancellationToken,
    /// Whether this replica may read and write the gateway (leader election).
    leading: Leading,
    /// Whether the last good read declared plug-ins (for the "suddenly empty" guard).
    last_good_had_plugins: bool,
    last_stats: ClientStats,
    start_target: Option<TargetConfig>,
    /// The target's name under `targets:` (`None` for the single `target:`).
    target: Option<String>,
}

/// The result of one pass, for the log line.
#[derive(Debug, Default)]
struct Pass {
    changes: usize,
    report: Option<Report>,
    /// Not the leader: the gateway was neither read nor written.
    standby: bool,
}

impl Reconciler {
    /// A reconciler with no last good state yet.
    #[allow(clippy::too_many_arguments)] // one constructor for a value of nine plain parts
    pub fn new(
        dir: PathBuf,
        client: Client,
        env: BTreeMap<String, String>,
        overrides: OptionFlags,
        drift: DriftPolicy,
        metrics: Metrics,
        health: Arc<Health>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            dir,
            client,
            env,
            overrides,
            drift,
            metrics,
            health,
            shutdown,
            leading: always_leading(),
            last_good_had_plugins: false,
            last_stats: ClientStats::default(),
            start_target: None,
            target: None,
        }
    }

    /// Reconciles target `name` of apigsync.yaml's `targets:` (with its vars and documents).
    pub fn for_target(mut self, name: Option<String>) -> Self {
        self.target = name;
        self
    }

    /// Fails closed when a later read of apigsync.yaml names another target than
    /// `target` (the one the client connected to): switching gateways needs a restart.
    pub fn pin_target(mut self, target: TargetConfig) -> Self {
        self.start_target = Some(target);
        self
    }

    /// Reads and writes the gateway only while `leading` says so; a standby
    /// reconcile reads the folder (readiness follows it) and nothing else.
    pub fn with_leadership(mut self, leading: Leading) -> Self {
        self.leading = leading;
        self
    }

    /// Runs one reconcile and records it in metrics, readiness and one log line.
    pub async fn reconcile(&mut self) -> Outcome {
        let started = Instant::now();
        let result = self.pass().await;
        let elapsed = started.elapsed();
        self.metrics
            .reconcile_duration
            .observe(elapsed.as_secs_f64());
        self.record_api_calls();
        let ms = elapsed.as_millis() as u64;
        let (label, outcome) = match &result {
            Ok(pass) => {
                self.health.set_ready();
                self.metrics
                    .last_success
                    .set(jiff::Timestamp::now().as_millisecond() as f64 / 1000.0);
                match &pass.report {
                    Some(r) if !r.is_success() => {
                        tracing::warn!(
                            changes = pass.changes,
                            done = r.done(),
                            failed = r.failed(),
                            not_attempted = r.not_attempted(),
                            duration_ms = ms,
                            "reconcile: some operations failed"
                        );
                        for op in &r.operations {
                            if let StepOutcome::Failed { error } = &op.outcome {
                                tracing::warn!(operation = %op.description, %error, "operation failed");
                            }
                        }
                        self.health
                            .set_not_ready("operations failed in the last reconcile");
                        ("failure", Outcome::Failure)
                    }
                    Some(r) => {
                        tracing::info!(
                            changes = pass.changes,
                            done = r.done(),
                            duration_ms = ms,
                            "reconcile: applied"
                        );
                        ("success", Outcome::Success)
                    }
                    None if pass.standby => {
                        tracing::debug!(
                            duration_ms = ms,
                            "reconcile: standby, the leader reconciles"
                        );
                        ("standby", Outcome::Success)
                    }
                    None if pass.changes > 0 => {
                        tracing::info!(
                            changes = pass.changes,
                            duration_ms = ms,
                            "reconcile: drift reported, nothing changed (--drift report)"
                        );
                        ("success", Outcome::Success)
                    }
                    None => {
                        tracing::info!(duration_ms = ms, "reconcile: in sync");
                        ("success", Outcome::Success)
                    }
                }
            }
            Err(PassError::Source(reason)) => {
                tracing::error!(folder = %self.dir.display(), "reconcile: manifests not applied, keeping the last good state: {reason}");
                self.health
                    .set_not_ready(format!("manifest folder invalid: {reason}"));
                ("invalid_source", Outcome::Failure)
            }
            Err(PassError::Other(reason)) => {
                tracing::error!(duration_ms = ms, "reconcile failed: {reason}");
                self.health
                    .set_not_ready(format!("last reconcile failed: {reason}"));
                ("failure", Outcome::Failure)
            }
        };
        self.metrics
            .reconciles
            .get_or_create(&ResultLabel {
                result: label.into(),
            })
            .inc();
        outcome
    }

    /// Reads the folder through its current symlink target, failing closed.
    fn read_source(&mut self) -> Result<Desired, PassError> {
        let resolved = std::fs::canonicalize(&self.dir).map_err(|e| {
            self.metrics.source_valid.set(0);
            PassError::Source(format!("cannot read {}: {e}", self.dir.display()))
        })?;
        let result = manifest::load_target(&resolved, &self.env, self.target.as_deref());
        let found = match result {
            Ok(found) => found,
            Err(e) => {
                self.metrics.source_valid.set(0);
                return Err(PassError::Source(e.to_string().replace('\n', "; ")));
            }
        };
        let Some(found) = found else {
            self.metrics.source_valid.set(0);
            let what = match &self.target {
                Some(name) => format!("apigsync.yaml no longer declares target {name}"),
                None => "apigsync.yaml now declares several targets".to_owned(),
            };
            return Err(PassError::Source(format!(
                "{what}; restart watch to change the targets it watches"
            )));
        };
        let desired = found.desired;
        if let Some(start) = &self.start_target {
            let now = desired.project.as_ref().map(|p| &p.target);
            if now.is_some_and(|t| !t.same_gateway(start)) {
                self.metrics.source_valid.set(0);
                return Err(PassError::Source(
                    "apigsync.yaml names another target than at start; restart watch to switch gateways".into(),
                ));
            }
        }
        let empty = desired.plugins.is_empty() && desired.bindings.is_empty();
        if empty && self.last_good_had_plugins {
            self.metrics.source_valid.set(0);
            return Err(PassError::Source(
                "the folder suddenly declares no plug-in (a half-synced or wrong checkout?)".into(),
            ));
        }
        for warning in &desired.warnings {
            tracing::warn!(%warning, "manifest warning");
        }
        self.metrics.source_valid.set(1);
        self.metrics
            .desired_plugins
            .set(desired.plugins.len() as i64);
        self.last_good_had_plugins = !desired.plugins.is_empty();
        Ok(desired)
    }

    async fn pass(&mut self) -> Result<Pass, PassError> {
        let desired = self.read_source()?;
        if !*self.leading.borrow() {
            return Ok(Pass {
                standby: true,
                ..Pass::default()
            });
        }
        let options = desired
            .project
            .as_ref()
            .map(|p| p.options.clone())
            .unwrap_or_default()
            .with_flags(&self.overrides);
        // Reads only: safe to drop mid-way when a shutdown is requested.
        let live = tokio::select! {
            live = fetch_live(&self.client, options.parallelism) => {
                live.map_err(|e| PassError::Other(error_chain(&e)))?
            }
            () = self.shutdown.cancelled() => {
                return Err(PassError::Other("shutdown requested while reading the gateway".into()));
            }
        };
        let managed = live
            .plugins
            .iter()
            .filter(|p| {
                plan::marker::owner_of(p.remark.as_deref()).as_deref()
                    == Some(options.owner.as_str())
            })
            .count();
        self.metrics.managed_plugins.set(managed as i64);
        let target = plan::PlanTarget {
            flavour: Some(self.client.target().flavour),
            instance_id: Some(self.client.target().instance_id.clone()),
            name: self.target.clone(),
        };
        let opts = DiffOptions::new(&options, target)
            .with_marker_key(plan::MarkerKey::from_env(&self.env));
        let plan = plan::diff(&desired, &live, &opts)
            .map_err(|e| PassError::Other(e.to_string().replace('\n', "; ")))?;
        if plan.is_empty() {
            return Ok(Pass::default());
        }
        if plan.operations.iter().any(|op| op.cause.is_drift()) {
            self.metrics.drift_detected.inc();
        }
        log_plan(&plan);
        if self.drift == DriftPolicy::Report {
            return Ok(Pass {
                changes: plan.operations.len(),
                ..Pass::default()
            });
        }
        // Losing the lease stops the apply like a shutdown: no new operation starts.
        let stop = self.shutdown.child_token();
        let mut leading = self.leading.clone();
        let lost = stop.clone();
        let fence = tokio::spawn(async move {
            if leading.wait_for(|l| !*l).await.is_ok() {
                tracing::warn!("leadership lost during an apply: no new operation starts");
                lost.cancel();
            }
        });
        let report = apply::execute(
            &plan,
            &self.client,
            &self.env,
            Some(&desired),
            &ApplyOptions {
                parallelism: options.parallelism,
            },
            &stop,
            |_| {},
        )
        .await;
        fence.abort();
        let report = report.map_err(|e| PassError::Other(e.to_string()))?;
        let mut managed = managed as i64;
        for (op, outcome) in plan.operations.iter().zip(&report.operations) {
            if outcome.outcome == StepOutcome::Done {
                match op.kind {
                    OpKind::CreatePlugin { .. } => managed += 1,
                    OpKind::DeletePlugin { .. } => managed -= 1,
                    _ => {}
                }
            }
            let result = match outcome.outcome {
                StepOutcome::Done => "done",
                StepOutcome::Failed { .. } => "failed",
                StepOutcome::NotAttempted { .. } => "not_attempted",
            };
            self.metrics
                .operations
                .get_or_create(&OperationLabels {
                    kind: kind_label(&op.kind).into(),
                    result: result.into(),
                })
                .inc();
        }
        self.metrics.managed_plugins.set(managed);
        Ok(Pass {
            changes: plan.operations.len(),
            report: Some(report),
            standby: false,
        })
    }

    /// Adds the client's calls since the last reconcile to the metrics.
    fn record_api_calls(&mut self) {
        let now = self.client.stats();
        for ((op, status), count) in &now.calls_by_op_status {
            let before = self
                .last_stats
                .calls_by_op_status
                .get(&(op.clone(), *status))
                .copied()
                .unwrap_or(0);
            if *count > before {
                let status = if *status == 0 {
                    "error".to_string()
                } else {
                    status.to_string()
                };
                self.metrics
                    .api_calls
                    .get_or_create(&ApiCallLabels {
                        operation: op.clone(),
                        status,
                    })
                    .inc_by(count - before);
            }
        }
        self.metrics
            .api_retries
            .inc_by(now.retries.saturating_sub(self.last_stats.retries));
        self.last_stats = now;
    }
}

fn kind_label(kind: &OpKind) -> &'static str {
    match kind {
        OpKind::CreatePlugin { .. } => "create",
        OpKind::UpdatePlugin { .. } => "update",
        OpKind::DeletePlugin { .. } => "delete",
        OpKind::RenamePlugin { .. } => "rename",
        OpKind::Attach(_) => "attach",
        OpKind::Detach(_) => "detach",
    }
}

/// One log line per operation; drift names the fields the gateway changed (secrets only
/// by their path, never a value).
fn log_plan(plan: &Plan) {
    for op in &plan.operations {
        if op.cause.is_drift() {
            let fields = match &op.kind {
                OpKind::UpdatePlugin { changes, .. } => changes
                    .iter()
                    .map(|c| c.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            tracing::info!(operation = %apply::describe(op), cause = ?op.cause, %fields, "drift");
        } else {
            tracing::info!(operation = %apply::describe(op), "change from the files");
        }
    }
}

enum PassError {
    /// The folder could not be read or is invalid: nothing applied.
    Source(String),
    /// Reading the gateway, planning or starting the apply failed.
    Other(String),
}
