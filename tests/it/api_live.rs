//! `fetch_live` against an in-test axum server holding a small gateway:
//! the snapshot it builds, the calls it makes (GETs only) and its parallelism bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigsync::api::{Client, fetch_live, fetch_live_with};
use apigsync::model::{Api, Env, Live, LiveBinding, LivePlugin, PluginQuota};
use apigsync::signing;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::support::stub::client_of;

const PREFIX: &str = "/v2/p1/apic/instances/i1";
const RELEASE: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";

#[derive(Default)]
struct Gateway {
    /// `METHOD path?query` of every request.
    requests: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The configs endpoint answers 404, as on a gateway that does not have it.
    no_configs: bool,
}

fn page(key: &str, items: Vec<Value>) -> Value {
    json!({"total": items.len(), "size": items.len(), key: items})
}

fn api(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "group_id": "g1", "group_name": "shop", "req_method": "GET", "req_uri": "/x", "backend_type": "HTTP", "type": 1})
}

fn attached(api_id: &str, name: &str, env_id: &str) -> Value {
    json!({"api_id": api_id, "api_name": name, "env_id": env_id, "env_name": "x", "group_id": "g1", "group_name": "shop", "req_method": "GET", "plugin_attach_id": "b", "attached_time": "2024-01-01T00:00:00Z"})
}

/// Two environments, three APIs (one in both, one in RELEASE, one unpublished),
/// two plug-ins; `cors_public` is bound to `orders_list` in both environments and to
/// an API the API list does not show.
fn answer(method: &str, path: &str, query: &[(String, String)]) -> Value {
    assert_eq!(method, "GET", "fetch_live only reads");
    let env = query
        .iter()
        .find(|(k, _)| k == "env_id")
        .map(|(_, v)| v.as_str());
    match (path.strip_prefix(PREFIX).unwrap(), env) {
        ("/plugins", None) => page(
            "plugins",
            vec![
                json!({"plugin_id": "p2", "plugin_name": "rate_basic", "plugin_type": "rate_limit", "plugin_scope": "global",
                       "plugin_content": "{\"scope\":\"basic\"}", "update_time": "2024-02-02T00:00:00Z", "roma_app_id": ""}),
                json!({"plugin_id": "p1", "plugin_name": "cors_public", "plugin_type": "cors", "plugin_scope": "global",
                       "plugin_content": "{\"allow_origin\":\"*\"}", "remark": "managed-by: apigsync"}),
            ],
        ),
        ("/envs", None) => page(
            "envs",
            vec![
                json!({"id": "e-test", "name": "TEST"}),
                json!({"id": RELEASE, "name": "RELEASE"}),
            ],
        ),
        ("/apis", None) => page(
            "apis",
            vec![
                api("a2", "orders_get"),
                api("a1", "orders_list"),
                api("a3", "draft"),
            ],
        ),
        ("/apis", Some(RELEASE)) => page(
            "apis",
            vec![api("a1", "orders_list"), api("a2", "orders_get")],
        ),
        ("/apis", Some("e-test")) => page("apis", vec![api("a1", "orders_list")]),
        ("/plugins/p1/attached-apis", None) => page(
            "apis",
            vec![
                attached("a1", "orders_list", RELEASE),
                attached("a1", "orders_list", "e-test"),
                attached("a9", "legacy", RELEASE),
            ],
        ),
        ("/plugins/p2/attached-apis", None) => page("apis", vec![]),
        // As data_source_huaweicloud_apig_instance_quotas.go reads it (SPEC §11.3).
        ("/project/configs", None) => page(
            "configs",
            vec![
                json!({"config_id": "c1", "config_name": "API_NUM_LIMIT", "config_value": "1000", "used": 3,
                       "remark": "APIs", "config_time": "2024-01-01T00:00:00Z"}),
                json!({"config_id": "c2", "config_name": "PLUGIN_NUM_LIMIT", "config_value": "500", "used": 2,
                       "remark": "plug-ins", "config_time": "2024-01-01T00:00:00Z"}),
            ],
        ),
        other => panic!("unexpected request {other:?}"),
    }
}

