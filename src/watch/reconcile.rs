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
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Wake;
use super::http::Health;
use super::leader::{Leading, always_leading};
use super::metrics::{ApiCallLabels, Metrics, OperationLabels, ResultLabel};
use super::report::{Found, Observers, Outcome, ReconcileReport, millis};
use super::revision;
use super::sync_mode::SyncMode;
use crate::api::refresh::{Targets, refresh};
use crate::api::rolling::{Ages, Direction, View};
use crate::api::{Client, ClientStats, error_chain};
use crate::apply::{self, Report, StepOutcome};
use crate::manifest;
use crate::model::{Desired, Live, OptionFlags, TargetConfig};
use crate::pipeline::{self, ReconcileError, Settings};
use crate::plan::{OpKind, Plan, Restriction};

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
    /// What to apply: everything, only what the files changed, or nothing.
    pub sync: SyncMode,
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
    /// The gateway as last read (a scan, then the plug-ins each apply touched re-read):
    /// a file change plans against it and re-reads only what its plan touches.
    view: Option<Live>,
    /// When each part of the last scan was read (kept when the view is dropped: nothing
    /// newer is known), for the staleness metric and the next rolling scan.
    ages: Option<Ages>,
    /// The resync interval: with a request budget, what one scan may spend.
    interval: Option<Duration>,
    /// Told of every reconcile.
    observers: Observers,
    /// What the reconcile in progress found, for its report.
    found: Found,
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
        sync: SyncMode,
        metrics: Metrics,
        health: Arc<Health>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            dir,
            client,
            env,
            overrides,
            sync,
            metrics,
            health,
            shutdown,
            leading: always_leading(),
            last_good_had_plugins: false,
            last_stats: ClientStats::default(),
            start_target: None,
            target: None,
            view: None,
            ages: None,
            interval: None,
            observers: Observers::default(),
            found: Found::default(),
        }
    }

    /// Tells `observers` of every reconcile.
    pub fn with_observers(mut self, observers: Observers) -> Self {
        self.observers = observers;
        self
    }

    /// Sizes each scan to fit `interval` under the client's request budget: when a whole
    /// read does not fit, each scan re-reads a slice of the bindings (a rolling scan).
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
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

    /// Runs one reconcile and records it in metrics, readiness and one log line. The
    /// result goes to the loop's [`ErrorPolicy`](crate::pipeline::ErrorPolicy), which
    /// decides when the next one runs.
    pub async fn reconcile(&mut self, wake: Wake) -> Result<(), ReconcileError> {
        let started = Instant::now();
        let result = self.pass(wake).await;
        if result.is_err() {
            // After a failure nothing is known of what the gateway holds now.
            self.view = None;
        }
        if let Some(ages) = &self.ages {
            self.metrics.set_oldest_read(ages.oldest());
        }
        let elapsed = started.elapsed();
        self.metrics
            .reconcile_duration
            .observe(elapsed.as_secs_f64());
        self.record_api_calls();
        let ms = elapsed.as_millis() as u64;
        let label = match &result {
            Ok(pass) => {
                self.health.set_ready();
                self.metrics
                    .last_success
                    .set(jiff::Timestamp::now().as_millisecond() as f64 / 1000.0);
                log_pass(pass, ms);
                if pass.standby { "standby" } else { "success" }
            }
            Err(error) => {
                self.log_failure(error, ms);
                match error {
                    ReconcileError::Source { .. } => "invalid_source",
                    _ => "failure",
                }
            }
        };
        self.metrics
            .reconciles
            .get_or_create(&ResultLabel {
                result: label.into(),
            })
            .inc();
        let report = self.report(&result, elapsed);
        self.metrics.observe(&report);
        self.observers.reconciled(&report);
        result.map(drop)
    }

    /// The report of the reconcile that just ended with `result`.
    fn report(
        &mut self,
        result: &Result<Pass, ReconcileError>,
        elapsed: std::time::Duration,
    ) -> ReconcileReport {
        let found = std::mem::take(&mut self.found);
        let (drift, pending, applied, failed) = found.split();
        let (outcome, error) = match result {
            Ok(pass) if pass.standby => (Outcome::Standby, None),
            Ok(pass) if pass.report.is_some() => (Outcome::Applied, None),
            Ok(pass) if pass.changes > 0 => (Outcome::Reported, None),
            Ok(_) => (Outcome::InSync, None),
            Err(ReconcileError::Operations { .. }) => (Outcome::ApplyFailed, None),
            Err(e) => (Outcome::Failed, Some(error_chain(e).replace('\n', "; "))),
        };
        let target = self.client.target();
        ReconcileReport {
            target: self.target.clone(),
            gateway: format!("{} at {}", target.instance_id, target.endpoint),
            revision: revision::of(&self.dir),
            at: jiff::Timestamp::now().to_string(),
            duration_ms: millis(elapsed),
            view_age_s: self.ages.as_ref().map(|a| a.oldest().elapsed().as_secs()),
            outcome,
            error,
            drift,
            pending,
            applied,
            failed,
        }
    }

    /// The log lines and readiness of a failed reconcile.
    fn log_failure(&self, error: &ReconcileError, ms: u64) {
        let kind = error.kind();
        match error {
            ReconcileError::Source { reason } => {
                tracing::error!(folder = %self.dir.display(), %kind, "reconcile: manifests not applied, keeping the last good state: {reason}");
                self.health
                    .set_not_ready(format!("manifest folder invalid: {reason}"));
            }
            ReconcileError::Operations { report, .. } => {
                tracing::error!(
                    done = report.done(),
                    failed = report.failed(),
                    not_attempted = report.not_attempted(),
                    duration_ms = ms,
                    %kind,
                    "reconcile: some operations failed"
                );
                self.log_failed_operations(report);
                self.health
                    .set_not_ready("operations failed in the last reconcile");
            }
            other => {
                let reason = error_chain(other).replace('\n', "; ");
                tracing::error!(duration_ms = ms, %kind, "reconcile failed: {reason}");
                self.health
                    .set_not_ready(format!("last reconcile failed: {reason}"));
            }
        }
    }

    /// One ERROR line per failed operation, with its error, plug-in, environment (of a
    /// binding), target and cause as fields.
    fn log_failed_operations(&self, report: &Report) {
        let planned = self
            .found
            .plan
            .as_ref()
            .map(Plan::index)
            .unwrap_or_default();
        let target = self.target.as_deref().unwrap_or_default();
        for op in &report.operations {
            let StepOutcome::Failed { error, kind } = &op.outcome else {
                continue;
            };
            let planned = planned.get(op.id.as_str());
            let plugin = planned.map_or("", |p| p.kind.plugin_name());
            let env = planned.map_or("", |p| match &p.kind {
                OpKind::Attach(b) | OpKind::Detach(b) => b.env_name.as_str(),
                _ => "",
            });
            let cause = planned.map_or("", |p| p.cause.as_str());
            tracing::error!(operation = %op.description, %error, %kind, plugin, env, target, cause, "operation failed");
        }
    }

    /// Reads the folder through its current symlink target, failing closed.
    fn read_source(&mut self) -> Result<Desired, ReconcileError> {
        let resolved = std::fs::canonicalize(&self.dir).map_err(|e| {
            self.metrics.source_valid.set(0);
            ReconcileError::Source {
                reason: format!("cannot read {}: {e}", self.dir.display()),
            }
        })?;
        let result = manifest::load_target(&resolved, &self.env, self.target.as_deref());
        let found = match result {
            Ok(found) => found,
            Err(e) => {
                self.metrics.source_valid.set(0);
                return Err(ReconcileError::Source {
                    reason: e.to_string().replace('\n', "; "),
                });
            }
        };
        let Some(found) = found else {
            self.metrics.source_valid.set(0);
            let what = match &self.target {
                Some(name) => format!("apigsync.yaml no longer declares target {name}"),
                None => "apigsync.yaml now declares several targets".to_owned(),
            };
            return Err(ReconcileError::Source {
                reason: format!("{what}; restart watch to change the targets it watches"),
            });
        };
        let desired = found.desired;
        if let Some(start) = &self.start_target {
            let now = desired.project.as_ref().map(|p| &p.target);
            if now.is_some_and(|t| !t.same_gateway(start)) {
                self.metrics.source_valid.set(0);
                return Err(ReconcileError::Source {
                    reason: "apigsync.yaml names another target than at start; restart watch to switch gateways".into(),
                });
            }
        }
        let empty = desired.plugins.is_empty() && desired.bindings.is_empty();
        if empty && self.last_good_had_plugins {
            self.metrics.source_valid.set(0);
            return Err(ReconcileError::Source {
                reason:
                    "the folder suddenly declares no plug-in (a half-synced or wrong checkout?)"
                        .into(),
            });
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

    async fn pass(&mut self, wake: Wake) -> Result<Pass, ReconcileError> {
        let desired = self.read_source()?;
        if !*self.leading.borrow() {
            self.view = None;
            return Ok(Pass {
                standby: true,
                ..Pass::default()
            });
        }
        let settings = Settings::new(
            &desired,
            &self.overrides,
            self.client.target(),
            self.target.as_deref(),
            &self.env,
        );
        let start = match (wake, self.view.take()) {
            (Wake::Trigger, Some(view)) => Start::Guide(view),
            (_, view) => self.scan(&settings, view).await?,
        };
        let (live, scope) = match start {
            Start::Fresh(live) => (live, None),
            Start::Guide(view) => match self.targeted(&desired, &settings, view).await? {
                Targeted::InSync(view) => {
                    self.view = Some(view);
                    return Ok(Pass::default());
                }
                Targeted::Read(live, targets) => (live, Some(targets)),
                Targeted::Full => (self.read_all(&settings).await?, None),
            },
        };
        let managed = pipeline::managed(&live, &settings.options.owner);
        self.metrics.managed_plugins.set(managed as i64);
        let restriction = scope.as_ref().map(pipeline::only).unwrap_or_default();
        let plan = pipeline::plan(&desired, &live, &settings, &restriction)?;
        if plan.is_empty() {
            self.view = Some(live);
            return Ok(Pass::default());
        }
        if plan.operations.iter().any(|op| op.cause.is_drift()) {
            self.metrics.drift_detected.inc();
        }
        log_plan(&plan);
        self.found.plan = Some(plan.clone());
        let changes = plan.operations.len();
        let Some(plan) = self.sync.to_apply(plan) else {
            self.view = Some(live);
            return Ok(Pass {
                changes,
                ..Pass::default()
            });
        };
        let report = self.apply(&plan, &desired, settings.parallelism()).await?;
        self.found.applied = Some(report.clone());
        self.count_operations(&plan, &report, managed);
        // What the apply touched is re-read, so the view stays the gateway's own answer.
        self.view = refresh(&self.client, &live, &pipeline::touched(&plan))
            .await
            .ok();
        let report = ReconcileError::of_report(report)?;
        Ok(Pass {
            changes,
            report: Some(report),
            standby: false,
        })
    }

    /// Reads the whole gateway, every binding per plug-in (stopped by a shutdown request:
    /// reads only, safe to drop).
    async fn read_all(&mut self, settings: &Settings) -> Result<Live, ReconcileError> {
        let started = Instant::now();
        let live = self
            .reading(pipeline::read(&self.client, settings.parallelism()))
            .await?;
        self.ages = Some(Ages::whole(Direction::PerPlugin, started, &live));
        Ok(live)
    }

    /// The interval's scan: the lists, and the bindings of every plug-in (or API), or of
    /// those that fit the interval's request budget, least recently read first (after the
    /// `earlier` view). A view wholly read now, per plug-in, is acted on; any other (parts
    /// from earlier scans, or read per API) only guides a targeted read.
    async fn scan(
        &mut self,
        settings: &Settings,
        earlier: Option<Live>,
    ) -> Result<Start, ReconcileError> {
        let earlier = earlier.zip(self.ages.clone()).map(|(live, ages)| View {
            live,
            ages,
            whole: false,
        });
        let fits = self.fits();
        let read = pipeline::read_view(&self.client, settings.parallelism(), earlier, fits);
        let view = self.reading(read).await?;
        if !view.whole {
            tracing::info!(
                parts = view.ages.parts(),
                direction = ?view.ages.direction,
                oldest_s = view.ages.oldest().elapsed().as_secs(),
                "rolling scan: the lists and the bindings that fit the request budget were read"
            );
        }
        self.ages = Some(view.ages.clone());
        Ok(
            if view.whole && view.ages.direction == Direction::PerPlugin {
                Start::Fresh(view.live)
            } else {
                Start::Guide(view.live)
            },
        )
    }

    /// Runs the gateway read `read`, stopped by a shutdown request (reads only, safe to drop).
    async fn reading<T>(
        &self,
        read: impl Future<Output = Result<T, ReconcileError>>,
    ) -> Result<T, ReconcileError> {
        tokio::select! {
            result = read => result,
            () = self.shutdown.cancelled() => {
                Err(ReconcileError::Cancelled("shutdown requested while reading the gateway"))
            }
        }
    }

    /// The calls one interval holds under the client's request budget (`None`: no budget).
    fn fits(&self) -> Option<usize> {
        let spacing = self.client.options().max_rate?.spacing();
        let calls = self.interval?.as_nanos() / spacing.as_nanos().max(1);
        Some(usize::try_from(calls).unwrap_or(usize::MAX))
    }

    /// A file change against the `view` of an earlier read: plans against it, and re-reads
    /// only what that plan touches. Anything the view cannot answer (a plan error, e.g. an
    /// API published since) asks for a full read instead.
    async fn targeted(
        &self,
        desired: &Desired,
        settings: &Settings,
        view: Live,
    ) -> Result<Targeted, ReconcileError> {
        let plan = match pipeline::plan(desired, &view, settings, &Restriction::default()) {
            Ok(plan) => plan,
            Err(_) => return Ok(Targeted::Full),
        };
        if plan.is_empty() {
            return Ok(Targeted::InSync(view));
        }
        let targets = pipeline::touched(&plan);
        let live = refresh(&self.client, &view, &targets)
            .await
            .map_err(|source| pipeline::read_error(&self.client, source))?;
        tracing::debug!(
            plugins = targets.names.len(),
            apis = targets.apis.len(),
            "targeted read of what the file change touches"
        );
        Ok(Targeted::Read(live, targets))
    }

    /// Executes `plan`; losing the lease stops it: no new operation starts, and those not
    /// yet answered are dropped (the fence).
    async fn apply(
        &self,
        plan: &Plan,
        desired: &Desired,
        parallelism: usize,
    ) -> Result<Report, ReconcileError> {
        let stop = self.shutdown.child_token();
        let lost = CancellationToken::new();
        let mut leading = self.leading.clone();
        let (stopping, fencing) = (stop.clone(), lost.clone());
        let fence = tokio::spawn(async move {
            if leading.wait_for(|l| !*l).await.is_ok() {
                tracing::warn!(
                    "leadership lost during an apply: no new operation starts, those not answered are dropped"
                );
                fencing.cancel();
                stopping.cancel();
            }
        });
        let report = pipeline::execute(
            plan,
            &self.client,
            &self.env,
            Some(desired),
            parallelism,
            &stop,
            Some(&lost),
            |_| {},
        )
        .await;
        fence.abort();
        report
    }

    /// Counts the operations of an apply by kind and result, and the managed plug-ins after it.
    fn count_operations(&self, plan: &Plan, report: &Report, managed_before: usize) {
        let mut managed = managed_before as i64;
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
                    kind: op.kind.verb().into(),
                    result: result.into(),
                })
                .inc();
        }
        self.metrics.managed_plugins.set(managed);
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

