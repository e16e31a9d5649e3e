//! A secret's `${VAR:-default}` default is text in the file: a literal secret,
//! refused unless allowed, and never carried into a plan, its output or logs.

use crate::support::cli::World;
use apigsync::emulator::EmulatorConfig;

const DEFAULT: &str = "Sup3rS3cret";

fn kafka(password: &str) -> String {
    format!(
        "kind: Plugin\nname: kafka_logs\ntype: kafka_log\ncontent:\n  broker_list: [\"k:9092\"]\n  \
         topic: t\n  sasl_config:\n    security_protocol: SASL_PLAINTEXT\n    sasl_username: u\n    \
         sasl_password: \"{password}\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_default_is_a_literal_secret_and_never_reaches_the_plan() {
    let w = World::empty(EmulatorConfig::demo()).await;
    w.write("apigsync.yaml", "target:\n  flavour: apig\n");
    w.write("kafka.yaml", &kafka(&format!("${{KP:-{DEFAULT}}}")));

    let refused = w.validate().await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "kafka.yaml:10:20: secret field sasl_config/sasl_password in kafka_log content is written as a literal"
        ),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(DEFAULT), "{}", refused.stderr);

    // Allowed explicitly, it is a literal: the plan holds a placeholder, not the default.
    w.write(
        "apigsync.yaml",
        "target:\n  flavour: apig\noptions:\n  allow_literal_secrets: true\n",
    );
    let saved = w.scratch("plan.json").display().to_string();
    let planned = w
        .run("plan", &["-vv", "--output", "json", "--out", &saved])
        .await;
    planned.expect_code(0);
    let plan = std::fs::read_to_string(&saved).expect("saved plan");
    for (what, text) in [
        ("plan file", &plan),
        ("stdout", &planned.stdout),
        ("stderr", &planned.stderr),
    ] {
        assert!(!text.contains(DEFAULT), "{what} holds the default:\n{text}");
    }
    assert!(
        plan.contains("(literal secret from the manifest)"),
        "{plan}"
    );

    let applied = w
        .run("apply", &["-vv", "--auto-approve", "--plan", &saved])
        .await;
    applied.expect_code(0);
    assert!(!applied.stderr.contains(DEFAULT), "{}", applied.stderr);
    assert!(!applied.stdout.contains(DEFAULT), "{}", applied.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_default_is_still_a_reference() {
    let mut w = World::empty(EmulatorConfig::demo()).await;
    w.write("kafka.yaml", &kafka("${KP:-}"));
    w.env.insert("KP".into(), "from-env".into());
    w.validate().await.expect_code(0);
}

/// Runs the binary with no environment at all (no credentials, no secrets), in the
/// repository's root.
fn bare(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apigsync"))
        .args(args)
        .env_clear()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_is_offline_an_unset_secret_is_a_note_and_plan_still_needs_it() {
    let (code, stdout, stderr) = bare(&["validate", "examples/manifests"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "examples/manifests: valid (7 plug-in(s), 10 binding(s), 0 warning(s))\n"
    );
    assert_eq!(
        stderr,
        "note: examples/manifests/observability/access-log.yaml:27:20: variable \"KAFKA_SASL_PASSWORD\" \
         of secret field sasl_config.sasl_password is not set: needed by plan and apply\n"
    );

    let (code, _, stderr) = bare(&["plan", "examples/manifests"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "examples/manifests/observability/access-log.yaml:27:20: cannot substitute: variable \
             \"KAFKA_SASL_PASSWORD\" of a secret field is not set (set it in the environment: a \
             secret has no default in the files)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(":-default"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_still_needs_the_variables_of_fields_that_are_not_secret() {
    let w = World::empty(EmulatorConfig::demo()).await;
    w.write("apigsync.yaml", "target:\n  flavour: apig\n");
    w.write(
        "cors.yaml",
        "kind: Plugin\nname: c\ntype: cors\ncontent:\n  allow_origin: \"${ORIGIN_UNSET}\"\n",
    );
    let out = w.validate().await;
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "cors.yaml:5:17: cannot substitute: variable \"ORIGIN_UNSET\" is not set (set it, or write ${ORIGIN_UNSET:-default})"
        ),
        "{}",
        out.stderr
    );
}
