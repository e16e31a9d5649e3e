//! The smaller promises of the command line, through the binary: `-o` is the output format
//! everywhere, `dump --help`'s demo works from the repository root, and `watch` waits for a
//! folder that git-sync has not synced yet instead of exiting.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::cli::*;
use crate::support::watch::{Watch, eventually, free_port};

#[tokio::test(flavor = "multi_thread")]
async fn dash_o_is_the_output_format_in_every_command_that_has_one() {
    let w = World::demo_examples().await;
    let plan = w.run("plan", &["-o", "json"]).await;
    plan.expect_code(0);
    serde_json::from_str::<serde_json::Value>(&plan.stdout).expect("plan -o json is JSON");
    let apply = w.run("apply", &["-o", "json", "--auto-approve"]).await;
    apply.expect_code(0);
    serde_json::from_str::<serde_json::Value>(&apply.stdout).expect("apply -o json is JSON");
    let dump = run_offline(&["dump", "--help"]).await;
    assert!(!dump.stdout.contains("-o, --out"), "{}", dump.stdout);
    assert!(dump.stdout.contains("--out <DIR>"), "{}", dump.stdout);
}

/// The demo lines of `dump --help`, run as written from a copy of the repository root.
#[tokio::test(flavor = "multi_thread")]
async fn dump_help_emulator_example_works_from_the_repository_root() {
    let help = run_offline(&["dump", "--help"]).await;
    let lines: Vec<Vec<String>> = help
        .stdout
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("The demo, from the repository root"))
        .skip_while(|l| !l.starts_with("apigsync "))
        .take_while(|l| l.starts_with("apigsync "))
        .map(|l| l.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect();
    assert_eq!(lines.len(), 2, "{}", help.stdout);
    let root = tempfile::tempdir().expect("temp dir");
    copy_dir(&examples_dir(), &root.path().join("examples/manifests"));
    let cwd = root.path().to_path_buf();
    let secret = [(EXAMPLE_SECRET.0.to_owned(), EXAMPLE_SECRET.1.to_owned())].into();
    let apply = run_binary(lines[0].clone(), secret, cwd.clone()).await;
    apply.expect_code(0);
    let dump = run_binary(lines[1].clone(), Default::default(), cwd).await;
    dump.expect_code(0);
    assert!(
        dump.stdout.starts_with("Dumped 7 plug-ins"),
        "{}",
        dump.stdout
    );
    assert!(root.path().join("demo-dump/apigsync.yaml").is_file());
}

/// `watch` on a folder git-sync has not cloned yet, with no instance id on the command
/// line (it is in the project file that has not arrived): not ready, still running; once
/// the folder lands it reconciles and becomes ready.
#[tokio::test(flavor = "multi_thread")]
async fn watch_waits_not_ready_until_the_folder_is_synced() {
    let w = World::demo_examples().await;
    let dir = w.scratch("sync/current/manifests");
    let port = free_port();
    let log = w.scratch("watch.log");
    let child = Command::new(env!("CARGO_BIN_EXE_apigsync"))
        .arg("watch")
        .arg(&dir)
        .args(["--endpoint", &w.emu.base_url()])
        .args(["--project-id", &w.emu.project_id()])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--interval", "1h"])
        .env("HW_ACCESS_KEY", apigsync::emulator::DEMO_ACCESS_KEY)
        .env("HW_SECRET_KEY", apigsync::emulator::DEMO_SECRET_KEY)
        .env(EXAMPLE_SECRET.0, EXAMPLE_SECRET.1)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("watch starts");
    let mut watch = Watch { child, port, log };
    eventually("the endpoints answer", async || {
        watch.ready_status().await == 503
    })
    .await;
    assert!(
        watch.child.try_wait().expect("status").is_none(),
        "watch exited: {}",
        watch.log()
    );
    assert!(
        watch.log().contains("waiting for the folder"),
        "{}",
        watch.log()
    );
    copy_dir(&examples_dir(), &dir);
    eventually("a reconcile after the sync", async || {
        watch.successes().await >= 1.0
    })
    .await;
    eventually("ready", async || watch.ready_status().await == 200).await;
    assert!(Path::new(&dir).join("apigsync.yaml").is_file());
}
