//! The emulator's switches for the service's surprises (`unknown_fields`, `rewrite_values`,
//! `plugin_quota`, `failed_attach_entries`, `detach_lag`, `token_expiry`, the extended
//! `bind_rules`), each on its own, through real HTTP; expected values written out.

use std::time::Duration;

use crate::support::cli::admin_put;
use crate::support::emulator::{APIG, Auth, Client, ROMA, Resp, start};
use apigsync::emulator::quirks_auth::AuthQuirks;
use apigsync::emulator::quirks_binding::BindingQuirks;
use apigsync::emulator::quirks_service::ServiceQuirks;
use apigsync::emulator::{EmulatorConfig, EmulatorHandle, Seed};
use apigsync::model::Flavour;
use serde_json::{Value, json};

const RELEASE: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";

async fn with_service(service: ServiceQuirks) -> (EmulatorHandle, Client) {
    start(EmulatorConfig {
        service,
        ..EmulatorConfig::demo()
    })
    .await
}

async fn with_binding(binding_quirks: BindingQuirks) -> (EmulatorHandle, Client) {
    start(EmulatorConfig {
        binding_quirks,
        ..EmulatorConfig::demo()
    })
    .await
}

fn plugins(c: &Client) -> String {
    c.path(Flavour::Apig, APIG, "/plugins")
}

async fn create(c: &Client, name: &str, kind: &str, content: &Value) -> Resp {
    let body = json!({"plugin_name": name, "plugin_type": kind, "plugin_scope": "global",
                      "plugin_content": content.to_string()});
    c.json("POST", plugins(c), &body).await
}

fn content_of(plugin: &Value) -> Value {
    serde_json::from_str(plugin["plugin_content"].as_str().expect("content text")).expect("json")
}

fn id(resp: &Resp) -> String {
    resp.body["plugin_id"]
        .as_str()
        .expect("plugin id")
        .to_owned()
}

/// The content of plug-in `id` as create/update answered it, then as show and list return it.
async fn reads(c: &Client, answer: &Resp, id: &str) -> Vec<Value> {
    let shown = c.get(format!("{}/{id}", plugins(c)), &[]).await;
    let listed = c.get(plugins(c), &[("plugin_id", id)]).await;
    vec![
        content_of(&answer.body),
        content_of(&shown.body),
        content_of(&listed.body["plugins"][0]),
    ]
}

async fn attach(c: &Client, plugin: &str, apis: &[&str]) -> Resp {
    let mut ids = Vec::new();
    for api in apis {
        ids.push(c.api_id(api).await);
    }
    c.json(
        "POST",
        format!("{}/{plugin}/attach", plugins(c)),
        &json!({"env_id": RELEASE, "api_ids": ids}),
    )
    .await
}

