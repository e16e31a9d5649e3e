//! Drift versus intent, through the binary against an emulator started in the test: each
//! operation of a plan says whether the files, the gateway (a console edit), or both
//! changed since the last apply.

use crate::support::cli::*;
use serde_json::{Value, json};

/// `plan --output json` as a value.
async fn json_plan(w: &World) -> Value {
    let out = w.run("plan", &["--output", "json"]).await;
    out.expect_code(0);
    serde_json::from_str(&out.stdout).expect("plan is JSON")
}

/// `(operation id, cause)` of every operation.
fn causes(plan: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            let field = |k: &str| op[k].as_str().unwrap_or_default().to_owned();
            (field("id"), field("cause"))
        })
        .collect();
    out.sort();
    out
}

fn pair(id: &str, cause: &str) -> (String, String) {
    (id.to_owned(), cause.to_owned())
}

/// Detaches `api` from `plugin` in `env` "on the console" (through the client).
async fn console_detach(w: &World, plugin: &str, env: &str, api: &str) {
    let id = w.plugin(plugin).await.id;
    w.client()
        .detach_apis(&id, &w.env_id(env).await, &[w.api_id(api).await])
        .await
        .expect("detach");
}

/// Replaces `from` by `to` in manifest `rel`.
fn edit(w: &World, rel: &str, from: &str, to: &str) {
    let path = w.dir().join(rel);
    let text = std::fs::read_to_string(&path).expect("read manifest");
    assert!(text.contains(from), "{rel} holds {from:?}");
    w.write(rel, &text.replacen(from, to, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_edit_plans_as_drift_and_a_file_edit_as_files() {
    let w = World::demo_examples().await;
    w.run("apply", &["--auto-approve"]).await.expect_code(0);

    // On the console: cors_public's max_age, and one of its APIs detached.
    w.change_content("cors_public", |c| c["max_age"] = json!(60))
        .await;
    console_detach(&w, "cors_public", "RELEASE", "users_list").await;
    // In the files: another plug-in's content.
    edit(
        &w,
        "shop/response-headers.yaml",
        "value: max-age=31536000",
        "value: max-age=63072000",
    );

    let plan = json_plan(&w).await;
    assert_eq!(
        causes(&plan),
        [
            pair("attach/cors_public/RELEASE/1", "drift"),
            pair("update/cors_public", "drift"),
            pair("update/security_headers", "files"),
        ],
        "{plan:#}"
    );
    let text = w.run("plan", &[]).await;
    let section = text
        .stdout
        .split("Changed on the gateway since the last apply: applying will undo it:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no drift section:\n{}", text.stdout));
    let section = section.split("\n\n").next().unwrap_or_default();
    assert_eq!(
        section, "  ! update cors_public\n  ! attach cors_public in RELEASE: users_list",
        "{}",
        text.stdout
    );

    // The files change cors_public too: both.
    edit(&w, "cors.yaml", "max_age: 600", "max_age: 900");
    let plan = json_plan(&w).await;
    assert!(
        causes(&plan).contains(&pair("update/cors_public", "both")),
        "{plan:#}"
    );

    // Applied, the record follows: no change, and a new console edit is drift again.
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
    w.change_content("security_headers", |c| {
        c["response_headers"][0]["value"] = json!("max-age=1")
    })
    .await;
    assert_eq!(
        causes(&json_plan(&w).await),
        [pair("update/security_headers", "drift")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binding_added_in_the_files_is_recorded_so_a_later_console_detach_is_drift() {
    let w = World::demo_examples().await;
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w.write(
        "cors-health.yaml",
        "kind: Binding\nplugin: cors_public\nenv: TEST\napis: [health]\n",
    );
    let plan = json_plan(&w).await;
    assert_eq!(
        causes(&plan),
        [
            pair("attach/cors_public/TEST/1", "files"),
            pair("update/cors_public", "files"),
        ],
        "{plan:#}"
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);

    console_detach(&w, "cors_public", "TEST", "health").await;
    assert_eq!(
        causes(&json_plan(&w).await),
        [pair("attach/cors_public/TEST/1", "drift")]
    );
}
