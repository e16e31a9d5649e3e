//! One folder, two gateways: `targets:` in apigsync.yaml (an APIG and a ROMA instance of
//! the emulator, each with its own `vars`), documents limited to one target, `--target`,
//! grouped outputs and saved plans, through the binary.

use apigsync::api::Client;
use apigsync::emulator::{self, EmulatorConfig};
use apigsync::model::Flavour;

use crate::support::cli::{INSTANCE, World, copy_dir, run_binary};
use crate::support::watch::{eventually, start_watch_of_project};

/// The demo seed's ROMA instance.
const ROMA_INSTANCE: &str = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49";

fn project(world: &World, prod_origin: &str) -> String {
    format!(
        "\
targets:
  staging:
    flavour: apig
    endpoint: {url}
    project_id: {project}
    instance_id: {INSTANCE}
    vars: {{ORIGIN: https://staging.example.com, API: orders_list, MAX_AGE: 60}}
  prod:
    flavour: roma
    endpoint: {url}
    project_id: {project}
    instance_id: {ROMA_INSTANCE}
    vars: {{ORIGIN: {prod_origin}, API: sync_orders, MAX_AGE: 600}}
",
        url = world.emu.base_url(),
        project = world.emu.project_id(),
    )
}

const CORS: &str = "\
kind: Plugin
name: cors_public
type: cors
content:
  allow_origin: ${ORIGIN}
  max_age: ${MAX_AGE}
---
kind: Binding
plugin: cors_public
env: RELEASE
apis: [\"${API}\"]
";

const STAGING_ONLY: &str = "\
kind: Plugin
name: staging_banner
type: set_resp_headers
targets: [staging]
content:
  response_headers:
    - {name: X-Env, value: staging, action: override}
";

async fn two_targets() -> World {
    let world = World::empty(EmulatorConfig::demo()).await;
    world.write("apigsync.yaml", &project(&world, "https://example.com"));
    world.write("cors.yaml", CORS);
    world.write("staging.yaml", STAGING_ONLY);
    world
}

/// Runs `apigsync <command> <folder> <extra...>`: the targets come from apigsync.yaml.
async fn run(world: &World, command: &str, extra: &[&str]) -> crate::support::cli::Out {
    let mut args = vec![command.to_owned(), world.dir().display().to_string()];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    world.run_raw(args).await
}

fn client(world: &World, flavour: Flavour, instance: &str) -> Client {
    world.client_of(flavour, instance)
}

/// `(name, allow_origin)` of every plug-in of an instance, sorted.
async fn plugins(client: &Client) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = client
        .list_plugins()
        .await
        .expect("list")
        .into_iter()
        .map(|p| {
            let origin = p.content["allow_origin"].as_str().unwrap_or("").to_owned();
            (p.name, origin)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn one_folder_applies_two_gateways_with_their_own_vars_then_plans_no_changes() {
    let world = two_targets().await;
    let out = run(&world, "apply", &["--auto-approve"]).await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("Target staging (apig instance"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Target prod (roma instance"),
        "{}",
        out.stdout
    );

    let apig = client(&world, Flavour::Apig, INSTANCE);
    let roma = client(&world, Flavour::Roma, ROMA_INSTANCE);
    assert_eq!(
        plugins(&apig).await,
        [
            (
                "cors_public".to_owned(),
                "https://staging.example.com".to_owned()
            ),
            ("staging_banner".to_owned(), String::new()),
        ]
    );
    assert_eq!(
        plugins(&roma).await,
        [("cors_public".to_owned(), "https://example.com".to_owned())],
        "the staging-only document is not in prod"
    );
    let bound = roma
        .list_attached_apis(
            &roma
                .find_plugin_by_name("cors_public")
                .await
                .expect("list")
                .expect("exists")
                .id,
            None,
        )
        .await
        .expect("bindings");
    assert_eq!(
        bound
            .iter()
            .map(|b| b.api_name.as_str())
            .collect::<Vec<_>>(),
        ["sync_orders"]
    );

    let plan = run(&world, "plan", &["--detailed-exitcode"]).await;
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("2 target(s):\n  staging: No changes.\n  prod: No changes.\n"),
        "{}",
        plan.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn target_limits_plan_and_apply_to_the_targets_it_names() {
    let world = two_targets().await;
    run(&world, "apply", &["--auto-approve"])
        .await
        .expect_code(0);
    world.write(
        "apigsync.yaml",
        &project(&world, "https://shop.example.com"),
    );

    let staging = run(
        &world,
        "plan",
        &["--target", "staging", "--detailed-exitcode"],
    )
    .await;
    staging.expect_code(0);
    assert!(!staging.stdout.contains("prod"), "{}", staging.stdout);
    run(&world, "plan", &["--detailed-exitcode"])
        .await
        .expect_code(2);

    let before = world.stats().writes;
    run(&world, "apply", &["--target", "staging", "--auto-approve"])
        .await
        .expect_code(0);
    assert_eq!(world.stats().writes, before, "staging had nothing to do");
    run(&world, "apply", &["--target", "prod", "--auto-approve"])
        .await
        .expect_code(0);
    let roma = client(&world, Flavour::Roma, ROMA_INSTANCE);
    assert_eq!(
        plugins(&roma).await,
        [(
            "cors_public".to_owned(),
            "https://shop.example.com".to_owned()
        )]
    );

    let unknown = run(&world, "plan", &["--target", "qa"]).await;
    unknown.expect_code(1);
    assert!(
        unknown.stderr.contains("--target qa:")
            && unknown.stderr.contains("declares staging, prod"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_of_both_targets_applies_both_and_markdown_is_one_comment() {
    let world = two_targets().await;
    let md = run(&world, "plan", &["--output", "markdown"]).await;
    md.expect_code(0);
    assert_eq!(
        md.stdout.matches("### apigsync plan").count(),
        1,
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("#### Target `staging`"), "{}", md.stdout);
    assert!(md.stdout.contains("#### Target `prod`"), "{}", md.stdout);

    let saved = world.scratch("plan.json");
    let saved = saved.to_str().expect("UTF-8");
    run(&world, "plan", &["--out", saved]).await.expect_code(0);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(saved).expect("saved")).expect("JSON");
    let names: Vec<&str> = file["plans"]
        .as_array()
        .expect("plans")
        .iter()
        .filter_map(|p| p["target"]["name"].as_str())
        .collect();
    assert_eq!(names, ["staging", "prod"]);

    let out = run(
        &world,
        "apply",
        &["--plan", saved, "--auto-approve", "--output", "json"],
    )
    .await;
    out.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON report");
    assert_eq!(
        report["targets"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    run(&world, "plan", &["--detailed-exitcode"])
        .await
        .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_that_names_one_gateway_needs_one_target_and_nothing_is_written() {
    let world = two_targets().await;
    let out = run(
        &world,
        "apply",
        &["--auto-approve", "--instance-id", INSTANCE],
    )
    .await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("--instance-id names one gateway"),
        "{}",
        out.stderr
    );
    assert_eq!(world.stats().writes, 0);
    run(
        &world,
        "plan",
        &["--target", "staging", "--instance-id", INSTANCE],
    )
    .await
    .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_watch_reconciles_every_target_with_its_own_metrics_and_readiness() {
    let world = two_targets().await;
    let watch = start_watch_of_project(&world, &world.dir(), &["--interval", "1h"]);
    let successes = |target: &'static str| {
        watch.metric(match target {
            "staging" => "apigsync_reconciles_total{target=\"staging\",result=\"success\"}",
            _ => "apigsync_reconciles_total{target=\"prod\",result=\"success\"}",
        })
    };
    eventually("both targets reconciled and ready", async || {
        successes("staging").await >= 1.0
            && successes("prod").await >= 1.0
            && watch.ready_status().await == 200
    })
    .await;
    assert_eq!(
        watch
            .metric("apigsync_desired_plugins{target=\"staging\"}")
            .await,
        2.0
    );
    assert_eq!(
        watch
            .metric("apigsync_desired_plugins{target=\"prod\"}")
            .await,
        1.0
    );
    let roma = client(&world, Flavour::Roma, ROMA_INSTANCE);
    assert_eq!(
        plugins(&roma).await,
        [("cors_public".to_owned(), "https://example.com".to_owned())]
    );

    world.write(
        "apigsync.yaml",
        &project(&world, "https://shop.example.com"),
    );
    eventually("the prod var edit is applied to prod", async || {
        plugins(&roma).await
            == [(
                "cors_public".to_owned(),
                "https://shop.example.com".to_owned(),
            )]
    })
    .await;
    let apig = client(&world, Flavour::Apig, INSTANCE);
    assert_eq!(
        plugins(&apig).await[0],
        (
            "cors_public".to_owned(),
            "https://staging.example.com".to_owned()
        ),
        "staging keeps its own vars"
    );
    let (_, body) = watch.get("/metrics").await.expect("metrics");
    assert_eq!(
        body.matches("# TYPE apigsync_desired_plugins gauge")
            .count(),
        1,
        "one family, a series per target\n{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_targets_example_applies_to_both_embedded_gateways_then_plans_no_changes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("targets");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/targets"),
        &dir,
    );
    let run = |args: &[&str]| {
        let mut all = vec![args[0].to_owned(), dir.display().to_string()];
        all.extend(args[1..].iter().map(|s| (*s).to_owned()));
        run_binary(all, Default::default(), tmp.path().to_path_buf())
    };
    let apply = run(&["apply", "--auto-approve"]).await;
    apply.expect_code(0);
    assert!(
        apply
            .stdout
            .contains("Target staging: Apply complete: 4 done")
            && apply.stdout.contains("Target prod: Apply complete: 2 done"),
        "{}",
        apply.stdout
    );
    run(&["plan", "--detailed-exitcode"]).await.expect_code(0);
    run(&["plan", "--target", "prod", "--detailed-exitcode"])
        .await
        .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_with_a_credentials_prefix_signs_with_its_own_variables() {
    let mut world = two_targets().await;
    let project = project(&world, "https://example.com").replace(
        "    flavour: roma\n",
        "    flavour: roma\n    credentials_prefix: PROD\n",
    );
    world.write("apigsync.yaml", &project);

    let unset = run(&world, "plan", &[]).await;
    unset.expect_code(1);
    assert!(
        unset.stderr.contains("target prod:") && unset.stderr.contains("PROD_HW_ACCESS_KEY"),
        "{}",
        unset.stderr
    );
    assert!(
        unset.stdout.contains("staging: Plan:"),
        "staging is still planned\n{}",
        unset.stdout
    );

    world
        .env
        .insert("PROD_HW_ACCESS_KEY".into(), "not-the-demo-key".into());
    world
        .env
        .insert("PROD_HW_SECRET_KEY".into(), "not-the-demo-secret".into());
    let refused = run(&world, "plan", &["--target", "prod"]).await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("401"),
        "signed with PROD_*: {}",
        refused.stderr
    );

    world.env.insert(
        "PROD_HW_ACCESS_KEY".into(),
        emulator::DEMO_ACCESS_KEY.into(),
    );
    world.env.insert(
        "PROD_HW_SECRET_KEY".into(),
        emulator::DEMO_SECRET_KEY.into(),
    );
    run(&world, "apply", &["--auto-approve"])
        .await
        .expect_code(0);
}