/// The log line of a reconcile that succeeded.
fn log_pass(pass: &Pass, ms: u64) {
    match &pass.report {
        Some(r) => tracing::info!(
            changes = pass.changes,
            done = r.done(),
            duration_ms = ms,
            "reconcile: applied"
        ),
        None if pass.standby => tracing::debug!(
            duration_ms = ms,
            "reconcile: standby, the leader reconciles"
        ),
        None if pass.changes > 0 => tracing::info!(
            changes = pass.changes,
            duration_ms = ms,
            "reconcile: drift reported, nothing changed"
        ),
        None => tracing::info!(duration_ms = ms, "reconcile: in sync"),
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
            tracing::info!(operation = %apply::describe(op), cause = %op.cause, %fields, "drift");
        } else {
            tracing::info!(operation = %apply::describe(op), "change from the files");
        }
    }
}

/// What a reconcile plans from.
enum Start {
    /// The gateway read now, whole and per plug-in: acted on.
    Fresh(Live),
    /// A view that only says what to re-read (that of a file change, or a scan with parts
    /// from earlier scans or read per API).
    Guide(Live),
}

/// What a targeted read found.
enum Targeted {
    /// The files ask for nothing the view lacks: no call was needed.
    InSync(Live),
    /// The view with what the change touches re-read, and what that is.
    Read(Live, Targets),
    /// The view cannot answer: read everything.
    Full,
}
