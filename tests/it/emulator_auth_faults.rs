//! Authentication (SPEC §7), injected faults, rate limiting and the admin endpoints.

use crate::support::emulator::{APIG, Auth, Client, demo, sdk_date, start};
use apigsync::emulator::{Credential, EmulatorConfig};
use apigsync::model::Flavour;
use serde_json::json;

fn list_call(c: &Client) -> crate::support::emulator::Call<'static> {
    let mut call = c.call("GET", c.path(Flavour::Apig, APIG, "/plugins"));
    call.query = vec![
        ("limit".into(), "5".into()),
        ("plugin_name".into(), "a b/é".into()),
    ];
    call
}

#[tokio::test]
async fn a_correct_signature_and_a_known_token_are_accepted() {
    let (_emu, mut c) = demo().await;
    assert_eq!(c.send(list_call(&c)).await.status, 200);
    let body_call = {
        let mut call = c.call("POST", c.path(Flavour::Apig, APIG, "/plugins"));
        call.body = Some(
            br#"{"plugin_name": "\u63d2\u4ef6_x", "plugin_type": "cors", "plugin_scope": "global", "plugin_content": "{\"allow_origin\":\"*\"}"}"#
                .to_vec(),
        );
        call
    };
    let created = c.send(body_call).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["plugin_name"], json!("插件_x"));
    c.auth = Auth::Token(apigsync::emulator::DEMO_TOKEN.into());
    assert_eq!(c.send(list_call(&c)).await.status, 200);
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401() {
    let (_emu, mut c) = demo().await;
    let signed = c.clone();
    c.auth = Auth::None;
    let none = c.send(list_call(&c)).await;
    assert_eq!((none.status, none.code()), (401, "APIG.1000"));
    assert!(
        none.body["request_id"].is_string(),
        "gateway errors carry request_id"
    );

    c.auth = Auth::Token("wrong".into());
    let bad_token = c.send(list_call(&c)).await;
    assert_eq!((bad_token.status, bad_token.code()), (401, "APIG.1002"));

    c.auth = Auth::Sign {
        ak: "UNKNOWNAK".into(),
        sk: "x".into(),
    };
    let unknown = c.send(list_call(&c)).await;
    assert_eq!((unknown.status, unknown.code()), (401, "APIGW.0301"));
    assert!(unknown.msg().contains("ak not exist"));

    c.auth = Auth::Sign {
        ak: apigsync::emulator::DEMO_ACCESS_KEY.into(),
        sk: "wrong-secret".into(),
    };
    let wrong_sk = c.send(list_call(&c)).await;
    assert_eq!((wrong_sk.status, wrong_sk.code()), (401, "APIGW.0301"));
    assert!(
        wrong_sk
            .msg()
            .contains("verify aksk signature fail, canonicalRequest:GET|/v2/"),
        "{}",
        wrong_sk.msg()
    );
    assert!(!wrong_sk.msg().contains("wrong-secret"));
    assert!(!wrong_sk.msg().contains(apigsync::emulator::DEMO_SECRET_KEY));

    assert_eq!(signed.send(list_call(&signed)).await.status, 200);
}

#[tokio::test]
async fn any_change_after_signing_breaks_the_signature() {
    let (_emu, c) = demo().await;
    let mut altered_query = list_call(&c);
    altered_query.tamper = Some(Box::new(|_, q, _| *q = q.replace("limit=5", "limit=6")));
    let mut altered_body = c.call("POST", c.path(Flavour::Apig, APIG, "/plugins"));
    altered_body.body = Some(b"{\"plugin_name\": \"abc\"}".to_vec());
    altered_body.tamper = Some(Box::new(|_, _, b| {
        *b = b"{\"plugin_name\": \"abd\"}".to_vec()
    }));
    let mut altered_header = list_call(&c);
    altered_header.extra_headers = vec![("X-Project-Id".into(), "p1".into())];
    altered_header.tamper = Some(Box::new(|h, _, _| {
        for (k, v) in h.iter_mut() {
            if k == "X-Project-Id" {
                *v = "p2".into();
            }
        }
    }));
    for call in [altered_query, altered_body, altered_header] {
        let resp = c.send(call).await;
        assert_eq!(
            (resp.status, resp.code()),
            (401, "APIGW.0301"),
            "{:?}",
            resp.body
        );
    }
}

