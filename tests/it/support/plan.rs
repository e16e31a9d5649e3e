//! Shared builders for the plan tests: a small live world (the demo seed's APIs), desired
//! plug-ins and bindings, and `applied`, the live state the server holds after an apply
//! (contents as RECORDED from the service, see `support::recorded`).

use std::collections::BTreeMap;

use apigsync::model::{
    Api, ApiRef, DEFAULT_OWNER, Desired, DesiredBinding, DesiredPlugin, Env, Live, LiveBinding,
    LivePlugin, Location, PluginType, RELEASE_ENV_ID, RELEASE_ENV_NAME, Scope, SecretSource,
};
use apigsync::plan::{MarkerKey, Plan, marker};
use serde_json::{Value, json};

use crate::support::recorded;

pub const TEST_ENV_ID: &str = "e7a1c0d9e8f7a6b5c4d3e2f1a0b9c8d1";

/// The APIs of the demo seed's apig instance: (id, name, group, published in).
pub fn world() -> Live {
    let api = |id: &str, name: &str, group: &str, envs: &[&str]| Api {
        id: id.to_owned(),
        name: name.to_owned(),
        group_id: format!("grp-{group}"),
        group_name: group.to_owned(),
        method: "GET".into(),
        req_uri: String::new(),
        backend_type: String::new(),
        published_in: envs.iter().map(|e| (*e).to_owned()).collect(),
    };
    let both = [RELEASE_ENV_ID, TEST_ENV_ID];
    let with_method = |mut api: Api, method: &str| {
        api.method = method.to_owned();
        api
    };
    Live {
        plugin_quota: None,
        plugins: vec![],
        envs: vec![
            Env {
                id: RELEASE_ENV_ID.to_owned(),
                name: RELEASE_ENV_NAME.to_owned(),
            },
            Env {
                id: TEST_ENV_ID.to_owned(),
                name: "TEST".to_owned(),
            },
        ],
        apis: vec![
            api("api-orders-list", "orders_list", "shop", &both),
            api("api-orders-get", "orders_get", "shop", &both),
            with_method(
                api("api-orders-create", "orders_create", "shop", &both),
                "POST",
            ),
            with_method(
                api("api-orders-delete", "orders_delete", "shop", &[]),
                "DELETE",
            ),
            api("api-users-list", "users_list", "users", &[RELEASE_ENV_ID]),
            api("api-users-get", "users_get", "users", &both),
            api("api-health", "health", "shop", &both),
        ],
    }
}

pub fn loc(file: &str, line: usize) -> Location {
    Location::new(file, line, 1)
}

pub fn plugin(name: &str, kind: PluginType, content: Value) -> DesiredPlugin {
    DesiredPlugin {
        name: name.to_owned(),
        plugin_type: kind,
        scope: Scope::Global,
        roma_app_id: None,
        remark: None,
        content,
        secrets: BTreeMap::new(),
        location: loc(&format!("plugins/{name}.yaml"), 1),
    }
}

pub fn cors(name: &str) -> DesiredPlugin {
    plugin(
        name,
        PluginType::Cors,
        json!({"allow_origin": "*", "allow_methods": "GET,POST,PUT", "max_age": 600}),
    )
}

/// A kafka_log plug-in whose SASL password came from `${KAFKA_SASL_PASSWORD}`.
pub fn kafka(name: &str, password: &str) -> DesiredPlugin {
    let mut p = plugin(
        name,
        PluginType::KafkaLog,
        json!({
            "broker_list": ["10.0.0.1:9092"],
            "topic": "apig-logs",
            "sasl_config": {
                "security_protocol": "SASL_SSL",
                "sasl_mechanisms": "PLAIN",
                "sasl_username": "apig",
                "sasl_password": password
            }
        }),
    );
    p.secrets.insert(
        "/sasl_config/sasl_password".to_owned(),
        SecretSource {
            template: "${KAFKA_SASL_PASSWORD}".to_owned(),
            literal: false,
        },
    );
    p
}

/// Whether the service lets a plug-in of `kind` with `content` be bound to an API with
/// `method` (SPEC §4.3, from the user guides): a response cache only on GET and HEAD APIs, a
/// CORS plug-in only on APIs whose method its `allow_methods` lists. `ANY` APIs are not
/// judged (apigsync's choice: the guides say nothing about them).
pub fn bindable(kind: PluginType, content: &Value, method: &str) -> bool {
    if method == "ANY" {
        return true;
    }
    match kind {
        PluginType::ProxyCache => matches!(method, "GET" | "HEAD"),
        PluginType::Cors => content["allow_methods"]
            .as_str()
            .is_none_or(|m| m.split(',').any(|x| x.trim() == method)),
        _ => true,
    }
}

pub fn binding(plugin: &str, env: &str, apis: &[&str]) -> DesiredBinding {
    DesiredBinding {
        plugin: plugin.to_owned(),
        env: env.to_owned(),
        apis: apis.iter().map(|a| ApiRef::Name((*a).to_owned())).collect(),
        displace: false,
        location: loc(&format!("bindings/{plugin}.yaml"), 3),
        api_locations: vec![],
    }
}

