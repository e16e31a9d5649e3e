//! `plan`/`apply` `--select NAME_GLOB` and `--no-delete` through the binary.

use crate::support::cli::World;
use serde_json::Value;

/// The plug-in names of a JSON plan's operations.
fn planned_plugins(json: &str) -> Vec<String> {
    let plan: Value = serde_json::from_str(json).expect("JSON plan");
    plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            let name = op["spec"]["name"]
                .as_str()
                .or(op["name"].as_str())
                .or(op["plugin"].as_str())
                .expect("an operation names its plug-in");
            name.to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn select_plans_and_applies_only_the_matching_plugins() {
    let world = World::demo_examples().await;
    let plan = world
        .run("plan", &["--select", "shop_*", "--output", "json"])
        .await;
    plan.expect_code(0);
    let names = planned_plugins(&plan.stdout);
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n.starts_with("shop_")), "{names:?}");
    world
        .run("apply", &["--select", "shop_*", "--auto-approve"])
        .await
        .expect_code(0);
    let live: Vec<String> = world.plugins().await.into_iter().map(|p| p.name).collect();
    assert!(live.contains(&"shop_throttle".to_owned()), "{live:?}");
    assert!(!live.contains(&"cors_public".to_owned()), "{live:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_delete_leaves_a_pruned_plugin_and_its_bindings_in_place() {
    let world = World::demo_examples().await;
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let bindings = world.bindings("orders_cache").await;
    assert!(!bindings.is_empty());
    world.remove("shop/response-cache.yaml");
    let out = world.run("apply", &["--no-delete", "--auto-approve"]).await;
    out.expect_code(0);
    assert!(out.stdout.contains("--no-delete"), "{}", out.stdout);
    assert_eq!(world.bindings("orders_cache").await, bindings);
    let plan = world.run("plan", &["--output", "json"]).await;
    assert!(
        planned_plugins(&plan.stdout).contains(&"orders_cache".to_owned()),
        "without --no-delete the delete is still planned"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn select_cannot_change_a_saved_plan() {
    let world = World::demo_examples().await;
    let saved = world.scratch("plan.json");
    let saved = saved.to_str().expect("UTF-8");
    world.run("plan", &["--out", saved]).await.expect_code(0);
    let out = world
        .run("apply", &["--plan", saved, "--select", "cors_*"])
        .await;
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("--select"), "{}", out.stderr);
    assert_eq!(world.stats().writes, 0, "nothing was applied");
}
