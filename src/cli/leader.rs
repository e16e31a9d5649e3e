//! The leader-election flags of `watch`.

use std::time::Duration;

use super::duration::within;
use crate::watch::leader::LeaseConfig;

/// Several replicas of `watch`, one writer.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Leader election (several replicas)")]
pub struct LeaderArgs {
    /// Take a coordination.k8s.io/v1 Lease before reading or writing the gateway; a
    /// standby stays ready and applies nothing. Uses the in-cluster service account, or
    /// KUBECONFIG outside a cluster.
    #[arg(long)]
    pub leader_elect: bool,
    /// The Lease's name.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "apigsync",
        requires = "leader_elect"
    )]
    pub lease_name: String,
    /// The Lease's namespace [default: the pod's namespace, else "default"].
    #[arg(long, value_name = "NS", requires = "leader_elect")]
    pub lease_namespace: Option<String>,
    /// This replica's identity in the Lease [default: $HOSTNAME, the pod name].
    #[arg(long, value_name = "ID", requires = "leader_elect")]
    pub leader_identity: Option<String>,
    /// How long the Lease stays valid after its last renewal (whole seconds).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = within(Duration::from_secs(1), Duration::from_secs(3600)), requires = "leader_elect")]
    pub lease_duration: Duration,
    /// A leader that could not renew for this long stops writing; shorter than
    /// --lease-duration, so it stops before another replica may take over.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = within(Duration::from_secs(1), Duration::from_secs(3600)), requires = "leader_elect")]
    pub renew_deadline: Duration,
    /// How often the leader renews and every replica reads the Lease (whole seconds).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = within(Duration::from_secs(1), Duration::from_secs(3600)), requires = "leader_elect")]
    pub lease_retry_period: Duration,
}

/// Where a pod finds its namespace.
const POD_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

impl LeaderArgs {
    /// The Lease to take, or `None` without `--leader-elect`.
    pub fn lease(&self) -> anyhow::Result<Option<LeaseConfig>> {
        if !self.leader_elect {
            return Ok(None);
        }
        let identity = match &self.leader_identity {
            Some(id) => id.clone(),
            None => std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .ok_or_else(|| {
                    anyhow::anyhow!("--leader-elect needs an identity: set HOSTNAME (the pod name) or --leader-identity")
                })?,
        };
        let namespace = self.lease_namespace.clone().unwrap_or_else(|| {
            std::fs::read_to_string(POD_NAMESPACE_FILE)
                .map(|ns| ns.trim().to_owned())
                .ok()
                .filter(|ns| !ns.is_empty())
                .unwrap_or_else(|| "default".to_owned())
        });
        let config = LeaseConfig {
            name: self.lease_name.clone(),
            namespace,
            identity,
            lease_duration: self.lease_duration,
            renew_deadline: self.renew_deadline,
            retry_period: self.lease_retry_period,
        };
        config.validate()?;
        Ok(Some(config))
    }
}
