//! The plug-in API semantics of the emulator, through real HTTP with signed requests.

use crate::support::emulator::{APIG, Client, ROMA, demo, start, three_flavour_seed};
use apigsync::emulator::EmulatorConfig;
use apigsync::model::{Flavour, RELEASE_ENV_ID};
use serde_json::{Value, json};

const RELEASE: &str = RELEASE_ENV_ID;

fn plugin_body(name: &str, kind: &str, content: &str) -> Value {
    json!({"plugin_name": name, "plugin_type": kind, "plugin_scope": "global", "plugin_content": content})
}

async fn create(c: &Client, body: &Value) -> crate::support::emulator::Resp {
    c.json("POST", c.path(Flavour::Apig, APIG, "/plugins"), body)
        .await
}

#[tokio::test]
async fn create_show_update_list_delete_round_trip() {
    let (_emu, c) = demo().await;
    let content = "{\"allow_origin\": \"*\",  \"max_age\": 600}";
    let mut body = plugin_body("cors_public", "cors", content);
    body["remark"] = json!("public CORS");
    let created = create(&c, &body).await;
    assert_eq!(created.status, 201);
    let id = created.body["plugin_id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(
        created.body["plugin_content"],
        json!(content),
        "content round-trips verbatim"
    );
    assert_eq!(created.body["remark"], json!("public CORS"));

    let shown = c
        .get(c.path(Flavour::Apig, APIG, &format!("/plugins/{id}")), &[])
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["plugin_name"], json!("cors_public"));
    assert_eq!(shown.body["plugin_scope"], json!("global"));

    let updated = c
        .json(
            "PUT",
            c.path(Flavour::Apig, APIG, &format!("/plugins/{id}")),
            &plugin_body(
                "cors_renamed",
                "cors",
                "{\"allow_origin\":\"https://a.example\"}",
            ),
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["plugin_name"], json!("cors_renamed"));
    assert!(
        updated.body.get("remark").is_none(),
        "a full PUT without remark clears it"
    );
    assert_eq!(updated.body["create_time"], created.body["create_time"]);

    let list = c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[]).await;
    assert_eq!(
        (list.body["total"].clone(), list.body["size"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(list.body["plugins"][0]["plugin_id"], json!(id));

    let deleted = c
        .delete(c.path(Flavour::Apig, APIG, &format!("/plugins/{id}")))
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    let gone = c
        .get(c.path(Flavour::Apig, APIG, &format!("/plugins/{id}")), &[])
        .await;
    assert_eq!((gone.status, gone.code()), (404, "APIG.3068"));
    assert_eq!(gone.msg(), format!("Plugin {id} does not exist"));
}

#[tokio::test]
async fn duplicate_names_are_rejected_on_create_and_update() {
    let (_emu, c) = demo().await;
    c.create_cors("first_one").await;
    let second = c.create_cors("second_one").await;
    let dup = create(
        &c,
        &plugin_body("first_one", "cors", r#"{"allow_origin":"*"}"#),
    )
    .await;
    assert_eq!((dup.status, dup.code()), (400, "APIG.3326"));
    let upd = c
        .json(
            "PUT",
            c.path(Flavour::Apig, APIG, &format!("/plugins/{second}")),
            &plugin_body("first_one", "cors", r#"{"allow_origin":"*"}"#),
        )
        .await;
    assert_eq!((upd.status, upd.code()), (400, "APIG.3326"));
}

#[tokio::test]
async fn invalid_fields_name_the_parameter_in_apig_2012() {
    let (_emu, c) = demo().await;
    let cases = [
        (
            plugin_body("ab", "cors", r#"{"allow_origin":"*"}"#),
            "plugin_name",
        ),
        (
            plugin_body("9lives", "cors", r#"{"allow_origin":"*"}"#),
            "plugin_name",
        ),
        (
            plugin_body("has space", "cors", r#"{"allow_origin":"*"}"#),
            "plugin_name",
        ),
        (plugin_body("okname", "jwt_auth", "{}"), "plugin_type"),
        (plugin_body("okname", "cors", "[1]"), "plugin_content"),
        (plugin_body("okname", "cors", "not json"), "plugin_content"),
        (
            plugin_body(
                "okname",
                "cors",
                &format!("{{\"allow_origin\":\"{}\"}}", "x".repeat(65536)),
            ),
            "plugin_content",
        ),
    ];
    for (body, param) in cases {
        let resp = create(&c, &body).await;
        assert_eq!((resp.status, resp.code()), (400, "APIG.2012"), "{body}");
        assert!(
            resp.msg()
                .starts_with(&format!("Invalid parameter value,parameterName:{param}.")),
            "{}",
            resp.msg()
        );
    }
    let mut long_remark = plugin_body("okname", "cors", r#"{"allow_origin":"*"}"#);
    long_remark["remark"] = json!("r".repeat(256));
    let resp = create(&c, &long_remark).await;
    assert!(resp.msg().contains("parameterName:remark"));
    let missing = create(&c, &json!({"plugin_name": "okname"})).await;
    assert_eq!((missing.status, missing.code()), (400, "APIG.2001"));
    let list = c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[]).await;
    assert_eq!(list.body["total"], json!(0), "nothing invalid was stored");
}

#[tokio::test]
async fn types_and_scopes_follow_the_flavour() {
    let mut config = EmulatorConfig::demo();
    config.seed = three_flavour_seed();
    let (emu, c) = start(config).await;
    let apig = emu.instance("apig").expect("apig").to_string();
    let roma = emu.instance("roma").expect("roma").to_string();
    let otc = emu.instance("otc").expect("otc").to_string();
    let mirror = plugin_body(
        "mirror_one",
        "proxy_mirror",
        "{\"protocol\":\"http\",\"host\":\"m:80\"}",
    );
    let on_otc = c
        .json("POST", c.path(Flavour::Otc, &otc, "/plugins"), &mirror)
        .await;
    assert_eq!((on_otc.status, on_otc.code()), (400, "APIG.2012"));
    assert!(on_otc.msg().contains("parameterName:plugin_type"));
    let on_apig = c
        .json("POST", c.path(Flavour::Apig, &apig, "/plugins"), &mirror)
        .await;
    assert_eq!(on_apig.status, 201);

    let mut app = plugin_body("app_scoped", "cors", r#"{"allow_origin":"*"}"#);
    app["plugin_scope"] = json!("app");
    let apigw_app = c
        .json("POST", c.path(Flavour::Apig, &apig, "/plugins"), &app)
        .await;
    assert!(apigw_app.msg().contains("parameterName:plugin_scope"));
    let no_app_id = c
        .json("POST", c.path(Flavour::Roma, &roma, "/plugins"), &app)
        .await;
    assert_eq!((no_app_id.status, no_app_id.code()), (400, "APIG.2001"));
    app["roma_app_id"] = json!("app-1");
    let ok = c
        .json("POST", c.path(Flavour::Roma, &roma, "/plugins"), &app)
        .await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.body["roma_app_id"], json!("app-1"));
    let filtered = c
        .get(
            c.path(Flavour::Roma, &roma, "/plugins"),
            &[("roma_app_id", "app-1")],
        )
        .await;
    assert_eq!(filtered.body["total"], json!(1));
}

#[tokio::test]
async fn update_cannot_change_type_or_scope() {
    let (_emu, c) = demo().await;
    let id = c.create_cors("cors_fixed").await;
    let path = c.path(Flavour::Apig, APIG, &format!("/plugins/{id}"));
    let retyped = c
        .json(
            "PUT",
            path.clone(),
            &plugin_body("cors_fixed", "set_resp_headers", "{}"),
        )
        .await;
    assert_eq!((retyped.status, retyped.code()), (400, "APIG.2012"));
    assert!(retyped.msg().contains("plugin_type"));
    let missing = c
        .json(
            "PUT",
            c.path(Flavour::Apig, APIG, "/plugins/nope"),
            &plugin_body("x_y_z", "cors", r#"{"allow_origin":"*"}"#),
        )
        .await;
    assert_eq!((missing.status, missing.code()), (404, "APIG.3068"));
}

#[tokio::test]
async fn unknown_instance_project_or_flavour_is_apig_3030() {
    let (_emu, c) = demo().await;
    let wrong_instance = c.get(c.path(Flavour::Apig, "nope", "/plugins"), &[]).await;
    assert_eq!(
        (wrong_instance.status, wrong_instance.code()),
        (404, "APIG.3030")
    );
    assert_eq!(wrong_instance.msg(), "The instance does not exist;id:nope");
    let wrong_flavour = c.get(c.path(Flavour::Roma, APIG, "/plugins"), &[]).await;
    assert_eq!(wrong_flavour.code(), "APIG.3030");
    let roma_ok = c.get(c.path(Flavour::Roma, ROMA, "/plugins"), &[]).await;
    assert_eq!(roma_ok.status, 200);
    let mut other = c.clone();
    other.project = "ffffffffffffffffffffffffffffffff".into();
    let wrong_project = other
        .get(other.path(Flavour::Apig, APIG, "/plugins"), &[])
        .await;
    assert_eq!(wrong_project.code(), "APIG.3030");
    let unknown_route = c
        .get(c.path(Flavour::Apig, APIG, "/nothing-here"), &[])
        .await;
    assert_eq!(unknown_route.status, 404);
    assert!(unknown_route.headers.contains_key("x-request-id"));
    assert!(unknown_route.code().starts_with("APIG"));
}

#[tokio::test]
async fn attach_and_read_bindings_in_both_directions() {
    let (_emu, c) = demo().await;
    let plugin = c.create_cors("cors_bound").await;
    let orders = c.api_id("orders_list").await;
    let users = c.api_id("users_get").await;
    let attached = c
        .json(
            "POST",
            c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/attach")),
            &json!({"env_id": RELEASE, "api_ids": [orders, users]}),
        )
        .await;
    assert_eq!(attached.status, 201);
    let items = attached.body["attached_plugins"].as_array().expect("list");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["env_name"], json!("RELEASE"));
    assert_eq!(items[0]["api_name"], json!("orders_list"));
    assert_eq!(items[0]["plugin_type"], json!("cors"));

    let apis = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{plugin}/attached-apis"),
            ),
            &[("env_id", RELEASE)],
        )
        .await;
    assert_eq!(apis.body["total"], json!(2));
    assert_eq!(
        apis.body["apis"][0]["plugin_attach_id"],
        items[0]["plugin_attach_id"]
    );
    assert_eq!(apis.body["apis"][0]["group_name"], json!("shop"));

    let plugins = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{orders}/attached-plugins"),
            ),
            &[],
        )
        .await;
    assert_eq!(plugins.body["total"], json!(1));
    assert_eq!(plugins.body["plugins"][0]["plugin_id"], json!(plugin));
    assert_eq!(plugins.body["plugins"][0]["env_id"], json!(RELEASE));

    let test_env = c.test_env().await;
    let other = c.create_cors("cors_other").await;
    let api_side = c
        .json(
            "POST",
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{orders}/plugins/attach"),
            ),
            &json!({"env_id": test_env, "plugin_ids": [other]}),
        )
        .await;
    assert_eq!(api_side.status, 201);
    assert_eq!(
        api_side.body["attached_plugins"][0]["env_name"],
        json!("TEST")
    );

    let detached = c
        .json(
            "PUT",
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{orders}/plugins/detach"),
            ),
            &json!({"env_id": test_env, "plugin_ids": [other]}),
        )
        .await;
    assert_eq!(detached.status, 204);
    let detached = c
        .json(
            "PUT",
            c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/detach")),
            &json!({"env_id": RELEASE, "api_ids": [users]}),
        )
        .await;
    assert_eq!(detached.status, 204);
    let left = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{plugin}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!(left.body["total"], json!(1));
    assert_eq!(left.body["apis"][0]["api_id"], json!(orders));
    let none = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{other}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!(none.body["total"], json!(0));
}

#[tokio::test]
async fn binding_another_plugin_of_the_same_type_replaces_the_first() {
    let (_emu, c) = demo().await;
    let first = c.create_cors("cors_first").await;
    let second = c.create_cors("cors_second").await;
    let api = c.api_id("health").await;
    for plugin in [&first, &second] {
        let resp = c
            .json(
                "POST",
                c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/attach")),
                &json!({"env_id": RELEASE, "api_ids": [api]}),
            )
            .await;
        assert_eq!(resp.status, 201);
    }
    let bound = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{api}/attached-plugins"),
            ),
            &[],
        )
        .await;
    assert_eq!(bound.body["total"], json!(1));
    assert_eq!(bound.body["plugins"][0]["plugin_id"], json!(second));
    let first_apis = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{first}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!(first_apis.body["total"], json!(0));
}

