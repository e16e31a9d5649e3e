//! The status page of `watch`, opened in a real browser (headless Chromium): it shows the
//! target, the drifted plug-in and field with their values; `/status.json` holds the same.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::cli::World;
use crate::support::watch::{Watch, eventually, start_watch};

/// The DOM of `url` after Chromium loaded it, or `None` when Chromium is not installed
/// and this is not CI (where it must run: `.ci/run` installs it).
async fn dump_dom(url: &str) -> Option<String> {
    let installed = std::process::Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed in CI (.ci/run installs it)"
        );
        eprintln!(
            "\n!!! SKIPPED the browser check: chromium is not installed (apt-get install -y chromium) !!!\n"
        );
        return None;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let run = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("chromium ends within a minute")
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn status_json(watch: &Watch) -> Value {
    let (_, body) = watch.get("/status.json").await.expect("status.json");
    serde_json::from_str(&body).expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_in_a_browser_shows_the_target_and_the_drifted_plugin_and_field() {
    let world = World::demo_examples().await;
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let watch = start_watch(
        &world,
        &world.dir(),
        &["--interval", "1s", "--sync", "files"],
    );
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    world
        .change_content("cors_public", |c| c["max_age"] = json!(60))
        .await;
    let mut status = Value::Null;
    eventually("the drift is on the status page", async || {
        status = status_json(&watch).await;
        status["targets"]
            .as_object()
            .and_then(|t| t.values().next())
            .is_some_and(|t| !t["drift"].as_array().is_none_or(Vec::is_empty))
    })
    .await;
    assert_eq!(status["leader"], true);
    let (label, target) = status["targets"]
        .as_object()
        .and_then(|t| t.iter().next())
        .expect("one target");
    assert_eq!(target["outcome"], "reported");
    assert_eq!(target["drift"][0]["plugin"], "cors_public");
    // The view is read every interval (1 s), so its oldest part is a few seconds old.
    assert!(
        target["view_age_s"].as_u64().is_some_and(|age| age < 60),
        "view_age_s: {}",
        target["view_age_s"]
    );
    assert_eq!(
        target["drift"][0]["fields"],
        json!([{"path": "/content/max_age", "old": "60", "new": "600"}])
    );
    let Some(dom) = dump_dom(&format!("http://127.0.0.1:{}/", watch.port)).await else {
        return;
    };
    for shown in [
        format!("Target {label}"),
        "cors_public".to_owned(),
        "/content/max_age".to_owned(),
        "Drift (changed on the gateway)".to_owned(),
        "id=\"role\">leader<".to_owned(),
        "view age".to_owned(),
    ] {
        assert!(
            dom.contains(&shown),
            "the page does not show {shown:?}:\n{dom}"
        );
    }
}
