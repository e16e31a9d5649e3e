//! The rules that need an API's path or backend type, and the plug-in quota.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::model::{
    Api, ApiRef, DesiredBinding, Env, LiveBinding, Location, PluginQuota, PluginType,
    RELEASE_ENV_ID, Scope,
};

/// An API of group `shop` (`g-shop`), published in RELEASE.
fn api(id: &str, method: &str, path: &str, backend: &str) -> Api {
    Api {
        id: id.into(),
        name: id.into(),
        group_id: "g-shop".into(),
        group_name: "shop".into(),
        method: method.into(),
        req_uri: path.into(),
        backend_type: backend.into(),
        published_in: vec![RELEASE_ENV_ID.into()],
    }
}

fn world(apis: Vec<Api>) -> Live {
    Live {
        plugins: vec![],
        envs: vec![Env {
            id: RELEASE_ENV_ID.into(),
            name: "RELEASE".into(),
        }],
        apis,
        plugin_quota: None,
    }
}

fn plugin(name: &str, kind: PluginType, content: serde_json::Value) -> DesiredPlugin {
    DesiredPlugin {
        name: name.into(),
        plugin_type: kind,
        scope: Scope::Global,
        roma_app_id: None,
        remark: None,
        content,
        secrets: BTreeMap::new(),
        location: Location::new(format!("{name}.yaml"), 1, 1),
    }
}

fn cors(name: &str) -> DesiredPlugin {
    plugin(
        name,
        PluginType::Cors,
        json!({"allow_origin": "*", "allow_methods": "GET,POST,PUT,DELETE,HEAD,OPTIONS"}),
    )
}

fn mirror(name: &str) -> DesiredPlugin {
    plugin(
        name,
        PluginType::ProxyMirror,
        json!({"protocol": "http", "host": "mirror.example.internal:80"}),
    )
}

/// A Binding document of `plugin` in RELEASE at `bindings.yaml:line`.
fn bind(plugin: &str, apis: &[&str], line: usize) -> DesiredBinding {
    DesiredBinding {
        plugin: plugin.into(),
        env: "RELEASE".into(),
        apis: apis.iter().map(|a| ApiRef::Name((*a).into())).collect(),
        displace: false,
        location: Location::new("bindings.yaml", line, 1),
        api_locations: vec![],
    }
}

fn desired(plugins: Vec<DesiredPlugin>, bindings: Vec<DesiredBinding>) -> Desired {
    Desired {
        project: None,
        plugins,
        bindings,
        warnings: vec![],
    }
}

/// The error lines of a plan that cannot be made.
fn errors(d: &Desired, live: &Live) -> Vec<String> {
    errors_with(d, live, &DiffOptions::default())
}