#[tokio::test]
async fn binding_errors_use_the_documented_codes() {
    let (_emu, c) = demo().await;
    let plugin = c.create_cors("cors_err").await;
    let unpublished = c.api_id("orders_delete").await;
    let attach = |id: &str| c.path(Flavour::Apig, APIG, &format!("/plugins/{id}/attach"));
    let r = c
        .json(
            "POST",
            attach(&plugin),
            &json!({"env_id": RELEASE, "api_ids": [unpublished]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "APIG.3707"));
    let r = c
        .json(
            "POST",
            attach("nope"),
            &json!({"env_id": RELEASE, "api_ids": [unpublished]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "APIG.3068"));
    let r = c
        .json(
            "POST",
            attach(&plugin),
            &json!({"env_id": RELEASE, "api_ids": ["nope"]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "APIG.3002"));
    let r = c
        .json(
            "POST",
            attach(&plugin),
            &json!({"env_id": "nope", "api_ids": ["nope"]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "APIG.3003"));
    let r = c
        .json(
            "POST",
            attach(&plugin),
            &json!({"env_id": RELEASE, "api_ids": []}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "APIG.2012"));
    let r = c
        .get(
            c.path(Flavour::Apig, APIG, "/apis/nope/attached-plugins"),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "APIG.3002"));

    let api = c.api_id("orders_list").await;
    c.json(
        "POST",
        attach(&plugin),
        &json!({"env_id": RELEASE, "api_ids": [api]}),
    )
    .await;
    let del = c
        .delete(c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}")))
        .await;
    assert_eq!((del.status, del.code()), (409, "APIG.3462"));
}

#[tokio::test]
async fn taking_an_api_offline_keeps_its_bindings_and_blocks_new_ones() {
    let (_emu, c) = demo().await;
    let plugin = c.create_cors("cors_offline").await;
    let api = c.api_id("users_list").await;
    let attach = c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/attach"));
    c.json(
        "POST",
        attach.clone(),
        &json!({"env_id": RELEASE, "api_ids": [api]}),
    )
    .await;
    let off = c
        .json(
            "POST",
            c.path(Flavour::Apig, APIG, "/apis/action"),
            &json!({"action": "offline", "env_id": RELEASE, "api_id": api}),
        )
        .await;
    assert_eq!(off.status, 201);
    let published = c
        .get(
            c.path(Flavour::Apig, APIG, "/apis"),
            &[("env_id", RELEASE), ("name", "users_list")],
        )
        .await;
    assert_eq!(published.body["total"], json!(0));
    let still = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/plugins/{plugin}/attached-apis"),
            ),
            &[],
        )
        .await;
    assert_eq!(still.body["total"], json!(1), "offline keeps bindings");
    let again = c
        .json(
            "POST",
            attach.clone(),
            &json!({"env_id": RELEASE, "api_ids": [api]}),
        )
        .await;
    assert_eq!(again.code(), "APIG.3707");
    let on = c
        .json(
            "POST",
            c.path(Flavour::Apig, APIG, "/apis/action"),
            &json!({"action": "online", "env_id": RELEASE, "api_id": api}),
        )
        .await;
    assert_eq!(on.status, 201);
    assert_eq!(on.body["version_id"].as_str().map(str::len), Some(32));
    let versions = c
        .get(
            c.path(Flavour::Apig, APIG, &format!("/apis/publish/{api}")),
            &[("env_id", RELEASE)],
        )
        .await;
    let statuses: Vec<i64> = versions.body["api_versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["status"].as_i64().expect("status"))
        .collect();
    assert_eq!(statuses, vec![2, 1]);
    let shown = c
        .get(c.path(Flavour::Apig, APIG, &format!("/apis/{api}")), &[])
        .await;
    assert_eq!(shown.body["run_env_name"], json!("RELEASE"));
}

#[tokio::test]
async fn pagination_clamps_and_reports_total_and_size() {
    let (_emu, c) = demo().await;
    for i in 0..25 {
        c.create_cors(&format!("cors_{i:02}")).await;
    }
    let path = c.path(Flavour::Apig, APIG, "/plugins");
    let default = c.get(path.clone(), &[]).await;
    assert_eq!(
        (default.body["total"].clone(), default.body["size"].clone()),
        (json!(25), json!(20))
    );
    let clamped = c
        .get(path.clone(), &[("limit", "0"), ("offset", "-3")])
        .await;
    assert_eq!(clamped.body["size"], json!(20));
    assert_eq!(clamped.body["plugins"][0]["plugin_name"], json!("cors_00"));
    let big = c.get(path.clone(), &[("limit", "9999")]).await;
    assert_eq!(big.body["size"], json!(25));
    let tail = c
        .get(path.clone(), &[("limit", "10"), ("offset", "20")])
        .await;
    assert_eq!(tail.body["size"], json!(5));
    assert_eq!(tail.body["plugins"][0]["plugin_name"], json!("cors_20"));
    let past = c.get(path.clone(), &[("offset", "100")]).await;
    assert_eq!(
        (past.body["total"].clone(), past.body["size"].clone()),
        (json!(25), json!(0))
    );
    let bad = c.get(path.clone(), &[("limit", "x")]).await;
    assert_eq!((bad.status, bad.code()), (400, "APIG.2012"));
    let fuzzy = c.get(path.clone(), &[("plugin_name", "cors_1")]).await;
    assert_eq!(fuzzy.body["total"], json!(10));
    let precise = c
        .get(
            path,
            &[("plugin_name", "cors_1"), ("precise_search", "plugin_name")],
        )
        .await;
    assert_eq!(precise.body["total"], json!(0));
}

#[tokio::test]
async fn attachable_lists_offer_what_can_still_be_bound() {
    let (_emu, c) = demo().await;
    let plugin = c.create_cors("cors_attachable").await;
    let test_env = c.test_env().await;
    let path = c.path(
        Flavour::Apig,
        APIG,
        &format!("/plugins/{plugin}/attachable-apis"),
    );
    let missing = c.get(path.clone(), &[]).await;
    assert_eq!((missing.status, missing.code()), (400, "APIG.2001"));
    let before = c.get(path.clone(), &[("env_id", &test_env)]).await;
    assert_eq!(before.body["total"], json!(5), "APIs published in TEST");
    let api = c.api_id("orders_list").await;
    c.json(
        "POST",
        c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/attach")),
        &json!({"env_id": test_env, "api_ids": [api]}),
    )
    .await;
    let after = c.get(path, &[("env_id", &test_env)]).await;
    assert_eq!(after.body["total"], json!(4));
    let plugins = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{api}/attachable-plugins"),
            ),
            &[("env_id", &test_env)],
        )
        .await;
    assert_eq!(plugins.body["total"], json!(0));
    let release = c
        .get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{api}/attachable-plugins"),
            ),
            &[("env_id", RELEASE)],
        )
        .await;
    assert_eq!(release.body["total"], json!(1));
}

