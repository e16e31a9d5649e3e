//! What the real service keeps and enforces, through the binary, against the emulator with
//! the service-behaviour switches on: offline APIs keep their bindings, plug-ins vanish
//! between reads, `jwt_auth` plug-ins apigsync does not know, server-filled defaults, the
//! plan-time rules (OIDC APIs bound, content length, Kafka log quota, one CORS plug-in per
//! path, no mirroring of a Mock backend, the plug-in quota) and displacement.

use crate::support::cli::*;
use apigsync::api::PluginBody;
use apigsync::emulator::EmulatorConfig;
use apigsync::emulator::quirks_service::ServiceQuirks;
use apigsync::model::{PluginType, Scope};
use serde_json::{Value, json};

const CORS: &str = "kind: Plugin
name: cors_a
type: cors
content:
  allow_origin: \"*\"
  allow_methods: GET,POST
";

/// An oidc_auth plug-in whose redirect API is users_get (by name).
const LOGIN: &str = "kind: Plugin\nname: login\ntype: oidc_auth\ncontent:\n  client_id: web\n  client_secret: ${OIDC_SECRET}\n  discovery: https://idp.example.com/.well-known/openid-configuration\n  redirect_api_id: users_get\n";

fn with(service: ServiceQuirks) -> EmulatorConfig {
    EmulatorConfig {
        service,
        ..EmulatorConfig::demo()
    }
}

fn binding(plugin: &str, apis: &str, extra: &str) -> String {
    format!("kind: Binding\nplugin: {plugin}\nenv: RELEASE\napis: [{apis}]\n{extra}")
}

/// Writes `file`: the plug-in document `doc`, then its binding in RELEASE to `apis`.
fn write_bound(w: &World, file: &str, doc: &str, apis: &str, extra: &str) {
    let plugin = doc
        .lines()
        .find_map(|l| l.strip_prefix("name: "))
        .expect("a name");
    w.write(file, &format!("{doc}---\n{}", binding(plugin, apis, extra)));
}

/// Asserts that `out` failed (exit 1) with every one of `needles` in its error output.
#[track_caller]
fn failed_with(out: &Out, needles: &[&str]) {
    out.expect_code(1);
    let missing: Vec<&&str> = needles
        .iter()
        .filter(|n| !out.stderr.contains(**n))
        .collect();
    assert!(
        missing.is_empty(),
        "missing {missing:?} in:\n{}",
        out.stderr
    );
}

/// `plan --output json`, which must succeed.
async fn json_plan(w: &World) -> Value {
    let out = w.run("plan", &["--output", "json"]).await;
    out.expect_code(0);
    serde_json::from_str(&out.stdout).expect("plan is JSON")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(e, a)| ((*e).to_owned(), (*a).to_owned()))
        .collect()
}

