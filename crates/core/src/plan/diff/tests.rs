//! Adoption cases of the differ.

use std::collections::BTreeMap;

use serde_json::json;

use crate::model::{ApiRef, Location};

use super::*;
use crate::content;
use crate::model::{Env, LiveBinding, PluginType, RELEASE_ENV_ID, Scope, SecretSource};
use crate::plan::OpKind;

fn desired_plugin(kind: PluginType, content: serde_json::Value) -> DesiredPlugin {
    DesiredPlugin {
        name: "edge".into(),
        plugin_type: kind,
        scope: Scope::Global,
        roma_app_id: None,
        remark: Some("made by hand".into()),
        content,
        secrets: BTreeMap::new(),
        location: Location::new("plugins/edge.yaml", 1, 1),
    }
}

/// The live copy of `p` as created by hand: no marker, bound to API `a1` in RELEASE.
fn seeded(p: &DesiredPlugin) -> Live {
    Live {
        plugin_quota: None,
        plugins: vec![LivePlugin {
            id: "p1".into(),
            name: p.name.clone(),
            plugin_type: p.plugin_type.as_str().into(),
            scope: "global".into(),
            roma_app_id: None,
            remark: p.remark.clone(),
            content: content::redact(p.plugin_type, p.content.clone()),
            update_time: None,
            bindings: Some(vec![LiveBinding {
                env_id: RELEASE_ENV_ID.into(),
                api_id: "a1".into(),
            }]),
        }],
        envs: vec![Env {
            id: RELEASE_ENV_ID.into(),
            name: "RELEASE".into(),
        }],
        apis: vec![crate::model::Api {
            id: "a1".into(),
            name: "orders_list".into(),
            group_id: "g".into(),
            group_name: "shop".into(),
            method: "GET".into(),
            req_uri: String::new(),
            backend_type: String::new(),
            published_in: vec![RELEASE_ENV_ID.into()],
        }],
    }
}

fn adopt() -> DiffOptions {
    DiffOptions {
        adopt: true,
        ..DiffOptions::default()
    }
}

fn cors() -> DesiredPlugin {
    desired_plugin(PluginType::Cors, json!({"allow_origin": "*"}))
}

fn ids(plan: &Plan) -> Vec<&str> {
    plan.operations.iter().map(|o| o.id.as_str()).collect()
}

#[test]
fn adopting_an_equal_plugin_without_secrets_is_a_no_op_with_a_notice() {
    let p = cors();
    let live = seeded(&p);
    let binding = crate::model::DesiredBinding {
        plugin: "edge".into(),
        env: "RELEASE".into(),
        apis: vec![ApiRef::Name("orders_list".into())],
        displace: false,
        location: Location::new("plugins/edge.yaml", 9, 1),
        api_locations: vec![],
    };
    let d = Desired {
        project: None,
        plugins: vec![p],
        bindings: vec![binding],
        warnings: vec![],
    };
    let plan = diff(&d, &live, &adopt()).unwrap();
    assert!(plan.is_empty(), "{:?}", ids(&plan));
    assert_eq!(plan.notices.len(), 1);
    assert_eq!(plan.notices[0].kind, NoticeKind::Adopts);
    assert!(
        plan.notices[0]
            .message
            .contains("the ownership marker is written at its next change"),
        "{}",
        plan.notices[0].message
    );
}

#[test]
fn adopting_as_is_still_manages_the_bindings() {
    let p = cors();
    let live = seeded(&p);
    let d = Desired {
        project: None,
        plugins: vec![p],
        bindings: vec![],
        warnings: vec![],
    };
    let plan = diff(&d, &live, &adopt()).unwrap();
    assert_eq!(ids(&plan), ["detach/edge/RELEASE/1"]);
}

#[test]
fn adopting_a_different_plugin_writes_it_and_the_marker() {
    let p = cors();
    let mut live = seeded(&p);
    live.plugins[0].remark = Some("other".into());
    let d = Desired {
        project: None,
        plugins: vec![p],
        bindings: vec![],
        warnings: vec![],
    };
    let plan = diff(&d, &live, &adopt()).unwrap();
    assert_eq!(ids(&plan)[0], "update/edge");
    let OpKind::UpdatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    assert!(marker::split_marker(&spec.remark).1.is_some());
}

#[test]
fn adopting_a_plugin_with_secret_fields_always_writes_it() {
    let mut p = desired_plugin(
        PluginType::KafkaLog,
        json!({"broker_list": ["k:9092"], "topic": "t",
               "sasl_config": {"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": "pw"}}),
    );
    p.secrets.insert(
        "/sasl_config/sasl_password".into(),
        SecretSource {
            template: "${PW}".into(),
            literal: false,
        },
    );
    let live = seeded(&p);
    let d = Desired {
        project: None,
        plugins: vec![p],
        bindings: vec![],
        warnings: vec![],
    };
    let plan = diff(&d, &live, &adopt()).unwrap();
    assert_eq!(ids(&plan)[0], "update/edge");
    assert_eq!(
        plan.operations[0].reason.as_deref(),
        Some("adopt: write the ownership marker")
    );
    // Even a kafka_log without a secret value: the server may hold one it does not show.
    let mut plain = desired_plugin(
        PluginType::KafkaLog,
        json!({"broker_list": ["k:9092"], "topic": "t"}),
    );
    plain.name = "edge".into();
    let live = seeded(&plain);
    let d = Desired {
        project: None,
        plugins: vec![plain],
        bindings: vec![],
        warnings: vec![],
    };
    assert_eq!(ids(&diff(&d, &live, &adopt()).unwrap())[0], "update/edge");
}

#[test]
fn an_unmarked_plugin_is_never_pruned_even_after_adoption_as_is() {
    let live = seeded(&cors());
    let opts = DiffOptions {
        prune: true,
        allow_empty: true,
        ..adopt()
    };
    let plan = diff(&Desired::default(), &live, &opts).unwrap();
    assert!(plan.is_empty(), "{:?}", ids(&plan));
}

#[test]
fn without_adopt_an_unmarked_plugin_is_still_an_error() {
    let p = cors();
    let live = seeded(&p);
    let d = Desired {
        project: None,
        plugins: vec![p],
        bindings: vec![],
        warnings: vec![],
    };
    let err = diff(&d, &live, &DiffOptions::default()).unwrap_err();
    assert!(matches!(err.0.as_slice(), [PlanError::Unmanaged { .. }]));
}
