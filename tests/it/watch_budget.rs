//! A request budget under `watch` (issue 19): `--max-request-rate 2/s` is never exceeded,
//! in any second, counted at the emulator by arrival time; and the view's staleness is
//! exported, so an operator sees how long a console edit can go unseen. When a whole read
//! does not fit one interval, each interval re-reads a slice of the bindings (a rolling
//! scan): every plug-in's bindings are read again within the staleness reported.

use std::time::Duration;

use apigsync::api::PluginBody;
use apigsync::emulator::{EmulatorConfig, LogEntry};
use apigsync::model::{PluginType, Scope};

use crate::support::cli::World;
use crate::support::watch::{Watch, eventually_within, start_watch};

/// The most requests that arrived within any one-second window (half-open).
fn most_in_any_second(mut arrivals: Vec<i64>) -> usize {
    arrivals.sort_unstable();
    let mut most = 0;
    let mut start = 0;
    for end in 0..arrivals.len() {
        while arrivals[end] - arrivals[start] >= 1000 {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[test]
fn the_window_count_is_right() {
    assert_eq!(most_in_any_second(vec![0, 500, 1000, 1500]), 2);
    assert_eq!(most_in_any_second(vec![0, 400, 999, 1000]), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_never_exceeds_its_request_budget_and_exports_its_staleness() {
    let world = World::demo_examples().await;
    let dir = world.dir();
    let watch = start_watch(
        &world,
        &dir,
        &["--interval", "1h", "--max-request-rate", "2/s"],
    );
    // About 55 requests at 2 a second: close to half a minute by design.
    eventually_within(
        "the first reconcile (a full read and apply at 2 requests/s)",
        Duration::from_secs(90),
        async || watch.successes().await >= 1.0,
    )
    .await;
    let arrivals: Vec<i64> = world.log().iter().map(|e| e.arrived_ms).collect();
    assert!(arrivals.len() > 10, "{} requests", arrivals.len());
    let most = most_in_any_second(arrivals);
    assert!(
        most <= 2,
        "{most} requests within one second\n{}",
        watch.log()
    );
    let first = world.log().first().map(|e| e.arrived_ms).unwrap_or(0);
    let last = world.log().last().map(|e| e.arrived_ms).unwrap_or(0);
    let staleness = watch.metric("apigsync_oldest_read_seconds").await;
    assert!(
        staleness * 1000.0 >= (last - first) as f64 * 0.9,
        "the view is reported {staleness} s old, but its reads spanned {} ms",
        last - first
    );
}

/// Three plug-ins, each bound in RELEASE to its own API: fewer plug-ins than the demo's
/// seven APIs, so their bindings are read per plug-in.
const THREE_PLUGINS: &str = "\
kind: Plugin\nname: hdr0\ntype: set_resp_headers\ncontent:\n  response_headers:\n    - {name: X-N, value: \"0\", action: override}\n---\n\
kind: Plugin\nname: hdr1\ntype: set_resp_headers\ncontent:\n  response_headers:\n    - {name: X-N, value: \"1\", action: override}\n---\n\
kind: Plugin\nname: hdr2\ntype: set_resp_headers\ncontent:\n  response_headers:\n    - {name: X-N, value: \"2\", action: override}\n---\n\
kind: Binding\nplugin: hdr0\nenv: RELEASE\napis: [orders_list]\n---\n\
kind: Binding\nplugin: hdr1\nenv: RELEASE\napis: [users_list]\n---\n\
kind: Binding\nplugin: hdr2\nenv: RELEASE\napis: [health]\n";

/// The scans (plug-in lists) in `log`, by arrival time.
fn scans(log: &[LogEntry]) -> Vec<i64> {
    log.iter()
        .filter(|e| e.operation == "list_plugins")
        .map(|e| e.arrived_ms)
        .collect()
}

/// When the bindings of plug-in `id` were read per plug-in.
fn binding_reads(log: &[LogEntry], id: &str) -> Vec<i64> {
    let suffix = format!("/plugins/{id}/attached-apis");
    log.iter()
        .filter(|e| e.path.ends_with(&suffix))
        .map(|e| e.arrived_ms)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_scan_keeps_the_budget_rereads_every_plugin_within_its_staleness_and_heals() {
    let world = World::empty(EmulatorConfig::demo()).await;
    world.write("plugins.yaml", THREE_PLUGINS);
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let ids = [
        world.plugin("hdr0").await.id,
        world.plugin("hdr1").await.id,
        world.plugin("hdr2").await.id,
    ];
    let console = world.client();
    let (release, users) = (
        world.env_id("RELEASE").await,
        world.api_id("users_list").await,
    );
    // From here on only the watch calls the emulator, but for the console's one detach.
    let from = world.log().len();
    let dir = world.dir();
    // 2/s is a request every 600 ms: a 2 s interval holds 3 calls, fewer than the 6 lists
    // (plug-ins, environments, APIs, quota, published APIs of 2 environments), so each
    // scan re-reads one plug-in's bindings: every one within 3 scans.
    let watch = start_watch(
        &world,
        &dir,
        &["--interval", "2s", "--max-request-rate", "2/s"],
    );
    let mut staleness: f64 = 0.0;
    let sample = async |watch: &Watch, staleness: &mut f64| {
        *staleness = staleness.max(watch.metric("apigsync_oldest_read_seconds").await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    eventually_within(
        "the first (whole) scan",
        Duration::from_secs(60),
        async || watch.successes().await >= 1.0,
    )
    .await;

    // A detach on the console: seen when hdr1's slice comes round, then healed.
    console
        .detach_apis(&ids[1], &release, std::slice::from_ref(&users))
        .await
        .unwrap();
    let detached_at = world.log().len();
    let healed = |log: &[LogEntry]| {
        log[detached_at..]
            .iter()
            .position(|e| e.operation == "attach_api_to_plugin")
            .map(|i| detached_at + i)
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        while healed(&world.log()).is_none() {
            sample(&watch, &mut staleness).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the console detach was not healed\n{}", watch.log()));
    let log = world.log();
    let attach = healed(&log).unwrap_or_default();
    let scans_to_heal = scans(&log[detached_at..attach]).len();
    assert!(
        (1..=4).contains(&scans_to_heal),
        "healed after {scans_to_heal} scans\n{}",
        watch.log()
    );

    // Seven more scans, sampling the staleness the metric reports meanwhile.
    let seen = scans(&world.log()[from..]).len();
    tokio::time::timeout(Duration::from_secs(120), async {
        while scans(&world.log()[from..]).len() < seen + 7 {
            sample(&watch, &mut staleness).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("fewer scans than expected\n{}", watch.log()));
    let log = &world.log()[from..];
    let now = log.last().map(|e| e.arrived_ms).unwrap_or_default();

    let most = most_in_any_second(
        log.iter()
            .filter(|e| e.operation != "detach_api_from_plugin")
            .map(|e| e.arrived_ms)
            .collect(),
    );
    assert!(
        most <= 2,
        "{most} requests within one second\n{}",
        watch.log()
    );
    let all_scans = scans(log);
    for (id, name) in ids.iter().zip(["hdr0", "hdr1", "hdr2"]) {
        let mut reads = binding_reads(log, id);
        reads.push(now);
        for pair in reads.windows(2) {
            let between = all_scans
                .iter()
                .filter(|at| **at > pair[0] && **at < pair[1])
                .count();
            assert!(
                between <= 3,
                "{name}'s bindings went unread for {between} scans\n{}",
                watch.log()
            );
            // The metric is sampled every 250 ms: a gap may outrun the last sample by that.
            let gap = (pair[1] - pair[0]) as f64 / 1000.0;
            assert!(
                gap <= staleness + 0.5,
                "{name}'s bindings went unread for {gap} s, but the view was reported at most {staleness} s old\n{}",
                watch.log()
            );
        }
    }
    assert_eq!(
        world.bindings("hdr1").await,
        [("RELEASE".to_owned(), "users_list".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_scan_rereads_what_it_would_write_so_a_stale_view_never_displaces_a_console_plugin()
 {
    let world = World::empty(EmulatorConfig::demo()).await;
    world.write("plugins.yaml", THREE_PLUGINS);
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let console = world.client();
    let body = PluginBody {
        plugin_name: "console_hdr".into(),
        plugin_type: PluginType::SetRespHeaders,
        plugin_scope: Scope::Global,
        plugin_content: serde_json::json!({"response_headers": [
            {"name": "X-Console", "value": "1", "action": "override"}
        ]}),
        remark: None,
        roma_app_id: None,
    };
    let made = console.create_plugin(&body).await.unwrap();
    let (release, health) = (world.env_id("RELEASE").await, world.api_id("health").await);
    let dir = world.dir();
    let watch = start_watch(
        &world,
        &dir,
        &["--interval", "2s", "--max-request-rate", "2/s"],
    );
    // Right after a scan re-read console_hdr (unbound), bind it to health on the console:
    // the same type as hdr2 there, so the gateway replaces hdr2. The next scans re-read
    // hdr2 (now missing health) before console_hdr comes round again.
    eventually_within(
        "a second read of console_hdr's bindings",
        Duration::from_secs(90),
        async || binding_reads(&world.log(), &made.id).len() >= 2,
    )
    .await;
    console
        .attach_apis(&made.id, &release, std::slice::from_ref(&health))
        .await
        .unwrap();
    let from = world.log().len();
    let hdr2 = world.plugin("hdr2").await.id;
    eventually_within(
        "hdr2 and console_hdr re-read since",
        Duration::from_secs(120),
        async || {
            let log = world.log();
            !binding_reads(&log[from..], &hdr2).is_empty()
                && !binding_reads(&log[from..], &made.id).is_empty()
                && scans(&log[from..]).len() >= 5
        },
    )
    .await;
    let log = world.log();
    let writes: Vec<&str> = log[from..]
        .iter()
        .filter(|e| e.write)
        .map(|e| e.operation.as_str())
        .collect();
    assert!(writes.is_empty(), "{writes:?}\n{}", watch.log());
    assert_eq!(
        world.bindings("console_hdr").await,
        [("RELEASE".to_owned(), "health".to_owned())]
    );
    assert!(
        watch.log().contains("displace"),
        "the plan error names the displacement\n{}",
        watch.log()
    );
}
