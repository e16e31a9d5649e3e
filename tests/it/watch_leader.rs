//! `watch --leader-elect` end to end: two replicas of the real binary against the
//! in-process emulator and an in-test Kubernetes Lease server. Exactly one leads and
//! writes; when it stops (SIGTERM) or dies (SIGKILL), the other takes over and applies
//! the next edit. Each replica reaches the gateway through its own [`Tap`] (which notes
//! when it sends a write) and the Lease API through its own endpoint (which the test
//! makes hang or refuse), so the tests see who writes when the Lease API fails.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::cli::{World, change_live_content};
use crate::support::lease::{Endpoint, LeaseServer, Mode, kubeconfig_at};
use crate::support::tap::Tap;
use crate::support::watch::{Watch, eventually, free_port, spawn_watch, start_named_watch};
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

/// The renew deadline of [`ELECTION`].
const RENEW_DEADLINE: Duration = Duration::from_secs(2);
/// What may separate a replica's send from the tap's note of it (loopback, a loaded
/// machine): not a speed assertion, the tolerance of the clock comparison.
const TRANSIT: Duration = Duration::from_millis(250);

/// One replica reaching the gateway through its tap and the Lease API at its own URL.
struct Replica {
    watch: Watch,
    tap: Tap,
}

impl Replica {
    async fn start(world: &World, name: &str, kube_url: &str, flags: &[&str]) -> Replica {
        let tap = Tap::start(&world.emu.base_url()).await;
        let kubeconfig = kubeconfig_at(kube_url, world.tmp.path(), &format!("{name}.kubeconfig"));
        let kubeconfig = kubeconfig.to_str().expect("UTF-8 path").to_owned();
        let mut target = world.target_flags();
        let at = target
            .iter()
            .position(|f| f == "--endpoint")
            .expect("an --endpoint flag");
        target[at + 1] = tap.url.clone();
        let env = [("KUBECONFIG", kubeconfig.as_str()), ("HOSTNAME", name)];
        let watch = spawn_watch(world, &world.dir(), flags, name, &env, target);
        Replica { watch, tap }
    }

    fn writes_after(&self, t: Instant) -> Vec<Instant> {
        self.tap.writes().into_iter().filter(|w| *w > t).collect()
    }

    fn running(&mut self) -> bool {
        matches!(self.watch.child.try_wait(), Ok(None))
    }
}

/// Two tapped replicas with their own Lease endpoints, each reconciling every second.
struct Cluster {
    world: World,
    lease: LeaseServer,
    replicas: [Replica; 2],
    endpoints: [Endpoint; 2],
}

const EVERY_SECOND: [&str; 2] = ["--interval", "1s"];

async fn cluster() -> Cluster {
    let world = World::demo_examples().await;
    let lease = LeaseServer::start().await;
    let endpoints = [lease.endpoint().await, lease.endpoint().await];
    let flags: Vec<&str> = ELECTION[2..].iter().chain(&EVERY_SECOND).copied().collect();
    let a = Replica::start(&world, "replica-a", &endpoints[0].url, &flags).await;
    let b = Replica::start(&world, "replica-b", &endpoints[1].url, &flags).await;
    Cluster {
        world,
        lease,
        replicas: [a, b],
        endpoints,
    }
}

/// Waits until exactly one of `replicas` leads and the examples are applied; its index.
async fn leader_among(world: &World, replicas: &[Replica; 2]) -> usize {
    let client = world.client();
    let [a, b] = replicas;
    eventually("one replica leads and applies the examples", async || {
        leads(&a.watch).await != leads(&b.watch).await && max_age(&client).await == Some(600)
    })
    .await;
    if leads(&a.watch).await { 0 } else { 1 }
}

async fn leader_of(c: &Cluster) -> usize {
    leader_among(&c.world, &c.replicas).await
}

