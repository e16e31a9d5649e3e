//! `apigsync watch [DIR]`: reconcile on file changes and on an interval, until SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::duration::within;
use super::leader::LeaderArgs;
use super::session::{self, GatewayArgs, ReconcileArgs, TargetSelectArgs};
use crate::manifest::PROJECT_FILE;
use crate::model::OptionFlags;
use crate::watch::http::{self, Exposed, Watched};
use crate::watch::kube_events::{EventsPoster, Pod};
use crate::watch::leader::LeaseConfig;
use crate::watch::leader::{self, always_leading};
use crate::watch::metrics::Metrics;
use crate::watch::notify::{Notifier, Sink};
use crate::watch::reconcile::Reconciler;
use crate::watch::report::Observers;
use crate::watch::status::StatusStore;
use crate::watch::sync_mode::{DriftPolicy, SyncMode};
use crate::watch::{LoopTiming, run_loop, trigger};

/// `--interval` bounds: at least a second (each reconcile lists the whole
/// gateway), at most a week (beyond it the resync catches nothing in time).
const INTERVAL: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(7 * 24 * 3600));
/// `--debounce` bounds: 10 ms to 10 minutes.
const DEBOUNCE: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(600));

/// How often to look for a folder that is not synced yet.
const SYNC_POLL: Duration = Duration::from_secs(1);

/// Waits until `dir` exists and holds its apigsync.yaml (only the folder when the flags name
/// the instance): git-sync's first clone may not have landed yet. Meanwhile /readyz says
/// not ready. False when a shutdown came first.
async fn wait_for_folder(
    dir: &Path,
    flags_name_instance: bool,
    shutdown: &CancellationToken,
) -> bool {
    let synced = || dir.is_dir() && (flags_name_instance || dir.join(PROJECT_FILE).is_file());
    if synced() {
        return true;
    }
    tracing::warn!(
        folder = %dir.display(),
        "waiting for the folder and its {PROJECT_FILE} (not synced yet?); not ready until then"
    );
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(SYNC_POLL) => {}
        }
        if synced() {
            tracing::info!(folder = %dir.display(), "the folder is there");
            return true;
        }
    }
}

/// Arguments of `watch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Level-triggered, like a Kubernetes controller: every reconcile re-reads the \
whole folder and the live gateway and diffs from scratch. It runs at start, \
after each burst of file changes, and every --interval (which also catches \
console edits). Failures back off exponentially (capped at the interval).

Sync modes: --sync all (default) applies the files and undoes console edits \
(drift); --sync files applies what the files changed (a new commit) and only \
reports drift, like Argo CD's automated sync without self-heal (an operation \
needed by both runs); --sync none changes nothing and reports every \
difference. --drift heal|report is the older spelling of all|none.

Fail closed: an invalid folder, or one that suddenly declares nothing, applies \
nothing; /readyz then answers 503 until a good read. A folder that is not there \
yet (git-sync's first clone) is waited for, not ready meanwhile.

git-sync: DIR may be, or sit below, a symlink that git-sync swaps to a new \
worktree; the swap is followed and a half-updated tree is never read.

Endpoints on --listen: /metrics (Prometheus), /healthz, /readyz, and a read-only \
status page: / (HTML) and /status.json, per target the gateway, leader or \
standby, the last reconcile (when, result, duration, git revision, view age), pending \
changes and drift with fields and values (secrets masked), the last events.
SIGTERM or Ctrl-C: no new operation starts, the ones in flight finish, exit 0.

Several targets: with targets: in apigsync.yaml, one process reconciles every \
target (or those --target names), each on its own loop, interval and backoff; \
/readyz is ready when every target is, and every series of /metrics carries a \
target label.

Several replicas: with --leader-elect only the holder of a Kubernetes Lease reads \
and writes the gateway; the others stay ready and apply nothing. On SIGTERM the \
leader releases the Lease and a standby leads within a retry period; after a \
crash, within --lease-duration. A leader that cannot renew (the Kubernetes API \
refuses, hangs or is unreachable) stops writing at --renew-deadline; a replica \
that cannot reach the API waits and retries (apigsync_leader is 1 on the leader).

Example: apigsync watch /manifests/current/manifests --listen 0.0.0.0:9464 --log-format json")]
pub struct Args {
    /// The manifest folder; its apigsync.yaml names the target (or several, under targets:).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Resync interval: reconcile at least this often (e.g. 30s, 1m30s, 1h; 1s to 168h).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = within(INTERVAL.0, INTERVAL.1))]
    pub interval: Duration,
    /// What to apply: all (the files, and undo changes made on the gateway: drift), files
    /// (only what the files changed, e.g. a new commit; drift is reported, not undone), or
    /// none (report only) [default: all].
    #[arg(long, value_enum, value_name = "MODE")]
    pub sync: Option<SyncMode>,
    /// The older spelling of --sync: heal is --sync all, report is --sync none.
    #[arg(long, value_enum, value_name = "POLICY", conflicts_with = "sync")]
    pub drift: Option<DriftPolicy>,
    /// Address of the /metrics, /healthz, /readyz and status page (/, /status.json) endpoints.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    pub listen: SocketAddr,
    /// Quiet time after a file change before reconciling (bursts coalesce; 10ms to 10m).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = within(DEBOUNCE.0, DEBOUNCE.1))]
    pub debounce: Duration,
    #[command(flatten)]
    pub targets: TargetSelectArgs,
    #[command(flatten)]
    pub reconcile: ReconcileArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    #[command(flatten)]
    pub leader: LeaderArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Where to tell of drift, applies, failures and leadership changes.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Notifications")]
pub struct NotifyArgs {
    /// Post events (drift detected, apply succeeded or failed, reconcile failed,
    /// leadership gained or lost) to URL as CloudEvents 1.0 (structured JSON); a
    /// slack+https://… URL gets a Slack message. Repeatable. Each names the target, the
    /// plug-ins, the fields (old and new values, secrets masked), the cause and the
    /// folder's git revision. Delivery retries in the background, never delays a reconcile.
    #[arg(long, value_name = "URL", value_parser = Sink::parse)]
    pub notify: Vec<Sink>,
    /// Send the same drift (or failure) again only after this long; a change is sent at once.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = within(Duration::from_secs(1), Duration::from_secs(30 * 24 * 3600)))]
    pub notify_repeat: Duration,
}

impl Args {
    /// What reconciles apply: --sync, else --drift's meaning, else everything.
    pub fn sync_mode(&self) -> SyncMode {
        self.sync
            .or(self.drift.map(SyncMode::from))
            .unwrap_or_default()
    }
}

async fn shutdown_signal(token: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM; Ctrl-C still works");
                let _ = tokio::signal::ctrl_c().await;
                token.cancel();
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping after the operations in flight (signal again to stop at once)"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping after the operations in flight (signal again to stop at once)"),
        }
        token.cancel();
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::warn!("second signal: stopping now");
        std::process::exit(130);
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        token.cancel();
    }
}

