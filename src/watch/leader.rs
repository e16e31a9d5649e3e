//! Leader election of `watch --leader-elect`: several replicas, one writer.
//!
//! The lock is a `coordination.k8s.io/v1` Lease, taken and renewed as client-go's
//! leader election does ([`super::lease_record`]): every `retry_period` each replica
//! reads the Lease; the holder writes a new renew time, a standby takes a Lease that is
//! free or whose record it has seen unchanged for the lease duration. Writes carry the
//! read's resourceVersion, so two candidates cannot both take it.
//!
//! What the gateway bets on: every Lease attempt (read and write) is bounded by a timeout
//! shorter than the renew deadline, and this replica leads only until `renew_deadline`
//! after the start of its last successful renewal: a timer, not an answer, ends it, so a
//! Lease API that refuses, hangs or is cut off stops this replica's writes before another
//! replica may take the lease (lease 15 s, renew deadline 10 s: a 5 s margin). An
//! unreachable API is retried every `retry_period`, never fatal. On graceful shutdown
//! the lease is released, so a standby leads at its next try.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use kube::Api;
use kube::api::PostParams;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lease_record::{self, Claim};

/// Which Lease, who we are, and the timing of the election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The Lease's name.
    pub name: String,
    /// The Lease's namespace.
    pub namespace: String,
    /// This replica's identity (the pod name by default).
    pub identity: String,
    /// How long a lease stays valid after its last renewal.
    pub lease_duration: Duration,
    /// A leader that has not seen its renewal for this long stops writing.
    pub renew_deadline: Duration,
    /// How often the leader renews and every replica reads the Lease.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// Checks the timing: whole seconds (the Lease counts in seconds), and
    /// `retry_period < renew_deadline < lease_duration`.
    pub fn validate(&self) -> Result<(), LeaderError> {
        let bad = |reason: String| Err(LeaderError::Timing(reason));
        if self.lease_duration.subsec_nanos() != 0 || self.retry_period.subsec_nanos() != 0 {
            return bad("the lease duration and retry period are whole seconds".into());
        }
        if self.retry_period.is_zero() || self.retry_period >= self.renew_deadline {
            return bad(format!(
                "the retry period ({:?}) must be shorter than the renew deadline ({:?})",
                self.retry_period, self.renew_deadline
            ));
        }
        if self.renew_deadline >= self.lease_duration {
            return bad(format!(
                "the renew deadline ({:?}) must be shorter than the lease duration ({:?}): \
                 the gap is the time a leader that lost contact stops writing before another may start",
                self.renew_deadline, self.lease_duration
            ));
        }
        Ok(())
    }
}

/// Why leader election could not start.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The timing flags contradict each other.
    #[error("leader election: {0}")]
    Timing(String),
    /// No Kubernetes client configuration (in-cluster service account or KUBECONFIG).
    #[error(
        "leader election needs the Kubernetes API: no in-cluster service account and no usable KUBECONFIG: {0}"
    )]
    Config(#[source] kube::Error),
}

/// Whether this replica may write, as it changes: `true` while leading.
pub type Leading = watch::Receiver<bool>;

/// A receiver that always says "leading" (no election: a single replica).
pub fn always_leading() -> Leading {
    let (tx, rx) = watch::channel(true);
    // The sender is dropped: the value stays `true` for good.
    drop(tx);
    rx
}

