//! `--state` persistence across restarts, and the `apigsync emulator` command line.

use crate::support::emulator::{APIG, start};
use apigsync::emulator::EmulatorConfig;
use apigsync::model::Flavour;
use serde_json::json;

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("emulator.state.json");
    let mut config = EmulatorConfig::demo();
    config.state_file = Some(file.clone());

    let (emu, c) = start(config.clone()).await;
    let first = c.create_cors("cors_persisted").await;
    let api = c.api_id("orders_list").await;
    let attached = c
        .json(
            "POST",
            c.path(Flavour::Apig, APIG, &format!("/plugins/{first}/attach")),
            &json!({"env_id": "DEFAULT_ENVIRONMENT_RELEASE_ID", "api_ids": [api]}),
        )
        .await;
    assert_eq!(attached.status, 201);
    emu.shutdown().await;

    let (_emu, c) = start(config).await;
    let shown = c
        .get(
            c.path(Flavour::Apig, APIG, &format!("/plugins/{first}")),
            &[],
        )
        .await;
    assert_eq!(shown.body["plugin_name"], json!("cors_persisted"));
    let bound = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{first}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!(bound.body["total"], json!(1));
    let second = c.create_cors("cors_after_restart").await;
    assert_ne!(first, second, "ids keep counting after a restart");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("emulator.state.json")],
        "no temp file left"
    );
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("torn.json");
    std::fs::write(&file, "{\"project_id\":").expect("write");
    let mut config = EmulatorConfig::demo();
    config.state_file = Some(file);
    let err = apigsync::emulator::spawn(config)
        .await
        .expect_err("refuses");
    assert!(err.to_string().contains("torn.json"), "{err}");
}

#[test]
fn help_documents_every_flag() {
    let out = assert_cmd::Command::cargo_bin("apigsync")
        .expect("binary")
        .args(["emulator", "--help"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("utf-8");
    for flag in [
        "--listen <ADDR>",
        "--seed <FILE>",
        "--state <FILE>",
        "--credential <AK:SK>",
        "--token <TOKEN>",
        "--latency <DURATION>",
        "--fault-rate <F>",
        "--fault-seed <N>",
        "--rate-limit <RPS>",
        "127.0.0.1:8780",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn bad_flag_values_are_rejected_before_starting() {
    for args in [
        ["emulator", "--fault-rate", "1.5"],
        ["emulator", "--latency", "3d"],
        ["emulator", "--credential", "no-colon"],
    ] {
        let out = assert_cmd::Command::cargo_bin("apigsync")
            .expect("binary")
            .args(args)
            .output()
            .expect("runs");
        // A usage error exits 1, like every error (2 means "changes" for plan).
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
}
