//! Command-line behaviour through the binary: exit codes, located errors, the
//! confirmation rule, help texts, and secrets kept out of every output.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::cli::*;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
        .display()
        .to_string()
}

async fn run_offline(args: &[&str]) -> Out {
    let cwd = std::env::temp_dir();
    run_binary(
        args.iter().map(|s| s.to_string()).collect(),
        // The examples' Kafka log plug-in takes its secret from the environment.
        BTreeMap::from([("KAFKA_SASL_PASSWORD".into(), "demo-only-password".into())]),
        cwd,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_accepts_the_examples_with_exit_0() {
    let out = run_offline(&["validate", &examples_dir().display().to_string()]).await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("valid (7 plug-in(s), 10 binding(s), 0 warning(s))"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_rejects_a_broken_folder_with_exit_1_and_file_line_col() {
    let dir = fixture("broken");
    let out = run_offline(&["validate", &dir]).await;
    out.expect_code(1);
    let file = Path::new(&dir).join("plugins.yaml").display().to_string();
    assert!(
        out.stderr.contains(&format!("{file}:7:3: max_age")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "{file}:10:9: binding refers to unknown plug-in \"no_such_plugin\""
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("invalid (2 problem(s))"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_with_an_unset_variable_names_the_file_and_line() {
    let w = World::demo_examples().await;
    w.write(
        "secrets.yaml",
        "kind: Plugin\nname: oidc_login\ntype: oidc_auth\ncontent:\n  client_id: shop\n  client_secret: ${E2E_NEVER_SET_SECRET}\n  discovery: https://idp.example.com/.well-known/openid-configuration\n  redirect_api_id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0\n",
    );
    let out = w.run("plan", &[]).await;
    out.expect_code(1);
    let file = w.dir().join("secrets.yaml").display().to_string();
    assert!(out.stderr.contains(&format!("{file}:6:")), "{}", out.stderr);
    assert!(
        out.stderr.contains("E2E_NEVER_SET_SECRET"),
        "{}",
        out.stderr
    );
    assert_eq!(
        w.stats().total,
        0,
        "plan called the API with invalid manifests"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_auto_approve_and_no_terminal_refuses_with_exit_1() {
    let w = World::demo_examples().await;
    let out = w.run("apply", &[]).await;
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("refusing to apply without confirmation"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--auto-approve"), "{}", out.stderr);
    assert_eq!(w.stats().writes, 0, "apply wrote without confirmation");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_help_mention_the_exit_codes() {
    let plan = run_offline(&["plan", "--help"]).await;
    plan.expect_code(0);
    assert!(
        plan.stdout.contains("Exit code: 0 no changes")
            && plan.stdout.contains("2 changes")
            && plan.stdout.contains("1 error"),
        "{}",
        plan.stdout
    );
    let apply = run_offline(&["apply", "--help"]).await;
    apply.expect_code(0);
    assert!(
        apply.stdout.contains("Exit code: 0 every operation done"),
        "{}",
        apply.stdout
    );
    assert!(apply.stdout.contains("1 otherwise"), "{}", apply.stdout);
}

const KAFKA_SECRET: &str = "Kafka-E2E-S3cret-9f1c";
const KAFKA_SECRET_2: &str = "Kafka-E2E-S3cret-rotated-77b2";

fn assert_no_secret(what: &str, out: &Out) {
    for secret in [
        KAFKA_SECRET,
        KAFKA_SECRET_2,
        apigsync::emulator::DEMO_SECRET_KEY,
    ] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{what} printed a secret\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_appear_in_plan_or_apply_output_at_any_verbosity() {
    let mut w = World::demo_examples().await;
    w.env
        .insert("KAFKA_SASL_PASSWORD".into(), KAFKA_SECRET.into());
    let saved = w.scratch("plan.json").display().to_string();
    let mut runs: Vec<(&str, Vec<&str>)> = vec![
        ("plan", vec![]),
        ("plan", vec!["-vv"]),
        ("plan", vec!["-vvv", "--output", "json", "--out", &saved]),
        ("plan", vec!["--output", "markdown"]),
        ("apply", vec!["-vvv", "--auto-approve"]),
    ];
    for (command, extra) in runs.drain(..) {
        let out = w.run(command, &extra).await;
        assert!(out.code == 0, "{command} {extra:?}: {}", out.stderr);
        assert_no_secret(&format!("{command} {extra:?}"), &out);
    }
    let plan_file = std::fs::read_to_string(w.scratch("plan.json")).expect("saved plan");
    assert!(
        !plan_file.contains(KAFKA_SECRET),
        "the saved plan holds the secret"
    );

    // A rotated secret: the change is shown as sensitive, the values never.
    w.env
        .insert("KAFKA_SASL_PASSWORD".into(), KAFKA_SECRET_2.into());
    let plan = w.run("plan", &["-vv"]).await;
    plan.expect_code(0);
    assert_no_secret("plan after rotation", &plan);
    assert!(
        plan.stdout.contains("(sensitive value changed)"),
        "{}",
        plan.stdout
    );
    let markdown = w.run("plan", &["--output", "markdown"]).await;
    assert_no_secret("markdown plan after rotation", &markdown);
    let apply = w
        .run("apply", &["-vvv", "--auto-approve", "--output", "json"])
        .await;
    apply.expect_code(0);
    assert_no_secret("apply after rotation", &apply);
    let out = w.run("plan", &["--detailed-exitcode"]).await;
    out.expect_code(0);
}
