//! The differ: ownership cases, semantic comparison, replace, prune, binding resolution
//! errors, displacement notices, and `diff(x, applied(x))` being empty.

use std::collections::BTreeMap;

use crate::support::plan::*;
use apigsync::model::{ApiRef, PluginType, RELEASE_ENV_ID, Scope};
use apigsync::plan::{
    DiffOptions, FieldChange, NoticeKind, OpKind, PlanError, SecretSlot, Stage, diff,
};
use serde_json::json;

fn opts() -> DiffOptions {
    DiffOptions::default()
}

fn ids(plan: &apigsync::plan::Plan) -> Vec<&str> {
    plan.operations.iter().map(|op| op.id.as_str()).collect()
}

#[test]
fn absent_plugin_is_created_then_attached_by_name() {
    let d = desired(
        vec![cors("cors_public")],
        vec![binding(
            "cors_public",
            "RELEASE",
            &["orders_list", "orders_get"],
        )],
    );
    let plan = diff(&d, &world(), &opts()).unwrap();
    assert_eq!(
        ids(&plan),
        ["create/cors_public", "attach/cors_public/RELEASE/1"]
    );
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    let (user, fp) = apigsync::plan::marker::split_marker(&spec.remark);
    assert_eq!(user, "");
    let fp = fp.expect("marker");
    assert_eq!(
        (fp.owner.as_str(), &fp.secrets),
        ("default", &apigsync::plan::marker::Secrets::None),
        "a cors plug-in of the default owner: no secret slot"
    );
    assert!(fp.applied.is_some(), "the create records what it applies");
    let OpKind::Attach(a) = &plan.operations[1].kind else {
        panic!()
    };
    assert_eq!(
        a.plugin_id, None,
        "the executor takes the id from the create"
    );
    assert_eq!(a.env_id, RELEASE_ENV_ID);
    let names: Vec<&str> = a.apis.iter().map(|x| x.label()).collect();
    assert_eq!(names, ["orders_get", "orders_list"]);
    assert_eq!(plan.operations[1].depends_on, ["create/cors_public"]);
}

#[test]
fn applied_state_diffs_to_nothing() {
    let d = desired(
        vec![cors("cors_public"), kafka("kafka_orders", "s3cret")],
        vec![
            binding("cors_public", "RELEASE", &["orders_list"]),
            binding("kafka_orders", "TEST", &["orders_get"]),
        ],
    );
    let plan = diff(&d, &applied(&d, &world()), &opts()).unwrap();
    assert!(plan.is_empty(), "{:#?}", plan.operations);
    assert!(plan.notices.is_empty());
}

#[test]
fn update_lists_only_changed_fields() {
    let old = desired(vec![cors("cors_public")], vec![]);
    let live = applied(&old, &world());
    let mut p = cors("cors_public");
    p.content["max_age"] = json!(900);
    p.remark = Some("CORS for the public APIs".to_owned());
    let plan = diff(&desired(vec![p], vec![]), &live, &opts()).unwrap();
    assert_eq!(ids(&plan), ["update/cors_public"]);
    let OpKind::UpdatePlugin {
        plugin_id,
        changes,
        spec,
    } = &plan.operations[0].kind
    else {
        panic!()
    };
    assert_eq!(plugin_id, &id_of("cors_public"));
    assert!(
        spec.remark
            .starts_with("CORS for the public APIs [apigsync@default c:")
    );
    assert_eq!(
        changes,
        &[
            FieldChange {
                path: "/remark".into(),
                old: None,
                new: Some(json!("CORS for the public APIs")),
                sensitive: false
            },
            FieldChange {
                path: "/content/max_age".into(),
                old: Some(json!(600)),
                new: Some(json!(900)),
                sensitive: false
            },
        ]
    );
}

#[test]
fn marker_is_stripped_before_comparing_remarks() {
    let mut p = cors("cors_public");
    p.remark = Some("kept".to_owned());
    let d = desired(vec![p], vec![]);
    let live = applied(&d, &world());
    assert!(
        live.plugins[0]
            .remark
            .as_deref()
            .unwrap()
            .starts_with("kept [apigsync@default")
    );
    assert!(diff(&d, &live, &opts()).unwrap().is_empty());
}

