//! The read direction (issue 19): bindings read per API (`attached-plugins`, SPEC §3.9
//! #11) give the same live state as per plug-in (`attached-apis`, #10), unmanaged plug-ins
//! bound to an API included; a gateway of many more plug-ins than APIs is read per API,
//! at a cost that follows the APIs; a service that refuses the per-API read is read per
//! plug-in.

use std::sync::{Arc, Mutex};

use apigsync::api::rolling::{Direction, read_view};
use apigsync::api::{Client, fetch_live};
use apigsync::emulator::EmulatorConfig;
use apigsync::emulator::seed::SeedPlugin;
use apigsync::model::{Live, LiveBinding};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::support::cli::World;
use crate::support::stub::client_of;

/// `(plug-in name, env name, API name)` of every binding of `live`, sorted.
fn bindings(live: &Live) -> Vec<(String, String, String)> {
    let env = |id: &str| {
        live.envs
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.name.clone())
    };
    let api = |id: &str| {
        live.apis
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
    };
    let mut all: Vec<_> = live
        .plugins
        .iter()
        .flat_map(|p| {
            p.bindings.iter().flatten().map(|b| {
                (
                    p.name.clone(),
                    env(&b.env_id).unwrap_or_default(),
                    api(&b.api_id).unwrap_or_default(),
                )
            })
        })
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn both_directions_read_the_same_live_state_as_fetch_live() {
    let world = World::demo_examples().await;
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    // A plug-in made on the console, bound to an API: not managed, but in both answers.
    world.console_cors("users_list").await;
    let client = world.client();

    let whole = fetch_live(&client, 8).await.unwrap();
    let per_plugin = read_view(&client, 8, None, None, Some(Direction::PerPlugin))
        .await
        .unwrap();
    let per_api = read_view(&client, 8, None, None, Some(Direction::PerApi))
        .await
        .unwrap();

    assert!(
        bindings(&whole).contains(&("console_cors".into(), "RELEASE".into(), "users_list".into())),
        "{:?}",
        bindings(&whole)
    );
    let in_test = bindings(&whole)
        .iter()
        .filter(|(_, env, _)| env == "TEST")
        .count();
    assert!(in_test > 0, "the examples bind in TEST too");
    assert_eq!(per_plugin.live, whole);
    assert_eq!(per_api.live, whole);
    assert!(per_plugin.whole && per_api.whole);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_of_3000_plugins_and_7_apis_is_read_per_api_in_18_calls() {
    let mut config = EmulatorConfig::demo();
    config.seed.instances[0]
        .plugins
        .extend((0..3_000).map(|i| SeedPlugin {
            name: format!("headers_{i:04}"),
            plugin_type: "set_resp_headers".into(),
            content: serde_json::json!({"response_headers": [
                {"name": "X-N", "value": i.to_string(), "action": "override"}
            ]}),
            remark: None,
        }));
    let world = World::empty(config).await;
    let client = world.client();
    let (release, test) = (world.env_id("RELEASE").await, world.env_id("TEST").await);
    let orders = world.api_id("orders_list").await;
    let bound = world.plugin("headers_2999").await;
    for env in [&release, &test] {
        client
            .attach_apis(&bound.id, env, std::slice::from_ref(&orders))
            .await
            .unwrap();
    }

    let before = world.stats().total;
    let view = read_view(&client, 8, None, None, None).await.unwrap();
    let calls = world.stats().total - before;

    assert_eq!(view.ages.direction, Direction::PerApi);
    // 6 pages of plug-ins, the environments, the APIs, the quota, the APIs published
    // in each of 2 environments, and one attached-plugins call per API.
    assert_eq!(calls, 6 + 1 + 1 + 1 + 2 + 7);
    assert_eq!(view.live.plugins.len(), 3_000);
    assert_eq!(
        bindings(&view.live),
        [
            (
                "headers_2999".into(),
                "RELEASE".into(),
                "orders_list".into()
            ),
            ("headers_2999".into(), "TEST".into(), "orders_list".into()),
        ]
    );
    assert_eq!(view.live, fetch_live(&client, 8).await.unwrap());
}

/// A gateway of three plug-ins and one API that refuses `attached-plugins` without
/// `env_id` (400 APIG.2012), as a service whose SPEC §3.9 #11 `env_id` were mandatory.
async fn refusing_gateway() -> (Arc<Mutex<Vec<String>>>, Client) {
    async fn answer(State(seen): State<Arc<Mutex<Vec<String>>>>, req: Request) -> Response {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or_default().to_owned();
        seen.lock().unwrap().push(format!("{path}?{query}"));
        let page = |key: &str, items: Vec<Value>| json!({"total": items.len(), "size": items.len(), key: items});
        let plugin = |id: &str| {
            json!({"plugin_id": id, "plugin_name": format!("name_{id}"), "plugin_type": "cors",
                   "plugin_scope": "global", "plugin_content": "{}"})
        };
        let tail = path.rsplit("/instances/i1").next().unwrap_or_default();
        let (status, body) = match tail {
            "/plugins" => (
                200,
                page("plugins", ["p1", "p2", "p3"].map(plugin).to_vec()),
            ),
            "/envs" => (
                200,
                page("envs", vec![json!({"id": "e1", "name": "RELEASE"})]),
            ),
            "/apis" => (
                200,
                page(
                    "apis",
                    vec![
                        json!({"id": "a1", "name": "orders", "group_id": "g", "group_name": "shop",
                                "req_method": "GET", "req_uri": "/o", "backend_type": "HTTP"}),
                    ],
                ),
            ),
            "/project/configs" => (200, page("configs", vec![])),
            "/apis/a1/attached-plugins" => (
                400,
                json!({"error_code": "APIG.2012", "error_msg": "Invalid parameter: env_id"}),
            ),
            "/plugins/p1/attached-apis" => (
                200,
                page(
                    "apis",
                    vec![json!({"api_id": "a1", "api_name": "orders", "env_id": "e1"})],
                ),
            ),
            _ => (200, page("apis", vec![])),
        };
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let client = client_of(Router::new().fallback(answer).with_state(seen.clone())).await;
    (seen, client)
}

#[tokio::test]
async fn a_refused_per_api_read_falls_back_to_reading_per_plugin() {
    let (seen, client) = refusing_gateway().await;
    let view = read_view(&client, 4, None, None, None).await.unwrap();

    assert_eq!(view.ages.direction, Direction::PerPlugin);
    let bound: Vec<(String, Option<Vec<LiveBinding>>)> = view
        .live
        .plugins
        .iter()
        .map(|p| (p.id.clone(), p.bindings.clone()))
        .collect();
    let release_a1 = LiveBinding {
        env_id: "e1".into(),
        api_id: "a1".into(),
    };
    assert_eq!(
        bound,
        [
            ("p1".to_owned(), Some(vec![release_a1])),
            ("p2".to_owned(), Some(vec![])),
            ("p3".to_owned(), Some(vec![])),
        ]
    );
    let seen = seen.lock().unwrap().clone();
    let refused = seen
        .iter()
        .filter(|r| r.contains("/attached-plugins"))
        .count();
    assert_eq!(refused, 1, "{seen:?}");
}
