//! Ownership namespaces and the secret fingerprints of the marker, through the binary,
//! against an emulator started in the test: two folders with different owners on one
//! gateway, first-format markers, and what the marker tells about secrets.

use std::path::{Path, PathBuf};

use crate::support::cli::*;
use apigsync::api::PluginBody;
use apigsync::emulator::EmulatorConfig;
use apigsync::model::{PluginType, Scope};
use apigsync::plan::marker;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEY: &str = "0123456789abcdef0123456789abcdef";

/// Writes `text` to `rel` under `dir`.
fn write(dir: &Path, rel: &str, text: &str) {
    std::fs::create_dir_all(dir).expect("folder");
    std::fs::write(dir.join(rel), text).expect("write");
}

/// A project file with `owner` (none when empty) and prune on.
fn project(owner: &str) -> String {
    let owner = if owner.is_empty() {
        String::new()
    } else {
        format!("  owner: {owner}\n")
    };
    format!("options:\n  prune: true\n{owner}")
}

/// A CORS plug-in `name` bound to `api` in RELEASE.
fn cors(name: &str, api: &str) -> String {
    format!(
        "kind: Plugin\nname: {name}\ntype: cors\ncontent:\n  allow_origin: \"*\"\n  allow_methods: GET\n\
         ---\nkind: Binding\nplugin: {name}\nenv: RELEASE\napis: [{api}]\n"
    )
}

/// A Kafka log plug-in whose two secrets come from `PW` and `CA`.
fn kafka() -> String {
    "kind: Plugin\nname: audit\ntype: kafka_log\ncontent:\n  broker_list: [\"k1:9092\"]\n  topic: t\n  \
     sasl_config:\n    security_protocol: SASL_SSL\n    sasl_mechanisms: PLAIN\n    sasl_username: u\n    \
     sasl_password: ${PW}\n    ssl_ca_content: ${CA}\n"
        .to_owned()
}

/// Runs `apigsync <command> <dir> <extra…>` against the world's emulator.
async fn run_in(w: &World, dir: &Path, command: &str, extra: &[&str]) -> Out {
    let mut args = vec![command.to_owned(), dir.display().to_string()];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args.extend(w.target_flags());
    w.run_raw(args).await
}

/// The owner in the marker of live plug-in `name`.
async fn owner(w: &World, name: &str) -> Option<String> {
    marker::owner_of(w.plugin(name).await.remark.as_deref())
}

/// `apply --auto-approve` of `dir`, which must succeed.
async fn apply_in(w: &World, dir: &Path) {
    run_in(w, dir, "apply", &["--auto-approve"])
        .await
        .expect_code(0);
}

/// `plan --output json` of `dir` as a value.
async fn json_plan(w: &World, dir: &Path) -> Value {
    let out = run_in(w, dir, "plan", &["--output", "json"]).await;
    out.expect_code(0);
    serde_json::from_str(&out.stdout).expect("plan is JSON")
}