pub fn desired(plugins: Vec<DesiredPlugin>, bindings: Vec<DesiredBinding>) -> Desired {
    let mut plugins = plugins;
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    Desired {
        project: None,
        plugins,
        bindings,
        warnings: vec![],
    }
}

/// The id the fake server gives a plug-in.
pub fn id_of(name: &str) -> String {
    format!("id-{name}")
}

/// The live state after applying `desired` to `world`: what the server stores and returns.
/// Contents are the recorded reads of what was sent ([`recorded::read_back`]), never the
/// output of `apigsync::content`, so a normalisation the server does not do shows up.
pub fn applied(desired: &Desired, world: &Live) -> Live {
    let mut live = world.clone();
    let api_ids: std::collections::HashMap<&str, &str> = world
        .apis
        .iter()
        .map(|a| (a.name.as_str(), a.id.as_str()))
        .collect();
    for p in &desired.plugins {
        let mut bindings = Vec::new();
        for b in desired.bindings.iter().filter(|b| b.plugin == p.name) {
            let env = world
                .envs
                .iter()
                .find(|e| e.name == b.env || e.id == b.env)
                .expect("env");
            for api in &b.apis {
                let id = match api {
                    ApiRef::Id { id } => id.clone(),
                    ApiRef::Name(n) | ApiRef::GroupName { name: n, .. } => {
                        (*api_ids.get(n.as_str()).expect("api")).to_owned()
                    }
                };
                bindings.push(LiveBinding {
                    env_id: env.id.clone(),
                    api_id: id,
                });
            }
        }
        bindings.sort();
        bindings.dedup();
        live.plugins.push(LivePlugin {
            id: id_of(&p.name),
            name: p.name.clone(),
            plugin_type: p.plugin_type.as_str().to_owned(),
            scope: p.scope.as_str().to_owned(),
            roma_app_id: p.roma_app_id.clone(),
            remark: Some(marker::with_marker(
                p.remark.as_deref().unwrap_or(""),
                &marker::Marker::of_desired(&MarkerKey::Unkeyed, DEFAULT_OWNER, p),
            )),
            content: recorded::read_back(p.plugin_type, &p.content),
            update_time: Some("2026-01-01T00:00:00Z".to_owned()),
            bindings: Some(bindings),
        });
    }
    live
}

/// A live plug-in nobody marked as managed.
pub fn unmanaged(name: &str, kind: &str, bindings: Vec<LiveBinding>) -> LivePlugin {
    LivePlugin {
        id: id_of(name),
        name: name.to_owned(),
        plugin_type: kind.to_owned(),
        scope: "global".to_owned(),
        roma_app_id: None,
        remark: Some("made in the console".to_owned()),
        content: json!({"allow_origin": "https://console.example"}),
        update_time: None,
        bindings: Some(bindings),
    }
}

pub fn bound(env_id: &str, api_id: &str) -> LiveBinding {
    LiveBinding {
        env_id: env_id.to_owned(),
        api_id: api_id.to_owned(),
    }
}

/// The ids of `plan`'s operations grouped by the round in which the executor can start
/// them: its scheduler (`apply::dag::run`) runs over its dependency graph
/// (`apply::dependencies`), each step recording one more than the latest round of its
/// dependencies. Panics when a step starts before a dependency has finished, or when a
/// step never runs.
pub fn executor_rounds(plan: &Plan) -> Vec<Vec<String>> {
    use std::sync::{Arc, Mutex};

    use apigsync::apply::{StepOutcome, dag, dependencies};
    use tokio_util::sync::CancellationToken;

    let deps = dependencies(plan).expect("the plan's dependencies are its own operations");
    let rounds = Arc::new(Mutex::new(vec![None::<usize>; deps.len()]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let outcomes = runtime.block_on(dag::run(
        &deps,
        64,
        &CancellationToken::new(),
        |i| i.to_string(),
        |i| {
            let rounds = rounds.clone();
            let before = deps[i].clone();
            async move {
                let mut rounds = rounds.lock().expect("rounds");
                let round = before
                    .iter()
                    .map(|d| rounds[*d].expect("a step started before its dependency finished") + 1)
                    .max()
                    .unwrap_or(0);
                rounds[i] = Some(round);
                Ok(())
            }
        },
    ));
    assert!(
        outcomes.iter().all(|o| *o == StepOutcome::Done),
        "every step runs: {outcomes:?}"
    );
    let rounds = rounds.lock().expect("rounds");
    let mut grouped: Vec<Vec<String>> = Vec::new();
    for (op, round) in plan.operations.iter().zip(rounds.iter()) {
        let round = round.expect("every step ran");
        if grouped.len() <= round {
            grouped.resize(round + 1, Vec::new());
        }
        grouped[round].push(op.id.to_string());
    }
    grouped
}
