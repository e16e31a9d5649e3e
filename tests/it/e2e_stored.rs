//! Correct against a service nobody fully documented (issue 16): what the service stored
//! is the reference. Against an emulator that adds fields a newer server has, or rewrites
//! values, an apply is followed by plans of no changes, and a console edit is still drift.

use serde_json::Value;

use crate::support::cli::World;
use apigsync::emulator::EmulatorConfig;
use apigsync::emulator::quirks_service::ServiceQuirks;

async fn world(service: ServiceQuirks) -> World {
    World::examples(EmulatorConfig {
        service,
        ..EmulatorConfig::demo()
    })
    .await
}

async fn no_changes_twice(w: &World) {
    for _ in 0..2 {
        let plan = w.run("plan", &["--detailed-exitcode"]).await;
        assert_eq!(
            (plan.code, plan.stdout.trim()),
            (0, "No changes."),
            "{}",
            plan.stderr
        );
    }
}

/// The operations of a JSON plan as `(kind, plug-in name, cause)`.
async fn operations(w: &World) -> Vec<(String, String, String)> {
    let out = w.run("plan", &["--output", "json"]).await;
    out.expect_code(0);
    let plan: Value = serde_json::from_str(&out.stdout).expect("plan JSON");
    plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            let name = op["spec"]["name"]
                .as_str()
                .or(op["name"].as_str())
                .or(op["binding"]["plugin"].as_str())
                .unwrap_or_default();
            (
                op["kind"].as_str().unwrap_or_default().to_owned(),
                name.to_owned(),
                op["cause"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn converges_and_sees_one_console_edit(service: ServiceQuirks) {
    let w = world(service).await;
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    no_changes_twice(&w).await;
    w.change_content("cors_public", |c| c["max_age"] = 601.into())
        .await;
    assert_eq!(
        operations(&w).await,
        [(
            "update_plugin".to_owned(),
            "cors_public".to_owned(),
            "drift".to_owned()
        )]
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    no_changes_twice(&w).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_adds_unknown_fields_plans_no_changes_and_a_console_edit_is_one_drift() {
    converges_and_sees_one_console_edit(ServiceQuirks {
        unknown_fields: true,
        ..ServiceQuirks::default()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_rewrites_values_plans_no_changes_and_a_console_edit_is_one_drift() {
    converges_and_sees_one_console_edit(ServiceQuirks {
        rewrite_values: true,
        ..ServiceQuirks::default()
    })
    .await;
}