/// A running election: whether this replica leads, until [`Election::release`].
pub struct Election {
    /// `true` while this replica leads.
    pub leading: Leading,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Election {
    /// Stops renewing and gives the lease up if held (one attempt, bounded by the call
    /// timeout), so a standby leads at its next try. Call it once nothing writes anymore.
    pub async fn release(self) {
        self.stop.cancel();
        if let Err(err) = self.task.await {
            tracing::warn!(%err, "leader election: the election task failed");
        }
    }
}

/// Joins the election for `config`'s Lease. Never fails for an unreachable API: this
/// replica stands by and retries until it can read the Lease.
pub async fn elect(config: LeaseConfig) -> Result<Election, LeaderError> {
    config.validate()?;
    let client = kube::Client::try_default()
        .await
        .map_err(LeaderError::Config)?;
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    Ok(start(config, api))
}

/// Runs the election of `config` through `api`.
fn start(config: LeaseConfig, api: Api<Lease>) -> Election {
    let (deadline_tx, deadline_rx) = watch::channel(None);
    let (leading_tx, leading) = watch::channel(false);
    let stop = CancellationToken::new();
    tokio::spawn(expire(config.clone(), deadline_rx, leading_tx));
    let task = tokio::spawn(campaign(config, api, deadline_tx, stop.clone()));
    Election {
        leading,
        stop,
        task,
    }
}

/// The bound of one Lease attempt (a read and maybe a write): the retry period, which
/// validation keeps shorter than the renew deadline.
fn call_timeout(config: &LeaseConfig) -> Duration {
    config.retry_period
}

/// What one attempt found.
enum Attempt {
    /// We hold the Lease as written.
    Holding(Box<Lease>),
    /// Another replica holds it.
    Standby,
}

/// Tries to take or renew the lease every retry period; publishes, after each renewal,
/// the instant this replica must stop writing. Releases the lease when `stop` is
/// cancelled.
async fn campaign(
    config: LeaseConfig,
    api: Api<Lease>,
    deadline: watch::Sender<Option<Instant>>,
    stop: CancellationToken,
) {
    let mut observer = Observer::default();
    let mut held: Option<Box<Lease>> = None;
    let mut failing: Option<String> = None;
    loop {
        let started = Instant::now();
        let attempt = tokio::time::timeout(
            call_timeout(&config),
            try_acquire_or_renew(&config, &api, &mut observer),
        )
        .await;
        let error = match attempt {
            Ok(Ok(Attempt::Holding(lease))) => {
                deadline.send_replace(Some(started + config.renew_deadline));
                held = Some(lease);
                None
            }
            Ok(Ok(Attempt::Standby)) => {
                deadline.send_replace(None);
                held = None;
                None
            }
            Ok(Err(err)) => Some(err.to_string()),
            Err(_) => Some(format!("no answer within {:?}", call_timeout(&config))),
        };
        match (&failing, &error) {
            (None, Some(err)) => {
                tracing::warn!(error = %err, lease = %config.name, "leader election: cannot use the Lease; retrying every {:?}", config.retry_period)
            }
            (Some(_), None) => {
                tracing::info!(lease = %config.name, "leader election: the Lease API answers again")
            }
            _ => {}
        }
        failing = error;
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(started + config.retry_period) => {}
        }
    }
    deadline.send_replace(None);
    if let Some(lease) = held {
        give_up(&config, &api, &lease).await;
    }
}

/// Releases the lease we hold (one bounded attempt; on failure it expires by itself).
async fn give_up(config: &LeaseConfig, api: &Api<Lease>, lease: &Lease) {
    let Some(released) = lease_record::release(lease, &config.identity, jiff::Timestamp::now())
    else {
        return;
    };
    let params = PostParams::default();
    let call = api.replace(&config.name, &params, &released);
    match tokio::time::timeout(call_timeout(config), call).await {
        Ok(Ok(_)) => tracing::info!(lease = %config.name, "leader election: lease released"),
        Ok(Err(err)) => {
            tracing::warn!(%err, lease = %config.name, "leader election: could not release the lease; it expires by itself")
        }
        Err(_) => {
            tracing::warn!(lease = %config.name, "leader election: no answer to the release; the lease expires by itself")
        }
    }
}

/// When this replica last saw the Lease record change: another holder's lease has
/// expired only once its record stayed unchanged for the lease duration by our own
/// clock (client-go's `observedTime`).
#[derive(Default)]
struct Observer {
    record: Option<LeaseSpec>,
    since: Option<Instant>,
}

impl Observer {
    fn see(&mut self, record: Option<LeaseSpec>, now: Instant) {
        if self.since.is_none() || self.record != record {
            self.record = record;
            self.since = Some(now);
        }
    }