/// cors_a bound to orders_list and users_list, applied, then users_list taken offline.
async fn applied_then_offline() -> World {
    let w = World::empty(EmulatorConfig::demo()).await;
    write_bound(&w, "cors.yaml", CORS, "orders_list, users_list", "");
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let api_id = w.api_id("users_list").await;
    let env_id = w.env_id("RELEASE").await;
    admin_post(
        &w.emu,
        "/_emulator/offline",
        &json!({"api_id": api_id, "env_id": env_id}),
    )
    .await;
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offline_bound_api_does_not_block_the_plan_of_other_changes() {
    let w = applied_then_offline().await;
    let changed = CORS.replace("GET,POST", "GET,POST,PUT");
    write_bound(&w, "cors.yaml", &changed, "orders_list, users_list", "");
    let plan = json_plan(&w).await;
    let kinds: Vec<&str> = plan["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter_map(|op| op["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["update_plugin"], "{plan:#}");
    let notices = plan["notices"].to_string();
    assert!(
        notices.contains("offline") && notices.contains("users_list"),
        "{plan:#}"
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    assert_eq!(
        w.bindings("cors_a").await,
        pairs(&[("RELEASE", "orders_list"), ("RELEASE", "users_list")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_an_offline_binding_detaches_it() {
    let w = applied_then_offline().await;
    write_bound(&w, "cors.yaml", CORS, "orders_list", "");
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    assert_eq!(
        w.bindings("cors_a").await,
        pairs(&[("RELEASE", "orders_list")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_binding_to_an_offline_api_is_a_plan_error() {
    let w = applied_then_offline().await;
    w.write(
        "more.yaml",
        "kind: Plugin\nname: cors_b\ntype: cors\ncontent:\n  allow_origin: \"*\"\n---\nkind: Binding\nplugin: cors_b\nenv: TEST\napis: [users_list]\n",
    );
    failed_with(&w.run("plan", &[]).await, &["more.yaml", "not published"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_deleted_between_list_and_read_is_absent() {
    let w = World::empty(with(ServiceQuirks {
        vanish_between_reads: vec!["console_cors".into()],
        ..ServiceQuirks::default()
    }))
    .await;
    w.console_cors("health").await;
    w.write("cors.yaml", CORS);
    let out = w.run("plan", &[]).await;
    out.expect_code(0);
    assert!(!out.stdout.contains("console_cors"), "{}", out.stdout);
    let gone = w
        .log()
        .iter()
        .any(|e| e.operation == "list_plugin_attached_apis" && e.status == "404");
    assert!(
        gone,
        "the plug-in did not vanish between the list and the read"
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_jwt_auth_plugin_is_left_alone_by_plan_apply_prune_and_dump() {
    let w = World::empty(EmulatorConfig::demo()).await;
    w.write("cors.yaml", CORS);
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    // The jwt_auth plug-in even carries an ownership marker, so only its type protects it.
    let remark = w.plugin("cors_a").await.remark;
    admin_post(
        &w.emu,
        "/_emulator/plugins",
        &json!({"plugin_name": "console_jwt", "plugin_type": "jwt_auth",
                "plugin_content": {"issuer": "idp"}, "remark": remark}),
    )
    .await;
    let jwt = w.plugin("console_jwt").await;
    let release = w.env_id("RELEASE").await;
    w.client()
        .attach_apis(&jwt.id, &release, &[w.api_id("health").await])
        .await
        .expect("attach");
    w.remove("cors.yaml");
    w.write(
        "other.yaml",
        "kind: Plugin\nname: cors_b\ntype: cors\ncontent:\n  allow_origin: \"*\"\n",
    );
    let plan = w.run("plan", &["--prune"]).await;
    plan.expect_code(0);
    assert!(!plan.stdout.contains("console_jwt"), "{}", plan.stdout);
    let start = w.log().len();
    w.run("apply", &["--auto-approve", "--prune"])
        .await
        .expect_code(0);
    assert!(
        !wrote_to(&w.log()[start..], &jwt.id),
        "a write call named the jwt_auth plug-in"
    );
    assert_eq!(w.plugin("console_jwt").await, jwt);
    assert_eq!(
        w.bindings("console_jwt").await,
        pairs(&[("RELEASE", "health")])
    );
    let out_dir = w.scratch("dump");
    let mut args = vec![
        "dump".to_owned(),
        "--out".to_owned(),
        out_dir.display().to_string(),
    ];
    args.extend(w.target_flags());
    let dump = w.run_raw(args).await;
    dump.expect_code(0);
    let all = format!("{}{}", dump.stdout, dump.stderr);
    assert!(
        all.contains("console_jwt") && all.contains("jwt_auth"),
        "the dump does not say it skipped the plug-in: {all}"
    );
    assert!(!out_dir.join("plugins/console_jwt.yaml").exists());
}

/// One plug-in of each type whose documented defaults the server fills, written without them.
fn defaulted_manifests(w: &World) {
    w.write(
        "defaults.yaml",
        &[
            "kind: Plugin
name: limits
type: rate_limit
content:
  api_limit: 100
---
kind: Plugin
name: access_log
type: kafka_log
content:
  broker_list: [\"kafka-1.example.internal:9092\"]
  topic: access
---
kind: Plugin
name: mirror
type: proxy_mirror
content:
  protocol: http
  host: mirror.example.internal:80
---
kind: Plugin
name: headers
type: set_resp_headers
content:
  response_headers:
    - {name: X-Demo, value: demo, action: override}
---
kind: Plugin
name: authorizer
type: third_auth
content:
  auth_request:
    method: GET
    protocol: HTTPS
    url_domain: auth.example.internal
    path: /check
    vpc_channel_enabled: false
---
",
            LOGIN,
            "---
kind: Binding
plugin: login
env: RELEASE
apis: [orders_list, users_get]
",
        ]
        .concat(),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_filled_defaults_plan_no_changes() {
    let mut w = World::empty(with(ServiceQuirks {
        fill_defaults: true,
        bind_rules: true,
        ..ServiceQuirks::default()
    }))
    .await;
    w.env.insert("OIDC_SECRET".into(), "s3cret-value".into());
    defaulted_manifests(&w);
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let limits = w.plugin("limits").await;
    assert_eq!(
        limits.content["default_time_unit"],
        json!("second"),
        "the server did not fill its defaults"
    );
    let plan = w.run("plan", &["--detailed-exitcode"]).await;
    assert_eq!(
        (plan.code, plan.stdout.trim()),
        (0, "No changes."),
        "{}",
        plan.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_redirect_api_must_be_bound_to_the_plugin() {
    let mut w = World::empty(with(ServiceQuirks {
        bind_rules: true,
        ..ServiceQuirks::default()
    }))
    .await;
    w.env.insert("OIDC_SECRET".into(), "s3cret-value".into());
    let plugin = format!("{LOGIN}  logout_api_id: {{group: shop, name: orders_get}}\n");
    write_bound(&w, "login.yaml", &plugin, "orders_list, orders_get", "");
    failed_with(
        &w.run("plan", &[]).await,
        &["login.yaml:1:1", "redirect_api_id", "users_get"],
    );
    write_bound(
        &w,
        "login.yaml",
        &plugin,
        "orders_list, orders_get, users_get",
        "",
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let live = w.plugin("login").await;
    assert_eq!(
        (
            live.content["redirect_api_id"].clone(),
            live.content["logout_api_id"].clone()
        ),
        (
            json!(w.api_id("users_get").await),
            json!(w.api_id("orders_get").await)
        )
    );
    let plan = w.run("plan", &["--detailed-exitcode"]).await;
    assert_eq!((plan.code, plan.stdout.trim()), (0, "No changes."));
}

#[tokio::test(flavor = "multi_thread")]
async fn content_over_65535_characters_fails_validate_with_its_location() {
    let w = World::empty(EmulatorConfig::demo()).await;
    let long = "X-Header-Name,".repeat(5000);
    w.write(
        "big.yaml",
        &format!("kind: Plugin\nname: big_cors\ntype: cors\ncontent:\n  allow_origin: \"*\"\n  allow_headers: {long}\n"),
    );
    let out = w
        .run_raw(vec!["validate".into(), w.dir().display().to_string()])
        .await;
    failed_with(&out, &["big.yaml:4:", "65535"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sixth_kafka_log_plugin_is_a_plan_error() {
    let w = World::empty(with(ServiceQuirks {
        kafka_log_quota: Some(5),
        ..ServiceQuirks::default()
    }))
    .await;
    let client = w.client();
    for n in 1..=5 {
        let body = PluginBody {
            plugin_name: format!("team_b_log_{n}"),
            plugin_type: PluginType::KafkaLog,
            plugin_scope: Scope::Global,
            plugin_content: json!({"broker_list": ["k:9092"], "topic": "t"}),
            remark: None,
            roma_app_id: None,
        };
        client.create_plugin(&body).await.expect("create");
    }
    w.write(
        "log.yaml",
        "kind: Plugin\nname: team_a_log\ntype: kafka_log\ncontent:\n  broker_list: [\"k:9092\"]\n  topic: a\n",
    );
    failed_with(
        &w.run("plan", &[]).await,
        &["log.yaml:1:1", "team_a_log", "at most 5"],
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(1);
    assert_eq!(w.plugins().await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn displace_true_displaces_and_says_so() {
    let w = World::empty(EmulatorConfig::demo()).await;
    w.console_cors("health").await;
    write_bound(&w, "cors.yaml", CORS, "health", "displace: true\n");
    let out = w.run("plan", &[]).await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("DESTRUCTIVE") && out.stdout.contains("console_cors"),
        "{}",
        out.stdout
    );
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    assert_eq!(w.bindings("console_cors").await, pairs(&[]));
    assert_eq!(w.bindings("cors_a").await, pairs(&[("RELEASE", "health")]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_under_list_lag_completes_and_converges_once_the_list_catches_up() {
    let w = World::empty(with(ServiceQuirks {
        list_lag: Some(std::time::Duration::from_millis(300)),
        ..ServiceQuirks::default()
    }))
    .await;
    write_bound(&w, "cors.yaml", CORS, "orders_list", "");
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    // The next plan may still see the lagging list; poll until the list shows the write.
    let mut seen = false;
    for _ in 0..100 {
        if w.client()
            .find_plugin_by_name("cors_a")
            .await
            .expect("list")
            .is_some()
        {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "the list never showed the created plug-in");
    let plan = w.run("plan", &["--detailed-exitcode"]).await;
    assert_eq!((plan.code, plan.stdout.trim()), (0, "No changes."));
}

/// Two CORS plug-ins, one on `orders_list` (GET /orders), one on `orders_create`
/// (POST /orders): the same path of group `shop`.
const TWO_CORS_ON_ORDERS: &str = "kind: Plugin
name: cors_list
type: cors
content:
  allow_origin: \"*\"
  allow_methods: GET,POST
---
kind: Plugin
name: cors_create
type: cors
content:
  allow_origin: \"*\"
  allow_methods: GET,POST
---
kind: Binding
plugin: cors_list
env: RELEASE
apis: [orders_list]
---
kind: Binding
plugin: cors_create
env: RELEASE
apis: [orders_create]
";

#[tokio::test(flavor = "multi_thread")]
async fn two_cors_plugins_on_one_path_are_refused_by_plan_and_apply_without_a_write() {
    let w = World::empty(EmulatorConfig::demo()).await;
    w.write("cors.yaml", TWO_CORS_ON_ORDERS);
    let plan = w.run("plan", &[]).await;
    plan.expect_code(1);
    assert!(
        plan.stderr.contains(
            "cors.yaml:20:1: plug-in \"cors_create\" (cors) on API \"orders_create\" and plug-in \"cors_list\" on API \"orders_list\" (bound at "
        ) && plan.stderr.contains(
            "cors.yaml:15:1) would both serve path /orders of group \"shop\" in environment RELEASE"
        ),
        "{}",
        plan.stderr
    );
    let apply = w.run("apply", &["--auto-approve"]).await;
    apply.expect_code(1);
    assert!(
        ["cors_list", "cors_create", "path /orders"]
            .iter()
            .all(|s| apply.stderr.contains(s)),
        "{}",
        apply.stderr
    );
    assert_eq!(
        writes(&w.log()),
        Vec::<&str>::new(),
        "an API write was made"
    );
    assert!(w.plugins().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_on_an_api_with_a_mock_backend_is_refused_by_plan() {
    let mut config = EmulatorConfig::demo();
    let health = config.seed.instances[0]
        .apis
        .iter_mut()
        .find(|a| a.name == "health")
        .expect("the demo seed has health");
    health.backend_type = "MOCK".into();
    let w = World::empty(config).await;
    let mirror = "kind: Plugin\nname: mirror\ntype: proxy_mirror\ncontent:\n  protocol: http\n  host: mirror.example.internal:80\n---\nkind: Binding\nplugin: mirror\nenv: RELEASE\napis: [health]\n";
    w.write("mirror.yaml", mirror);
    let plan = w.run("plan", &[]).await;
    plan.expect_code(1);
    assert!(
        plan.stderr.contains("mirror.yaml:8:1: plug-in \"mirror\" (proxy_mirror) cannot be bound to API \"health\", whose backend is Mock"),
        "{}",
        plan.stderr
    );
    // The same binding to an API with an HTTP backend plans.
    w.write("mirror.yaml", &mirror.replace("[health]", "[orders_list]"));
    w.run("plan", &[]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_beyond_the_gateways_plugin_quota_are_refused_by_plan_and_apply_without_a_write() {
    // Two plug-ins someone else made, a quota of three, and two creates: four at the peak.
    let w = World::empty(with(ServiceQuirks {
        plugin_quota: Some(3),
        ..ServiceQuirks::default()
    }))
    .await;
    for name in ["console_one", "console_two"] {
        let body = PluginBody {
            plugin_name: name.into(),
            plugin_type: PluginType::RateLimit,
            plugin_scope: Scope::Global,
            plugin_content: json!({"api_limit": 100}),
            remark: None,
            roma_app_id: None,
        };
        w.client().create_plugin(&body).await.expect("create");
    }
    let two = "kind: Plugin\nname: cors_a\ntype: cors\ncontent:\n  allow_origin: \"*\"\n---\nkind: Plugin\nname: cors_b\ntype: cors\ncontent:\n  allow_origin: \"*\"\n";
    w.write("two.yaml", two);
    let expected = "the plan would hold 4 plug-ins on the gateway at its peak (2 there now and 2 it creates, temporary replacements included, before any delete runs), over the gateway's limit of 3 (PLUGIN_NUM_LIMIT); remove 1 plug-in from the manifests or the gateway";
    let plan = w.run("plan", &[]).await;
    plan.expect_code(1);
    assert!(plan.stderr.contains(expected), "{}", plan.stderr);
    let start = w.log().len();
    let apply = w.run("apply", &["--auto-approve"]).await;
    apply.expect_code(1);
    assert!(apply.stderr.contains(expected), "{}", apply.stderr);
    assert_eq!(
        writes(&w.log()[start..]),
        Vec::<&str>::new(),
        "an API write was made"
    );
    // One create fits.
    w.write("two.yaml", &two[..two.find("---").expect("two documents")]);
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    assert_eq!(w.plugins().await.len(), 3);
}
