//! The emulator's service-behaviour switches (`emulator::quirks_service`), each on its own,
//! through real HTTP with signed requests.

use std::time::Duration;

use crate::support::cli::{admin_get, admin_post};
use crate::support::emulator::{APIG, Client, Resp, start};
use apigsync::emulator::quirks_service::ServiceQuirks;
use apigsync::emulator::{EmulatorConfig, EmulatorHandle};
use apigsync::model::{Flavour, RELEASE_ENV_ID};
use serde_json::{Value, json};

const RELEASE: &str = RELEASE_ENV_ID;

async fn with(service: ServiceQuirks) -> (EmulatorHandle, Client) {
    start(EmulatorConfig {
        service,
        ..EmulatorConfig::demo()
    })
    .await
}

async fn create(c: &Client, name: &str, kind: &str, content: Value) -> Resp {
    let body = json!({"plugin_name": name, "plugin_type": kind, "plugin_scope": "global",
                      "plugin_content": content.to_string()});
    c.json("POST", c.path(Flavour::Apig, APIG, "/plugins"), &body)
        .await
}

async fn attach(c: &Client, plugin: &str, apis: &[&str]) -> Resp {
    let mut ids = Vec::new();
    for api in apis {
        ids.push(c.api_id(api).await);
    }
    c.json(
        "POST",
        c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/attach")),
        &json!({"env_id": RELEASE, "api_ids": ids}),
    )
    .await
}

async fn listed_names(c: &Client) -> Vec<String> {
    let resp = c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[]).await;
    resp.body["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter_map(|p| p["plugin_name"].as_str().map(str::to_owned))
        .collect()
}

