//! Leader election of `watch --leader-elect`: several replicas, one writer.
//!
//! The lock is a `coordination.k8s.io/v1` Lease taken and renewed by
//! [`kube_lease_manager`] (server-side apply: two candidates cannot both take it). That
//! crate says who holds the lease, but when it cannot reach the API server it keeps its
//! last answer, so a leader cut off from the API would go on writing after its lease
//! expired and another replica took it. A fence on top closes that gap, as client-go's
//! renew deadline does: this process leads only while its own reads of the Lease show
//! it as the holder with a renewal seen less than `renew_deadline` ago. With the
//! defaults (lease 15 s, renew deadline 10 s, a renewal every 2 s) a leader that stops
//! renewing stops writing at least 5 s before another replica may take the lease.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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
    /// The Lease could not be read or created.
    #[error("leader election: cannot use Lease {namespace}/{name}: {source}")]
    Lease {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The cause.
        #[source]
        source: kube_lease_manager::LeaseManagerError,
    },
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

/// Joins the election for `config`'s Lease and returns whether this replica leads,
/// updated as it changes, until `shutdown`; then the lease is released if held.
pub async fn elect(
    config: LeaseConfig,
    shutdown: CancellationToken,
) -> Result<Leading, LeaderError> {
    config.validate()?;
    let client = kube::Client::try_default()
        .await
        .map_err(LeaderError::Config)?;
    let duration = config.lease_duration.as_secs();
    let params = LeaseParams::new(
        config.identity.clone(),
        duration,
        duration - config.retry_period.as_secs(),
    );
    let manager = LeaseManagerBuilder::new(client.clone(), &config.name)
        .with_namespace(&config.namespace)
        .with_parameters(params)
        .build()
        .await
        .map_err(|source| LeaderError::Lease {
            namespace: config.namespace.clone(),
            name: config.name.clone(),
            source,
        })?;
    let (holder, manager_task) = manager.watch().await;
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        fence(&config, &api, holder, &tx, &shutdown).await;
        // Dropping the manager's receiver makes it release the lease, if held.
        let _ = tx.send(false);
        if let Ok(Err(err)) = manager_task.await {
            tracing::warn!(%err, "leader election: could not release the lease");
        }
    });
    Ok(rx)
}

/// Publishes `leading` = the manager says we hold the lease, and our own read of the
/// Lease confirmed a renewal within the renew deadline. Returns on `shutdown`.
async fn fence(
    config: &LeaseConfig,
    api: &Api<Lease>,
    mut holder: watch::Receiver<bool>,
    leading: &watch::Sender<bool>,
    shutdown: &CancellationToken,
) {
    let mut seen_renewal: Option<String> = None;
    let mut confirmed_at: Option<Instant> = None;
    let mut ticks = tokio::time::interval(config.retry_period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            changed = holder.changed() => {
                if changed.is_err() {
                    tracing::error!(lease = %config.name, "leader election stopped; this replica writes nothing until restarted");
                    leading.send_replace(false);
                    return;
                }
            }
            _ = ticks.tick() => {}
        }
        let asked = Instant::now();
        match api.get_opt(&config.name).await {
            Ok(lease) => {
                let spec = lease.and_then(|l| l.spec);
                let ours = spec
                    .as_ref()
                    .and_then(|s| s.holder_identity.as_deref())
                    .is_some_and(|h| h == config.identity);
                let renewal = spec.and_then(|s| s.renew_time).map(|t| t.0.to_string());
                if !ours {
                    seen_renewal = None;
                    confirmed_at = None;
                } else if renewal.is_some() && renewal != seen_renewal {
                    // Renewed since our last read: the renewal happened no earlier than
                    // the previous read, and we count it from this read's start.
                    if seen_renewal.is_some() {
                        confirmed_at = Some(asked);
                    }
                    seen_renewal = renewal;
                }
            }
            Err(err) => {
                tracing::warn!(%err, lease = %config.name, "leader election: cannot read the lease")
            }
        }
        let fresh = confirmed_at.is_some_and(|at| at.elapsed() < config.renew_deadline);
        let now_leading = *holder.borrow() && fresh;
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

    #[tokio::test]
    async fn without_election_this_replica_always_leads() {
        let leading = always_leading();
        assert!(*leading.borrow());
    }
}
