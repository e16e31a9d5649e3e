//! `watch --leader-elect` end to end: two replicas of the real binary against the
//! in-process emulator and an in-test Kubernetes Lease server. Exactly one leads and
//! writes; when it stops (SIGTERM) or dies (SIGKILL), the other takes over and applies
//! the next edit.

use std::process::Command;

use crate::support::cli::World;
use crate::support::lease::LeaseServer;
use crate::support::watch::{Watch, eventually, start_named_watch};
use apigsync::api::Client;

const LEASE: &str = "apigsync";

/// Short timings so that a failover takes seconds: lease 3 s, renew deadline 2 s.
const ELECTION: [&str; 12] = [
    "--interval",
    "1h",
    "--leader-elect",
    "--lease-name",
    LEASE,
    "--lease-namespace",
    "default",
    "--lease-duration",
    "3s",
    "--renew-deadline",
    "2s",
    "--lease-retry-period=1s",
];

struct Replicas {
    world: World,
    lease: LeaseServer,
    a: Option<Watch>,
    b: Option<Watch>,
}

async fn two_replicas() -> Replicas {
    let world = World::demo_examples().await;
    let lease = LeaseServer::start().await;
    let kubeconfig = lease.kubeconfig(world.tmp.path());
    let kubeconfig = kubeconfig.to_str().expect("UTF-8 path").to_owned();
    let start = |name: &str| {
        let env = [("KUBECONFIG", kubeconfig.as_str()), ("HOSTNAME", name)];
        start_named_watch(&world, &world.dir(), &ELECTION, name, &env)
    };
    let (a, b) = (start("replica-a"), start("replica-b"));
    Replicas {
        world,
        lease,
        a: Some(a),
        b: Some(b),
    }
}

async fn leads(watch: &Watch) -> bool {
    watch.metric("apigsync_leader").await == 1.0
}

/// Sum of every series of `name` (0 when there is none).
async fn total(watch: &Watch, name: &str) -> f64 {
    let Some((_, body)) = watch.get("/metrics").await else {
        return 0.0;
    };
    body.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn max_age(client: &Client) -> Option<i64> {
    let plugin = client.find_plugin_by_name("cors_public").await.ok()??;
    plugin.content["max_age"].as_i64()
}

fn set_max_age(world: &World, value: i64) {
    let path = world.dir().join("cors.yaml");
    let text = std::fs::read_to_string(&path).expect("cors.yaml");
    assert!(
        text.contains("max_age: 600"),
        "the example sets max_age 600"
    );
    std::fs::write(
        &path,
        text.replace("max_age: 600", &format!("max_age: {value}")),
    )
    .expect("write");
}

fn signal(watch: &Watch, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), watch.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until exactly one replica leads and has applied the examples; returns
/// (leader, standby) as (is_a_leader).
async fn settled(r: &Replicas) -> bool {
    let (a, b) = (r.a.as_ref().expect("a"), r.b.as_ref().expect("b"));
    let client = r.world.client();
    eventually("one replica leads and applies the examples", async || {
        (leads(a).await != leads(b).await) && max_age(&client).await == Some(600)
    })
    .await;
    let a_leads = leads(a).await;
    let (leader, standby) = if a_leads { (a, b) } else { (b, a) };
    let holder = r.lease.holder("default", LEASE);
    let expected = if a_leads { "replica-a" } else { "replica-b" };
    assert_eq!(
        holder.as_deref(),
        Some(expected),
        "the Lease names the leader"
    );
    eventually("the standby is ready too", async || {
        standby.ready_status().await == 200
    })
    .await;
    assert!(total(leader, "apigsync_operations_total").await > 0.0);
    assert_eq!(
        total(standby, "apigsync_operations_total").await,
        0.0,
        "the standby applied something\n{}",
        standby.log()
    );
    assert_eq!(
        total(standby, "apigsync_api_calls_total").await,
        0.0,
        "the standby called the gateway\n{}",
        standby.log()
    );
    a_leads
}

async fn fails_over(mut r: Replicas, how: &str) {
    let a_leads = settled(&r).await;
    let (leader, survivor) = if a_leads {
        (r.a.take(), r.b.take())
    } else {
        (r.b.take(), r.a.take())
    };
    let (leader, survivor) = (leader.expect("leader"), survivor.expect("survivor"));
    signal(&leader, how);
    let client = r.world.client();
    eventually("the other replica takes over", async || {
        leads(&survivor).await
    })
    .await;
    set_max_age(&r.world, 700);
    eventually("the new leader applies an edit", async || {
        max_age(&client).await == Some(700)
    })
    .await;
    drop(leader);
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_one_replica_leads_and_writes() {
    let r = two_replicas().await;
    settled(&r).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigterm_to_the_leader_the_other_takes_over_and_applies_an_edit() {
    fails_over(two_replicas().await, "TERM").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigkill_of_the_leader_the_other_takes_over_once_the_lease_expires() {
    fails_over(two_replicas().await, "KILL").await;
}
