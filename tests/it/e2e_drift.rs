//! Drift, replace, prune, unmanaged plug-ins and saved plans, through the binary,
//! against an emulator started in the test. Changes "behind apigsync's back" go
//! through the real client.

use crate::support::cli::*;
use apigsync::api::PluginBody;
use apigsync::model::{PluginType, Scope};
use serde_json::{Value, json};

/// The examples applied; returns the world.
async fn applied() -> World {
    let w = World::demo_examples().await;
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    w
}

/// `plan --output json` as a value.
async fn json_plan(w: &World, extra: &[&str]) -> Value {
    let mut args = vec!["--output", "json"];
    args.extend_from_slice(extra);
    let out = w.run("plan", &args).await;
    out.expect_code(0);
    serde_json::from_str(&out.stdout).expect("plan is JSON")
}

/// `(kind, plug-in, env name, sorted API names)` of every operation.
fn summary(plan: &Value) -> Vec<(String, String, String, Vec<String>)> {
    plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            let kind = op["kind"].as_str().unwrap_or_default().to_string();
            let plugin = op["spec"]["name"]
                .as_str()
                .or(op["name"].as_str())
                .or(op["plugin"].as_str())
                .unwrap_or_default()
                .to_string();
            let env = op["env_name"].as_str().unwrap_or_default().to_string();
            let mut apis: Vec<String> = op["apis"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|api| api["name"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            apis.sort();
            (kind, plugin, env, apis)
        })
        .collect()
}

