//! Values from files and flags: typed `${VAR}` substitution, ids written
//! unquoted, bounds checked at parse time with a located error, and durations.

use crate::support::cli::{World, run_binary};
use apigsync::emulator::EmulatorConfig;
use std::collections::BTreeMap;

const PROJECT: &str = "target:\n  flavour: apig\n";

async fn world(files: &[(&str, &str)], env: &[(&str, &str)]) -> World {
    let mut w = World::empty(EmulatorConfig::demo()).await;
    for (path, text) in files {
        w.write(path, text);
    }
    w.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    w
}

const RATE_LIMIT: &str =
    "kind: Plugin\nname: rl_orders\ntype: rate_limit\ncontent:\n  api_limit: ${RL_LIMIT}\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_reference_where_the_model_wants_a_number_is_a_number() {
    let w = world(
        &[("apigsync.yaml", PROJECT), ("rl.yaml", RATE_LIMIT)],
        &[("RL_LIMIT", "250")],
    )
    .await;
    w.validate().await.expect_code(0);
    let out = w.run("plan", &["--output", "json"]).await;
    out.expect_code(0);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let create = plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|op| op["spec"]["name"] == "rl_orders")
        .expect("a create of rl_orders");
    assert_eq!(
        create["spec"]["content"]["api_limit"],
        serde_json::json!(250)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reference_that_does_not_read_as_a_number_is_a_located_error() {
    let w = world(
        &[("apigsync.yaml", PROJECT), ("rl.yaml", RATE_LIMIT)],
        &[("RL_LIMIT", "lots")],
    )
    .await;
    let out = w.validate().await;
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("rl.yaml:5:3: api_limit in rate_limit content must be an integer")
            && out
                .stderr
                .contains("(the value comes from a ${VAR} reference)"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_option_from_a_variable_is_typed_or_a_located_error() {
    let project = "target:\n  flavour: apig\noptions:\n  parallelism: ${PAR}\n  prune: ${PRUNE}\n";
    let w = world(
        &[("apigsync.yaml", project)],
        &[("PAR", "4"), ("PRUNE", "true")],
    )
    .await;
    w.validate().await.expect_code(0);
    let w = world(
        &[("apigsync.yaml", project)],
        &[("PAR", "many"), ("PRUNE", "true")],
    )
    .await;
    let out = w.validate().await;
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "apigsync.yaml:4:16: options.parallelism must be an integer, its ${VAR} reference gives \"many\""
        ),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn options_parallelism_18446744073709551615_is_a_located_error_not_a_panic() {
    let project = "target:\n  flavour: apig\noptions:\n  parallelism: 18446744073709551615\n";
    let w = world(&[("apigsync.yaml", project)], &[]).await;
    for out in [w.validate().await, w.run("plan", &[]).await] {
        out.expect_code(1);
        assert!(
            out.stderr.contains(
                "apigsync.yaml:4:3: options.parallelism is 18446744073709551615, expected 1 to 64"
            ),
            "{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_interval_18446744073709551615s_is_refused_not_a_panic() {
    let w = world(&[("apigsync.yaml", PROJECT)], &[]).await;
    for flag in ["--interval", "--debounce"] {
        let out = w.run("watch", &[flag, "18446744073709551615s"]).await;
        assert_ne!(out.code, 0, "{}", out.stderr);
        assert_ne!(out.code, 101, "panicked: {}", out.stderr);
        assert!(
            out.stderr.contains("18446744073709551615s") && out.stderr.contains(flag),
            "{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn durations_are_go_style_and_bare_numbers_need_a_unit() {
    // A target that cannot be reached: watch parses its flags, then fails at once (a folder
    // without apigsync.yaml would make it wait for a sync).
    let w = world(
        &[(
            "apigsync.yaml",
            "target:\n  flavour: apig\n  endpoint: \"not a URL\"\n  project_id: p\n  instance_id: i\n",
        )],
        &[],
    )
    .await;
    let bare = w.run("watch", &["--interval", "90"]).await;
    assert!(
        bare.stderr.contains("\"90\" needs a unit, e.g. 90s"),
        "{}",
        bare.stderr
    );
    for good in ["1m30s", "1.5s", "90s", "5m", "2h"] {
        // Parsed: the run gets as far as the unusable endpoint.
        let args = ["watch", &w.dir().display().to_string(), "--interval", good];
        let out = w.run_raw(args.map(String::from).to_vec()).await;
        assert!(!out.stderr.contains("--interval"), "{good}: {}", out.stderr);
        assert!(out.stderr.contains("not a URL"), "{good}: {}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unquoted_all_digit_instance_id_is_the_id_as_written() {
    let id = "12345678901234567890123456789012";
    let w = world(
        &[(
            "apigsync.yaml",
            &format!("target:\n  flavour: apig\n  instance_id: {id}\n"),
        )],
        &[],
    )
    .await;
    w.validate().await.expect_code(0);
    // Without --instance-id the file's id is used: the gateway is asked for exactly it.
    let args = vec![
        "plan".to_string(),
        w.dir().display().to_string(),
        "--endpoint".into(),
        w.emu.base_url(),
        "--project-id".into(),
        w.emu.project_id(),
    ];
    let out = w.run_raw(args).await;
    out.expect_code(1);
    assert!(out.stderr.contains(id), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn unquoted_numbers_in_binding_ids_and_environments_are_text() {
    let files = [
        ("apigsync.yaml", PROJECT),
        (
            "cors.yaml",
            "kind: Plugin\nname: cors_num\ntype: cors\ncontent: {allow_origin: \"*\"}\n---\n\
             kind: Binding\nplugin: cors_num\nenv: 2024\napis: [{id: 0123}, {id: 98765432109876543210}, 42]\n",
        ),
    ];
    let w = world(&files, &[]).await;
    let out = w.validate().await;
    out.expect_code(0);
    let desired = apigsync::manifest::load_dir(&w.dir(), &BTreeMap::new()).expect("loads");
    let b = &desired.bindings[0];
    assert_eq!(b.env, "2024");
    assert_eq!(
        b.apis,
        [
            apigsync::model::ApiRef::Id { id: "0123".into() },
            apigsync::model::ApiRef::Id {
                id: "98765432109876543210".into()
            },
            apigsync::model::ApiRef::Name("42".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_without_a_folder_needs_a_project_file_in_the_current_one() {
    let w = world(&[], &[]).await;
    let out = run_binary(vec!["validate".into()], BTreeMap::new(), w.dir()).await;
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("the current folder has no apigsync.yaml: name the manifest folder"),
        "{}",
        out.stderr
    );
    w.write("apigsync.yaml", PROJECT);
    run_binary(vec!["validate".into()], BTreeMap::new(), w.dir())
        .await
        .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_of_an_empty_folder_is_invalid_and_says_why() {
    let w = world(&[], &[]).await;
    let out = w.validate().await;
    out.expect_code(1);
    assert!(out.stderr.contains("nothing to validate"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_without_a_project_file_names_the_missing_file() {
    let w = world(
        &[(
            "cors.yaml",
            "kind: Plugin\nname: cors_x\ntype: cors\ncontent: {allow_origin: \"*\"}\n",
        )],
        &[],
    )
    .await;
    let out = w
        .run_raw(vec!["plan".into(), w.dir().display().to_string()])
        .await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("has no apigsync.yaml"),
        "{}",
        out.stderr
    );
}
