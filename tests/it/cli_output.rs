//! Output streams through the binary: a closed stdout pipe ends the output quietly, and
//! `--log-format json` makes every stderr line a JSON object.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::cli::*;

/// Runs the binary with stdout a pipe whose reading end is closed before it starts, so
/// every write to stdout fails with a broken pipe. Returns the exit code and stderr.
async fn run_into_closed_pipe(args: Vec<String>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_apigsync"))
            .args(&args)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("HW_ACCESS_KEY", apigsync::emulator::DEMO_ACCESS_KEY)
            .env("HW_SECRET_KEY", apigsync::emulator::DEMO_SECRET_KEY)
            .env(EXAMPLE_SECRET.0, EXAMPLE_SECRET.1)
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("the blocking task finishes")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_pipe_exits_quietly() {
    let examples = examples_dir().display().to_string();
    for (args, code) in [
        (vec!["completions", "bash"], 0),
        (vec!["schema"], 0),
        (vec!["--help"], 0),
        (vec!["validate", examples.as_str()], 0),
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (got, stderr) = run_into_closed_pipe(args.clone()).await;
        assert_eq!(got, code, "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_pipe_keeps_the_exit_code_of_plan() {
    let w = World::demo_examples().await;
    let mut args = vec![
        "plan".to_string(),
        w.dir().display().to_string(),
        "--detailed-exitcode".into(),
    ];
    args.extend(w.target_flags());
    let (code, stderr) = run_into_closed_pipe(args).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[track_caller]
fn assert_json_lines(what: &str, stderr: &str) -> Vec<serde_json::Value> {
    assert!(!stderr.trim().is_empty(), "{what}: nothing on stderr");
    stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("{what}: stderr line is not JSON ({e}): {line:?}"))
        })
        .collect()
}

fn messages(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn log_format_json_makes_every_stderr_line_json() {
    let w = World::demo_examples().await;
    let apply = w
        .run("apply", &["--auto-approve", "--log-format", "json", "-v"])
        .await;
    apply.expect_code(0);
    let lines = assert_json_lines("apply", &apply.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["status"] == "done" && l["fields"]["operation"].is_string()),
        "no progress line: {}",
        apply.stderr
    );

    let failed = w
        .run_raw(vec![
            "plan".into(),
            w.scratch("no-such-folder").display().to_string(),
            "--log-format=json".into(),
        ])
        .await;
    failed.expect_code(1);
    let lines = assert_json_lines("fatal error", &failed.stderr);
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"),
        "{}",
        failed.stderr
    );

    let usage = w
        .run_raw(vec![
            "plan".into(),
            "--log-format".into(),
            "json".into(),
            "--output".into(),
            "markdwn".into(),
        ])
        .await;
    usage.expect_code(1);
    let lines = assert_json_lines("usage error", &usage.stderr);
    assert!(
        messages(&lines).iter().any(|m| m.contains("markdwn")),
        "{}",
        usage.stderr
    );

    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e/broken");
    let invalid = run_binary(
        vec![
            "validate".into(),
            broken.display().to_string(),
            "--log-format".into(),
            "json".into(),
        ],
        BTreeMap::new(),
        std::env::temp_dir(),
    )
    .await;
    invalid.expect_code(1);
    let lines = assert_json_lines("validate", &invalid.stderr);
    assert!(
        messages(&lines).iter().any(|m| m.contains("max_age")),
        "{}",
        invalid.stderr
    );
}

/// Progress lines are written in batches (`output::Batch`): none is lost or doubled, and all
/// are out by the time the binary exits.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_writes_one_progress_line_per_operation() {
    let w = World::demo_examples().await;
    let apply = w.run("apply", &["--auto-approve", "-o", "json"]).await;
    apply.expect_code(0);
    let out: serde_json::Value = serde_json::from_str(&apply.stdout).expect("JSON on stdout");
    let mut expected: Vec<String> = out["report"]["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| format!("done: {}", op["description"].as_str().expect("description")))
        .collect();
    let mut progress: Vec<String> = apply
        .stderr
        .lines()
        .filter(|l| l.starts_with("done: "))
        .map(str::to_owned)
        .collect();
    assert!(expected.len() > 5, "the examples make a plan: {expected:?}");
    expected.sort();
    progress.sort();
    assert_eq!(progress, expected, "stderr:\n{}", apply.stderr);
}