async fn handle(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    gw.requests
        .lock()
        .unwrap()
        .push(format!("{method} {path}?{raw_query}"));
    let now = gw.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    gw.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    gw.in_flight.fetch_sub(1, Ordering::SeqCst);
    if gw.no_configs && path.ends_with("/project/configs") {
        let body = json!({"error_code": "APIGW.0101", "error_msg": "The API does not exist or has not been published in the environment"});
        return Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
    }
    let body = answer(&method, &path, &signing::parse_query(&raw_query));
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn gateway() -> (Arc<Gateway>, Client) {
    serve(Gateway::default()).await
}

async fn serve(gw: Gateway) -> (Arc<Gateway>, Client) {
    let gw = Arc::new(gw);
    let client = client_of(Router::new().fallback(handle).with_state(gw.clone())).await;
    (gw, client)
}

/// An API of the list: its path and backend as the list gives them.
fn api_model(id: &str, name: &str, published_in: &[&str]) -> Api {
    Api {
        id: id.into(),
        name: name.into(),
        group_id: "g1".into(),
        group_name: "shop".into(),
        method: "GET".into(),
        req_uri: "/x".into(),
        backend_type: "HTTP".into(),
        published_in: published_in.iter().map(|s| s.to_string()).collect(),
    }
}

fn binding(env_id: &str, api_id: &str) -> LiveBinding {
    LiveBinding {
        env_id: env_id.into(),
        api_id: api_id.into(),
    }
}

#[tokio::test]
async fn fetch_live_builds_the_snapshot_with_four_plus_envs_plus_plugins_calls() {
    let (gw, client) = gateway().await;
    let live = fetch_live(&client, 8).await.unwrap();

    let expected = Live {
        plugin_quota: Some(PluginQuota {
            limit: 500,
            used: Some(2),
        }),
        plugins: vec![
            LivePlugin {
                id: "p1".into(),
                name: "cors_public".into(),
                plugin_type: "cors".into(),
                scope: "global".into(),
                roma_app_id: None,
                remark: Some("managed-by: apigsync".into()),
                content: json!({"allow_origin": "*"}),
                update_time: None,
                bindings: Some(vec![
                    binding(RELEASE, "a1"),
                    binding(RELEASE, "a9"),
                    binding("e-test", "a1"),
                ]),
            },
            LivePlugin {
                id: "p2".into(),
                name: "rate_basic".into(),
                plugin_type: "rate_limit".into(),
                scope: "global".into(),
                roma_app_id: None,
                remark: None,
                content: json!({"scope": "basic"}),
                update_time: Some("2024-02-02T00:00:00Z".into()),
                bindings: Some(vec![]),
            },
        ],
        envs: vec![
            Env {
                id: RELEASE.into(),
                name: "RELEASE".into(),
            },
            Env {
                id: "e-test".into(),
                name: "TEST".into(),
            },
        ],
        apis: vec![
            api_model("a3", "draft", &[]),
            // Only bound (attached-apis): no backend type, the path as bound.
            Api {
                req_uri: String::new(),
                backend_type: String::new(),
                ..api_model("a9", "legacy", &[])
            },
            api_model("a2", "orders_get", &[RELEASE]),
            api_model("a1", "orders_list", &[RELEASE, "e-test"]),
        ],
    };
    assert_eq!(live, expected);

    // 3 lists + the configs + 2 environments + 2 plug-ins, each one page.
    let stats = client.stats();
    assert_eq!(stats.total_calls(), 8);
    assert_eq!(stats.retries, 0);
    let mut requests = gw.requests.lock().unwrap().clone();
    requests.sort();
    let expected_requests: Vec<String> = [
        "/apis?env_id=DEFAULT_ENVIRONMENT_RELEASE_ID&limit=500&offset=0",
        "/apis?env_id=e-test&limit=500&offset=0",
        "/apis?limit=500&offset=0",
        "/envs?limit=500&offset=0",
        "/plugins/p1/attached-apis?limit=500&offset=0",
        "/plugins/p2/attached-apis?limit=500&offset=0",
        "/plugins?limit=500&offset=0",
        "/project/configs?limit=500&offset=0",
    ]
    .iter()
    .map(|r| format!("GET {PREFIX}{r}"))
    .collect();
    assert_eq!(requests, expected_requests);
}

#[tokio::test]
async fn fetch_live_keeps_at_most_parallelism_calls_in_flight() {
    let (gw, client) = gateway().await;
    fetch_live(&client, 2).await.unwrap();
    assert!(gw.max_in_flight.load(Ordering::SeqCst) <= 2);

    let (gw, client) = gateway().await;
    fetch_live(&client, 1).await.unwrap();
    assert_eq!(gw.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn fetch_live_with_reads_bindings_only_of_the_chosen_plugins() {
    let (gw, client) = gateway().await;
    let live = fetch_live_with(&client, 4, |p| p.name == "rate_basic")
        .await
        .unwrap();
    let bindings: Vec<(&str, Option<usize>)> = live
        .plugins
        .iter()
        .map(|p| (p.name.as_str(), p.bindings.as_ref().map(Vec::len)))
        .collect();
    assert_eq!(bindings, [("cors_public", None), ("rate_basic", Some(0))]);
    assert_eq!(client.stats().total_calls(), 7);
    assert!(
        !gw.requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains("/plugins/p1/"))
    );
}

#[tokio::test]
async fn a_gateway_without_the_configs_endpoint_reports_no_plugin_quota() {
    let (_gw, client) = serve(Gateway {
        no_configs: true,
        ..Gateway::default()
    })
    .await;
    let live = fetch_live(&client, 4).await.unwrap();
    assert_eq!(live.plugin_quota, None);
    assert_eq!(live.plugins.len(), 2);
    assert_eq!(client.stats().retries, 0);
}