#[tokio::test]
async fn x_sdk_date_must_be_within_15_minutes() {
    let (_emu, c) = demo().await;
    let now = jiff::Timestamp::now();
    let at = |mins: i64| {
        sdk_date(
            now.checked_add(jiff::SignedDuration::from_mins(mins))
                .expect("time"),
        )
    };
    for (mins, status) in [(-14, 200), (14, 200), (-16, 401), (16, 401)] {
        let mut call = list_call(&c);
        call.date = Some(at(mins));
        let resp = c.send(call).await;
        assert_eq!(resp.status, status, "{mins} minutes: {:?}", resp.body);
        if status == 401 {
            assert!(resp.msg().contains("signature expired"));
        }
    }
    let mut garbage = list_call(&c);
    garbage.date = Some("yesterday".into());
    assert_eq!(c.send(garbage).await.code(), "APIGW.0301");
}

#[tokio::test]
async fn configured_credentials_replace_the_demo_pair() {
    let mut config = EmulatorConfig::demo();
    config.credentials = vec![Credential::new("MYAK", "my-secret")];
    config.tokens = vec![];
    let (_emu, mut c) = start(config).await;
    assert_eq!(c.send(list_call(&c)).await.status, 200);
    c.auth = Auth::Sign {
        ak: apigsync::emulator::DEMO_ACCESS_KEY.into(),
        sk: apigsync::emulator::DEMO_SECRET_KEY.into(),
    };
    assert_eq!(c.send(list_call(&c)).await.status, 401);
    c.auth = Auth::Token(apigsync::emulator::DEMO_TOKEN.into());
    assert_eq!(c.send(list_call(&c)).await.status, 401);
}

#[tokio::test]
async fn faults_are_reproducible_and_cover_every_kind() {
    let outcomes = |seed: u64| async move {
        let mut config = EmulatorConfig::demo();
        config.fault_rate = 1.0;
        config.fault_seed = seed;
        let (_emu, c) = start(config).await;
        let mut seen = Vec::new();
        for _ in 0..24 {
            match c.try_send(list_call(&c)).await {
                Ok(resp) => {
                    if resp.status == 429 {
                        assert_eq!(
                            resp.headers.get("retry-after").map(|v| v.to_str().ok()),
                            Some(Some("1"))
                        );
                        assert_eq!(resp.code(), "APIGW.0308");
                    }
                    if resp.status == 500 {
                        assert_eq!(resp.code(), "APIG.9999");
                    }
                    seen.push(resp.status.to_string());
                }
                Err(err) => {
                    assert!(!err.is_timeout());
                    seen.push("closed".to_string());
                }
            }
        }
        seen
    };
    let first = outcomes(42).await;
    assert_eq!(first, outcomes(42).await, "same seed, same faults");
    for kind in ["500", "429", "closed"] {
        assert!(first.iter().any(|s| s == kind), "{kind} in {first:?}");
    }
    assert!(
        !first.iter().any(|s| s == "200"),
        "rate 1.0 faults every request"
    );
}

