use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::model::{Api, Env, LiveBinding, RELEASE_ENV_ID};

fn api(id: &str, name: &str, group: &str, envs: &[&str]) -> Api {
    Api {
        id: id.into(),
        name: name.into(),
        group_id: format!("g-{group}"),
        group_name: group.into(),
        method: "GET".into(),
        req_uri: String::new(),
        backend_type: String::new(),
        published_in: envs.iter().map(|e| (*e).to_owned()).collect(),
    }
}

fn plugin(name: &str, kind: &str, remark: Option<&str>, content: Value) -> LivePlugin {
    LivePlugin {
        id: format!("id-{name}"),
        name: name.into(),
        plugin_type: kind.into(),
        scope: "global".into(),
        roma_app_id: None,
        remark: remark.map(str::to_owned),
        content,
        update_time: None,
        bindings: Some(vec![]),
    }
}

fn bound(env: &str, api: &str) -> LiveBinding {
    LiveBinding {
        env_id: env.into(),
        api_id: api.into(),
    }
}

fn world() -> Live {
    let both = [RELEASE_ENV_ID, "e-test"];
    let mut cors = plugin(
        "cors_public",
        "cors",
        Some("CORS: the web shop [apigsync:0a1b2c]"),
        json!({"allow_origin": "*", "allow_methods": "GET,POST", "max_age": 600, "allow_credentials": true, "expose_headers": null}),
    );
    cors.bindings = Some(vec![
        bound("e-test", "a-list"),
        bound(RELEASE_ENV_ID, "a-health-users"),
        bound(RELEASE_ENV_ID, "a-list"),
        bound(RELEASE_ENV_ID, "a-health-shop"),
        bound(RELEASE_ENV_ID, "a-draft"),
        bound(RELEASE_ENV_ID, "a-gone"),
    ]);
    let kafka = plugin(
        "shop-log",
        "kafka_log",
        Some("yes"),
        json!({"broker_list": ["10.0.0.1:9092"], "topic": "logs",
               "sasl_config": {"security_protocol": "SASL_SSL", "sasl_username": "apig",
                               "ssl_ca_content": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}}),
    );
    let oidc = plugin(
        "sso",
        "oidc_auth",
        None,
        json!({"client_id": "c", "client_secret": "******", "discovery": "https://idp/.well-known",
               "redirect_api_id": "a-list", "scope": "openid email profile"}),
    );
    let third = plugin(
        "authz",
        "third_auth",
        Some("[apigsync:ffffff]"),
        serde_json::from_str(r#"{"auth_request": {"method": "POST", "protocol": "HTTP", "url_domain": "10.0.0.2:80", "timeout": 10, "path": "/check", "vpc_channel_enabled": 2, "vpc_channel_info": null}, "identities": {"headers": [{"name": "token", "essential": false}], "queries": null}, "carry_body": {"enabled": false, "max_body_size": 1000}, "carry_path_enabled": false, "return_resp_body_enabled": false, "simple_auth_mode_enabled": true, "match_auth": {"key": "x", "value": "1.0"}, "rule_enabled": false}"#).unwrap(),
    );
    Live {
        plugin_quota: None,
        plugins: vec![
            third,
            kafka,
            oidc,
            cors,
            plugin("jwt", "jwt_auth", None, json!({})),
        ],
        envs: vec![
            Env {
                id: "e-test".into(),
                name: "TEST".into(),
            },
            Env {
                id: RELEASE_ENV_ID.into(),
                name: "RELEASE".into(),
            },
        ],
        apis: vec![
            api("a-list", "orders_list", "shop", &both),
            api("a-health-shop", "health", "shop", &both),
            api("a-health-users", "health", "users", &both),
            api("a-draft", "draft", "shop", &[]),
        ],
    }
}

fn opts() -> DumpOptions {
    DumpOptions {
        target: TargetConfig {
            flavour: Some(Flavour::Apig),
            project_id: Some("${HW_PROJECT_ID:-p1}".into()),
            instance_id: Some("i1".into()),
            ..Default::default()
        },
        flavour: Some(Flavour::Apig),
        instance_id: "i1".into(),
        managed_only: false,
    }
}

fn sources(d: &Dump) -> Vec<Source> {
    d.files
        .iter()
        .filter(|(p, _)| p.ends_with(".yaml"))
        .map(|(p, t)| Source {
            path: format!("dump/{p}").into(),
            text: t.clone(),
        })
        .collect()
}

fn secret_env(d: &Dump) -> BTreeMap<String, String> {
    d.secrets
        .iter()
        .map(|s| (s.var.clone(), format!("value of {}", s.var)))
        .collect()
}

#[test]
fn every_dumped_file_loads_back() {
    let d = dump(&world(), &opts());
    let desired = manifest::parse_sources(&sources(&d), &secret_env(&d)).expect("loads");
    let names: Vec<&str> = desired.plugins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["authz", "cors_public", "shop-log", "sso"]);
    let project = desired.project.expect("project file");
    assert!(project.options.adopt, "unmarked plug-ins were dumped");
    assert!(!project.options.prune);
    assert_eq!(project.target.project_id.as_deref(), Some("p1"));
    let cors = &desired.plugins[1];
    assert_eq!(cors.remark.as_deref(), Some("CORS: the web shop"));
    assert_eq!(
        cors.content,
        json!({"allow_origin": "*", "allow_methods": "GET,POST", "max_age": 600, "allow_credentials": true})
    );
    let authz = &desired.plugins[0];
    assert_eq!(authz.remark, None, "a bare marker leaves no remark");
    assert_eq!(
        authz.content.pointer("/auth_request/vpc_channel_enabled"),
        Some(&json!(false))
    );
    assert_eq!(
        authz.content.pointer("/match_auth/value"),
        Some(&json!("1.0"))
    );
    assert_eq!(desired.plugins[2].remark.as_deref(), Some("yes"));
    assert!(
        d.warnings.iter().all(|w| !w.contains("does not load")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn secrets_are_placeholders_and_listed() {
    let d = dump(&world(), &opts());
    let vars: Vec<(&str, &str, &str)> = d
        .secrets
        .iter()
        .map(|s| (s.var.as_str(), s.plugin.as_str(), s.pointer.as_str()))
        .collect();
    assert_eq!(
        vars,
        [
            (
                "APIGSYNC_SHOP_LOG_SASL_PASSWORD",
                "shop-log",
                "/sasl_config/sasl_password"
            ),
            (
                "APIGSYNC_SHOP_LOG_SSL_CA_CONTENT",
                "shop-log",
                "/sasl_config/ssl_ca_content"
            ),
            ("APIGSYNC_SSO_CLIENT_SECRET", "sso", "/client_secret"),
        ]
    );
    let all: String = d.files.values().cloned().collect();
    assert!(!all.contains("******"), "a mask is never written");
    assert!(
        !all.contains("BEGIN CERTIFICATE"),
        "a secret field is never written"
    );
    let kafka = &d.files["plugins/shop-log.yaml"];
    assert!(
        kafka.contains("sasl_password: \"${APIGSYNC_SHOP_LOG_SASL_PASSWORD}\"\n"),
        "{kafka}"
    );
    let desired = manifest::parse_sources(&sources(&d), &secret_env(&d)).expect("loads");
    let sso = desired.plugins.iter().find(|p| p.name == "sso").unwrap();
    assert_eq!(
        sso.content["client_secret"],
        json!("value of APIGSYNC_SSO_CLIENT_SECRET")
    );
    assert!(!sso.secrets["/client_secret"].literal);
    assert_eq!(d.adopted_with_update, ["shop-log", "sso"]);
    assert!(d.files[PROJECT_FILE].contains("APIGSYNC_SSO_CLIENT_SECRET"));
}

#[test]
fn bindings_name_apis_unambiguously_and_keep_offline_ones() {
    let d = dump(&world(), &opts());
    let cors = &d.files["plugins/cors_public.yaml"];
    assert!(cors.starts_with("# yaml-language-server: $schema=../apigsync.schema.json\n# Generated by `apigsync dump` from instance i1"), "{cors}");
    let bindings: Vec<&str> = cors.split("---\n").skip(1).collect();
    assert_eq!(
        bindings,
        [
            "# yaml-language-server: $schema=../apigsync.schema.json
kind: Binding
plugin: cors_public
env: RELEASE
apis:
  - draft
  - group: shop
    name: health
  - group: users
    name: health
  - orders_list
  - id: a-gone
",
            "# yaml-language-server: $schema=../apigsync.schema.json
kind: Binding
plugin: cors_public
env: TEST
apis: [orders_list]
",
        ]
    );
    assert_eq!(d.bindings, 2);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("\"draft\"") && w.contains("offline"))
    );
    assert!(d.warnings.iter().any(|w| w.contains("a-gone")));
    assert!(d.warnings.iter().any(|w| w.contains("jwt_auth")));
}

#[test]
fn output_is_deterministic_and_sorted() {
    let a = dump(&world(), &opts());
    let mut shuffled = world();
    shuffled.plugins.reverse();
    shuffled.envs.reverse();
    shuffled.apis.reverse();
    for p in &mut shuffled.plugins {
        if let Some(b) = &mut p.bindings {
            b.reverse();
        }
    }
    let b = dump(&shuffled, &opts());
    assert_eq!(a, b);
    let paths: Vec<&str> = a.files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "apigsync.schema.json",
            "apigsync.yaml",
            "plugins/authz.yaml",
            "plugins/cors_public.yaml",
            "plugins/shop-log.yaml",
            "plugins/sso.yaml"
        ]
    );
    assert_eq!(a.plugins, ["authz", "cors_public", "shop-log", "sso"]);
}

