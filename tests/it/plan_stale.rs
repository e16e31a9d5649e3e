//! Staleness of a saved plan, and resolving a plan's secrets at apply time.

use std::collections::BTreeMap;

use crate::support::plan::*;
use apigsync::model::RELEASE_ENV_ID;
use apigsync::plan::{
    DiffOptions, DriftKind, OpKind, PluginSpec, ReadObject, ResolveError, check_stale, diff,
    resolve_secrets,
};
use serde_json::json;

fn setup() -> (
    apigsync::model::Desired,
    apigsync::model::Live,
    apigsync::plan::Plan,
) {
    let d = desired(
        vec![cors("cors_public"), cors("new_cors")],
        vec![binding(
            "cors_public",
            "RELEASE",
            &["orders_list", "health"],
        )],
    );
    let live = applied(
        &desired(
            vec![cors("cors_public")],
            vec![binding("cors_public", "RELEASE", &["orders_list"])],
        ),
        &world(),
    );
    let plan = diff(&d, &live, &DiffOptions::default()).unwrap();
    (d, live, plan)
}

fn drifts(plan: &apigsync::plan::Plan, live: &apigsync::model::Live) -> Vec<String> {
    check_stale(plan, live)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn unchanged_live_state_is_not_stale() {
    let (_, live, plan) = setup();
    assert!(check_stale(&plan, &live).is_empty());
}

#[test]
fn update_time_alone_does_not_make_a_plan_stale() {
    let (_, mut live, plan) = setup();
    live.plugins[0].update_time = Some("2027-01-01T00:00:00Z".into());
    assert!(check_stale(&plan, &live).is_empty());
}

#[test]
fn console_edit_of_content_is_a_changed_plugin() {
    let (_, mut live, plan) = setup();
    live.plugins[0].content["max_age"] = json!(1);
    assert_eq!(drifts(&plan, &live), ["plug-in \"cors_public\" changed"]);
}

#[test]
fn deleted_plugin_vanished_and_created_plugin_appeared() {
    let (_, mut live, plan) = setup();
    live.plugins.clear();
    live.plugins
        .extend(applied(&desired(vec![cors("new_cors")], vec![]), &world()).plugins);
    let got = check_stale(&plan, &live);
    let kinds: Vec<(ReadObject, DriftKind)> = got.into_iter().map(|d| (d.object, d.kind)).collect();
    assert_eq!(
        kinds,
        [
            (
                ReadObject::Plugin {
                    name: "cors_public".into()
                },
                DriftKind::Vanished
            ),
            (
                ReadObject::Plugin {
                    name: "new_cors".into()
                },
                DriftKind::Appeared
            ),
        ]
    );
}

#[test]
fn changed_binding_set_is_named_by_plugin_and_env_name() {
    let (_, mut live, plan) = setup();
    live.plugins[0]
        .bindings
        .as_mut()
        .unwrap()
        .push(bound(RELEASE_ENV_ID, "api-users-get"));
    assert_eq!(
        drifts(&plan, &live),
        ["bindings of plug-in \"cors_public\" in environment RELEASE changed"]
    );
}

#[test]
fn a_managed_plugin_the_plan_never_read_appeared() {
    let (_, mut live, plan) = setup();
    live.plugins
        .extend(applied(&desired(vec![cors("someone_elses")], vec![]), &world()).plugins);
    assert_eq!(drifts(&plan, &live), ["plug-in \"someone_elses\" appeared"]);
}

#[test]
fn an_unmanaged_plugin_appearing_does_not_make_a_plan_stale() {
    let (_, mut live, plan) = setup();
    live.plugins.push(unmanaged("console", "cors", vec![]));
    assert!(check_stale(&plan, &live).is_empty());
}

fn kafka_spec(password: &str, literal: bool) -> (apigsync::model::Desired, PluginSpec) {
    let mut p = kafka("kafka_orders", password);
    p.secrets
        .get_mut("/sasl_config/sasl_password")
        .unwrap()
        .literal = literal;
    let d = desired(vec![p], vec![]);
    let plan = diff(&d, &world(), &DiffOptions::default()).unwrap();
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    (d, spec.clone())
}

fn env(value: &str) -> BTreeMap<String, String> {
    [("KAFKA_SASL_PASSWORD".to_owned(), value.to_owned())].into()
}

#[test]
fn resolve_secrets_puts_the_value_back_from_the_environment() {
    let (d, spec) = kafka_spec("pw-1", false);
    let content = resolve_secrets(&spec, &env("pw-1"), None).unwrap();
    assert_eq!(content, d.plugins[0].content);
}

#[test]
fn resolve_secrets_refuses_a_secret_changed_since_the_plan() {
    let (_, spec) = kafka_spec("pw-1", false);
    let err = resolve_secrets(&spec, &env("pw-2"), None).unwrap_err();
    assert_eq!(
        err,
        ResolveError::SecretChanged {
            plugin: "kafka_orders".into()
        }
    );
    assert!(!err.to_string().contains("pw-"));
}

#[test]
fn resolve_secrets_names_a_missing_variable() {
    let (_, spec) = kafka_spec("pw-1", false);
    let err = resolve_secrets(&spec, &BTreeMap::new(), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plug-in \"kafka_orders\": the secret at /sasl_config/sasl_password needs the environment variable KAFKA_SASL_PASSWORD, which is not set"
    );
}

#[test]
fn literal_secret_is_read_back_from_the_manifests() {
    let (d, spec) = kafka_spec("lit-pw", true);
    assert_eq!(
        resolve_secrets(&spec, &BTreeMap::new(), None).unwrap_err(),
        ResolveError::LiteralNeedsManifests {
            plugin: "kafka_orders".into(),
            pointer: "/sasl_config/sasl_password".into()
        }
    );
    assert_eq!(
        resolve_secrets(&spec, &BTreeMap::new(), Some(&d)).unwrap(),
        d.plugins[0].content
    );
    let (changed, _) = kafka_spec("other-pw", true);
    assert_eq!(
        resolve_secrets(&spec, &BTreeMap::new(), Some(&changed)).unwrap_err(),
        ResolveError::SecretChanged {
            plugin: "kafka_orders".into()
        }
    );
}

#[test]
fn plugin_without_secrets_resolves_to_its_content() {
    let d = desired(vec![cors("c")], vec![]);
    let plan = diff(&d, &world(), &DiffOptions::default()).unwrap();
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    assert_eq!(
        resolve_secrets(spec, &BTreeMap::new(), None).unwrap(),
        d.plugins[0].content
    );
}

#[test]
fn empty_secret_is_kept_as_is_and_needs_no_resolution() {
    let d = desired(vec![kafka("kafka_orders", "")], vec![]);
    let plan = diff(&d, &world(), &DiffOptions::default()).unwrap();
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    assert!(spec.secrets.is_empty());
    assert_eq!(
        resolve_secrets(spec, &BTreeMap::new(), None).unwrap(),
        d.plugins[0].content
    );
}
