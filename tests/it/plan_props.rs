//! Properties of the differ over generated gateways (APIs of every method, published in
//! some of several environments) and desired states (every recorded content of every
//! plug-in type, remarks, secrets, bindings):
//! - a live state that is exactly what the server returns after applying the desired state
//!   (names to ids, contents as recorded by `support::recorded`, remark with the marker,
//!   bindings) diffs to an empty plan;
//! - a binding the service refuses (not published, a method the plug-in cannot serve, a
//!   second plug-in of a type on one API and environment) is a plan error naming it;
//! - the diff is deterministic and creates everything on an empty gateway.

use std::collections::BTreeMap;

use crate::support::plan::*;
use crate::support::proptest_config;
use crate::support::recorded;
use apigsync::model::{
    Api, ApiRef, Desired, DesiredBinding, DesiredPlugin, Env, Live, PluginType, RELEASE_ENV_ID,
    RELEASE_ENV_NAME, SecretSource,
};
use apigsync::plan::{DiffOptions, PlanError, check_stale, diff};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

/// Methods an API may have (`ANY` included).
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY",
];

/// Environments after RELEASE: (id, name).
const MORE_ENVS: [(&str, &str); 2] = [
    (TEST_ENV_ID, "TEST"),
    ("e7a1c0d9e8f7a6b5c4d3e2f1a0b9c8d2", "DEV"),
];

/// A generated gateway: environments and APIs (method, environments published in).
fn arb_world() -> impl Strategy<Value = Live> {
    (0..=MORE_ENVS.len()).prop_flat_map(|more| {
        let envs: Vec<Env> = std::iter::once((RELEASE_ENV_ID, RELEASE_ENV_NAME))
            .chain(MORE_ENVS[..more].iter().copied())
            .map(|(id, name)| Env {
                id: id.to_owned(),
                name: name.to_owned(),
            })
            .collect();
        let api = (
            prop::sample::select(METHODS.to_vec()),
            prop::collection::btree_set(0..envs.len(), 0..=envs.len()),
        );
        prop::collection::vec(api, 1..7).prop_map(move |apis| Live {
            plugin_quota: None,
            plugins: vec![],
            envs: envs.clone(),
            apis: apis
                .into_iter()
                .enumerate()
                .map(|(i, (method, published))| Api {
                    id: format!("api-{i}"),
                    name: format!("api_{i}_{}", method.to_ascii_lowercase()),
                    group_id: "grp-shop".into(),
                    group_name: "shop".into(),
                    method: method.to_owned(),
                    req_uri: String::new(),
                    backend_type: String::new(),
                    published_in: published.iter().map(|e| envs[*e].id.clone()).collect(),
                })
                .collect(),
        })
    })
}

prop_compose! {
    /// A plug-in with one of the recorded contents of its type, and the (env, API) index
    /// pairs it asks to be bound to (resolved modulo the world's sizes).
    fn arb_plugin(index: usize)(
        kind in prop::sample::select(PluginType::ALL.to_vec()),
        content in any::<Index>(),
        remark in prop::option::of("[A-Za-z0-9 ,.]{0,40}"),
        secret in "[!-~]{1,24}",
        bound in prop::collection::vec((any::<Index>(), any::<Index>()), 0..4),
    ) -> (DesiredPlugin, Vec<(Index, Index)>) {
        let contents: Vec<&recorded::RoundTrip> =
            recorded::round_trips().iter().filter(|t| t.kind == kind).collect();
        let name = format!("p{index}_{}", kind.as_str());
        let mut p = plugin(&name, kind, content.get(&contents).request.clone());
        p.remark = remark;
        for pointer in recorded::secrets(kind).into_keys() {
            if let Some(slot) = p.content.pointer_mut(&pointer) {
                *slot = Value::String(secret.clone());
                p.secrets.insert(pointer, SecretSource { template: "${SECRET}".into(), literal: false });
            }
        }
        (p, bound)
    }
}

/// What the service does with one requested binding (SPEC §4.3, §8).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Bound,
    NotPublished,
    MethodNotAllowed,
    CacheNeedsGet,
    TwoOfOneType,
}

/// A world, a desired state with every requested binding, and the verdict on each one.
#[derive(Debug)]
struct Case {
    world: Live,
    desired: Desired,
    /// (verdict, plug-in, API name) per requested binding, in order.
    verdicts: Vec<(Verdict, String, String)>,
}

impl Case {
    /// The desired state with only the bindings the service accepts.
    fn valid(&self) -> Desired {
        let mut d = self.desired.clone();
        let mut verdicts = self.verdicts.iter();
        d.bindings
            .retain(|_| verdicts.next().is_some_and(|v| v.0 == Verdict::Bound));
        d
    }
}

