//! The Lease record of leader election, as client-go's `resourcelock` reads and writes it
//! (k8s.io/client-go/tools/leaderelection): pure functions from the record read to the
//! record to write, so the rules are tested without an API server.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

/// What a candidate may do with the record it read.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Another holder renewed within the lease duration (as observed locally): wait.
    HeldByOther(String),
    /// Write this record (carrying the read's resourceVersion) to take or renew the lease.
    Write(Box<Lease>),
}

/// The record `identity` writes to hold a lease read as `current` (`None`: there is no
/// Lease yet) at wall time `now`. Whether another holder's lease has expired is the
/// caller's local observation (`held_elsewhere`), never the record's timestamps, so clock
/// skew between replicas cannot shorten a lease (client-go's `observedTime`).
pub fn claim(
    current: Option<&Lease>,
    identity: &str,
    lease_duration: Duration,
    now: jiff::Timestamp,
    held_elsewhere: bool,
) -> Claim {
    let spec = current.and_then(|l| l.spec.clone()).unwrap_or_default();
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
    if let Some(holder) = &holder
        && holder != identity
        && held_elsewhere
    {
        return Claim::HeldByOther(holder.clone());
    }
    let ours = holder.as_deref() == Some(identity);
    let transitions = spec.lease_transitions.unwrap_or(0);
    let lease = Lease {
        metadata: current.map(|l| l.metadata.clone()).unwrap_or_default(),
        spec: Some(LeaseSpec {
            holder_identity: Some(identity.to_owned()),
            lease_duration_seconds: Some(seconds(lease_duration)),
            acquire_time: if ours {
                spec.acquire_time
            } else {
                Some(MicroTime(now))
            },
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(if ours { transitions } else { transitions + 1 }),
            ..LeaseSpec::default()
        }),
    };
    Claim::Write(Box::new(lease))
}

/// The record that gives up a lease `identity` holds: no holder, so a standby takes it at
/// its next try instead of waiting for the lease to expire (client-go's
/// `ReleaseOnCancel`). `None` when `current` is not ours.
pub fn release(current: &Lease, identity: &str, now: jiff::Timestamp) -> Option<Lease> {
    let spec = current.spec.clone()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    Some(Lease {
        metadata: current.metadata.clone(),
        spec: Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            renew_time: Some(MicroTime(now)),
            acquire_time: Some(MicroTime(now)),
            ..spec
        }),
    })
}

/// A new Lease `name` in `namespace` holding `record`'s spec.
pub fn new_lease(name: &str, namespace: &str, record: Lease) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..ObjectMeta::default()
        },
        spec: record.spec,
    }
}

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(holder: &str, transitions: i32) -> Lease {
        Lease {
            metadata: ObjectMeta {
                resource_version: Some("7".into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                lease_transitions: Some(transitions),
                acquire_time: Some(MicroTime(jiff::Timestamp::UNIX_EPOCH)),
                ..LeaseSpec::default()
            }),
        }
    }

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_000).expect("valid")
    }

    /// The record pod-a writes for `lease` (15 s lease), `held_elsewhere` as observed.
    fn written_by_a(lease: &Lease, held_elsewhere: bool) -> LeaseSpec {
        let claim = claim(
            Some(lease),
            "pod-a",
            Duration::from_secs(15),
            now(),
            held_elsewhere,
        );
        match claim {
            Claim::Write(lease) => lease.spec.expect("spec"),
            Claim::HeldByOther(h) => panic!("held by {h}"),
        }
    }

    #[test]
    fn a_lease_another_replica_renewed_recently_is_left_alone() {
        let lease = held_by("pod-b", 3);
        let claim = claim(Some(&lease), "pod-a", Duration::from_secs(15), now(), true);
        assert_eq!(claim, Claim::HeldByOther("pod-b".into()));
    }

    #[test]
    fn an_expired_lease_of_another_is_taken_with_one_more_transition() {
        let lease = held_by("pod-b", 3);
        let spec = written_by_a(&lease, false);
        assert_eq!(spec.holder_identity.as_deref(), Some("pod-a"));
        assert_eq!(spec.lease_transitions, Some(4));
        assert_eq!(spec.acquire_time, Some(MicroTime(now())));
        assert_eq!(spec.lease_duration_seconds, Some(15));
    }

    #[test]
    fn renewing_our_own_lease_keeps_its_acquire_time_and_transitions() {
        let lease = held_by("pod-a", 3);
        let spec = written_by_a(&lease, true);
        assert_eq!(spec.lease_transitions, Some(3));
        assert_eq!(
            spec.acquire_time,
            Some(MicroTime(jiff::Timestamp::UNIX_EPOCH))
        );
        assert_eq!(spec.renew_time, Some(MicroTime(now())));
    }

    #[test]
    fn a_released_lease_is_free_for_anyone_at_once() {
        let lease = held_by("", 3);
        let spec = written_by_a(&lease, true);
        assert_eq!(spec.holder_identity.as_deref(), Some("pod-a"));
    }

    #[test]
    fn release_clears_the_holder_only_of_our_lease() {
        let ours = release(&held_by("pod-a", 3), "pod-a", now()).expect("ours");
        let spec = ours.spec.expect("spec");
        assert_eq!(spec.holder_identity, None);
        assert_eq!(spec.lease_transitions, Some(3));
        assert_eq!(ours.metadata.resource_version.as_deref(), Some("7"));
        assert!(release(&held_by("pod-b", 3), "pod-a", now()).is_none());
    }
}