/// Edits cors_public's max_age behind apigsync's back every 300 ms, so a leader that
/// heals writes the gateway at every reconcile.
fn keep_editing(client: Client) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for value in (1..).cycle() {
            if let Ok(Some(live)) = client.find_plugin_by_name("cors_public").await {
                let edit = |c: &mut serde_json::Value| c["max_age"] = serde_json::json!(value);
                let _ = change_live_content(&client, &live, edit).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
}

/// Waits until `replica` has sent a write after `t` (it heals the console edits).
async fn writes_again(replica: &Replica, t: Instant, what: &str) {
    eventually(what, async || !replica.writes_after(t).is_empty()).await;
}

/// Starts editing the console and waits until the leader heals: writes are flowing.
async fn writing(c: &Cluster, leader: usize) -> tokio::task::JoinHandle<()> {
    let editor = keep_editing(c.world.client());
    writes_again(
        &c.replicas[leader],
        Instant::now(),
        "the leader heals console edits",
    )
    .await;
    editor
}

/// With the editor stopped, the gateway converges back to the files.
async fn heals_after(c: &Cluster, editor: tokio::task::JoinHandle<()>) {
    editor.abort();
    let client = c.world.client();
    let [a, b] = &c.replicas;
    eventually("a leader heals the gateway again", async || {
        (leads(&a.watch).await || leads(&b.watch).await) && max_age(&client).await == Some(600)
    })
    .await;
}

/// No replica among `which` sent a write later than the renew deadline after `cut` (its
/// last possible renewal).
fn assert_no_write_after(c: &Cluster, which: &[usize], cut: Instant, when: &str) {
    for (i, r) in c
        .replicas
        .iter()
        .enumerate()
        .filter(|(i, _)| which.contains(i))
    {
        let late = r.writes_after(cut + RENEW_DEADLINE + TRANSIT);
        assert!(
            late.is_empty(),
            "replica {i} wrote the gateway {} time(s) more than the renew deadline after {when}, \
             the first {:?} after it\n{}",
            late.len(),
            late[0] - cut,
            r.watch.log()
        );
    }
}

/// The Lease API answers every replica as `mode` says for `outage`: every replica stands
/// by and stops writing at the renew deadline, none exits, and once the API answers
/// again a leader heals the gateway.
async fn survives_a_lease_api_outage(mode: Mode, outage: Duration, what: &str) {
    let mut c = cluster().await;
    let leader = leader_of(&c).await;
    let editor = writing(&c, leader).await;
    let cut = Instant::now();
    for e in &c.endpoints {
        e.set(mode);
    }
    tokio::time::sleep(outage).await;
    assert_no_write_after(&c, &[0, 1], cut, what);
    for r in &mut c.replicas {
        assert!(r.running(), "a replica exited\n{}", r.watch.log());
        assert!(
            !leads(&r.watch).await,
            "a replica still leads\n{}",
            r.watch.log()
        );
    }
    for e in &c.endpoints {
        e.set(Mode::Answer);
    }
    heals_after(&c, editor).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_lease_api_stops_every_gateway_write_at_the_renew_deadline() {
    // Long enough for the lease to expire too: nobody may take it meanwhile.
    survives_a_lease_api_outage(Mode::Hang, Duration::from_secs(6), "the Lease API hung").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_cut_off_from_the_lease_api_never_writes_in_the_same_second_as_its_successor() {
    let c = cluster().await;
    let leader = leader_of(&c).await;
    let successor = 1 - leader;
    let editor = writing(&c, leader).await;
    let cut = Instant::now();
    c.endpoints[leader].set(Mode::Hang);
    eventually("the other replica takes over", async || {
        leads(&c.replicas[successor].watch).await
    })
    .await;
    writes_again(
        &c.replicas[successor],
        Instant::now(),
        "the successor heals",
    )
    .await;
    assert_no_write_after(&c, &[leader], cut, "the leader was cut off");
    let old = c.replicas[leader].tap.writes();
    let new = c.replicas[successor].tap.writes();
    for w in &new {
        for o in &old {
            let apart = if w > o { *w - *o } else { *o - *w };
            assert!(
                apart >= Duration::from_secs(1),
                "both replicas wrote within {apart:?} of each other"
            );
        }
    }
    assert!(
        c.lease.holder("default", LEASE).is_some(),
        "the Lease has a holder"
    );
    editor.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigterm_the_standby_leads_before_the_old_lease_would_have_expired() {
    // The defaults: lease 15 s, renew deadline 10 s, retry period 2 s.
    let world = World::demo_examples().await;
    let lease = LeaseServer::start().await;
    let flags = &ELECTION[..7];
    let mut replicas = [
        Replica::start(&world, "replica-a", &lease.url, flags).await,
        Replica::start(&world, "replica-b", &lease.url, flags).await,
    ];
    let leader = leader_among(&world, &replicas).await;
    signal(&replicas[leader].watch, "TERM");
    let stopped = Instant::now();
    let standby = &replicas[1 - leader].watch;
    eventually("the standby leads", async || leads(standby).await).await;
    let handover = stopped.elapsed();
    eprintln!("graceful handover: the standby led {handover:?} after SIGTERM");
    assert!(
        handover < Duration::from_secs(15),
        "the standby waited for the old lease to expire ({handover:?}): it was not released"
    );
    let status = replicas[leader]
        .watch
        .child
        .wait()
        .expect("the old leader exits");
    assert!(status.success(), "{}", replicas[leader].watch.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_started_before_the_lease_api_answers_wait_for_it_then_one_leads() {
    let world = World::demo_examples().await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let flags: Vec<&str> = ELECTION[2..].iter().chain(&EVERY_SECOND).copied().collect();
    let mut replicas = [
        Replica::start(&world, "replica-a", &url, &flags).await,
        Replica::start(&world, "replica-b", &url, &flags).await,
    ];
    tokio::time::sleep(Duration::from_secs(3)).await;
    for r in &mut replicas {
        assert!(r.running(), "a replica exited\n{}", r.watch.log());
        assert!(r.tap.writes().is_empty(), "a replica wrote without a lease");
    }
    let lease = LeaseServer::start_on(port).await;
    leader_among(&world, &replicas).await;
    assert!(lease.holder("default", LEASE).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lease_api_down_for_20s_exits_no_replica_stops_writes_and_healing_resumes() {
    survives_a_lease_api_outage(
        Mode::Refuse,
        Duration::from_secs(20),
        "the Lease API went down",
    )
    .await;
}
