//! The read direction (issue 19): bindings read per API (`attached-plugins`, SPEC §3.9
//! #11) give the same live state as per plug-in (`attached-apis`, #10), unmanaged plug-ins
//! bound to an API included; a gateway of many more plug-ins than APIs is read per API,
//! at a cost that follows the APIs.

use apigsync::api::fetch_live;
use apigsync::api::rolling::{Direction, read_view};
use apigsync::emulator::EmulatorConfig;
use apigsync::emulator::seed::SeedPlugin;
use apigsync::model::Live;

use crate::support::cli::World;

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