/// The error lines of a plan with `opts` that cannot be made.
fn errors_with(d: &Desired, live: &Live, opts: &DiffOptions) -> Vec<String> {
    match diff(d, live, opts) {
        Ok(plan) => panic!("a plan of {} operations", plan.operations.len()),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// `GET /orders` and `POST /orders` of one group.
fn orders() -> Vec<Api> {
    vec![
        api("orders_list", "GET", "/orders", "HTTP"),
        api("orders_create", "POST", "/orders", "HTTP"),
    ]
}

#[test]
fn two_cors_plugins_on_one_path_of_a_group_are_an_error_naming_both_and_the_path() {
    let d = desired(
        vec![cors("cors_a"), cors("cors_b")],
        vec![
            bind("cors_a", &["orders_list"], 1),
            bind("cors_b", &["orders_create"], 5),
        ],
    );
    assert_eq!(
        errors(&d, &world(orders())),
        [
            "bindings.yaml:1:1: plug-in \"cors_a\" (cors) on API \"orders_list\" and plug-in \"cors_b\" on API \"orders_create\" (bound at bindings.yaml:5:1) would both serve path /orders of group \"shop\" in environment RELEASE; the gateway requires APIs of a group with the same path to share one CORS plug-in: bind them to the same one"
        ]
    );
}

/// A live CORS plug-in `name`, bound to `orders_create` in RELEASE.
fn live_cors_on_orders_create(name: &str) -> LivePlugin {
    LivePlugin {
        id: "p1".into(),
        name: name.into(),
        plugin_type: "cors".into(),
        scope: "global".into(),
        roma_app_id: None,
        remark: None,
        content: json!({"allow_origin": "*"}),
        update_time: None,
        bindings: Some(vec![LiveBinding {
            env_id: RELEASE_ENV_ID.into(),
            api_id: "orders_create".into(),
        }]),
    }
}

#[test]
fn a_live_cors_plugin_that_stays_on_the_path_counts_too() {
    let mut live = world(orders());
    live.plugins
        .push(live_cors_on_orders_create("console_cors"));
    let d = desired(
        vec![cors("cors_a")],
        vec![bind("cors_a", &["orders_list"], 1)],
    );
    assert_eq!(
        errors(&d, &live),
        [
            "bindings.yaml:1:1: plug-in \"cors_a\" (cors) on API \"orders_list\" and plug-in \"console_cors\" on API \"orders_create\" (bound on the gateway) would both serve path /orders of group \"shop\" in environment RELEASE; the gateway requires APIs of a group with the same path to share one CORS plug-in: bind them to the same one"
        ]
    );
    // Taking both APIs over from it is fine (the attach replaces it on both).
    let d = desired(
        vec![cors("cors_a")],
        vec![bind("cors_a", &["orders_list", "orders_create"], 1)],
    );
    let mut displace = d.clone();
    displace.bindings[0].displace = true;
    assert!(diff(&displace, &live, &DiffOptions::default()).is_ok());
}

#[test]
fn a_leftover_temporary_cors_plugin_of_a_desired_one_does_not_count_on_the_path() {
    // `cors_a__apigsync_tmp`: the temporary name of `cors_a`, left by an interrupted
    // replacement; the plan sets its bindings, so it is no other plug-in on the path.
    let mut live = world(orders());
    live.plugins
        .push(live_cors_on_orders_create("cors_a__apigsync_tmp"));
    let d = desired(
        vec![cors("cors_a")],
        vec![bind("cors_a", &["orders_list"], 1)],
    );
    let shared: Vec<String> = match diff(&d, &live, &DiffOptions::default()) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    };
    assert!(
        shared.iter().all(|e| !e.contains("would both serve path")),
        "{shared:?}"
    );
}

#[test]
fn one_cors_plugin_on_a_path_and_unknown_paths_are_not_judged() {
    let d = desired(
        vec![cors("cors_a")],
        vec![bind("cors_a", &["orders_list", "orders_create"], 1)],
    );
    assert!(diff(&d, &world(orders()), &DiffOptions::default()).is_ok());
    // A gateway that does not report paths (or backends): nothing is judged.
    let unknown = vec![
        api("orders_list", "GET", "", ""),
        api("orders_create", "POST", "", ""),
        api("orders_preflight", "OPTIONS", "", ""),
    ];
    let d = desired(
        vec![cors("cors_a"), cors("cors_b"), mirror("mirror")],
        vec![
            bind("cors_a", &["orders_list"], 1),
            bind("cors_b", &["orders_create"], 5),
            bind("mirror", &["orders_list"], 9),
        ],
    );
    assert!(diff(&d, &world(unknown), &DiffOptions::default()).is_ok());
}

#[test]
fn the_same_path_in_another_group_is_another_path() {
    let mut apis = orders();
    apis[1].group_id = "g-admin".into();
    apis[1].group_name = "admin".into();
    let d = desired(
        vec![cors("cors_a"), cors("cors_b")],
        vec![
            bind("cors_a", &["orders_list"], 1),
            bind("cors_b", &["orders_create"], 5),
        ],
    );
    assert!(diff(&d, &world(apis), &DiffOptions::default()).is_ok());
}

#[test]
fn a_cors_plugin_on_a_path_with_an_options_api_is_an_error() {
    let mut apis = orders();
    apis.push(api("orders_preflight", "OPTIONS", "/orders", "HTTP"));
    let d = desired(
        vec![cors("cors_a")],
        vec![bind("cors_a", &["orders_list"], 3)],
    );
    assert_eq!(
        errors(&d, &world(apis)),
        [
            "bindings.yaml:3:1: plug-in \"cors_a\" (cors) cannot be bound to API \"orders_list\": its path /orders in group \"shop\" also has the OPTIONS API \"orders_preflight\", and the gateway binds no CORS plug-in to the APIs of such a path; remove the API from the binding, or the OPTIONS API"
        ]
    );
}

#[test]
fn a_mirror_on_a_mock_backend_is_an_error_and_on_http_it_is_not() {
    let apis = vec![
        api("orders_list", "GET", "/orders", "MOCK"),
        api("orders_create", "POST", "/orders", "HTTP"),
    ];
    let d = desired(
        vec![mirror("mirror")],
        vec![bind("mirror", &["orders_list"], 2)],
    );
    assert_eq!(
        errors(&d, &world(apis.clone())),
        [
            "bindings.yaml:2:1: plug-in \"mirror\" (proxy_mirror) cannot be bound to API \"orders_list\", whose backend is Mock: the gateway mirrors no request of a Mock backend"
        ]
    );
    let d = desired(
        vec![mirror("mirror")],
        vec![bind("mirror", &["orders_create"], 2)],
    );
    assert!(diff(&d, &world(apis), &DiffOptions::default()).is_ok());
}

/// A live plug-in named `name` that this folder does not manage.
fn foreign(name: &str) -> LivePlugin {
    LivePlugin {
        id: format!("id-{name}"),
        name: name.into(),
        plugin_type: "rate_limit".into(),
        scope: "global".into(),
        roma_app_id: None,
        remark: None,
        content: json!({}),
        update_time: None,
        bindings: None,
    }
}

#[test]
fn creates_beyond_the_plugin_quota_are_an_error_naming_the_limit_and_the_peak() {
    let mut live = world(orders());
    live.plugins = vec![foreign("a"), foreign("b"), foreign("c")];
    live.plugin_quota = Some(PluginQuota {
        limit: 4,
        used: Some(3),
    });
    let d = desired(vec![cors("cors_a"), mirror("mirror")], vec![]);
    assert_eq!(
        errors(&d, &live),
        [
            "the plan would hold 5 plug-ins on the gateway at its peak (3 there now and 2 it creates, temporary replacements included, before any delete runs), over the gateway's limit of 4 (PLUGIN_NUM_LIMIT); remove 1 plug-in from the manifests or the gateway"
        ]
    );
    // The gateway's own count wins when it is higher.
    live.plugin_quota = Some(PluginQuota {
        limit: 5,
        used: Some(6),
    });
    assert_eq!(
        errors(&d, &live),
        [
            "the plan would hold 8 plug-ins on the gateway at its peak (6 there now and 2 it creates, temporary replacements included, before any delete runs), over the gateway's limit of 5 (PLUGIN_NUM_LIMIT); remove 3 plug-ins from the manifests or the gateway"
        ]
    );
    // Within the quota, and with no quota reported, there is a plan.
    live.plugin_quota = Some(PluginQuota {
        limit: 5,
        used: None,
    });
    assert!(diff(&d, &live, &DiffOptions::default()).is_ok());
    live.plugin_quota = None;
    live.plugins
        .extend((0..600).map(|i| foreign(&format!("x{i}"))));
    assert!(diff(&d, &live, &DiffOptions::default()).is_ok());
}

#[test]
fn a_replacement_counts_its_temporary_plugin_and_its_delete_comes_after_the_peak() {
    // A live CORS plug-in taken over as a rate limit: replaced through a temporary one.
    let mut live = world(orders());
    let mut old = foreign("edge");
    old.plugin_type = "cors".into();
    old.bindings = Some(vec![]);
    live.plugins = vec![old];
    live.plugin_quota = Some(PluginQuota {
        limit: 1,
        used: None,
    });
    let d = desired(
        vec![plugin(
            "edge",
            PluginType::RateLimit,
            json!({"api_limit": 100}),
        )],
        vec![],
    );
    let adopt = DiffOptions {
        adopt: true,
        ..DiffOptions::default()
    };
    let e = diff(&d, &live, &adopt).expect_err("over the quota");
    assert_eq!(
        e.to_string(),
        "the plan would hold 2 plug-ins on the gateway at its peak (1 there now and 1 it creates, temporary replacements included, before any delete runs), over the gateway's limit of 1 (PLUGIN_NUM_LIMIT); remove 1 plug-in from the manifests or the gateway; deletes (1 in this plan) run only after the creates and make no room"
    );
}

/// A live CORS plug-in as created by hand from `p` (no marker), bound in RELEASE to `apis`.
fn by_hand(p: &DesiredPlugin, apis: &[&str]) -> LivePlugin {
    LivePlugin {
        id: format!("id-{}", p.name),
        name: p.name.clone(),
        plugin_type: p.plugin_type.as_str().into(),
        scope: "global".into(),
        roma_app_id: None,
        remark: None,
        content: p.content.clone(),
        update_time: None,
        bindings: Some(
            apis.iter()
                .map(|a| LiveBinding {
                    env_id: RELEASE_ENV_ID.into(),
                    api_id: (*a).into(),
                })
                .collect(),
        ),
    }
}

#[test]
fn bindings_the_gateway_already_holds_are_not_judged_a_new_one_is() {
    // The gateway took both CORS plug-ins on /orders, and CORS next to an OPTIONS API.
    let mut apis = orders();
    apis.push(api("orders_preflight", "OPTIONS", "/orders", "HTTP"));
    apis.push(api("orders_export", "GET", "/orders", "HTTP"));
    let mut live = world(apis);
    let (a, b) = (cors("cors_a"), cors("cors_b"));
    live.plugins = vec![
        by_hand(&a, &["orders_list"]),
        by_hand(&b, &["orders_create"]),
    ];
    let adopt = DiffOptions {
        adopt: true,
        ..DiffOptions::default()
    };
    let mut d = desired(
        vec![a, b],
        vec![
            bind("cors_a", &["orders_list"], 1),
            bind("cors_b", &["orders_create"], 5),
        ],
    );
    assert!(diff(&d, &live, &adopt).is_ok());
    // A new attach on that path is judged: both rules.
    d.bindings[1] = bind("cors_b", &["orders_create", "orders_export"], 5);
    assert_eq!(
        errors_with(&d, &live, &adopt),
        [
            "bindings.yaml:5:1: plug-in \"cors_b\" (cors) cannot be bound to API \"orders_export\": its path /orders in group \"shop\" also has the OPTIONS API \"orders_preflight\", and the gateway binds no CORS plug-in to the APIs of such a path; remove the API from the binding, or the OPTIONS API"
        ]
    );
    live.apis.retain(|a| a.name != "orders_preflight");
    assert_eq!(
        errors_with(&d, &live, &adopt),
        [
            "bindings.yaml:1:1: plug-in \"cors_a\" (cors) on API \"orders_list\" and plug-in \"cors_b\" on API \"orders_create\" (bound at bindings.yaml:5:1) would both serve path /orders of group \"shop\" in environment RELEASE; the gateway requires APIs of a group with the same path to share one CORS plug-in: bind them to the same one"
        ]
    );
}