#[tokio::test]
async fn a_lost_write_response_still_commits_the_change() {
    let (_emu, c) = demo().await;
    let admin = format!("{}/_emulator/faults", c.base);
    let set = c
        .http
        .put(&admin)
        .json(&json!({"fault_rate": 1.0}))
        .send()
        .await
        .expect("admin");
    assert_eq!(set.status(), 200);
    let mut closed = Vec::new();
    for i in 0..30 {
        let mut call = c.call("POST", c.path(Flavour::Apig, APIG, "/plugins"));
        call.body = Some(
            serde_json::to_vec(
                &json!({"plugin_name": format!("lost_{i:02}"), "plugin_type": "cors",
                "plugin_scope": "global", "plugin_content": r#"{"allow_origin":"*"}"#}),
            )
            .expect("json"),
        );
        if c.try_send(call).await.is_err() {
            closed.push(format!("lost_{i:02}"));
        }
    }
    c.http
        .put(&admin)
        .json(&json!({}))
        .send()
        .await
        .expect("admin");
    let list = c
        .get(c.path(Flavour::Apig, APIG, "/plugins"), &[("limit", "500")])
        .await;
    let stored: Vec<String> = list.body["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| p["plugin_name"].as_str().expect("name").to_string())
        .collect();
    assert!(
        closed.iter().any(|n| stored.contains(n)),
        "some closed writes were committed: {closed:?} {stored:?}"
    );
    assert!(
        closed.iter().any(|n| !stored.contains(n)),
        "some closed writes were not: {closed:?} {stored:?}"
    );
}

#[tokio::test]
async fn the_rate_limit_is_per_credential_with_retry_after() {
    let mut config = EmulatorConfig::demo();
    config.rate_limit = Some(2.0);
    let (_emu, mut c) = start(config).await;
    let statuses = [
        c.send(list_call(&c)).await.status,
        c.send(list_call(&c)).await.status,
    ];
    assert_eq!(statuses, [200, 200]);
    let third = c.send(list_call(&c)).await;
    assert_eq!((third.status, third.code()), (429, "APIGW.0308"));
    assert_eq!(
        third
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    c.auth = Auth::Token(apigsync::emulator::DEMO_TOKEN.into());
    assert_eq!(
        c.send(list_call(&c)).await.status,
        200,
        "another credential has its own bucket"
    );
}

#[tokio::test]
async fn stats_count_operations_and_writes_and_reset_restores_the_seed() {
    let (emu, c) = demo().await;
    c.create_cors("cors_stats").await;
    c.get(c.path(Flavour::Apig, APIG, "/plugins/nope"), &[])
        .await;
    let stats: apigsync::emulator::Stats = c
        .http
        .get(format!("{}/_emulator/stats", c.base))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats.count("create_plugin", "201"), 1);
    assert_eq!(stats.count("show_plugin", "404"), 1);
    assert_eq!(stats.writes, 1);
    assert_eq!(stats, emu.stats());
    let reset = c
        .http
        .post(format!("{}/_emulator/reset", c.base))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), 204);
    assert_eq!(emu.stats().total, 0);
    let list = c.get(c.path(Flavour::Apig, APIG, "/plugins"), &[]).await;
    assert_eq!(list.body["total"], json!(0));
    let dump: serde_json::Value = c
        .http
        .get(format!("{}/_emulator/state", c.base))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(dump["instances"][0]["id"], json!(APIG));
}

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn scalar(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn at(sdk_date: &str) -> jiff::Timestamp {
    jiff::fmt::strtime::parse(apigsync::signing::DATE_FORMAT, sdk_date)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
        .expect("date")
        .timestamp()
}

/// Runs the emulator's authentication on one recorded request, at its own signing time.
fn authenticate(
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &[Credential],
) -> Result<String, apigsync::emulator::ServiceError> {
    let method = axum::http::Method::from_bytes(method.as_bytes()).expect("method");
    let uri: axum::http::Uri = uri.parse().expect("uri");
    let mut map = axum::http::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            axum::http::HeaderValue::from_bytes(v.as_bytes()).expect("value"),
        );
    }
    let date = map
        .get("x-sdk-date")
        .expect("date")
        .to_str()
        .expect("ascii")
        .to_string();
    let incoming = apigsync::emulator::auth::Incoming {
        method: &method,
        uri: &uri,
        headers: &map,
        body,
    };
    apigsync::emulator::auth::authenticate(incoming, creds, (&[], &[]), at(&date), "rid")
}