/// Keeps `apigsync_leader` current, tells the observers of each change, and reconciles at
/// once on becoming the leader.
async fn follow_leadership(
    mut leading: leader::Leading,
    metrics: Vec<Metrics>,
    triggers: Vec<tokio::sync::mpsc::Sender<()>>,
    observers: Observers,
) {
    // Every loop reconciles at start anyway: only a later change to leading triggers one
    // (a trigger at start could land after the first reconcile and cause a second).
    let mut was: Option<bool> = None;
    loop {
        let now = *leading.borrow_and_update();
        for m in &metrics {
            m.leader.set(i64::from(now));
        }
        if let Some(was) = was
            && was != now
        {
            observers.leadership(now);
            if now {
                for trigger in &triggers {
                    let _ = trigger.try_send(());
                }
            }
        }
        was = Some(now);
        if leading.changed().await.is_err() {
            return;
        }
    }
}

/// The observers of every reconcile: the notifier, when --notify names a URL, and the
/// Kubernetes Events poster, in a cluster.
async fn observers(
    args: &Args,
    identity: &str,
    lease: Option<&LeaseConfig>,
    exposed: &Exposed,
) -> Observers {
    let mut observers = Observers::default();
    if !args.notify.notify.is_empty() {
        let notifier = Notifier::start(
            args.notify.notify.clone(),
            args.notify.notify_repeat,
            identity.to_owned(),
            exposed.process.notifications.clone(),
        );
        observers = observers.with(Arc::new(notifier));
    }
    if let Some(pod) = this_pod(lease) {
        match kube::Client::try_default().await {
            Ok(client) => {
                let poster = EventsPoster::start(client, pod, args.notify.notify_repeat);
                observers = observers.with(Arc::new(poster));
            }
            Err(err) => {
                tracing::warn!(%err, "no Kubernetes Events: no in-cluster service account and no usable KUBECONFIG")
            }
        }
    }
    observers
}

/// This replica's Pod, in a cluster: the downward API's POD_NAME and POD_NAMESPACE, else
/// the leader election's identity and namespace.
fn this_pod(lease: Option<&LeaseConfig>) -> Option<Pod> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let name = var("POD_NAME").or_else(|| lease.map(|l| l.identity.clone()))?;
    let namespace = var("POD_NAMESPACE")
        .or_else(|| lease.map(|l| l.namespace.clone()))
        .unwrap_or_else(|| "default".to_owned());
    Some(Pod { name, namespace })
}

