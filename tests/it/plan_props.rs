//! Property: a live state that is exactly what applying a desired state produces (names to
//! ids, content through the server's store and redaction, remark with the marker, bindings)
//! diffs to an empty plan, and the diff is deterministic.

use std::collections::BTreeSet;

use crate::support::plan::*;
use apigsync::model::{ApiRef, Desired, DesiredBinding, PluginType, SecretSource};
use apigsync::plan::{DiffOptions, check_stale, diff};
use proptest::prelude::*;
use serde_json::Value;

fn examples() -> serde_json::Map<String, Value> {
    let text = include_str!("../fixtures/plugin-content-examples.json");
    serde_json::from_str(text).expect("fixture parses")
}

/// Secret fields of the documented examples, per type.
fn secret_pointer(kind: PluginType) -> Option<&'static str> {
    match kind {
        PluginType::KafkaLog => Some("/sasl_config/sasl_password"),
        PluginType::OidcAuth => Some("/client_secret"),
        _ => None,
    }
}

const PUBLISHED: [(&str, &str); 6] = [
    ("RELEASE", "orders_list"),
    ("RELEASE", "users_list"),
    ("RELEASE", "health"),
    ("TEST", "orders_get"),
    ("TEST", "users_get"),
    ("TEST", "health"),
];

prop_compose! {
    fn arb_plugin(index: usize)(
        kind in prop::sample::select(PluginType::ALL.to_vec()),
        remark in prop::option::of("[A-Za-z0-9 ,.]{0,40}"),
        secret in "[!-~]{1,24}",
        bound in prop::collection::btree_set(0..PUBLISHED.len(), 0..4),
    ) -> (apigsync::model::DesiredPlugin, BTreeSet<usize>) {
        let name = format!("p{index}_{}", kind.as_str());
        let mut p = plugin(&name, kind, examples()[kind.as_str()].clone());
        p.remark = remark;
        if let Some(pointer) = secret_pointer(kind) {
            if let Some(slot) = p.content.pointer_mut(pointer) {
                *slot = Value::String(secret);
            }
            p.secrets.insert(pointer.to_owned(), SecretSource { template: "${SECRET}".into(), literal: false });
        }
        (p, bound)
    }
}

fn arb_desired() -> impl Strategy<Value = Desired> {
    (0usize..6)
        .prop_flat_map(|n| (0..n).map(arb_plugin).collect::<Vec<_>>())
        .prop_map(|items| {
            let mut plugins = Vec::new();
            let mut bindings = Vec::new();
            // What the loader and differ accept: one plug-in of a type per API and
            // environment, and a response cache only on GET APIs.
            let mut taken = BTreeSet::new();
            let apis = world().apis;
            for (mut p, bound) in items {
                let mut first_bound: Option<&str> = None;
                for i in bound {
                    let (env, api) = PUBLISHED[i];
                    let cache_on_post =
                        p.plugin_type == PluginType::ProxyCache && api == "orders_create";
                    // oidc_auth's redirect API must be bound wherever the plug-in is.
                    let oidc_elsewhere = p.plugin_type == PluginType::OidcAuth && env != "RELEASE";
                    if cache_on_post || oidc_elsewhere || !taken.insert((p.plugin_type, env, api)) {
                        continue;
                    }
                    bindings.push(DesiredBinding {
                        plugin: p.name.clone(),
                        env: env.to_owned(),
                        apis: vec![ApiRef::Name(api.to_owned())],
                        displace: false,
                        location: loc("bindings.yaml", 1),
                    });
                    first_bound = first_bound.or(Some(api));
                }
                // oidc_auth names its redirect and logout APIs among those bound to it.
                if p.plugin_type == PluginType::OidcAuth
                    && let Some(obj) = p.content.as_object_mut()
                {
                    let id = first_bound
                        .and_then(|name| apis.iter().find(|a| a.name == name))
                        .map(|a| Value::from(a.id.clone()));
                    for field in ["redirect_api_id", "logout_api_id"] {
                        match &id {
                            Some(id) => obj.insert(field.to_owned(), id.clone()),
                            None => obj.remove(field),
                        };
                    }
                }
                plugins.push(p);
            }
            desired(plugins, bindings)
        })
}

proptest! {
    #[test]
    fn diff_of_a_state_with_itself_is_empty(d in arb_desired()) {
        let live = applied(&d, &world());
        let plan = diff(&d, &live, &DiffOptions { prune: true, ..DiffOptions::default() }).unwrap();
        prop_assert!(plan.is_empty(), "{:#?}", plan.operations);
        prop_assert!(plan.notices.is_empty(), "{:#?}", plan.notices);
        prop_assert!(check_stale(&plan, &live).is_empty());
    }

    #[test]
    fn diff_against_nothing_is_deterministic_and_creates_everything(d in arb_desired()) {
        let a = diff(&d, &world(), &DiffOptions::default()).unwrap();
        let b = diff(&d, &world(), &DiffOptions::default()).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.summary().create, d.plugins.len());
        let ready_first = a.waves().into_iter().flatten().count();
        prop_assert_eq!(ready_first, a.operations.len(), "every operation is reachable");
    }
}
