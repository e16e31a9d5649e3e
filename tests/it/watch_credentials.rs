//! Credentials that expire under a running `watch` (issue 16): with `HW_AUTH_TOKEN_FILE`,
//! the file is re-read, so a token replaced in the file after the old one expired keeps
//! the watch working, without a restart.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::cli::{World, admin_put};
use crate::support::watch::{Watch, eventually, free_port, set_max_age};
use apigsync::emulator::EmulatorConfig;

#[tokio::test(flavor = "multi_thread")]
async fn watch_with_a_token_file_survives_the_tokens_expiry_when_the_file_is_replaced() {
    let world = World::examples(EmulatorConfig {
        tokens: vec!["token-one".into()],
        ..EmulatorConfig::demo()
    })
    .await;
    admin_put(
        &world.emu,
        "/_emulator/faults",
        &json!({"token_expiry_ms": 3000}),
    )
    .await;
    admin_put(
        &world.emu,
        "/_emulator/tokens",
        &json!({"tokens": ["token-one"]}),
    )
    .await;
    let token_file = world.scratch("token");
    std::fs::write(&token_file, "token-one\n").expect("token file");
    let dir = world.dir();
    let port = free_port();
    let log = world.scratch("watch.log");
    let child = Command::new(env!("CARGO_BIN_EXE_apigsync"))
        .arg("watch")
        .arg(&dir)
        .args(world.target_flags())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--interval", "1h"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HW_AUTH_TOKEN_FILE", &token_file)
        .env("NO_COLOR", "1")
        .envs(&world.env)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("watch starts");
    let watch = Watch { child, port, log };
    eventually("the first reconcile", async || {
        watch.successes().await >= 1.0
    })
    .await;

    // The token expires; a new one is issued and written to the file.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    admin_put(
        &world.emu,
        "/_emulator/tokens",
        &json!({"tokens": ["token-two"]}),
    )
    .await;
    std::fs::write(&token_file, "token-two\n").expect("token file");

    set_max_age(&dir, 777);
    let client = world.client();
    eventually("the edit is applied with the new token", async || {
        let plugin = client.find_plugin_by_name("cors_public").await;
        matches!(plugin, Ok(Some(p)) if p.content["max_age"] == 777)
    })
    .await;
    let mut watch = watch;
    assert!(
        watch.child.try_wait().expect("status").is_none(),
        "watch exited\n{}",
        watch.log()
    );
}