#[test]
fn managed_only_leaves_unmarked_plugins_out() {
    let d = dump(
        &world(),
        &DumpOptions {
            managed_only: true,
            ..opts()
        },
    );
    assert_eq!(d.plugins, ["authz", "cors_public"]);
    assert!(d.unmanaged.is_empty());
    assert!(!d.files[PROJECT_FILE].contains("adopt"));
}

#[test]
fn project_file_shape() {
    let d = dump(&world(), &opts());
    let text = &d.files[PROJECT_FILE];
    assert!(text.starts_with("# yaml-language-server: $schema=apigsync.schema.json\n"));
    assert!(
        text.contains(
            "target:\n  flavour: apig\n  project_id: \"${HW_PROJECT_ID:-p1}\"\n  instance_id: i1\noptions:\n  prune: false\n  adopt: true\n  parallelism: 8\n"
        ),
        "{text}"
    );
}

#[test]
fn names_collide_neither_as_files_nor_as_variables() {
    let mut used = BTreeSet::new();
    assert_eq!(file_name("Cors_a", &mut used), "Cors_a.yaml");
    assert_eq!(file_name("cors_A", &mut used), "cors_A-2.yaml");
    let mut vars = BTreeSet::new();
    assert_eq!(
        var_name("kafka-a", "/sasl_config/sasl_password", &mut vars),
        "APIGSYNC_KAFKA_A_SASL_PASSWORD"
    );
    assert_eq!(
        var_name("kafka_a", "/sasl_config/sasl_password", &mut vars),
        "APIGSYNC_KAFKA_A_SASL_PASSWORD_2"
    );
    assert_eq!(
        var_name("日志", "/client_secret", &mut vars),
        "APIGSYNC____CLIENT_SECRET"
    );
}

#[test]
fn oidc_redirect_api_ids_are_written_as_api_names() {
    let d = dump(&world(), &opts());
    let sso = &d.files["plugins/sso.yaml"];
    assert!(sso.contains("redirect_api_id: orders_list"), "{sso}");
}