/// Runs `watch` until a shutdown signal: one reconcile loop per target, in one process.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let env = session::process_env();
    let lease = args.leader.lease()?;
    let identity = lease
        .as_ref()
        .map(|l| l.identity.clone())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "watch".to_owned());
    let shutdown = CancellationToken::new();
    tokio::spawn(shutdown_signal(shutdown.clone()));
    let election = match &lease {
        Some(lease) => Some(leader::elect(lease.clone()).await?),
        None => None,
    };
    let leading = election
        .as_ref()
        .map_or_else(always_leading, |e| e.leading.clone());

    let status = StatusStore::new(&identity, *leading.borrow());
    let exposed = Exposed::new(vec![Watched::starting(None)]).with_status(status.clone());
    let observers = observers(args, &identity, lease.as_ref(), &exposed)
        .await
        .with(Arc::new(status));
    let (addr, server) = http::serve(args.listen, exposed.clone(), shutdown.clone())
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;

    let flags_name_instance = args.gateway.target.instance_id.is_some();
    if !wait_for_folder(&args.dir, flags_name_instance, &shutdown).await {
        let _ = server.await;
        release(election).await;
        tracing::info!("watch stopped before the folder was synced");
        return Ok(ExitCode::SUCCESS);
    }
    let project = session::load_project(&args.dir, &env)
        .with_context(|| format!("reading the project file of {}", args.dir.display()))?;
    let targets = session::select_targets(&project, &args.targets, &args.dir)?;
    let several = targets.len() > 1;
    let mut loops = Vec::new();
    for target in &targets {
        let narrowed = project.for_target(target);
        let conn = args
            .gateway
            .connect_to(&narrowed, several, &args.dir)
            .instrument(session::target_span(target.name.as_deref()))
            .await
            .with_context(|| format!("target {}", target.label()))?;
        let watched = Watched::starting(target.name.clone());
        conn.client.observe_calls(watched.metrics.call_observer());
        let (tx, rx) = trigger::channel();
        let overrides = OptionFlags {
            parallelism: Some(session::parallelism(&args.reconcile, &narrowed.options)),
            ..args.reconcile.flags()
        };
        let reconciler = Reconciler::new(
            args.dir.clone(),
            conn.client.clone(),
            env.clone(),
            overrides,
            args.sync_mode(),
            watched.metrics.clone(),
            watched.health.clone(),
            shutdown.clone(),
        )
        .for_target(target.name.clone())
        .with_interval(args.interval)
        .pin_target(narrowed.target.clone())
        .with_leadership(leading.clone())
        .with_observers(observers.clone());
        loops.push(TargetLoop {
            target: target.clone(),
            watched,
            conn,
            tx,
            rx,
            reconciler,
        });
    }
    exposed.set(loops.iter().map(|l| l.watched.clone()).collect());
    tokio::spawn(follow_leadership(
        leading.clone(),
        loops.iter().map(|l| l.watched.metrics.clone()).collect(),
        loops.iter().map(|l| l.tx.clone()).collect(),
        observers.clone(),
    ));
    let files = trigger::watch_folder(
        &args.dir,
        args.debounce,
        loops.iter().map(|l| l.tx.clone()).collect(),
    )
    .with_context(|| format!("cannot watch {}", args.dir.display()))?;
    let watching = files.watched();
    // The loops run together in this task (not spawned), so they can share the file
    // trigger by reference; none holds it across an await.
    let files = std::cell::RefCell::new(files);
    for l in &loops {
        let target = l.conn.client.target();
        tracing::info!(
            folder = %args.dir.display(),
            watching = ?watching,
            endpoints = %format!("http://{addr}"),
            target = l.target.label(),
            instance = %target.instance_id,
            gateway = %target.endpoint,
            interval = ?args.interval,
            sync = %args.sync_mode(),
            "watch started"
        );
    }
    let timing = LoopTiming {
        interval: args.interval,
        backoff_base: Duration::from_secs(1).min(args.interval),
        backoff_max: Duration::from_secs(300).min(args.interval),
    };
    let mut tasks = Vec::new();
    let mut conns = Vec::new();
    for l in loops {
        let TargetLoop {
            target,
            conn,
            rx,
            mut reconciler,
            ..
        } = l;
        conns.push(conn);
        let (timing, shutdown, files) = (timing.clone(), shutdown.clone(), &files);
        tasks.push(
            async move {
                run_loop(timing, rx, shutdown, async |wake| {
                    let outcome = reconciler.reconcile(wake).await;
                    files.borrow_mut().refresh();
                    outcome
                })
                .await;
            }
            .instrument(session::target_span(target.name.as_deref())),
        );
    }
    futures_util::future::join_all(tasks).await;
    // Nothing writes anymore: give the lease up so a standby leads at its next try.
    release(election).await;
    shutdown.cancel();
    let _ = server.await;
    for conn in conns {
        conn.close().await;
    }
    tracing::info!("watch stopped");
    Ok(ExitCode::SUCCESS)
}

/// Releases the lease, if this replica took part in an election.
async fn release(election: Option<leader::Election>) {
    if let Some(election) = election {
        election.release().await;
    }
}

/// One target's reconcile loop, before it runs.
struct TargetLoop {
    target: crate::model::NamedTarget,
    watched: Watched,
    conn: session::Connection,
    tx: tokio::sync::mpsc::Sender<()>,
    rx: tokio::sync::mpsc::Receiver<()>,
    reconciler: Reconciler,
}