#[test]
fn every_sdk_signing_vector_and_captured_request_verifies() {
    let vectors = fixture("signing-vectors.json");
    let creds = [Credential::new(
        scalar(&vectors["access_key"]),
        scalar(&vectors["secret_key"]),
    )];
    for case in vectors["cases"].as_array().expect("cases") {
        let url = scalar(&case["url"]);
        let uri = &url[url.find("/v2/").expect("path")..];
        let headers: Vec<(String, String)> = case["headers_out"]
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), scalar(v)))
            .collect();
        let body = case["body"].as_str().unwrap_or("").as_bytes();
        let method = scalar(&case["method"]);
        assert!(
            authenticate(&method, uri, &headers, body, &creds).is_ok(),
            "{}",
            case["name"]
        );
        let mut tampered = body.to_vec();
        tampered.push(b' ');
        let tampered_uri = format!("{uri}{}", if uri.contains('?') { "&x=1" } else { "?x=1" });
        assert!(
            authenticate(&method, &tampered_uri, &headers, body, &creds).is_err(),
            "{}",
            case["name"]
        );
        let unsigned_payload = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-sdk-content-sha256"));
        if !body.is_empty() && !unsigned_payload {
            assert!(
                authenticate(&method, uri, &headers, &tampered, &creds).is_err(),
                "{}",
                case["name"]
            );
        }
    }
    let capture = fixture("sdk-wire-capture.json");
    let meta = &capture["_meta"];
    let creds = [Credential::new(
        scalar(&meta["access_key"]),
        scalar(&meta["secret_key"]),
    )];
    for req in capture["requests"].as_array().expect("requests") {
        let line = scalar(&req["request_line"]);
        let mut parts = line.split(' ');
        let (method, uri) = (parts.next().expect("method"), parts.next().expect("uri"));
        let headers: Vec<(String, String)> = req["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| (scalar(&h[0]), scalar(&h[1])))
            .collect();
        let body = req["body"].as_str().unwrap_or("").as_bytes();
        assert!(
            authenticate(method, uri, &headers, body, &creds).is_ok(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn fault_settings_change_at_run_time_and_are_validated() {
    let (_emu, c) = demo().await;
    let url = format!("{}/_emulator/faults", c.base);
    let bad = c
        .http
        .put(&url)
        .json(&json!({"fault_rate": 1.5}))
        .send()
        .await
        .expect("put");
    assert_eq!(bad.status(), 400);
    let set = c
        .http
        .put(&url)
        .json(&json!({"latency_ms": 5, "fault_rate": 0.25, "rate_limit": 50.0}))
        .send()
        .await
        .expect("put");
    assert_eq!(set.status(), 200);
    let now: serde_json::Value = c
        .http
        .get(&url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        now,
        json!({"latency_ms": 5, "fault_rate": 0.25, "rate_limit": 50.0,
               "throttle_answer": "APIGW.0308", "omit_retry_after": false})
    );
}

#[tokio::test]
async fn a_throttle_rate_answers_that_share_of_requests_429_and_nothing_else() {
    let (_emu, c) = demo().await;
    let url = format!("{}/_emulator/faults", c.base);
    let put = |body: serde_json::Value| c.http.put(&url).json(&body).send();
    assert_eq!(
        put(json!({"throttle_rate": 1.5}))
            .await
            .expect("put")
            .status(),
        400
    );
    assert_eq!(
        put(json!({"throttle_rate": 1.0}))
            .await
            .expect("put")
            .status(),
        200
    );
    for _ in 0..5 {
        let resp = c.try_send(list_call(&c)).await.expect("an answer");
        assert_eq!((resp.status, resp.code()), (429, "APIGW.0308"));
    }
    assert_eq!(
        put(json!({"throttle_rate": 0.5}))
            .await
            .expect("put")
            .status(),
        200
    );
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let resp = c
            .try_send(list_call(&c))
            .await
            .expect("never a closed connection");
        seen.insert(resp.status);
    }
    assert_eq!(seen, [200, 429].into(), "only throttled or served");
}