fn op(kind: &str, plugin: &str, env: &str, apis: &[&str]) -> (String, String, String, Vec<String>) {
    (
        kind.into(),
        plugin.into(),
        env.into(),
        apis.iter().map(|s| s.to_string()).collect(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_content_change_behind_apigsyncs_back_shows_exactly_that_field() {
    let w = applied().await;
    w.change_content("cors_public", |c| c["max_age"] = json!(60))
        .await;
    let plan = json_plan(&w, &[]).await;
    assert_eq!(
        summary(&plan),
        vec![op("update_plugin", "cors_public", "", &[])],
        "{plan:#}"
    );
    let changes = plan["operations"][0]["changes"]
        .as_array()
        .expect("changes");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert!(
        changes[0]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("max_age")),
        "{changes:#?}"
    );
    assert_eq!(changes[0]["old"], json!(60));
    assert_eq!(changes[0]["new"], json!(600));

    let text = w.run("plan", &[]).await;
    assert!(
        text.stdout.contains("content.max_age: 60 → 600"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete; 0 to attach, 0 to detach."
        ),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_deleted_behind_apigsyncs_back_is_planned_as_a_create_with_its_attaches() {
    let w = applied().await;
    let client = w.client();
    let cors = w.plugin("cors_public").await;
    for env in ["RELEASE", "TEST"] {
        let env_id = w.env_id(env).await;
        let bound: Vec<String> = client
            .list_attached_apis(&cors.id, Some(&env_id))
            .await
            .expect("list")
            .into_iter()
            .map(|a| a.api_id)
            .collect();
        client
            .detach_apis(&cors.id, &env_id, &bound)
            .await
            .expect("detach");
    }
    client.delete_plugin(&cors.id).await.expect("delete");

    let plan = json_plan(&w, &[]).await;
    assert_eq!(
        summary(&plan),
        vec![
            op("create_plugin", "cors_public", "", &[]),
            op(
                "attach",
                "cors_public",
                "RELEASE",
                &[
                    "orders_create",
                    "orders_get",
                    "orders_list",
                    "users_get",
                    "users_list"
                ]
            ),
            op(
                "attach",
                "cors_public",
                "TEST",
                &["orders_create", "orders_get", "orders_list", "users_get"]
            ),
        ],
        "{plan:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binding_detached_behind_apigsyncs_back_is_planned_as_that_attach() {
    let w = applied().await;
    let cors = w.plugin("cors_public").await;
    let test = w.env_id("TEST").await;
    let users_get = w.api_id("users_get").await;
    w.client()
        .detach_apis(&cors.id, &test, &[users_get])
        .await
        .expect("detach");
    let plan = json_plan(&w, &[]).await;
    assert_eq!(
        summary(&plan),
        vec![op("attach", "cors_public", "TEST", &["users_get"])],
        "{plan:#}"
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    assert!(
        w.bindings("cors_public")
            .await
            .contains(&("TEST".into(), "users_get".into()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unmanaged_plugin_is_never_touched_also_not_with_prune() {
    let w = World::demo_examples().await;
    let client = w.client();
    let body = PluginBody {
        plugin_name: "console_mirror".into(),
        plugin_type: PluginType::ProxyMirror,
        plugin_scope: Scope::Global,
        plugin_content: json!({
            "protocol": "http", "host": "10.0.0.1:8080", "path": "/mirror",
            "path_concat_mode": "replace", "sample_ratio": 0.1, "timeout": 5000,
            "mirror_request_body_enabled": false
        }),
        remark: Some("made in the console".into()),
        roma_app_id: None,
    };
    let unmanaged = client.create_plugin(&body).await.expect("create");
    let release = w.env_id("RELEASE").await;
    let health = w.api_id("health").await;
    client
        .attach_apis(&unmanaged.id, &release, std::slice::from_ref(&health))
        .await
        .expect("attach");
    let before = w.plugin("console_mirror").await;
    let log_start = w.log().len();

    for extra in [&["--auto-approve"][..], &["--auto-approve", "--prune"][..]] {
        let out = w.run("apply", extra).await;
        out.expect_code(0);
        assert!(
            !out.stdout.contains("console_mirror"),
            "apply mentions the unmanaged plug-in:\n{}",
            out.stdout
        );
    }
    let plan = w.run("plan", &["--prune", "--detailed-exitcode"]).await;
    plan.expect_code(0);

    let touched: Vec<_> = w.log()[log_start..]
        .iter()
        .filter(|e| e.write && e.path.contains(&unmanaged.id))
        .cloned()
        .collect();
    assert!(
        touched.is_empty(),
        "writes to the unmanaged plug-in: {touched:#?}"
    );
    assert_eq!(w.plugin("console_mirror").await, before);
    assert_eq!(
        w.bindings("console_mirror").await,
        vec![("RELEASE".to_string(), "health".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_change_is_a_replacement_run_as_create_attach_detach_delete_rename() {
    let w = applied().await;
    let throttle = std::fs::read_to_string(w.dir().join("shop/rate-limits.yaml")).expect("read");
    let test_plugin = "kind: Plugin\nname: test_throttle\ntype: rate_limit\nremark: Low limits for the TEST environment\ncontent:\n  default_time_unit: second\n  api_limit: 20\n  user_limit: 10\n";
    assert!(throttle.contains(test_plugin), "the example changed");
    let breaker = "kind: Plugin\nname: test_throttle\ntype: breaker\ncontent:\n  breaker_condition:\n    breaker_type: timeout\n    breaker_mode: counter\n    unhealthy_threshold: 30\n    min_call_threshold: 20\n    unhealthy_percentage: 51\n    time_window: 15\n    open_breaker_time: 15\n  scope: basic\n";
    w.write(
        "shop/rate-limits.yaml",
        &throttle.replace(test_plugin, breaker),
    );

    let text = w.run("plan", &[]).await;
    text.expect_code(0);
    assert!(
        text.stdout.contains("1 to replace"),
        "no replace in:\n{}",
        text.stdout
    );
    let plan = json_plan(&w, &[]).await;
    let ops = plan["operations"].as_array().expect("operations");
    assert!(ops.iter().all(|o| o["replace"] == json!(true)), "{plan:#}");
    let replacements = plan["replacements"].as_array().expect("replacements");
    assert_eq!(replacements.len(), 1, "{plan:#}");
    assert_eq!(
        replacements[0]["steps"].as_array().map(Vec::len),
        Some(ops.len()),
        "one item holds every step"
    );

    let start = w.log().len();
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let log = w.log();
    assert_eq!(
        writes(&log[start..]),
        vec![
            "create_plugin",
            "attach_api_to_plugin",
            "detach_api_from_plugin",
            "delete_plugin",
            "update_plugin"
        ]
    );
    let live = w.plugin("test_throttle").await;
    assert_eq!(live.plugin_type, "breaker");
    assert_eq!(
        w.bindings("test_throttle").await,
        ["orders_create", "orders_get", "orders_list", "users_get"]
            .map(|a| ("TEST".to_string(), a.to_string()))
            .to_vec()
    );
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_detaches_before_it_deletes() {
    let w = applied().await;
    w.remove("shop/response-cache.yaml");
    let start = w.log().len();
    w.run("apply", &["--auto-approve", "--prune"])
        .await
        .expect_code(0);
    let log = w.log();
    assert_eq!(
        writes(&log[start..]),
        vec!["detach_api_from_plugin", "delete_plugin"]
    );
    let via_http = admin_get(&w.emu, "/_emulator/log").await;
    assert_eq!(
        via_http["entries"].as_array().map(Vec::len),
        Some(log.len()),
        "GET /_emulator/log and the handle disagree"
    );
    assert!(
        !w.plugins().await.iter().any(|p| p.name == "orders_cache"),
        "orders_cache survived the prune"
    );
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_saved_plan_is_refused_and_names_the_drifted_plugin() {
    let w = applied().await;
    w.remove("shop/response-cache.yaml");
    let saved = w.scratch("plan.json");
    let saved_arg = saved.display().to_string();
    w.run("plan", &["--out", &saved_arg]).await.expect_code(0);
    w.change_content("cors_public", |c| c["max_age"] = json!(1))
        .await;

    let writes_before = w.stats().writes;
    let out = w
        .run("apply", &["--plan", &saved_arg, "--auto-approve"])
        .await;
    out.expect_code(1);
    assert!(out.stderr.contains("stale"), "{}", out.stderr);
    assert!(
        out.stderr.contains("plug-in \"cors_public\" changed"),
        "{}",
        out.stderr
    );
    assert_eq!(w.stats().writes, writes_before, "a stale plan was applied");
    assert!(w.plugins().await.iter().any(|p| p.name == "orders_cache"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_saved_plan_is_applied_exactly() {
    let w = applied().await;
    w.remove("shop/response-cache.yaml");
    w.write(
        "users/authorizer-orders.yaml",
        "kind: Binding\nplugin: users_authorizer\nenv: TEST\napis: [orders_list]\n",
    );
    let saved = w.scratch("plan.json");
    let saved_arg = saved.display().to_string();
    w.run("plan", &["--out", &saved_arg]).await.expect_code(0);
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("read plan")).expect("JSON");
    let planned = summary(&plan);
    assert_eq!(
        planned,
        vec![
            // The marker records the new bindings (README, "Drift versus intent").
            op("update_plugin", "users_authorizer", "", &[]),
            op("attach", "users_authorizer", "TEST", &["orders_list"]),
            op(
                "detach",
                "orders_cache",
                "RELEASE",
                &["orders_get", "orders_list"]
            ),
            op("delete_plugin", "orders_cache", "", &[]),
        ]
    );

    let start = w.log().len();
    w.run("apply", &["--plan", &saved_arg, "--auto-approve"])
        .await
        .expect_code(0);
    let log = w.log();
    let mut done = writes(&log[start..]);
    done.sort_unstable();
    assert_eq!(
        done,
        vec![
            "attach_api_to_plugin",
            "delete_plugin",
            "detach_api_from_plugin",
            "update_plugin"
        ]
    );
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_when_a_plugin_it_creates_appeared_since() {
    let w = World::demo_examples().await;
    let saved = w.scratch("plan.json");
    let saved_arg = saved.display().to_string();
    w.run("plan", &["--out", &saved_arg]).await.expect_code(0);
    let body = PluginBody {
        plugin_name: "cors_public".into(),
        plugin_type: PluginType::Cors,
        plugin_scope: Scope::Global,
        plugin_content: json!({"allow_origin": "*", "allow_methods": "GET"}),
        remark: None,
        roma_app_id: None,
    };
    w.client().create_plugin(&body).await.expect("create");
    let writes_before = w.stats().writes;
    let out = w
        .run("apply", &["--plan", &saved_arg, "--auto-approve"])
        .await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("plug-in \"cors_public\" appeared"),
        "{}",
        out.stderr
    );
    assert_eq!(w.stats().writes, writes_before, "a stale plan was applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_when_a_secret_changed_since() {
    let mut w = World::demo_examples().await;
    w.env
        .insert("KAFKA_SASL_PASSWORD".into(), "first-E2E-secret".into());
    let saved = w.scratch("plan.json");
    let saved_arg = saved.display().to_string();
    w.run("plan", &["--out", &saved_arg]).await.expect_code(0);
    w.env
        .insert("KAFKA_SASL_PASSWORD".into(), "second-E2E-secret".into());
    let out = w
        .run("apply", &["--plan", &saved_arg, "--auto-approve"])
        .await;
    out.expect_code(1);
    assert!(out.stderr.contains("shop_access_log"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("first-E2E-secret") && !out.stderr.contains("second-E2E-secret"),
        "{}",
        out.stderr
    );
    assert_eq!(
        w.stats().writes,
        0,
        "the plan was applied with another secret"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binding_that_would_displace_an_unmanaged_plugin_is_a_plan_error() {
    let w = applied().await;
    let console = w.console_cors("health").await;
    w.write(
        "cors-health.yaml",
        "kind: Binding\nplugin: cors_public\nenv: RELEASE\napis: [health]\n",
    );
    let plan = w.run("plan", &[]).await;
    plan.expect_code(1);
    assert!(
        [
            "cors-health.yaml:1:1",
            "cors_public",
            "console_cors",
            "health",
            "RELEASE"
        ]
        .iter()
        .all(|s| plan.stderr.contains(s)),
        "{}",
        plan.stderr
    );
    let start = w.log().len();
    w.run("apply", &["--auto-approve", "--prune"])
        .await
        .expect_code(1);
    assert!(
        !wrote_to(&w.log()[start..], &console.id),
        "a write call named the unmanaged plug-in"
    );
    assert_eq!(w.plugin("console_cors").await.content, console.content);
    assert_eq!(
        w.bindings("console_cors").await,
        vec![("RELEASE".to_owned(), "health".to_owned())],
        "the unmanaged plug-in lost its binding"
    );
}