/// The remark the first operation of a plan would write.
fn first_remark(plan: &Value) -> String {
    plan["operations"][0]["spec"]["remark"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An emulator and two folders with prune: owner `team-a` (the world's folder) declares
/// plug-in `a_name` on orders_list, owner `team-b` declares `b_name` on orders_get.
async fn two_folders(a_name: &str, b_name: &str) -> (World, PathBuf, PathBuf) {
    let w = World::empty(EmulatorConfig::demo()).await;
    let a = w.dir();
    let b = w.scratch("team-b");
    write(&a, "apigsync.yaml", &project("team-a"));
    write(&a, "cors.yaml", &cors(a_name, "orders_list"));
    write(&b, "apigsync.yaml", &project("team-b"));
    write(&b, "cors.yaml", &cors(b_name, "orders_get"));
    (w, a, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_folders_with_different_owners_and_prune_leave_each_other_alone() {
    let (w, a, b) = two_folders("a_cors", "b_cors").await;

    apply_in(&w, &a).await;
    apply_in(&w, &b).await;
    for dir in [&a, &b] {
        run_in(&w, dir, "plan", &["--detailed-exitcode"])
            .await
            .expect_code(0);
    }
    assert_eq!(owner(&w, "a_cors").await.as_deref(), Some("team-a"));
    assert_eq!(owner(&w, "b_cors").await.as_deref(), Some("team-b"));
    assert_eq!(
        w.bindings("a_cors").await,
        [("RELEASE".to_owned(), "orders_list".to_owned())]
    );
    assert_eq!(
        w.bindings("b_cors").await,
        [("RELEASE".to_owned(), "orders_get".to_owned())]
    );

    // Team B removes its plug-in: prune deletes it and nothing of team A.
    std::fs::remove_file(b.join("cors.yaml")).expect("remove");
    write(&b, "other.yaml", &cors("b_other", "orders_get"));
    apply_in(&w, &b).await;
    let names: Vec<String> = w.plugins().await.into_iter().map(|p| p.name).collect();
    assert!(names.contains(&"a_cors".to_owned()), "{names:?}");
    assert!(!names.contains(&"b_cors".to_owned()), "{names:?}");
    run_in(&w, &a, "plan", &["--detailed-exitcode"])
        .await
        .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_taken_by_another_owner_is_a_plan_error_not_a_takeover() {
    let (w, a, b) = two_folders("shared", "shared").await;
    apply_in(&w, &a).await;
    let writes = w.stats().writes;

    for extra in [&[][..], &["--adopt"][..]] {
        let out = run_in(&w, &b, "plan", extra).await;
        out.expect_code(1);
        assert!(out.stderr.contains("\"shared\""), "{}", out.stderr);
        assert!(out.stderr.contains("\"team-a\""), "{}", out.stderr);
        assert!(out.stderr.contains("\"team-b\""), "{}", out.stderr);
        assert!(out.stderr.contains("cors.yaml:1"), "{}", out.stderr);
    }
    run_in(&w, &b, "apply", &["--auto-approve", "--adopt"])
        .await
        .expect_code(1);
    assert_eq!(w.stats().writes, writes, "nothing was written");
    assert_eq!(owner(&w, "shared").await.as_deref(), Some("team-a"));
}

#[tokio::test(flavor = "multi_thread")]
async fn markers_without_an_owner_are_read_as_the_default_owner() {
    let w = World::empty(EmulatorConfig::demo()).await;
    let body = PluginBody {
        plugin_name: "old_cors".into(),
        plugin_type: PluginType::Cors,
        plugin_scope: Scope::Global,
        plugin_content: json!({"allow_origin": "*", "allow_methods": "GET"}),
        remark: Some("made by apigsync 0.x [apigsync:3f9a1c]".into()),
        roma_app_id: None,
    };
    w.client().create_plugin(&body).await.expect("create");

    // A folder of the default owner manages it: same content, no change, no takeover error.
    let default = w.dir();
    write(&default, "apigsync.yaml", &project(""));
    write(
        &default,
        "cors.yaml",
        "kind: Plugin\nname: old_cors\ntype: cors\nremark: made by apigsync 0.x\ncontent:\n  \
         allow_origin: \"*\"\n  allow_methods: GET\n",
    );
    run_in(&w, &default, "plan", &["--detailed-exitcode"])
        .await
        .expect_code(0);

    // A folder of another owner neither prunes it nor takes it over.
    let other = w.scratch("team-a");
    write(&other, "apigsync.yaml", &project("team-a"));
    write(&other, "cors.yaml", &cors("a_cors", "orders_list"));
    let plan = json_plan(&w, &other).await;
    let kinds: Vec<&str> = plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter_map(|op| op["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["create_plugin", "attach"], "{plan:#}");
    write(&other, "cors.yaml", &cors("old_cors", "orders_list"));
    let out = run_in(&w, &other, "plan", &[]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("owner \"default\""), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_one_secret_shows_one_sensitive_change() {
    let mut w = World::empty(EmulatorConfig::demo()).await;
    w.env.insert("APIGSYNC_MARKER_KEY".into(), KEY.into());
    w.env.insert("PW".into(), "first-password".into());
    w.env
        .insert("CA".into(), "-----BEGIN CERTIFICATE-----one".into());
    w.write("kafka.yaml", &kafka());
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);

    w.env.insert("PW".into(), "second-password".into());
    let plan = json_plan(&w, &w.dir()).await;
    let ops = plan["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), 1, "{plan:#}");
    assert_eq!(
        ops[0]["changes"],
        json!([{"path": "/content/sasl_config/sasl_password", "old": null, "new": null, "sensitive": true}]),
        "{plan:#}"
    );
    let text = w.run("plan", &[]).await;
    assert!(!text.stdout.contains("second-password"), "{}", text.stdout);
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_marker_does_not_let_a_reader_test_a_guess_of_a_secret() {
    let mut w = World::empty(EmulatorConfig::demo()).await;
    w.env.insert("PW".into(), "hunter2".into());
    w.env.insert("CA".into(), "ca".into());
    w.write("kafka.yaml", &kafka());

    let mut remarks = Vec::new();
    for key in [Some(KEY), Some("fedcba9876543210fedcba9876543210"), None] {
        match key {
            Some(key) => w.env.insert("APIGSYNC_MARKER_KEY".into(), key.into()),
            None => w.env.remove("APIGSYNC_MARKER_KEY"),
        };
        let remark = first_remark(&json_plan(&w, &w.dir()).await);
        assert_eq!(
            remark,
            first_remark(&json_plan(&w, &w.dir()).await),
            "deterministic"
        );
        remarks.push(remark);
    }
    assert!(
        remarks[0].starts_with("[apigsync@default k:"),
        "{remarks:?}"
    );
    assert!(
        remarks[2].starts_with("[apigsync@default a:"),
        "{remarks:?}"
    );
    assert_ne!(remarks[0], remarks[1], "the fingerprint depends on the key");
    // A reader's cheap guesses (unkeyed, unsalted hashes of the right secret) match nothing.
    for guess in ["hunter2", "\"hunter2\"", "audit\0\"hunter2\"\0"] {
        let plain = hex::encode(Sha256::digest(guess.as_bytes()));
        for remark in &remarks {
            assert!(
                !remark.contains(&plain[..8]),
                "{remark} holds sha256({guess:?})"
            );
        }
    }

    // A key too short to resist guessing is refused.
    w.env.insert("APIGSYNC_MARKER_KEY".into(), "short".into());
    let out = w.run("plan", &[]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("APIGSYNC_MARKER_KEY"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_that_is_not_a_short_name_is_a_located_error() {
    let w = World::empty(EmulatorConfig::demo()).await;
    w.write("apigsync.yaml", "options:\n  owner: Team_A\n");
    let out = w
        .run_raw(vec!["validate".into(), w.dir().display().to_string()])
        .await;
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("apigsync.yaml:2:10: options.owner: owner \"Team_A\""),
        "{}",
        out.stderr
    );
}