#[test]
fn null_member_in_live_content_equals_absent_desired_member() {
    let d = desired(vec![cors("cors_public")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].content["allow_headers"] = serde_json::Value::Null;
    assert!(diff(&d, &live, &opts()).unwrap().is_empty());
}

#[test]
fn live_key_order_does_not_matter() {
    let d = desired(vec![cors("cors_public")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].content = serde_json::from_str(
        r#"{"max_age": 600, "allow_methods": "GET,POST,PUT", "allow_origin": "*"}"#,
    )
    .unwrap();
    assert!(diff(&d, &live, &opts()).unwrap().is_empty());
}

#[test]
fn changed_secret_is_a_sensitive_change_without_values() {
    let live = applied(
        &desired(vec![kafka("kafka_orders", "old-pass")], vec![]),
        &world(),
    );
    let plan = diff(
        &desired(vec![kafka("kafka_orders", "new-pass")], vec![]),
        &live,
        &opts(),
    )
    .unwrap();
    let OpKind::UpdatePlugin { changes, spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    assert_eq!(
        changes,
        &[FieldChange {
            path: "/content/sasl_config/sasl_password".into(),
            old: None,
            new: None,
            sensitive: true
        }]
    );
    assert_eq!(
        spec.content["sasl_config"]["sasl_password"],
        json!("${KAFKA_SASL_PASSWORD}")
    );
    assert_eq!(
        spec.secrets["/sasl_config/sasl_password"],
        SecretSlot::Env {
            template: "${KAFKA_SASL_PASSWORD}".into()
        }
    );
}

#[test]
fn literal_secret_is_stored_as_a_placeholder() {
    let mut p = kafka("kafka_orders", "lit-pass");
    p.secrets
        .get_mut("/sasl_config/sasl_password")
        .unwrap()
        .literal = true;
    let plan = diff(&desired(vec![p], vec![]), &world(), &opts()).unwrap();
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    assert_eq!(
        spec.content["sasl_config"]["sasl_password"],
        json!(apigsync::plan::LITERAL_SECRET)
    );
    assert_eq!(
        spec.secrets["/sasl_config/sasl_password"],
        SecretSlot::Literal
    );
}

#[test]
fn type_change_is_a_replace_in_order() {
    let d = desired(
        vec![cors("edge")],
        vec![binding("edge", "RELEASE", &["orders_list", "health"])],
    );
    let live = applied(&d, &world());
    let p = plugin(
        "edge",
        PluginType::SetRespHeaders,
        json!({"response_headers": []}),
    );
    let d2 = desired(
        vec![p],
        vec![binding("edge", "RELEASE", &["orders_list", "users_list"])],
    );
    let plan = diff(&d2, &live, &opts()).unwrap();
    assert_eq!(
        ids(&plan),
        [
            "create/edge__apigsync_tmp",
            "attach/edge__apigsync_tmp/RELEASE/1",
            "detach/edge/RELEASE/1",
            "delete/edge",
            "rename/edge"
        ]
    );
    assert!(plan.operations.iter().all(|op| op.replace));
    assert_eq!(plan.replacements.len(), 1);
    assert_eq!(plan.replacements[0].steps, ids(&plan));
    assert_eq!(
        plan.replacements[0].reason,
        "type changed: cors → set_resp_headers"
    );
    let deps = |i: usize| plan.operations[i].depends_on.clone();
    assert_eq!(deps(1), ["create/edge__apigsync_tmp"]);
    assert!(deps(2).contains(&"attach/edge__apigsync_tmp/RELEASE/1".to_owned()));
    assert!(deps(3).contains(&"detach/edge/RELEASE/1".to_owned()));
    assert!(deps(4).contains(&"delete/edge".to_owned()));
    let s = plan.summary();
    assert_eq!((s.create, s.replace, s.delete), (0, 1, 0));
    // Net binding change: users_list added, health removed; orders_list re-attached.
    assert_eq!((s.attach, s.detach), (1, 1));
}

#[test]
fn scope_change_is_a_replace() {
    let d = desired(vec![cors("edge")], vec![]);
    let live = applied(&d, &world());
    let mut p = cors("edge");
    p.scope = Scope::App;
    p.roma_app_id = Some("app-1".to_owned());
    let plan = diff(&desired(vec![p], vec![]), &live, &opts()).unwrap();
    assert_eq!(
        ids(&plan),
        ["create/edge__apigsync_tmp", "delete/edge", "rename/edge"]
    );
    assert_eq!(plan.replacements[0].reason, "scope changed: global → app");
}

#[test]
fn unmanaged_plugin_with_desired_name_is_an_error_naming_the_file() {
    let mut live = world();
    live.plugins.push(unmanaged("cors_public", "cors", vec![]));
    let err = diff(&desired(vec![cors("cors_public")], vec![]), &live, &opts()).unwrap_err();
    assert!(matches!(err.0.as_slice(), [PlanError::Unmanaged { .. }]));
    let msg = err.to_string();
    assert!(
        msg.starts_with("plugins/cors_public.yaml:1:1: plug-in \"cors_public\" already exists"),
        "{msg}"
    );
    assert!(msg.contains("options.adopt"), "{msg}");
}

#[test]
fn adopt_takes_over_the_plugin_and_all_its_bindings() {
    let mut live = world();
    live.plugins.push(unmanaged(
        "cors_public",
        "cors",
        vec![
            bound(RELEASE_ENV_ID, "api-orders-list"),
            bound(RELEASE_ENV_ID, "api-health"),
        ],
    ));
    let d = desired(
        vec![cors("cors_public")],
        vec![binding("cors_public", "RELEASE", &["orders_list"])],
    );
    let plan = diff(
        &d,
        &live,
        &DiffOptions {
            adopt: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        ids(&plan),
        ["update/cors_public", "detach/cors_public/RELEASE/1"]
    );
    assert_eq!(
        plan.operations[0].reason.as_deref(),
        Some("adopt: write the ownership marker")
    );
    let OpKind::Detach(b) = &plan.operations[1].kind else {
        panic!()
    };
    assert_eq!(b.apis[0].label(), "health");
    assert_eq!(plan.notices[0].kind, NoticeKind::Adopts);
}

#[test]
fn adopting_an_identical_plugin_without_secrets_is_a_no_op_with_a_notice() {
    let d = desired(vec![cors("cors_public")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].remark = None;
    let plan = diff(
        &d,
        &live,
        &DiffOptions {
            adopt: true,
            ..opts()
        },
    )
    .unwrap();
    assert!(plan.is_empty(), "{:?}", ids(&plan));
    assert_eq!(plan.notices[0].kind, NoticeKind::Adopts);
    assert!(plan.notices[0].message.contains("adopted as is"));
}

#[test]
fn managed_orphan_is_kept_without_prune_and_unmanaged_never_touched() {
    let d = desired(
        vec![cors("old_cors")],
        vec![binding("old_cors", "RELEASE", &["health"])],
    );
    let mut live = applied(&d, &world());
    live.plugins.push(unmanaged("console_cors", "cors", vec![]));
    let plan = diff(&desired(vec![], vec![]), &live, &opts()).unwrap();
    assert!(plan.is_empty());
    assert_eq!(plan.notices.len(), 1);
    assert_eq!(plan.notices[0].kind, NoticeKind::KeptOrphan);
    assert_eq!(plan.notices[0].plugin, "old_cors");
}

#[test]
fn prune_detaches_then_deletes_managed_orphans_only() {
    let d = desired(
        vec![cors("old_cors"), cors("keep")],
        vec![binding("old_cors", "RELEASE", &["health"])],
    );
    let mut live = applied(&d, &world());
    live.plugins.push(unmanaged("console_cors", "cors", vec![]));
    let plan = diff(
        &desired(vec![cors("keep")], vec![]),
        &live,
        &DiffOptions {
            prune: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(ids(&plan), ["detach/old_cors/RELEASE/1", "delete/old_cors"]);
    assert_eq!(plan.operations[1].depends_on, ["detach/old_cors/RELEASE/1"]);
    assert_eq!(plan.operations[1].stage, Stage::Delete);
}

#[test]
fn prune_with_no_desired_plugin_is_refused_unless_allowed() {
    let live = applied(
        &desired(vec![cors("a_cors"), cors("b_cors")], vec![]),
        &world(),
    );
    let empty = desired(vec![], vec![]);
    let err = diff(
        &empty,
        &live,
        &DiffOptions {
            prune: true,
            ..opts()
        },
    )
    .unwrap_err();
    assert_eq!(err.0, [PlanError::EmptyPrune { count: 2 }]);
    assert!(err.to_string().contains("options.allow_empty"));
    let plan = diff(
        &empty,
        &live,
        &DiffOptions {
            prune: true,
            allow_empty: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(ids(&plan), ["delete/a_cors", "delete/b_cors"]);
}

#[test]
fn binding_errors_name_the_binding_file_and_are_all_reported() {
    let d = desired(
        vec![cors("cors_public")],
        vec![
            binding(
                "cors_public",
                "RELEASE",
                &["order_list", "orders_delete", "users_list"],
            ),
            binding("cors_public", "TSET", &["orders_list"]),
            binding("cors_public", "TEST", &["users_list"]),
            binding("ghost", "RELEASE", &["orders_list"]),
        ],
    );
    let err = diff(&d, &world(), &opts()).unwrap_err();
    let lines: Vec<String> = err.to_string().lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "bindings/cors_public.yaml:3:1: binding of plug-in \"cors_public\" names API order_list, which does not exist (did you mean \"orders_list\", \"orders_delete\" or \"orders_get\"?)",
            "bindings/cors_public.yaml:3:1: binding of plug-in \"cors_public\" names API \"orders_delete\", which is not published in environment \"RELEASE\"; only published APIs can be bound",
            "bindings/cors_public.yaml:3:1: binding of plug-in \"cors_public\" names environment \"TSET\", which does not exist (did you mean \"TEST\"?); the environments are RELEASE, TEST",
            "bindings/cors_public.yaml:3:1: binding of plug-in \"cors_public\" names API \"users_list\", which is not published in environment \"TEST\"; only published APIs can be bound",
            "bindings/ghost.yaml:3:1: binding refers to plug-in \"ghost\", which no manifest declares",
        ]
    );
}

#[test]
fn ambiguous_api_name_lists_candidates_and_group_resolves_it() {
    let mut live = world();
    let mut dup = live
        .apis
        .iter()
        .find(|a| a.name == "health")
        .unwrap()
        .clone();
    dup.id = "api-users-health".to_owned();
    dup.group_name = "users".to_owned();
    live.apis.push(dup);
    let d = desired(vec![cors("c")], vec![binding("c", "RELEASE", &["health"])]);
    let msg = diff(&d, &live, &opts()).unwrap_err().to_string();
    assert!(msg.contains("\"health\", which is ambiguous: shop/health (api-health), users/health (api-users-health)"), "{msg}");
    let mut b = binding("c", "RELEASE", &[]);
    b.apis = vec![ApiRef::GroupName {
        group: "users".into(),
        name: "health".into(),
    }];
    let plan = diff(&desired(vec![cors("c")], vec![b]), &live, &opts()).unwrap();
    let OpKind::Attach(a) = &plan.operations[1].kind else {
        panic!()
    };
    assert_eq!(a.apis[0].id, "api-users-health");
}

#[test]
fn binding_that_displaces_an_unmanaged_plugin_is_an_error_unless_opted_in() {
    let mut live = world();
    live.plugins.push(unmanaged(
        "console_cors",
        "cors",
        vec![bound(RELEASE_ENV_ID, "api-orders-list")],
    ));
    live.plugins.push(unmanaged(
        "console_headers",
        "set_resp_headers",
        vec![bound(RELEASE_ENV_ID, "api-orders-list")],
    ));
    let mut d = desired(
        vec![cors("cors_public")],
        vec![binding("cors_public", "RELEASE", &["orders_list"])],
    );
    let err = diff(&d, &live, &opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bindings/cors_public.yaml:3:1: binding of plug-in \"cors_public\" to API \"orders_list\" in environment RELEASE would displace plug-in \"console_cors\" (cors), which this folder does not manage (unmanaged, or another owner's): the gateway keeps one plug-in of a type per API and environment; remove the binding, or set displace: true in this Binding to replace it",
        "only the same type is displaced"
    );
    d.bindings[0].displace = true;
    let plan = diff(&d, &live, &opts()).unwrap();
    assert_eq!(plan.notices.len(), 1);
    assert_eq!(plan.notices[0].kind, NoticeKind::Displaces);
    assert_eq!(
        plan.notices[0].message,
        "DESTRUCTIVE: binding \"cors_public\" displaces plug-in \"console_cors\" of type cors, which apigsync does not manage, from API orders_list in RELEASE (displace: true); \"console_cors\" loses this binding"
    );
    assert_eq!(
        plan.notices[0]
            .location
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("bindings/cors_public.yaml:3:1")
    );
}

#[test]
fn moving_a_binding_between_managed_plugins_attaches_first_without_notice() {
    let d = desired(
        vec![cors("a_cors"), cors("b_cors")],
        vec![binding("a_cors", "RELEASE", &["orders_list"])],
    );
    let live = applied(&d, &world());
    let d2 = desired(
        vec![cors("a_cors"), cors("b_cors")],
        vec![binding("b_cors", "RELEASE", &["orders_list"])],
    );
    let plan = diff(&d2, &live, &opts()).unwrap();
    assert_eq!(
        ids(&plan),
        ["attach/b_cors/RELEASE/1", "detach/a_cors/RELEASE/1"]
    );
    assert_eq!(plan.operations[1].depends_on, ["attach/b_cors/RELEASE/1"]);
    assert!(plan.notices.is_empty());
}

#[test]
fn more_than_500_apis_are_split_into_ordered_calls() {
    let mut live = world();
    for i in 0..1203 {
        live.apis.push(apigsync::model::Api {
            id: format!("bulk-{i:04}"),
            name: format!("bulk_{i:04}"),
            group_id: "grp-bulk".into(),
            group_name: "bulk".into(),
            method: "GET".into(),
            req_uri: String::new(),
            backend_type: String::new(),
            published_in: vec![RELEASE_ENV_ID.into()],
        });
    }
    let names: Vec<String> = (0..1203).map(|i| format!("bulk_{i:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = desired(vec![cors("c")], vec![binding("c", "RELEASE", &refs)]);
    let plan = diff(&d, &live, &opts()).unwrap();
    assert_eq!(
        ids(&plan),
        [
            "create/c",
            "attach/c/RELEASE/1",
            "attach/c/RELEASE/2",
            "attach/c/RELEASE/3"
        ]
    );
    let sizes: Vec<usize> = plan.operations[1..]
        .iter()
        .map(|op| match &op.kind {
            OpKind::Attach(b) => b.apis.len(),
            _ => 0,
        })
        .collect();
    assert_eq!(sizes, [500, 500, 203]);
    assert_eq!(
        plan.operations[2].depends_on,
        ["attach/c/RELEASE/1", "create/c"]
    );
    assert_eq!(plan.summary().attach, 1203);
}

#[test]
fn bindings_in_two_envs_are_independent() {
    let d = desired(
        vec![cors("c")],
        vec![
            binding("c", "RELEASE", &["orders_list"]),
            binding("c", "TEST", &["orders_list"]),
        ],
    );
    let plan = diff(&d, &world(), &opts()).unwrap();
    assert_eq!(
        executor_rounds(&plan),
        [
            vec!["create/c"],
            vec!["attach/c/RELEASE/1", "attach/c/TEST/1"]
        ]
    );
}

#[test]
fn reads_cover_desired_and_managed_plugins_and_their_binding_sets() {
    let d = desired(
        vec![cors("a_cors")],
        vec![binding("a_cors", "RELEASE", &["health"])],
    );
    let mut live = applied(&d, &world());
    live.plugins.push(unmanaged("console", "cors", vec![]));
    let d2 = desired(
        vec![cors("a_cors"), cors("new_cors")],
        vec![binding("a_cors", "TEST", &["health"])],
    );
    let plan = diff(&d2, &live, &opts()).unwrap();
    let objects: Vec<String> = plan
        .reads
        .iter()
        .map(|r| format!("{:?} {}", r.object, r.fingerprint.is_some()))
        .collect();
    assert_eq!(
        objects,
        [
            "Plugin { name: \"a_cors\" } true",
            format!("Bindings {{ plugin: \"a_cors\", env_id: \"{RELEASE_ENV_ID}\" }} true")
                .as_str(),
            format!("Bindings {{ plugin: \"a_cors\", env_id: \"{TEST_ENV_ID}\" }} true").as_str(),
            "Plugin { name: \"new_cors\" } false",
        ]
    );
}

#[test]
fn plan_json_round_trips() {
    let d = desired(
        vec![cors("cors_public"), kafka("kafka_orders", "pw")],
        vec![binding("cors_public", "RELEASE", &["orders_list"])],
    );
    let plan = diff(&d, &world(), &opts()).unwrap();
    let text = apigsync::plan::render::json(&plan);
    let back: apigsync::plan::Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["schema_version"], json!(2));
    assert_eq!(value["operations"][0]["kind"], json!("create_plugin"));
}

#[test]
fn a_desired_name_held_by_a_plugin_of_an_unknown_type_is_an_error_even_when_marked() {
    let d = desired(vec![cors("auth")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].plugin_type = "jwt_auth".to_owned();
    let err = diff(&d, &live, &opts()).unwrap_err().to_string();
    assert!(
        err.contains("\"auth\" already exists") && err.contains("\"jwt_auth\""),
        "{err}"
    );
}

#[test]
fn secrets_map_is_keyed_by_pointer() {
    let p = kafka("k", "pw");
    let expected: BTreeMap<String, SecretSlot> = [(
        "/sasl_config/sasl_password".to_owned(),
        SecretSlot::Env {
            template: "${KAFKA_SASL_PASSWORD}".into(),
        },
    )]
    .into();
    let plan = diff(&desired(vec![p], vec![]), &world(), &opts()).unwrap();
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!()
    };
    assert_eq!(spec.secrets, expected);
}

#[test]
fn unfetched_bindings_of_unmanaged_plugins_are_ignored() {
    let mut live = world();
    let mut other = unmanaged("console_cors", "cors", vec![]);
    other.bindings = None;
    live.plugins.push(other);
    let d = desired(
        vec![cors("c")],
        vec![binding("c", "RELEASE", &["orders_list"])],
    );
    let plan = diff(&d, &live, &opts()).unwrap();
    assert!(plan.notices.is_empty());
}

#[test]
fn managed_plugin_whose_bindings_were_not_read_is_an_error() {
    let d = desired(vec![cors("c")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].bindings = None;
    let err = diff(&d, &live, &opts()).unwrap_err();
    assert_eq!(err.0, [PlanError::BindingsNotRead { plugin: "c".into() }]);
}

#[test]
fn empty_remark_and_app_equal_absent_ones() {
    let d = desired(vec![cors("c")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].roma_app_id = Some(String::new());
    let mut p = cors("c");
    p.remark = Some(String::new());
    assert!(
        diff(&desired(vec![p], vec![]), &live, &opts())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_first_format_marker_without_secrets_is_kept_as_is() {
    let d = desired(vec![cors("c")], vec![]);
    let mut live = applied(&d, &world());
    live.plugins[0].remark = Some("[apigsync:000000]".to_owned());
    assert!(diff(&d, &live, &opts()).unwrap().is_empty());
}

#[test]
fn api_by_id_resolves_and_unknown_id_is_an_error() {
    let mut b = binding("c", "RELEASE", &[]);
    b.apis = vec![
        ApiRef::Id {
            id: "api-health".into(),
        },
        ApiRef::Id { id: "nope".into() },
    ];
    let err = diff(
        &desired(vec![cors("c")], vec![b.clone()]),
        &world(),
        &opts(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bindings/c.yaml:3:1: binding of plug-in \"c\" names API {id: nope}, which does not exist"
    );
    b.apis.pop();
    let plan = diff(&desired(vec![cors("c")], vec![b]), &world(), &opts()).unwrap();
    let OpKind::Attach(a) = &plan.operations[1].kind else {
        panic!()
    };
    assert_eq!(
        (a.apis[0].id.as_str(), a.apis[0].label()),
        ("api-health", "health")
    );
}

#[test]
fn env_by_id_resolves_to_its_name() {
    let d = desired(
        vec![cors("c")],
        vec![binding("c", TEST_ENV_ID, &["health"])],
    );
    let plan = diff(&d, &world(), &opts()).unwrap();
    assert_eq!(plan.operations[1].id, "attach/c/TEST/1");
}

#[test]
fn adopting_shows_the_remark_once() {
    let mut live = world();
    live.plugins.push(unmanaged("cors_public", "cors", vec![]));
    let plan = diff(
        &desired(vec![cors("cors_public")], vec![]),
        &live,
        &DiffOptions {
            adopt: true,
            ..opts()
        },
    )
    .unwrap();
    let OpKind::UpdatePlugin { changes, .. } = &plan.operations[0].kind else {
        panic!()
    };
    let remarks: Vec<&FieldChange> = changes.iter().filter(|c| c.path == "/remark").collect();
    assert_eq!(remarks.len(), 1);
    assert_eq!(remarks[0].old, Some(json!("made in the console")));
}

#[test]
fn a_cors_binding_to_an_api_whose_method_it_does_not_allow_is_a_plan_error() {
    let mut only_get = cors("cors_get");
    only_get.content["allow_methods"] = json!("GET, HEAD");
    let d = desired(
        vec![only_get],
        vec![binding(
            "cors_get",
            "RELEASE",
            &["orders_list", "orders_create"],
        )],
    );
    let errors = diff(&d, &world(), &opts()).expect_err("POST is not allowed");
    let text = errors.to_string();
    assert!(text.starts_with("bindings/cors_get.yaml:3:1:"), "{text}");
    assert!(text.contains("\"orders_create\" is POST"), "{text}");
    assert_eq!(errors.0.len(), 1, "orders_list (GET) is fine: {text}");
}

#[test]
fn a_response_cache_binds_only_to_get_and_head_apis() {
    let cache = plugin(
        "cache",
        PluginType::ProxyCache,
        json!({"cache_key": {"parameters": ["page"]}}),
    );
    let d = desired(
        vec![cache],
        vec![binding("cache", "TEST", &["orders_get", "orders_create"])],
    );
    let errors = diff(&d, &world(), &opts()).expect_err("POST cannot be cached");
    let text = errors.to_string();
    assert!(text.contains("caches only GET and HEAD APIs"), "{text}");
    assert!(text.contains("\"orders_create\" is POST"), "{text}");
    assert_eq!(errors.0.len(), 1, "{text}");
}

#[test]
fn two_plugins_of_one_type_on_one_api_written_differently_is_a_plan_error() {
    let mut by_id = binding("cors_b", "RELEASE", &[]);
    by_id.apis = vec![ApiRef::Id {
        id: "api-orders-list".into(),
    }];
    let d = desired(
        vec![cors("cors_a"), cors("cors_b")],
        vec![binding("cors_a", "RELEASE", &["orders_list"]), by_id],
    );
    let errors = diff(&d, &world(), &opts()).expect_err("the gateway keeps only one");
    let text = errors.to_string();
    assert!(text.starts_with("bindings/cors_b.yaml:3:1:"), "{text}");
    assert!(
        text.contains("would get two cors plug-ins, \"cors_b\" and \"cors_a\" (bound at bindings/cors_a.yaml:3:1)"),
        "{text}"
    );
}