    fn held_elsewhere(&self, config: &LeaseConfig, now: Instant) -> bool {
        let duration = self
            .record
            .as_ref()
            .and_then(|s| s.lease_duration_seconds)
            .and_then(|s| u64::try_from(s).ok())
            .map_or(config.lease_duration, Duration::from_secs);
        self.since.is_some_and(|since| now < since + duration)
    }
}

async fn try_acquire_or_renew(
    config: &LeaseConfig,
    api: &Api<Lease>,
    observer: &mut Observer,
) -> Result<Attempt, kube::Error> {
    let current = api.get_opt(&config.name).await?;
    let now = Instant::now();
    observer.see(current.as_ref().and_then(|l| l.spec.clone()), now);
    let claim = lease_record::claim(
        current.as_ref(),
        &config.identity,
        config.lease_duration,
        jiff::Timestamp::now(),
        observer.held_elsewhere(config, now),
    );
    let record = match claim {
        Claim::HeldByOther(_) => return Ok(Attempt::Standby),
        Claim::Write(record) => record,
    };
    let params = PostParams::default();
    let written = match current {
        Some(_) => api.replace(&config.name, &params, &record).await?,
        None => {
            let lease = lease_record::new_lease(&config.name, &config.namespace, *record);
            api.create(&params, &lease).await?
        }
    };
    observer.see(written.spec.clone(), now);
    Ok(Attempt::Holding(Box::new(written)))
}

/// Publishes `leading` = now is before the last published deadline; a timer ends it, so
/// no answer (or lack of one) from the Lease API is needed to stop writing.
async fn expire(
    config: LeaseConfig,
    mut deadline: watch::Receiver<Option<Instant>>,
    leading: watch::Sender<bool>,
) {
    loop {
        let until = *deadline.borrow_and_update();
        let now_leading = until.is_some_and(|d| Instant::now() < d);
        leading.send_if_modified(|was| {
            if *was == now_leading {
                return false;
            }
            if now_leading {
                tracing::info!(identity = %config.identity, lease = %config.name, "leader election: this replica leads; it reads and writes the gateway");
            } else {
                tracing::warn!(identity = %config.identity, lease = %config.name, "leader election: this replica stands by; it writes nothing");
            }
            *was = now_leading;
            true
        });
        let timer = async {
            match until {
                Some(d) if now_leading => tokio::time::sleep_until(d).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = deadline.changed() => {
                if changed.is_err() {
                    leading.send_replace(false);
                    return;
                }
            }
            () = timer => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LeaseConfig {
        LeaseConfig {
            name: "apigsync".into(),
            namespace: "apigsync".into(),
            identity: "pod-a".into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    #[test]
    fn the_kubernetes_controller_defaults_are_valid() {
        assert!(config().validate().is_ok());
    }

    #[test]
    fn a_renew_deadline_not_shorter_than_the_lease_is_refused() {
        let c = LeaseConfig {
            renew_deadline: Duration::from_secs(15),
            ..config()
        };
        let err = c.validate().expect_err("refused");
        assert!(err.to_string().contains("renew deadline"), "{err}");
    }

    #[test]
    fn fractional_lease_seconds_are_refused() {
        let c = LeaseConfig {
            lease_duration: Duration::from_millis(15_500),
            ..config()
        };
        assert!(c.validate().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn leadership_ends_at_the_renew_deadline_without_any_answer() {
        let (deadline_tx, deadline_rx) = watch::channel(None);
        let (leading_tx, mut leading) = watch::channel(false);
        tokio::spawn(expire(config(), deadline_rx, leading_tx));
        deadline_tx.send_replace(Some(Instant::now() + Duration::from_secs(10)));
        leading.wait_for(|l| *l).await.expect("leads");
        tokio::time::sleep(Duration::from_millis(9_900)).await;
        assert!(*leading.borrow(), "still within the deadline");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!*leading.borrow(), "past the deadline with no renewal");
    }

    #[tokio::test]
    async fn without_election_this_replica_always_leads() {
        let leading = always_leading();
        assert!(*leading.borrow());
    }
}
