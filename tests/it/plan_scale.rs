//! A gateway of realistic size: the differ, the ordering and the staleness check stay
//! linear enough to plan thousands of bindings (run with `--nocapture` to see the sizes).

use crate::support::plan::*;
use crate::support::recorded;
use apigsync::model::{Api, PluginType, RELEASE_ENV_ID};
use apigsync::plan::{DiffOptions, check_stale, diff};

const PLUGINS: usize = 200;
const APIS_PER_PLUGIN: usize = 600;
/// Every type but kafka_log, of which a gateway holds at most five.
fn types() -> Vec<PluginType> {
    PluginType::ALL
        .into_iter()
        .filter(|t| *t != PluginType::KafkaLog)
        .collect()
}
/// Enough APIs for plug-ins of one type to bind disjoint sets (one per type per API).
const APIS: usize = PLUGINS.div_ceil(PluginType::ALL.len() - 1) * APIS_PER_PLUGIN;

#[test]
fn large_gateway_plans_and_replans_to_nothing() {
    let mut world = world();
    world.apis = (0..APIS)
        .map(|i| Api {
            id: format!("api-{i:05}"),
            name: format!("api_{i:05}"),
            group_id: "grp".into(),
            group_name: "bulk".into(),
            method: "GET".into(),
            req_uri: String::new(),
            backend_type: String::new(),
            published_in: vec![RELEASE_ENV_ID.into()],
        })
        .collect();
    let names: Vec<String> = (0..APIS).map(|i| format!("api_{i:05}")).collect();
    let types = types();
    let mut plugins = Vec::new();
    let mut bindings = Vec::new();
    for p in 0..PLUGINS {
        let kind = types[p % types.len()];
        let name = format!("plugin_{p:04}");
        let mut content = recorded::first(kind).request.clone();
        let start = (p / types.len()) * APIS_PER_PLUGIN;
        let apis: Vec<&str> = (0..APIS_PER_PLUGIN)
            .map(|k| names[(start + k) % APIS].as_str())
            .collect();
        if kind == PluginType::OidcAuth {
            // Its redirect and logout APIs must be APIs bound to it (SPEC §6.9).
            let first = format!("api-{:05}", start % APIS);
            for field in ["redirect_api_id", "logout_api_id"] {
                if content.get(field).is_some() {
                    content[field] = first.clone().into();
                }
            }
        }
        plugins.push(plugin(&name, kind, content));
        bindings.push(binding(&name, "RELEASE", &apis));
    }
    let d = desired(plugins, bindings);

    let plan = diff(&d, &world, &DiffOptions::default()).unwrap();
    let s = plan.summary();
    assert_eq!((s.create, s.attach), (PLUGINS, PLUGINS * APIS_PER_PLUGIN));
    assert_eq!(
        executor_rounds(&plan).len(),
        3,
        "create, then two attach calls per plug-in in sequence"
    );
    println!(
        "{} operations, {} notices",
        plan.operations.len(),
        plan.notices.len()
    );

    let live = applied(&d, &world);
    let again = diff(&d, &live, &DiffOptions::default()).unwrap();
    assert!(again.is_empty());
    assert!(check_stale(&again, &live).is_empty());
}
