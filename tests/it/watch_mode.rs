//! Watch mode end to end: the real binary reconciling against the in-process
//! emulator — file edits, bursts, git-sync symlink swaps, fail-closed reads,
//! drift healing and reporting, metrics, and SIGTERM.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::cli::{World, copy_dir, examples_dir};
use crate::support::watch::{Watch, eventually, set_max_age, start_watch};
use apigsync::api::Client;
use apigsync::emulator::EmulatorConfig;
use apigsync::emulator::quirks_binding::BindingQuirks;
use serde_json::json;

async fn max_age(client: &Client) -> Option<i64> {
    let plugin = client.find_plugin_by_name("cors_public").await.ok()??;
    plugin.content["max_age"].as_i64()
}

async fn plugin_count(client: &Client) -> usize {
    client.list_plugins().await.map(|p| p.len()).unwrap_or(0)
}

fn copy_examples(dest: &Path) {
    copy_dir(&examples_dir(), dest);
}

/// The demo emulator, with `latency`, and a copy of the examples.
async fn world(latency: Duration) -> World {
    World::examples(EmulatorConfig {
        latency,
        ..EmulatorConfig::demo()
    })
    .await
}

fn swap_link(root: &Path, worktree: &str) {
    let tmp = root.join("current.tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(root.join(worktree), &tmp).expect("symlink");
    std::fs::rename(&tmp, root.join("current")).expect("atomic swap");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_is_applied_and_a_burst_of_edits_causes_one_reconcile() {
    let world = world(Duration::ZERO).await;
    let dir = world.dir();
    let client = world.client();
    let watch = start_watch(&world, &dir, &["--interval", "1h", "--debounce", "2s"]);
    eventually("first reconcile", async || {
        watch.successes().await >= 1.0 && watch.ready_status().await == 200
    })
    .await;
    assert_eq!(max_age(&client).await, Some(600));
    let before = watch.reconciles().len();
    let updates_before = world.stats().count("update_plugin", "200");
    // The ten writes land well inside one 2 s debounce window, even on a loaded machine.
    for value in 601..=610 {
        set_max_age(&dir, value);
    }
    eventually(
        "the last edit is applied and its reconcile has ended",
        async || max_age(&client).await == Some(610) && watch.reconciles().len() > before,
    )
    .await;
    // A later edit is the barrier: a reconcile the burst still caused would come before
    // the one this edit causes, so counting up to it proves there was none.
    set_max_age(&dir, 611);
    eventually(
        "the later edit is applied and its reconcile has ended",
        async || max_age(&client).await == Some(611) && watch.reconciles().len() >= before + 2,
    )
    .await;
    assert_eq!(
        watch.reconciles()[before..],
        ["reconcile: applied"; 2],
        "one reconcile for the ten edits, one for the later edit\n{}",
        watch.log()
    );
    assert_eq!(
        world.stats().count("update_plugin", "200") - updates_before,
        2,
        "no reconcile applied an intermediate state of the burst"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_git_sync_swap_is_followed_and_a_bad_swap_applies_nothing() {
    let world = World::demo_examples().await;
    let root = world.scratch("git");
    copy_examples(&root.join("wt1/manifests"));
    copy_examples(&root.join("wt2/manifests"));
    set_max_age(&root.join("wt2/manifests"), 900);
    std::fs::create_dir_all(root.join("wt3/manifests")).expect("empty worktree");
    copy_examples(&root.join("wt4/manifests"));
    std::fs::write(
        root.join("wt4/manifests/cors.yaml"),
        "kind: Plugin\nname: [broken\n",
    )
    .expect("invalid worktree");
    std::os::unix::fs::symlink(root.join("wt1"), root.join("current")).expect("link");

    let client = world.client();
    let dir = root.join("current/manifests");
    let watch = start_watch(&world, &dir, &["--interval", "1h", "--debounce", "300ms"]);
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    assert_eq!(plugin_count(&client).await, 7);

    swap_link(&root, "wt2");
    eventually("the new worktree is applied", async || {
        max_age(&client).await == Some(900)
    })
    .await;

    // The examples prune: an empty checkout must not delete everything.
    swap_link(&root, "wt3");
    eventually("an empty worktree flips readiness", async || {
        watch.ready_status().await == 503
    })
    .await;
    assert_eq!(plugin_count(&client).await, 7, "nothing deleted");
    assert_eq!(watch.metric("apigsync_source_valid").await, 0.0);

    swap_link(&root, "wt4");
    let invalid_before = watch
        .metric("apigsync_reconciles_total{result=\"invalid_source\"}")
        .await;
    eventually("the invalid worktree is read", async || {
        watch
            .metric("apigsync_reconciles_total{result=\"invalid_source\"}")
            .await
            > invalid_before
    })
    .await;
    assert_eq!(watch.ready_status().await, 503);
    assert_eq!(plugin_count(&client).await, 7, "nothing applied");
    assert_eq!(max_age(&client).await, Some(900));

    swap_link(&root, "wt1");
    eventually("a good worktree makes it ready again", async || {
        watch.ready_status().await == 200 && max_age(&client).await == Some(600)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_healed_within_one_interval() {
    let world = world(Duration::ZERO).await;
    let dir = world.dir();
    let client = world.client();
    let watch = start_watch(&world, &dir, &["--interval", "2s"]);
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    world
        .change_content("cors_public", |c| c["max_age"] = json!(5))
        .await;
    assert_eq!(max_age(&client).await, Some(5));
    eventually("the console edit is undone", async || {
        max_age(&client).await == Some(600)
    })
    .await;
    // The first reconcile's creates come from the files: only the console edit counts.
    assert_eq!(watch.metric("apigsync_drift_detected_total").await, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_only_reported_with_drift_report() {
    let world = world(Duration::ZERO).await;
    let dir = world.dir();
    let client = world.client();
    let watch = start_watch(&world, &dir, &["--interval", "1s", "--drift", "report"]);
    eventually("two reconciles", async || watch.successes().await >= 2.0).await;
    assert_eq!(
        plugin_count(&client).await,
        0,
        "report mode creates nothing"
    );
    // Creates from the files are not drift.
    assert_eq!(watch.metric("apigsync_drift_detected_total").await, 0.0);
    assert_eq!(world.stats().writes, 0, "no write call at all");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_report_names_the_fields_changed_on_the_gateway_and_writes_nothing() {
    let world = world(Duration::ZERO).await;
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    world
        .change_content("cors_public", |c| c["max_age"] = 60.into())
        .await;
    let writes = world.stats().writes;
    let watch = start_watch(
        &world,
        &world.dir(),
        &["--interval", "1h", "--drift", "report"],
    );
    eventually("the drift is reported", async || {
        watch.metric("apigsync_drift_detected_total").await >= 1.0
    })
    .await;
    let log = watch.log();
    let line = log
        .lines()
        .find(|l| l.contains("drift") && l.contains("update plug-in cors_public"))
        .unwrap_or_else(|| panic!("no drift line for cors_public\n{log}"));
    assert!(line.contains("/content/max_age"), "{line}");
    assert_eq!(world.stats().writes, writes, "report mode wrote");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_expose_every_series_after_a_reconcile() {
    let world = world(Duration::ZERO).await;
    let dir = world.dir();
    let watch = start_watch(&world, &dir, &["--interval", "1h"]);
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    let m = |s: &'static str| watch.metric(s);
    assert_eq!(
        m("apigsync_operations_total{kind=\"create\",result=\"done\"}").await,
        7.0
    );
    assert_eq!(
        m("apigsync_operations_total{kind=\"attach\",result=\"done\"}").await,
        10.0
    );
    assert_eq!(m("apigsync_desired_plugins").await, 7.0);
    assert_eq!(m("apigsync_managed_plugins").await, 7.0);
    assert_eq!(m("apigsync_source_valid").await, 1.0);
    assert_eq!(m("apigsync_drift_detected_total").await, 0.0);
    assert_eq!(
        m("apigsync_api_calls_total{operation=\"create_plugin\",status=\"201\"}").await,
        7.0
    );
    assert_eq!(m("apigsync_api_retries_total").await, 0.0);
    assert!(m("apigsync_last_success_timestamp_seconds").await > 1.0e9);
    assert_eq!(m("apigsync_reconcile_duration_seconds_count").await, 1.0);
    let (status, body) = watch.get("/healthz").await.expect("healthz");
    assert_eq!((status, body.trim()), (200, "ok"));
}

/// Sends SIGTERM to `watch`, waits for it to exit with status 0, and returns its log.
async fn terminate(watch: &mut Watch) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &watch.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut exit = None;
    eventually("the process exits", async || {
        exit = watch.child.try_wait().expect("try_wait");
        exit.is_some()
    })
    .await;
    assert!(exit.expect("exited").success(), "exit 0\n{}", watch.log());
    watch.log()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_reconcile_exits_cleanly() {
    let world = world(Duration::from_millis(300)).await;
    let dir = world.dir();
    let mut watch = start_watch(&world, &dir, &["--interval", "1h"]);
    eventually("the reconcile is applying", async || {
        watch.log().contains("change from the files")
    })
    .await;
    let log = terminate(&mut watch).await;
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("watch stopped"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_reading_the_gateway_stops_the_read_and_exits_cleanly() {
    // 5 s an answer: the first scan is still reading when the signal comes.
    let world = world(Duration::from_secs(5)).await;
    let dir = world.dir();
    let mut watch = start_watch(&world, &dir, &["--interval", "1h"]);
    eventually("the first scan has a request out", async || {
        world.emu.stats().max_concurrent > 0
    })
    .await;
    let log = terminate(&mut watch).await;
    assert!(
        log.contains("shutdown requested while reading the gateway"),
        "{log}"
    );
    assert!(!log.contains("change from the files"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_target_in_the_project_file_applies_nothing_until_restart() {
    let world = world(Duration::ZERO).await;
    let dir = world.dir();
    let client = world.client();
    let watch = start_watch(&world, &dir, &["--interval", "1h", "--debounce", "300ms"]);
    eventually("first reconcile", async || {
        watch.ready_status().await == 200
    })
    .await;
    let project = dir.join("apigsync.yaml");
    let text = std::fs::read_to_string(&project).expect("project file");
    std::fs::write(
        &project,
        text.replace(
            "3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d",
            "0000000000000000000000000000beef",
        ),
    )
    .expect("edit");
    set_max_age(&dir, 42);
    eventually("the new target is refused", async || {
        watch.ready_status().await == 503
    })
    .await;
    assert_eq!(max_age(&client).await, Some(600), "nothing applied");
    assert!(
        watch.log().contains("restart watch to switch gateways"),
        "{}",
        watch.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_files_applies_a_commit_and_only_reports_a_console_edit() {
    let world = world(Duration::ZERO).await;
    let dir = world.dir();
    let client = world.client();
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let watch = start_watch(&world, &dir, &["--interval", "1s", "--sync", "files"]);
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    world
        .change_content("cors_public", |c| c["max_age"] = json!(60))
        .await;
    let path = dir.join("shop/rate-limits.yaml");
    let text = std::fs::read_to_string(&path).expect("rate-limits.yaml");
    assert!(text.contains("api_limit: 600"), "the example sets 600");
    std::fs::write(&path, text.replacen("api_limit: 600", "api_limit: 500", 1)).expect("write");
    eventually("the commit is applied", async || {
        let live = client
            .find_plugin_by_name("shop_throttle")
            .await
            .ok()
            .flatten();
        live.is_some_and(|p| p.content["api_limit"] == json!(500))
    })
    .await;
    let seen = watch.successes().await;
    eventually("two more reconciles", async || {
        watch.successes().await >= seen + 2.0
    })
    .await;
    assert_eq!(
        max_age(&client).await,
        Some(60),
        "the console edit was undone"
    );
    assert!(watch.metric("apigsync_drift_detected_total").await >= 1.0);
    let log = watch.log();
    assert!(
        log.lines()
            .any(|l| l.contains("drift") && l.contains("cors_public") && l.contains("cause=drift")),
        "no drift line for cors_public\n{log}"
    );
}

/// The lines of `text` that start with `prefix`.
fn series<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_show_zero_series_of_every_result_before_the_first_reconcile_ends() {
    // Each call waits 500 ms: the first reconcile (more than ten calls in sequence) is
    // still reading when /metrics is scraped; the assertion below checks that it was.
    let world = world(Duration::from_millis(500)).await;
    let watch = start_watch(&world, &world.dir(), &["--interval", "1h"]);
    let mut text = String::new();
    eventually("/metrics answers", async || {
        match watch.get("/metrics").await {
            Some((200, body)) => {
                text = body;
                true
            }
            _ => false,
        }
    })
    .await;
    assert_eq!(watch.successes().await, 0.0, "a reconcile ended already");
    for line in [
        "apigsync_reconciles_total{result=\"success\"} 0",
        "apigsync_reconciles_total{result=\"failure\"} 0",
        "apigsync_reconciles_total{result=\"invalid_source\"} 0",
        "apigsync_notifications_total{result=\"sent\"} 0",
        "apigsync_notifications_total{result=\"failed\"} 0",
        "apigsync_notifications_total{result=\"dropped\"} 0",
        "apigsync_drifted_plugins 0",
        "apigsync_pending_operations 0",
        "apigsync_last_reconcile{outcome=\"failed\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    let build = series(&text, "apigsync_build_info{");
    assert_eq!(build.len(), 1, "{text}");
    assert!(
        build[0].starts_with(&format!(
            "apigsync_build_info{{version=\"{}\",commit=\"",
            env!("CARGO_PKG_VERSION")
        )) && build[0].ends_with("} 1"),
        "{}",
        build[0]
    );
    assert!(
        text.contains("apigsync_reconcile_duration_seconds_bucket{le=\"655.36\"}"),
        "the reconcile histogram reaches the 10-minute retry budget\n{text}"
    );
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    let (_, text) = watch.get("/metrics").await.expect("metrics");
    assert!(
        text.contains("apigsync_api_request_duration_seconds_count{operation=\"list_plugins\"}"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "apigsync_last_reconcile{outcome=\"applied\"} 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_operation_is_logged_at_error_with_plugin_env_target_and_cause_fields() {
    let world = World::examples(EmulatorConfig {
        binding_quirks: BindingQuirks {
            refuse_create: vec!["cors_public".into()],
            ..BindingQuirks::default()
        },
        ..EmulatorConfig::demo()
    })
    .await;
    let watch = start_watch(
        &world,
        &world.dir(),
        &["--interval", "1h", "--log-format", "json"],
    );
    eventually("a failed operation is logged", async || {
        watch.log().contains("operation failed")
    })
    .await;
    let log = watch.log();
    let line: serde_json::Value = log
        .lines()
        .find(|l| l.contains("operation failed"))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON line of a failed operation\n{log}"));
    assert_eq!(line["level"], "ERROR", "{line}");
    let fields = &line["fields"];
    assert_eq!(fields["plugin"], "cors_public", "{line}");
    assert_eq!(fields["cause"], "files", "{line}");
    assert_eq!(fields["env"], "", "a create has no environment: {line}");
    assert!(fields["target"].is_string(), "{line}");
    assert!(
        fields["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{line}"
    );
}