fn arb_case() -> impl Strategy<Value = Case> {
    let plugins = (0usize..6).prop_flat_map(|n| (0..n).map(arb_plugin).collect::<Vec<_>>());
    (arb_world(), plugins).prop_map(|(world, items)| {
        let mut plugins = Vec::new();
        let mut bindings = Vec::new();
        let mut verdicts = Vec::new();
        // (type, env, API) → the first plug-in bound there.
        let mut taken = BTreeMap::new();
        let mut oidc_seen = false;
        for (p, bound) in items {
            // One oidc_auth plug-in at most: its redirect API is fixed below.
            if p.plugin_type == PluginType::OidcAuth && std::mem::replace(&mut oidc_seen, true) {
                continue;
            }
            for (env, api) in bound {
                let env = env.get(&world.envs);
                let api = api.get(&world.apis);
                let verdict = if !api.published_in.contains(&env.id) {
                    Verdict::NotPublished
                } else if !bindable(p.plugin_type, &p.content, &api.method) {
                    if p.plugin_type == PluginType::Cors {
                        Verdict::MethodNotAllowed
                    } else {
                        Verdict::CacheNeedsGet
                    }
                } else if *taken
                    .entry((p.plugin_type, env.id.clone(), api.id.clone()))
                    .or_insert_with(|| p.name.clone())
                    != p.name
                {
                    Verdict::TwoOfOneType
                } else {
                    Verdict::Bound
                };
                verdicts.push((verdict, p.name.clone(), api.name.clone()));
                bindings.push(DesiredBinding {
                    plugin: p.name.clone(),
                    env: env.name.clone(),
                    apis: vec![ApiRef::Name(api.name.clone())],
                    displace: false,
                    location: loc("bindings.yaml", bindings.len() + 1),
                    api_locations: vec![],
                });
            }
            plugins.push(p);
        }
        oidc_redirect_bound(&world, &mut plugins, &mut bindings, &mut verdicts);
        Case {
            desired: desired(plugins, bindings),
            world,
            verdicts,
        }
    })
}

/// The service requires an oidc_auth plug-in's redirect and logout APIs to be APIs bound
/// to it in every environment it is bound in (SPEC §6.9): keep the oidc_auth plug-in's
/// requests in the environment of its first accepted binding, and name that API; with
/// no accepted binding, leave the plug-in out.
fn oidc_redirect_bound(
    world: &Live,
    plugins: &mut Vec<DesiredPlugin>,
    bindings: &mut Vec<DesiredBinding>,
    verdicts: &mut Vec<(Verdict, String, String)>,
) {
    let Some(i) = plugins
        .iter()
        .position(|p| p.plugin_type == PluginType::OidcAuth)
    else {
        return;
    };
    let name = plugins[i].name.clone();
    let first = verdicts
        .iter()
        .zip(bindings.iter())
        .find(|(v, b)| v.0 == Verdict::Bound && b.plugin == name)
        .map(|(v, b)| (b.env.clone(), v.2.clone()));
    let keep = |b: &DesiredBinding| {
        b.plugin != name || first.as_ref().is_some_and(|(env, _)| *env == b.env)
    };
    let kept: Vec<bool> = bindings.iter().map(keep).collect();
    let mut flags = kept.iter();
    verdicts.retain(|_| flags.next().copied().unwrap_or(false));
    let mut flags = kept.iter();
    bindings.retain(|_| flags.next().copied().unwrap_or(false));
    let Some((_, api)) = first else {
        plugins.remove(i);
        return;
    };
    let id = world
        .apis
        .iter()
        .find(|a| a.name == api)
        .map(|a| a.id.clone());
    if let (Some(id), Some(content)) = (id, plugins[i].content.as_object_mut()) {
        for field in ["redirect_api_id", "logout_api_id"] {
            if content.get(field).is_some_and(|v| !v.is_null() && v != "") {
                content.insert(field.to_owned(), Value::from(id.clone()));
            }
        }
    }
}

/// The (verdict, plug-in, API) a plan error names.
fn verdict_of(error: &PlanError) -> (Verdict, String, String) {
    let (verdict, plugin, api) = match error {
        PlanError::NotPublished { plugin, api, .. } => (Verdict::NotPublished, plugin, api),
        PlanError::MethodNotAllowed { plugin, api, .. } => (Verdict::MethodNotAllowed, plugin, api),
        PlanError::CacheNeedsGet { plugin, api, .. } => (Verdict::CacheNeedsGet, plugin, api),
        PlanError::TwoOfOneType { plugin, api, .. } => (Verdict::TwoOfOneType, plugin, api),
        other => panic!("unexpected plan error: {other}"),
    };
    (verdict, plugin.clone(), api.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..proptest_config() })]

    #[test]
    fn diff_of_a_state_with_itself_is_empty(case in arb_case()) {
        let d = case.valid();
        let live = applied(&d, &case.world);
        let plan = diff(&d, &live, &DiffOptions { prune: true, ..DiffOptions::default() }).unwrap();
        prop_assert!(plan.is_empty(), "{:#?}", plan.operations);
        prop_assert!(plan.notices.is_empty(), "{:#?}", plan.notices);
        prop_assert!(check_stale(&plan, &live).is_empty());
    }

    #[test]
    fn a_binding_the_service_refuses_is_a_plan_error_naming_it(case in arb_case()) {
        let mut refused: Vec<_> = case
            .verdicts
            .iter()
            .filter(|v| v.0 != Verdict::Bound)
            .cloned()
            .collect();
        match diff(&case.desired, &case.world, &DiffOptions::default()) {
            Ok(plan) => prop_assert!(refused.is_empty(), "no error for {refused:?}\n{plan:#?}"),
            Err(errors) => {
                let mut named: Vec<_> = errors.0.iter().map(verdict_of).collect();
                named.sort();
                refused.sort();
                prop_assert_eq!(named, refused);
            }
        }
    }

    #[test]
    fn diff_against_nothing_is_deterministic_and_creates_everything(case in arb_case()) {
        let d = case.valid();
        let a = diff(&d, &case.world, &DiffOptions::default()).unwrap();
        let b = diff(&d, &case.world, &DiffOptions::default()).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.summary().create, d.plugins.len());
        let ready_first = executor_rounds(&a).into_iter().flatten().count();
        prop_assert_eq!(ready_first, a.operations.len(), "every operation is reachable");
    }
}