async fn attached_api_names(c: &Client, plugin: &str) -> Vec<String> {
    let resp = c
        .get(format!("{}/{plugin}/attached-apis", plugins(c)), &[])
        .await;
    resp.body["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .map(|a| a["api_name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn unknown_fields_are_stored_and_returned_by_every_read() {
    let (_emu, c) = with_service(ServiceQuirks {
        unknown_fields: true,
        ..ServiceQuirks::default()
    })
    .await;
    let sent = json!({"broker_list": ["k:9092"], "topic": "t",
                      "sasl_config": {"security_protocol": "PLAINTEXT"}});
    let made = create(&c, "logs", "kafka_log", &sent).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let stored = json!({"broker_list": ["k:9092"], "topic": "t",
                        "sasl_config": {"security_protocol": "PLAINTEXT", "x_new_option": false},
                        "x_new_option": false});
    for read in reads(&c, &made, &id(&made)).await {
        assert_eq!(read, stored);
    }

    let headers =
        json!({"response_headers": [{"name": "X-A", "value": "1", "action": "override"}]});
    let made = create(&c, "headers", "set_resp_headers", &headers).await;
    let updated = c
        .json(
            "PUT",
            format!("{}/{}", plugins(&c), id(&made)),
            &json!({"plugin_name": "headers", "plugin_type": "set_resp_headers",
                    "plugin_scope": "global", "plugin_content": headers.to_string()}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let stored = json!({"response_headers": [{"name": "X-A", "value": "1", "action": "override",
                                              "x_new_option": false}],
                        "x_new_option": false});
    for read in reads(&c, &updated, &id(&made)).await {
        assert_eq!(read, stored);
    }
}

#[tokio::test]
async fn rewrite_values_lower_header_names_stringify_max_age_and_sort_brokers() {
    let (_emu, c) = with_service(ServiceQuirks {
        rewrite_values: true,
        ..ServiceQuirks::default()
    })
    .await;
    let cases = [
        (
            "cors",
            json!({"allow_origin": "*", "allow_headers": "X-Token,Content-Type", "max_age": 86400}),
            json!({"allow_origin": "*", "allow_headers": "x-token,content-type", "max_age": "86400"}),
        ),
        (
            "set_resp_headers",
            json!({"response_headers": [{"name": "X-Demo", "value": "d", "action": "append"}]}),
            json!({"response_headers": [{"name": "x-demo", "value": "d", "action": "append"}]}),
        ),
        (
            "kafka_log",
            json!({"broker_list": ["b:9092", "a:9092"], "topic": "t"}),
            json!({"broker_list": ["a:9092", "b:9092"], "topic": "t"}),
        ),
    ];
    for (kind, sent, stored) in cases {
        let made = create(&c, &format!("{kind}_x"), kind, &sent).await;
        assert_eq!(made.status, 201, "{}", made.body);
        for read in reads(&c, &made, &id(&made)).await {
            assert_eq!(read, stored, "{kind}");
        }
    }
}

#[tokio::test]
async fn plugin_quota_refuses_creates_beyond_it_and_the_configs_show_it() {
    let (_emu, c) = with_service(ServiceQuirks {
        plugin_quota: Some(2),
        ..ServiceQuirks::default()
    })
    .await;
    c.create_cors("one").await;
    c.create_cors("two").await;
    let third = create(&c, "three", "cors", &json!({"allow_origin": "*"})).await;
    assert_eq!((third.status, third.code()), (403, "APIG.3100"));
    let configs = c
        .get(c.path(Flavour::Apig, APIG, "/project/configs"), &[])
        .await;
    assert_eq!(configs.status, 200);
    let item = &configs.body["configs"][0];
    assert_eq!(
        (
            configs.body["total"].clone(),
            item["config_name"].clone(),
            item["config_value"].clone(),
            item["used"].clone()
        ),
        (json!(1), json!("PLUGIN_NUM_LIMIT"), json!("2"), json!(2))
    );
    let roma = c
        .get(c.path(Flavour::Roma, ROMA, "/project/configs"), &[])
        .await;
    assert_eq!(
        (
            roma.body["configs"][0]["config_value"].clone(),
            roma.body["configs"][0]["used"].clone()
        ),
        (json!("2"), json!(0))
    );
}

#[tokio::test]
async fn the_configs_show_the_default_quota_when_the_switch_is_off() {
    let (_emu, c) = start(EmulatorConfig::demo()).await;
    let configs = c
        .get(c.path(Flavour::Apig, APIG, "/project/configs"), &[])
        .await;
    assert_eq!(
        configs.body["configs"][0]["config_value"],
        json!("500"),
        "{}",
        configs.body
    );
}

#[tokio::test]
async fn failed_attach_entries_report_the_last_apis_failed_and_leave_them_unbound() {
    let (_emu, c) = with_binding(BindingQuirks {
        failed_attach_entries: 1,
        ..BindingQuirks::default()
    })
    .await;
    let cors = c.create_cors("cors_x").await;
    let answer = attach(&c, &cors, &["orders_list", "users_get"]).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let (orders, users) = (c.api_id("orders_list").await, c.api_id("users_get").await);
    let results: Vec<(Value, Value)> = answer.body["bindings"]
        .as_array()
        .expect("bindings")
        .iter()
        .map(|b| (b["api_id"].clone(), b["binding_result"]["status"].clone()))
        .collect();
    assert_eq!(
        results,
        [
            (json!(orders), json!("SUCCESS")),
            (json!(users), json!("FAILED"))
        ]
    );
    let statuses: Vec<(Value, Value)> = answer.body["attached_plugins"]
        .as_array()
        .expect("attached_plugins")
        .iter()
        .map(|b| (b["api_name"].clone(), b["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (json!("orders_list"), json!("SUCCESS")),
            (json!("users_get"), json!("FAILED"))
        ]
    );
    assert_eq!(
        answer.body["bindings"][1]["binding_result"]["error_code"],
        json!("APIG.3500")
    );
    assert_eq!(attached_api_names(&c, &cors).await, ["orders_list"]);
}

#[tokio::test]
async fn detach_lag_keeps_a_removed_binding_visible_and_its_plugin_undeletable() {
    let (emu, c) = with_binding(BindingQuirks {
        // Far longer than the test: the lag never ends on its own here.
        detach_lag: Some(Duration::from_secs(600)),
        ..BindingQuirks::default()
    })
    .await;
    let cors = c.create_cors("cors_x").await;
    assert_eq!(attach(&c, &cors, &["orders_list"]).await.status, 201);
    let orders = c.api_id("orders_list").await;
    let detach = c
        .json(
            "PUT",
            format!("{}/{cors}/detach", plugins(&c)),
            &json!({"env_id": RELEASE, "api_ids": [orders]}),
        )
        .await;
    assert_eq!(detach.status, 204);
    assert_eq!(attached_api_names(&c, &cors).await, ["orders_list"]);
    let refused = c.delete(format!("{}/{cors}", plugins(&c))).await;
    assert_eq!((refused.status, refused.code()), (409, "APIG.3462"));

    admin_put(&emu, "/_emulator/faults", &json!({})).await;
    assert!(attached_api_names(&c, &cors).await.is_empty());
    assert_eq!(
        c.delete(format!("{}/{cors}", plugins(&c))).await.status,
        204
    );
}

#[tokio::test]
async fn token_expiry_refuses_an_old_token_and_a_new_one_works() {
    let (emu, c) = start(EmulatorConfig {
        tokens: vec!["token-old".into()],
        auth: AuthQuirks {
            token_expiry: Some(Duration::from_millis(1)),
        },
        ..EmulatorConfig::demo()
    })
    .await;
    let token = |t: &str| Client {
        auth: Auth::Token(t.into()),
        ..c.clone()
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let old = token("token-old").get(plugins(&c), &[]).await;
    assert_eq!(
        (old.status, old.code(), old.msg()),
        (
            401,
            "APIG.1002",
            "Incorrect token or token resolution failed: the token has expired"
        )
    );
    admin_put(
        &emu,
        "/_emulator/faults",
        &json!({"token_expiry_ms": 600_000}),
    )
    .await;
    let count = admin_put(&emu, "/_emulator/tokens", &json!({"tokens": ["token-new"]})).await;
    assert_eq!(count, json!({"tokens": 1}));
    assert_eq!(token("token-new").get(plugins(&c), &[]).await.status, 200);
    let gone = token("token-old").get(plugins(&c), &[]).await;
    assert_eq!(
        (gone.status, gone.msg()),
        (401, "Incorrect token or token resolution failed")
    );
}

#[tokio::test]
async fn credentials_rotate_through_the_admin_endpoint() {
    let (emu, c) = start(EmulatorConfig::demo()).await;
    assert_eq!(c.get(plugins(&c), &[]).await.status, 200);
    let count = admin_put(
        &emu,
        "/_emulator/credentials",
        &json!({"credentials": [{"access_key": "ROTATEDAK0000000001", "secret_key": "rotated-secret"}]}),
    )
    .await;
    assert_eq!(count, json!({"credentials": 1}));
    let old = c.get(plugins(&c), &[]).await;
    assert_eq!(
        (old.status, old.code()),
        (401, "APIGW.0301"),
        "{}",
        old.body
    );
    let rotated = Client {
        auth: Auth::Sign {
            ak: "ROTATEDAK0000000001".into(),
            sk: "rotated-secret".into(),
        },
        ..c.clone()
    };
    assert_eq!(rotated.get(plugins(&c), &[]).await.status, 200);
}

const RULES_SEED: &str = r#"
project_id: 0123456789abcdef0123456789abcdef
instances:
  - id: apig0000000000000000000000000001
    flavour: apig
    groups: [g]
    apis:
      - {name: items_get, group: g, method: GET, path: /items, backend_type: HTTP, published: [RELEASE]}
      - {name: items_post, group: g, method: POST, path: /items, backend_type: HTTP, published: [RELEASE]}
      - {name: opts_get, group: g, method: GET, path: /opts, backend_type: HTTP, published: [RELEASE]}
      - {name: opts_options, group: g, method: OPTIONS, path: /opts, published: [RELEASE]}
      - {name: mocked, group: g, method: GET, path: /mocked, published: [RELEASE]}
"#;
const RULES_APIG: &str = "apig0000000000000000000000000001";

#[tokio::test]
async fn bind_rules_keep_one_cors_per_path_none_beside_options_and_no_mirror_on_mock() {
    let (_emu, c) = start(EmulatorConfig {
        seed: Seed::from_yaml(RULES_SEED, "test").expect("seed"),
        service: ServiceQuirks {
            bind_rules: true,
            ..ServiceQuirks::default()
        },
        ..EmulatorConfig::demo()
    })
    .await;
    let base = |suffix: &str| c.path(Flavour::Apig, RULES_APIG, suffix);
    let apis = c.get(base("/apis"), &[]).await;
    let shapes: Vec<(Value, Value, Value, Value)> = apis.body["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .map(|a| {
            (
                a["name"].clone(),
                a["req_method"].clone(),
                a["req_uri"].clone(),
                a["backend_type"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        [
            (
                json!("items_get"),
                json!("GET"),
                json!("/items"),
                json!("HTTP")
            ),
            (
                json!("items_post"),
                json!("POST"),
                json!("/items"),
                json!("HTTP")
            ),
            (
                json!("opts_get"),
                json!("GET"),
                json!("/opts"),
                json!("HTTP")
            ),
            (
                json!("opts_options"),
                json!("OPTIONS"),
                json!("/opts"),
                json!("MOCK")
            ),
            (
                json!("mocked"),
                json!("GET"),
                json!("/mocked"),
                json!("MOCK")
            ),
        ]
    );
    let api = |name: &str| {
        apis.body["apis"]
            .as_array()
            .expect("apis")
            .iter()
            .find(|a| a["name"] == json!(name))
            .and_then(|a| a["id"].as_str())
            .expect("api")
            .to_owned()
    };
    let make = |name: &'static str, kind: &'static str, content: Value| {
        let c = c.clone();
        let path = base("/plugins");
        async move {
            let resp = c
                .json(
                    "POST",
                    path,
                    &json!({"plugin_name": name, "plugin_type": kind, "plugin_scope": "global",
                            "plugin_content": content.to_string()}),
                )
                .await;
            assert_eq!(resp.status, 201, "{}", resp.body);
            id(&resp)
        }
    };
    let bind = |plugin: String, api_id: String| {
        let c = c.clone();
        let path = base(&format!("/plugins/{plugin}/attach"));
        async move {
            c.json(
                "POST",
                path,
                &json!({"env_id": RELEASE, "api_ids": [api_id]}),
            )
            .await
        }
    };
    let cors_all = json!({"allow_origin": "*", "allow_methods": "GET,POST,OPTIONS"});
    let first = make("cors_first", "cors", cors_all.clone()).await;
    let second = make("cors_second", "cors", cors_all).await;
    assert_eq!(bind(first.clone(), api("items_get")).await.status, 201);
    let rival = bind(second, api("items_post")).await;
    assert_eq!(
        (rival.status, rival.code()),
        (400, "APIG.2012"),
        "{}",
        rival.body
    );
    assert_eq!(bind(first.clone(), api("items_post")).await.status, 201);
    let beside_options = bind(first, api("opts_get")).await;
    assert_eq!(
        (beside_options.status, beside_options.code()),
        (400, "APIG.2012")
    );

    let mirror = make(
        "mirror",
        "proxy_mirror",
        json!({"protocol": "http", "host": "m.example:80"}),
    )
    .await;
    let on_mock = bind(mirror.clone(), api("mocked")).await;
    assert_eq!((on_mock.status, on_mock.code()), (400, "APIG.2012"));
    assert_eq!(bind(mirror, api("items_get")).await.status, 201);
}