#[tokio::test]
async fn concurrent_binding_changes_on_one_plugin_and_env_fail_with_apig_3500() {
    let mut config = EmulatorConfig::demo();
    config.latency = std::time::Duration::from_millis(400);
    let (_emu, c) = start(config).await;
    let plugin = c.create_cors("cors_race").await;
    let a = c.api_id("orders_list").await;
    let b = c.api_id("orders_get").await;
    let path = c.path(Flavour::Apig, APIG, &format!("/plugins/{plugin}/attach"));
    let (body_a, body_b) = (
        json!({"env_id": RELEASE, "api_ids": [a]}),
        json!({"env_id": RELEASE, "api_ids": [b]}),
    );
    let (r1, r2) = tokio::join!(
        c.json("POST", path.clone(), &body_a),
        c.json("POST", path.clone(), &body_b),
    );
    let mut statuses = vec![
        (r1.status, r1.code().to_string()),
        (r2.status, r2.code().to_string()),
    ];
    statuses.sort();
    assert_eq!(
        statuses,
        vec![(201, String::new()), (500, "APIG.3500".to_string())]
    );
    let test_env = c.test_env().await;
    let other_env = c
        .json("POST", path, &json!({"env_id": test_env, "api_ids": [a]}))
        .await;
    assert_eq!(other_env.status, 201, "the marker is released afterwards");
}

