//! The examples, through the binary, against an emulator started in the test:
//! apply converges, a second apply writes nothing, the first plan's renderings are
//! pinned, and the call counts and wall time are measured.

use std::time::{Duration, Instant};

use crate::support::cli::*;
use apigsync::emulator::EmulatorConfig;

#[tokio::test(flavor = "multi_thread")]
async fn examples_apply_then_plan_reports_no_changes_and_a_second_apply_writes_nothing() {
    let w = World::demo_examples().await;
    let first = w.run("apply", &["--auto-approve"]).await;
    first.expect_code(0);
    assert!(
        first
            .stdout
            .contains("Apply complete: 17 done, 0 failed, 0 not attempted."),
        "{}",
        first.stdout
    );

    let plan = w.run("plan", &["--detailed-exitcode"]).await;
    plan.expect_code(0);
    assert_eq!(plan.stdout.trim(), "No changes.");

    let before = admin_get(&w.emu, "/_emulator/stats").await;
    let again = w.run("apply", &["--auto-approve"]).await;
    again.expect_code(0);
    assert_eq!(again.stdout.trim(), "No changes.");
    let after = admin_get(&w.emu, "/_emulator/stats").await;
    assert_eq!(
        before["writes"], after["writes"],
        "a second apply made write calls: {after:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn examples_plan_shows_changes_with_detailed_exitcode_2_before_apply() {
    let w = World::demo_examples().await;
    let plan = w.run("plan", &["--detailed-exitcode"]).await;
    plan.expect_code(2);
    assert!(plan.stdout.contains("Plan: 7 to create"), "{}", plan.stdout);
    assert_eq!(w.stats().writes, 0, "plan made a write call");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_plan_of_the_examples_in_text_markdown_and_json() {
    let w = World::demo_examples().await;
    let text = w.run("plan", &[]).await;
    text.expect_code(0);
    insta::assert_snapshot!("first_plan_text", text.stdout);
    let markdown = w.run("plan", &["--output", "markdown"]).await;
    markdown.expect_code(0);
    insta::assert_snapshot!("first_plan_markdown", markdown.stdout);
    let json = w.run("plan", &["--output", "json"]).await;
    json.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan is JSON");
    insta::assert_json_snapshot!("first_plan_json", value);
}

#[tokio::test(flavor = "multi_thread")]
async fn drifted_plan_of_the_examples_in_text_markdown_and_json() {
    // Updates, detaches, attaches and a delete. The emulator's plug-in and binding ids
    // follow its creation order, so the setup apply runs one operation at a time.
    let w = World::demo_examples().await;
    w.run("apply", &["--auto-approve", "--parallelism", "1"])
        .await
        .expect_code(0);
    w.change_content("cors_public", |c| c["max_age"] = 60.into())
        .await;
    w.remove("shop/response-cache.yaml");
    let authorizer = std::fs::read_to_string(w.dir().join("users/authorizer.yaml"))
        .expect("read")
        .replace("apis: [users_list, users_get]", "apis: [users_get]");
    w.write("users/authorizer.yaml", &authorizer);
    w.write(
        "users/authorizer-orders.yaml",
        "kind: Binding\nplugin: users_authorizer\nenv: TEST\napis: [orders_list]\n",
    );
    let text = w.run("plan", &[]).await;
    text.expect_code(0);
    insta::assert_snapshot!("drifted_plan_text", text.stdout);
    let markdown = w.run("plan", &["--output", "markdown"]).await;
    markdown.expect_code(0);
    insta::assert_snapshot!("drifted_plan_markdown", markdown.stdout);
    let json = w.run("plan", &["--output", "json"]).await;
    json.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan is JSON");
    insta::assert_json_snapshot!("drifted_plan_json", value);
}

/// Not an assertion: the numbers for the report (run with `--nocapture`).
#[tokio::test(flavor = "multi_thread")]
async fn measure_calls_of_plan_and_apply_and_wall_time_with_latency() {
    let w = World::demo_examples().await;
    let s0 = w.stats();
    w.run("plan", &[]).await.expect_code(0);
    let s1 = w.stats();
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let s2 = w.stats();
    w.run("plan", &[]).await.expect_code(0);
    let s3 = w.stats();
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let s4 = w.stats();
    eprintln!(
        "MEASURE first plan of the examples: {} API calls ({} writes)",
        s1.total - s0.total,
        s1.writes - s0.writes
    );
    eprintln!(
        "MEASURE apply of the examples: {} API calls ({} writes): {:?}",
        s2.total - s1.total,
        s2.writes - s1.writes,
        s2.operations
            .iter()
            .map(|(op, by)| (op.clone(), by.values().sum::<u64>() - count(&s1, op)))
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>()
    );
    eprintln!(
        "MEASURE no-op plan of the examples: {} API calls ({} writes)",
        s3.total - s2.total,
        s3.writes - s2.writes
    );
    eprintln!(
        "MEASURE no-op apply of the examples: {} API calls ({} writes)",
        s4.total - s3.total,
        s4.writes - s3.writes
    );

    let slow = World::examples(EmulatorConfig {
        latency: Duration::from_millis(30),
        ..EmulatorConfig::demo()
    })
    .await;
    let start = Instant::now();
    slow.run("apply", &["--auto-approve"]).await.expect_code(0);
    eprintln!(
        "MEASURE apply of the examples with 30 ms latency: {:?} wall time, {} API calls",
        start.elapsed(),
        slow.stats().total
    );
    let start = Instant::now();
    slow.run("plan", &[]).await.expect_code(0);
    eprintln!(
        "MEASURE no-op plan of the examples with 30 ms latency: {:?} wall time",
        start.elapsed()
    );
}

fn count(stats: &apigsync::emulator::Stats, op: &str) -> u64 {
    stats
        .operations
        .get(op)
        .map(|by| by.values().sum())
        .unwrap_or(0)
}
