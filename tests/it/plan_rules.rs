//! The plan-time rules of what the service keeps and enforces, on plain values: kept
//! bindings to offline APIs, OIDC APIs resolved to ids, the Kafka log quota.

use crate::support::plan::*;
use apigsync::model::{PluginType, RELEASE_ENV_ID};
use apigsync::plan::{DiffOptions, NoticeKind, OpKind, diff};
use serde_json::json;

fn opts() -> DiffOptions {
    DiffOptions {
        prune: true,
        ..DiffOptions::default()
    }
}

#[test]
fn a_kept_binding_to_an_api_taken_offline_plans_nothing_and_notes_it() {
    let d = desired(
        vec![cors("cors_public")],
        vec![binding(
            "cors_public",
            "RELEASE",
            &["orders_list", "users_list"],
        )],
    );
    let mut live = applied(&d, &world());
    let users = live.apis.iter_mut().find(|a| a.name == "users_list");
    users.expect("api").published_in.clear();
    let plan = diff(&d, &live, &opts()).unwrap();
    assert!(plan.is_empty(), "{:#?}", plan.operations);
    assert_eq!(plan.notices.len(), 1);
    assert_eq!(plan.notices[0].kind, NoticeKind::Offline);
    assert!(plan.notices[0].message.contains("users_list"));
}

#[test]
fn oidc_apis_by_name_group_or_id_are_sent_as_ids() {
    let mut p = plugin(
        "login",
        PluginType::OidcAuth,
        json!({"client_id": "w", "client_secret": "s", "discovery": "https://idp/x",
               "redirect_api_id": "users_get",
               "logout_api_id": {"group": "shop", "name": "orders_get"}}),
    );
    p.secrets.clear();
    let d = desired(
        vec![p],
        vec![binding("login", "RELEASE", &["users_get", "orders_get"])],
    );
    let plan = diff(&d, &world(), &opts()).unwrap();
    let OpKind::CreatePlugin { spec, .. } = &plan.operations[0].kind else {
        panic!("{:#?}", plan.operations)
    };
    assert_eq!(spec.content["redirect_api_id"], json!("api-users-get"));
    assert_eq!(spec.content["logout_api_id"], json!("api-orders-get"));
}

#[test]
fn a_kafka_log_plugin_that_fits_only_after_the_plans_deletes_is_an_error() {
    let mut live = world();
    for n in 1..=5 {
        live.plugins
            .push(unmanaged(&format!("log_{n}"), "kafka_log", vec![]));
    }
    let d = desired(vec![kafka("new_log", "pw")], vec![]);
    let err = diff(&d, &live, &opts()).unwrap_err().to_string();
    assert!(
        err.contains("number 6") && err.contains("delete one"),
        "{err}"
    );

    // A managed one the plan prunes still holds its place until the deletes run.
    let old = desired(vec![kafka("old_log", "pw")], vec![]);
    let mut live = applied(&old, &world());
    for n in 1..=4 {
        live.plugins.push(unmanaged(
            &format!("log_{n}"),
            "kafka_log",
            vec![bound(RELEASE_ENV_ID, "api-health")],
        ));
    }
    let err = diff(&d, &live, &opts()).unwrap_err().to_string();
    assert!(err.contains("apply the deletion first"), "{err}");
}

#[test]
fn an_oidc_redirect_api_must_be_bound_in_every_environment_of_the_plugin() {
    let mut p = plugin(
        "login",
        PluginType::OidcAuth,
        json!({"client_id": "w", "client_secret": "s", "discovery": "https://idp/x",
               "redirect_api_id": "users_list"}),
    );
    p.secrets.clear();
    let d = desired(
        vec![p],
        vec![
            binding("login", "RELEASE", &["users_list"]),
            binding("login", "TEST", &["orders_list"]),
        ],
    );
    let err = diff(&d, &world(), &opts()).unwrap_err().to_string();
    assert!(
        err.contains("users_list as redirect_api_id, which is not an API bound to it in TEST (it is bound to orders_list)"),
        "{err}"
    );
}