#[tokio::test]
async fn environments_groups_and_apis_resolve_names() {
    let (_emu, c) = demo().await;
    let envs = c.get(c.path(Flavour::Apig, APIG, "/envs"), &[]).await;
    assert_eq!(envs.body["envs"][0]["id"], json!(RELEASE));
    assert_eq!(envs.body["envs"][1]["name"], json!("TEST"));
    let groups = c
        .get(
            c.path(Flavour::Apig, APIG, "/api-groups"),
            &[("name", "shop"), ("precise_search", "name")],
        )
        .await;
    assert_eq!(groups.body["total"], json!(1));
    let group_id = groups.body["groups"][0]["id"]
        .as_str()
        .expect("group")
        .to_string();
    let apis = c
        .get(
            c.path(Flavour::Apig, APIG, "/apis"),
            &[("group_id", &group_id)],
        )
        .await;
    assert_eq!(apis.body["total"], json!(5));
    let test_env = c.test_env().await;
    let in_test = c
        .get(
            c.path(Flavour::Apig, APIG, "/apis"),
            &[("env_id", &test_env)],
        )
        .await;
    assert_eq!(in_test.body["total"], json!(5));
    assert_eq!(in_test.body["apis"][0]["run_env_name"], json!("TEST"));
    let both = c
        .get(
            c.path(Flavour::Apig, APIG, "/apis"),
            &[("name", "orders_list"), ("precise_search", "name")],
        )
        .await;
    assert_eq!(both.body["apis"][0]["run_env_name"], json!("RELEASE|TEST"));
}