fn id(resp: &Resp) -> String {
    resp.body["plugin_id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn fill_defaults_stores_the_documented_defaults() {
    let (_emu, c) = with(ServiceQuirks {
        fill_defaults: true,
        ..ServiceQuirks::default()
    })
    .await;
    let created = create(&c, "limits", "rate_limit", json!({"api_limit": 10})).await;
    assert_eq!(created.status, 201);
    let content: Value =
        serde_json::from_str(created.body["plugin_content"].as_str().expect("text")).expect("json");
    assert_eq!(
        content,
        json!({"api_limit": 10, "default_time_unit": "second"})
    );
}

#[tokio::test]
async fn vanish_between_reads_deletes_a_listed_plugin_so_its_bindings_read_404s() {
    let (_emu, c) = with(ServiceQuirks {
        vanish_between_reads: vec!["doomed".into()],
        ..ServiceQuirks::default()
    })
    .await;
    let doomed = c.create_cors("doomed").await;
    assert_eq!(listed_names(&c).await, ["doomed"]);
    let read = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{doomed}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!((read.status, read.code()), (404, "APIG.3068"));
    assert!(listed_names(&c).await.is_empty());
}

#[tokio::test]
async fn kafka_log_quota_refuses_the_sixth() {
    let (_emu, c) = with(ServiceQuirks {
        kafka_log_quota: Some(5),
        ..ServiceQuirks::default()
    })
    .await;
    let content = json!({"broker_list": ["k:9092"], "topic": "t"});
    for n in 1..=5 {
        let made = create(&c, &format!("log_{n}"), "kafka_log", content.clone()).await;
        assert_eq!(made.status, 201);
    }
    let sixth = create(&c, "log_6", "kafka_log", content).await;
    assert_eq!((sixth.status, sixth.code()), (403, "APIG.3100"));
}

#[tokio::test]
async fn bind_rules_refuse_what_the_gateway_refuses() {
    let (_emu, c) = with(ServiceQuirks {
        bind_rules: true,
        ..ServiceQuirks::default()
    })
    .await;
    let cors = id(&create(
        &c,
        "cors_get",
        "cors",
        json!({"allow_origin": "*", "allow_methods": "GET"}),
    )
    .await);
    let post = attach(&c, &cors, &["orders_create"]).await;
    assert_eq!((post.status, post.code()), (400, "APIG.2012"));
    assert_eq!(attach(&c, &cors, &["orders_list"]).await.status, 201);

    let cache = id(&create(
        &c,
        "cache",
        "proxy_cache",
        json!({"cache_key": {"headers": ["X-Key"]}}),
    )
    .await);
    assert_eq!(attach(&c, &cache, &["orders_create"]).await.status, 400);
    assert_eq!(attach(&c, &cache, &["orders_get"]).await.status, 201);

    let users_get = c.api_id("users_get").await;
    let oidc = id(&create(
        &c,
        "login",
        "oidc_auth",
        json!({"client_id": "w", "client_secret": "s", "discovery": "https://idp/x",
               "redirect_api_id": users_get}),
    )
    .await);
    let without = attach(&c, &oidc, &["orders_list"]).await;
    assert_eq!((without.status, without.code()), (400, "APIG.2012"));
    assert_eq!(
        attach(&c, &oidc, &["orders_list", "users_get"])
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn list_lag_hides_a_write_from_the_list_until_the_lag_passed() {
    let (_emu, c) = with(ServiceQuirks {
        // Long enough that the list right after the create falls inside it on a busy machine.
        list_lag: Some(Duration::from_secs(2)),
        ..ServiceQuirks::default()
    })
    .await;
    let made = c.create_cors("late").await;
    assert!(
        listed_names(&c).await.is_empty(),
        "the write showed at once"
    );
    let shown = c
        .get(
            c.path(Flavour::Apig, APIG, &format!("/plugins/{made}")),
            &[],
        )
        .await;
    assert_eq!(shown.status, 200, "show is not lagged");
    let mut names = Vec::new();
    for _ in 0..200 {
        names = listed_names(&c).await;
        if !names.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(names, ["late"]);
}

#[tokio::test]
async fn faults_endpoint_accepts_the_service_switches() {
    let (emu, _c) = start(EmulatorConfig::demo()).await;
    apigsync::api::install_tls_provider();
    let set = json!({"fault_rate": 0.0, "fill_defaults": true, "vanish_between_reads": ["x"],
                     "kafka_log_quota": 5, "bind_rules": true, "list_lag_ms": 250,
                     "unknown_fields": true, "rewrite_values": true, "plugin_quota": 7,
                     "failed_attach_entries": 1, "detach_lag_ms": 1000, "token_expiry_ms": 5000});
    let resp = reqwest::Client::new()
        .put(format!("{}/_emulator/faults", emu.base_url()))
        .json(&set)
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 200);
    let got = admin_get(&emu, "/_emulator/faults").await;
    for key in [
        "fill_defaults",
        "vanish_between_reads",
        "kafka_log_quota",
        "bind_rules",
        "list_lag_ms",
        "unknown_fields",
        "rewrite_values",
        "plugin_quota",
        "failed_attach_entries",
        "detach_lag_ms",
        "token_expiry_ms",
    ] {
        assert_eq!(got[key], set[key], "{key}: {got}");
    }
}

#[tokio::test]
async fn a_jwt_auth_plugin_can_be_seeded_and_bound() {
    let (emu, c) = start(EmulatorConfig::demo()).await;
    admin_post(
        &emu,
        "/_emulator/plugins",
        &json!({"plugin_name": "console_jwt", "plugin_type": "jwt_auth", "plugin_content": {}}),
    )
    .await;
    let list = c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[]).await;
    let jwt = &list.body["plugins"][0];
    assert_eq!(jwt["plugin_type"], json!("jwt_auth"));
    let bound = attach(&c, jwt["plugin_id"].as_str().expect("id"), &["health"]).await;
    assert_eq!(bound.status, 201);
}

#[tokio::test]
async fn the_offline_endpoint_keeps_bindings_and_unpublishes() {
    let (emu, c) = start(EmulatorConfig::demo()).await;
    let cors = c.create_cors("cors_off").await;
    assert_eq!(attach(&c, &cors, &["health"]).await.status, 201);
    let health = c.api_id("health").await;
    admin_post(
        &emu,
        "/_emulator/offline",
        &json!({"api_id": health, "env_id": RELEASE}),
    )
    .await;
    let published = c
        .get(
            c.path(Flavour::Apig, APIG, "/apis"),
            &[
                ("env_id", RELEASE),
                ("name", "health"),
                ("precise_search", "name"),
            ],
        )
        .await;
    assert_eq!(published.body["total"], json!(0));
    let bound = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{cors}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!(bound.body["total"], json!(1));
}
