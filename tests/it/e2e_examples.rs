//! The examples, through the binary, against an emulator started in the test: apply
//! converges to the contents the service's recorded responses show, a second apply writes
//! nothing, the first plan's renderings are pinned, and the calls of plan and apply are
//! counted exactly.

use std::collections::BTreeMap;

use crate::support::cli::*;
use crate::support::recorded;
use apigsync::emulator::Stats;

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

    let desired = apigsync::manifest::load_dir(&w.dir(), &w.env).expect("the examples load");
    for p in &desired.plugins {
        let live = w.plugin(&p.name).await;
        recorded::assert_read_back(p.plugin_type, &p.name, &p.content, &live.content);
    }

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

/// Calls per SDK operation between two snapshots of the emulator's stats.
fn calls(before: &Stats, after: &Stats) -> BTreeMap<String, u64> {
    after
        .operations
        .iter()
        .map(|(op, by)| {
            let was: u64 = before.operations.get(op).map_or(0, |b| b.values().sum());
            (op.clone(), by.values().sum::<u64>() - was)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(op, n)| ((*op).to_owned(), *n)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_of_the_examples_make_exactly_these_calls() {
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
    let got = [
        ("first plan", calls(&s0, &s1)),
        ("apply", calls(&s1, &s2)),
        ("no-op plan", calls(&s2, &s3)),
        ("no-op apply", calls(&s3, &s4)),
    ];
    // Reading the live state: the plug-in list, the environments, the API list (once
    // overall and once per environment, for the publication state), the instance's configs
    // (the plug-in quota), and the bindings of each managed plug-in (none before the first
    // apply).
    let read_empty = [
        ("list_plugins", 1),
        ("list_environments_v2", 1),
        ("list_apis_v2", 3),
        ("list_project_cofigs_v2", 1),
    ];
    let read_applied = [
        ("list_plugins", 1),
        ("list_environments_v2", 1),
        ("list_apis_v2", 3),
        ("list_project_cofigs_v2", 1),
        ("list_plugin_attached_apis", 7),
    ];
    // The apply: 7 creates and one attach call per (plug-in, environment) pair, 10 of them.
    let apply = [
        read_empty.as_slice(),
        &[("create_plugin", 7), ("attach_api_to_plugin", 10)],
    ]
    .concat();
    let want = [
        ("first plan", counts(&read_empty)),
        ("apply", counts(&apply)),
        ("no-op plan", counts(&read_applied)),
        ("no-op apply", counts(&read_applied)),
    ];
    assert_eq!(got, want);
    assert_eq!(
        (s1.writes, s4.writes),
        (0, s2.writes),
        "only the first apply writes"
    );
}