#[tokio::test]
async fn every_response_has_a_request_id_and_errors_have_code_and_message() {
    let (_emu, c) = demo().await;
    let ok = c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[]).await;
    let err = c
        .get(c.path(Flavour::Apig, APIG, "/plugins/nope"), &[])
        .await;
    let admin = c
        .http
        .get(format!("{}/_emulator/stats", c.base))
        .send()
        .await
        .expect("admin");
    for headers in [&ok.headers, &err.headers, admin.headers()] {
        let id = headers
            .get("x-request-id")
            .expect("x-request-id")
            .to_str()
            .expect("ascii");
        assert_eq!(id.len(), 32);
    }
    assert_ne!(
        ok.headers.get("x-request-id"),
        err.headers.get("x-request-id")
    );
    let keys: Vec<&String> = err.body.as_object().expect("object").keys().collect();
    assert_eq!(keys, vec!["error_code", "error_msg"]);
}

#[tokio::test]
async fn reads_return_the_stored_content_without_the_sasl_password() {
    let (_emu, c) = demo().await;
    let original = json!({
        "broker_list": ["k1:9092"], "topic": "logs",
        "sasl_config": {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanisms": "PLAIN",
                        "sasl_username": "u", "sasl_password": "s3cret-value"}
    });
    let created = create(
        &c,
        &plugin_body("kafka_logs", "kafka_log", &original.to_string()),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    // SPEC §6.10: the password is not returned (the key is left out: chosen).
    let expected = json!({
        "broker_list": ["k1:9092"], "topic": "logs",
        "sasl_config": {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanisms": "PLAIN",
                        "sasl_username": "u"}
    });
    let id = created.body["plugin_id"].as_str().expect("id");
    let api = c.api_id("orders_list").await;
    c.json(
        "POST",
        c.path(Flavour::Apig, APIG, &format!("/plugins/{id}/attach")),
        &json!({"env_id": RELEASE, "api_ids": [api]}),
    )
    .await;
    let reads = [
        created.body.clone(),
        c.get(c.path(Flavour::Apig, APIG, &format!("/plugins/{id}")), &[])
            .await
            .body,
        c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[])
            .await
            .body["plugins"][0]
            .clone(),
        c.get(
            c.path(
                Flavour::Apig,
                APIG,
                &format!("/apis/{api}/attached-plugins"),
            ),
            &[],
        )
        .await
        .body["plugins"][0]
            .clone(),
    ];
    for read in reads {
        let text = read["plugin_content"]
            .as_str()
            .expect("content is a JSON string");
        let parsed: Value = serde_json::from_str(text).expect("content is JSON text");
        assert_eq!(parsed, expected);
    }
}
