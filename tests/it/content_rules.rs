//! One test per content rule, normalisation and redaction of SPEC §6.

use apigsync::content::{ANONYMISED, canonical, redact, store_normalize, validate};
use apigsync::model::PluginType::{self, *};
use serde_json::{Value, json};

fn examples() -> Value {
    serde_json::from_str(include_str!("../fixtures/plugin-content-examples.json")).unwrap()
}

fn example(kind: PluginType) -> Value {
    examples()[kind.as_str()].clone()
}

/// The single issue `content` has, as (pointer, message).
fn one_issue(kind: PluginType, content: &Value) -> (String, String) {
    let issues = validate(kind, content);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    (issues[0].pointer.clone(), issues[0].message.clone())
}

#[test]
fn content_must_be_an_object() {
    let (ptr, msg) = one_issue(Cors, &json!("allow_origin: *"));
    assert_eq!(ptr, "");
    assert!(msg.contains("must be an object"), "{msg}");
}

#[test]
fn unknown_field_is_flagged_with_a_did_you_mean_hint() {
    let issues = validate(Cors, &json!({"allow_origin": "*", "alow_methods": "GET"}));
    assert_eq!(issues.len(), 1);
    assert!(issues[0].unknown_field);
    assert_eq!(issues[0].pointer, "/alow_methods");
    assert_eq!(
        issues[0].message,
        r#"unknown field "alow_methods" in cors content, did you mean "allow_methods"?"#
    );
}

#[test]
fn nested_unknown_field_names_its_parent() {
    let mut k = example(KafkaLog);
    k["sasl_config"]["sasl_pasword"] = json!("x");
    let issues = validate(KafkaLog, &k);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0].pointer, "/sasl_config/sasl_pasword");
    assert!(
        issues[0].message.contains("at sasl_config"),
        "{}",
        issues[0].message
    );
    assert!(
        issues[0]
            .message
            .contains(r#"did you mean "sasl_password"?"#)
    );
}

#[test]
fn required_field_missing_is_reported() {
    let (ptr, msg) = one_issue(Cors, &json!({"max_age": 1}));
    assert_eq!(ptr, "/allow_origin");
    assert_eq!(msg, "allow_origin in cors content is required");
}

#[test]
fn wrong_json_type_names_the_value_and_what_was_expected() {
    let (ptr, msg) = one_issue(Cors, &json!({"allow_origin": "*", "max_age": "600"}));
    assert_eq!(ptr, "/max_age");
    assert_eq!(
        msg,
        r#"max_age in cors content must be an integer, got string "600""#
    );
}

#[test]
fn cors_max_age_accepts_the_documented_172800_but_not_negative() {
    assert!(validate(Cors, &json!({"allow_origin": "*", "max_age": 172_800})).is_empty());
    let (ptr, _) = one_issue(Cors, &json!({"allow_origin": "*", "max_age": -1}));
    assert_eq!(ptr, "/max_age");
}

#[test]
fn enumeration_outside_the_set_is_reported_with_a_hint() {
    let mut k = example(KafkaLog);
    k["sasl_config"]["security_protocol"] = json!("SASL_SSLL");
    let (ptr, msg) = one_issue(KafkaLog, &k);
    assert_eq!(ptr, "/sasl_config/security_protocol");
    assert!(
        msg.contains("must be one of PLAINTEXT, SASL_PLAINTEXT, SASL_SSL"),
        "{msg}"
    );
    assert!(msg.contains(r#"did you mean "SASL_SSL"?"#), "{msg}");
}

#[test]
fn kafka_sasl_protocols_need_username_and_password() {
    let mut k = example(KafkaLog);
    k["sasl_config"]["security_protocol"] = json!("SASL_PLAINTEXT");
    let issues = validate(KafkaLog, &k);
    let ptrs: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    assert_eq!(
        ptrs,
        ["/sasl_config/sasl_username", "/sasl_config/sasl_password"]
    );
    k["sasl_config"]["sasl_username"] = json!("u");
    k["sasl_config"]["sasl_password"] = json!("p");
    assert!(validate(KafkaLog, &k).is_empty());
}

#[test]
fn kafka_retry_ranges_are_enforced() {
    let mut k = example(KafkaLog);
    k["max_retry_count"] = json!(6);
    k["retry_backoff"] = json!(0);
    let msgs: Vec<String> = validate(KafkaLog, &k)
        .into_iter()
        .map(|i| i.message)
        .collect();
    assert_eq!(
        msgs,
        [
            "max_retry_count in kafka_log content must be from 0 to 5, got 6",
            "retry_backoff in kafka_log content must be from 1 to 10, got 0"
        ]
    );
}

#[test]
fn kafka_broker_must_be_host_and_port() {
    let mut k = example(KafkaLog);
    k["broker_list"] = json!(["kafka.local"]);
    let (ptr, msg) = one_issue(KafkaLog, &k);
    assert_eq!(ptr, "/broker_list/0");
    assert!(msg.contains("host:port"), "{msg}");
}

#[test]
fn secret_values_are_never_echoed_in_messages() {
    let mut k = example(KafkaLog);
    k["sasl_config"]["sasl_password"] = json!(123_456_789);
    let (_, msg) = one_issue(KafkaLog, &k);
    assert!(!msg.contains("123456789"), "{msg}");
    assert!(msg.contains("hidden"), "{msg}");
}

#[test]
fn rate_limit_app_user_api_ordering() {
    let base = json!({"api_limit": 100, "user_limit": 50, "app_limit": 60});
    let (ptr, msg) = one_issue(RateLimit, &base);
    assert_eq!(ptr, "/app_limit");
    assert_eq!(
        msg,
        "app_limit in rate_limit content must be at most user_limit (50), got 60"
    );

    let (ptr, _) = one_issue(RateLimit, &json!({"api_limit": 100, "user_limit": 101}));
    assert_eq!(ptr, "/user_limit");
    let (ptr, _) = one_issue(RateLimit, &json!({"api_limit": 100, "ip_limit": 101}));
    assert_eq!(ptr, "/ip_limit");
    // -1 = no throttling at the API level: nothing to compare with.
    assert!(validate(RateLimit, &json!({"api_limit": -1, "ip_limit": 101})).is_empty());
    let (ptr, _) = one_issue(RateLimit, &json!({"api_limit": 0}));
    assert_eq!(ptr, "/api_limit");
}

#[test]
fn rate_limit_special_limit_must_not_exceed_api_limit() {
    let c = json!({"api_limit": 10, "specials": [{"type": "app", "policies": [{"key": "a", "limit": 11}]}]});
    let (ptr, _) = one_issue(RateLimit, &c);
    assert_eq!(ptr, "/specials/0/policies/0/limit");
}

#[test]
fn rate_limit_allows_at_most_100_rules() {
    let rule = json!({"rule_name": "r", "match_regex": "[\"m\",\"==\",\"GET\"]", "time_unit": "second", "interval": 1, "limit": 1});
    let c = json!({"api_limit": 10, "rules": vec![rule; 101]});
    let (ptr, msg) = one_issue(RateLimit, &c);
    assert_eq!(ptr, "/rules");
    assert!(msg.contains("at most 100 items, got 101"), "{msg}");
}

#[test]
fn parameters_tolerate_the_console_ui_keys_but_not_others() {
    let p = json!({"name": "reqPath", "type": "path", "value": "reqPath", "id": "x", "disabled": true, "focused": true});
    assert!(validate(RateLimit, &json!({"api_limit": 1, "parameters": [p]})).is_empty());
    let p = json!({"name": "reqPath", "type": "path", "value": "reqPath", "colour": "red"});
    let issues = validate(RateLimit, &json!({"api_limit": 1, "parameters": [p]}));
    assert_eq!(issues.len(), 1);
    assert!(issues[0].unknown_field);
}

#[test]
fn rule_expressions_must_be_json_arrays() {
    let rule = json!({"rule_name": "r", "match_regex": "reqPath == /a"});
    let (ptr, msg) = one_issue(RateLimit, &json!({"api_limit": 1, "rules": [rule]}));
    assert_eq!(ptr, "/rules/0/match_regex");
    assert!(msg.contains("rule expression"), "{msg}");
}

#[test]
fn proxy_cache_needs_one_cache_key() {
    let c = json!({"cache_key": {"system_params": [], "parameters": [], "headers": []}});
    let (ptr, msg) = one_issue(ProxyCache, &c);
    assert_eq!(ptr, "/cache_key");
    assert!(msg.contains("at least one cache key"), "{msg}");
}

#[test]
fn set_resp_headers_limits_count_and_unique_names() {
    let h = |name: &str| json!({"name": name, "value": "v", "action": "append"});
    let eleven: Vec<Value> = (0..11).map(|i| h(&format!("x-h{i}"))).collect();
    let (ptr, _) = one_issue(SetRespHeaders, &json!({"response_headers": eleven}));
    assert_eq!(ptr, "/response_headers");
    let (ptr, msg) = one_issue(
        SetRespHeaders,
        &json!({"response_headers": [h("X-Demo"), h("x-demo")]}),
    );
    assert_eq!(ptr, "/response_headers/1/name");
    assert!(msg.contains("case-insensitive"), "{msg}");
}

#[test]
fn set_resp_headers_reserved_names_and_system_parameter_actions() {
    let c = json!({"response_headers": [{"name": "X-Apig-Latency", "value": "1"}]});
    let (_, msg) = one_issue(SetRespHeaders, &c);
    assert!(msg.contains("cannot be managed"), "{msg}");
    let c = json!({"response_headers": [{"name": "s", "value": "$context.cacheStatus", "value_type": "system_parameter", "action": "override"}]});
    let (ptr, _) = one_issue(SetRespHeaders, &c);
    assert_eq!(ptr, "/response_headers/0/action");
    let c = json!({"response_headers": [{"name": "s", "value": "v", "action": "APPEND"}]});
    assert!(
        validate(SetRespHeaders, &c).is_empty(),
        "actions are case-insensitive"
    );
}

#[test]
fn breaker_modes_need_their_thresholds() {
    let counter =
        json!({"breaker_condition": {"breaker_type": "timeout", "breaker_mode": "counter"}});
    let (ptr, _) = one_issue(Breaker, &counter);
    assert_eq!(ptr, "/breaker_condition/unhealthy_threshold");
    let pct =
        json!({"breaker_condition": {"breaker_type": "timeout", "breaker_mode": "percentage"}});
    let ptrs: Vec<String> = validate(Breaker, &pct)
        .into_iter()
        .map(|i| i.pointer)
        .collect();
    assert_eq!(
        ptrs,
        [
            "/breaker_condition/min_call_threshold",
            "/breaker_condition/unhealthy_percentage"
        ]
    );
}

#[test]
fn third_auth_rule_type_is_required_when_rules_are_on() {
    let mut t = example(ThirdAuth);
    t.as_object_mut().unwrap().remove("rule_type");
    let (ptr, _) = one_issue(ThirdAuth, &t);
    assert_eq!(ptr, "/rule_type");
}

#[test]
fn third_auth_without_vpc_channel_needs_a_url_domain() {
    let mut t = example(ThirdAuth);
    t["auth_request"]["url_domain"] = json!("");
    let (ptr, _) = one_issue(ThirdAuth, &t);
    assert_eq!(ptr, "/auth_request/url_domain");
}

#[test]
fn oidc_required_fields() {
    let ptrs: Vec<String> = validate(OidcAuth, &json!({}))
        .into_iter()
        .map(|i| i.pointer)
        .collect();
    assert_eq!(
        ptrs,
        [
            "/client_id",
            "/client_secret",
            "/discovery",
            "/redirect_api_id"
        ]
    );
}

#[test]
fn proxy_mirror_sample_ratio_range() {
    let mut m = example(ProxyMirror);
    m["sample_ratio"] = json!(1.5);
    let (ptr, _) = one_issue(ProxyMirror, &m);
    assert_eq!(ptr, "/sample_ratio");
}

// Normalisations (store_normalize) --------------------------------------------

#[test]
fn third_auth_store_maps_vpc_flag_to_integers_and_clears_disabled_channel() {
    let stored = store_normalize(ThirdAuth, example(ThirdAuth));
    assert_eq!(stored["auth_request"]["vpc_channel_enabled"], json!(2));
    assert_eq!(stored["auth_request"]["vpc_channel_info"], Value::Null);
    let mut on = example(ThirdAuth);
    on["auth_request"]["vpc_channel_enabled"] = json!(true);
    let stored = store_normalize(ThirdAuth, on);
    assert_eq!(stored["auth_request"]["vpc_channel_enabled"], json!(1));
    assert_eq!(
        stored["auth_request"]["vpc_channel_info"]["vpc_id"],
        "3c113f40a54a40369ceb1eb1409a32ee"
    );
}

#[test]
fn third_auth_store_drops_query_adds_queries_and_essential() {
    let stored = store_normalize(ThirdAuth, example(ThirdAuth));
    let ids = &stored["identities"];
    assert!(ids.get("query").is_none());
    assert_eq!(ids["queries"], Value::Null);
    assert_eq!(
        ids["headers"][0],
        json!({"name": "token", "essential": false})
    );
}

#[test]
fn store_normalize_is_idempotent_and_other_types_round_trip_as_sent() {
    let once = store_normalize(ThirdAuth, example(ThirdAuth));
    assert_eq!(store_normalize(ThirdAuth, once.clone()), once);
    for kind in PluginType::ALL.into_iter().filter(|k| *k != ThirdAuth) {
        assert_eq!(
            store_normalize(kind, example(kind)),
            example(kind),
            "{kind}"
        );
    }
}

// Redaction ---------------------------------------------------------------------

#[test]
fn kafka_read_omits_the_sasl_password_and_keeps_the_ca() {
    let mut k = example(KafkaLog);
    k["sasl_config"]["sasl_password"] = json!("s3cret");
    k["sasl_config"]["ssl_ca_content"] = json!("-----BEGIN CERTIFICATE-----");
    let read = redact(KafkaLog, k);
    assert!(read["sasl_config"].get("sasl_password").is_none());
    assert_eq!(
        read["sasl_config"]["ssl_ca_content"],
        "-----BEGIN CERTIFICATE-----"
    );
}

#[test]
fn oidc_read_anonymises_the_client_secret() {
    let read = redact(OidcAuth, example(OidcAuth));
    assert_eq!(read["client_secret"], ANONYMISED);
}

// Canonical form ----------------------------------------------------------------

#[test]
fn canonical_treats_null_as_absent() {
    let a = json!({"breaker_condition": {"breaker_type": "timeout", "breaker_mode": "counter", "unhealthy_threshold": 3}, "downgrade_default": null});
    let b = json!({"breaker_condition": {"breaker_type": "timeout", "breaker_mode": "counter", "unhealthy_threshold": 3}});
    assert_eq!(canonical(Breaker, &a), canonical(Breaker, &b));
}

#[test]
fn canonical_unifies_number_forms() {
    let mut a = example(ProxyMirror);
    a["sample_ratio"] = json!(1.0);
    assert_eq!(
        canonical(ProxyMirror, &a),
        canonical(ProxyMirror, &example(ProxyMirror))
    );
    a["sample_ratio"] = json!(0.5);
    assert_ne!(
        canonical(ProxyMirror, &a),
        canonical(ProxyMirror, &example(ProxyMirror))
    );
}

#[test]
fn canonical_equates_vpc_flag_forms() {
    let mut two = example(ThirdAuth);
    two["auth_request"]["vpc_channel_enabled"] = json!(2);
    assert_eq!(
        canonical(ThirdAuth, &two),
        canonical(ThirdAuth, &example(ThirdAuth))
    );
    let mut one = example(ThirdAuth);
    one["auth_request"]["vpc_channel_enabled"] = json!(1);
    let mut yes = example(ThirdAuth);
    yes["auth_request"]["vpc_channel_enabled"] = json!(true);
    assert_eq!(canonical(ThirdAuth, &one), canonical(ThirdAuth, &yes));
    assert_ne!(canonical(ThirdAuth, &one), canonical(ThirdAuth, &two));
}

#[test]
fn canonical_fills_documented_defaults() {
    let cases: [(PluginType, Value, Value); 6] = [
        (
            KafkaLog,
            json!({"broker_list": ["k:9092"], "topic": "t"}),
            json!({"broker_list": ["k:9092"], "topic": "t", "max_retry_count": 0,
                   "sasl_config": {"security_protocol": "PLAINTEXT", "sasl_mechanisms": "PLAIN"}}),
        ),
        (
            ThirdAuth,
            json!({"auth_request": {"method": "GET", "protocol": "HTTP", "url_domain": "a", "path": "/", "vpc_channel_enabled": false},
                   "identities": {"headers": [{"name": "h"}]}}),
            json!({"auth_request": {"method": "GET", "protocol": "HTTP", "url_domain": "a", "path": "/", "vpc_channel_enabled": false, "timeout": 5000},
                   "identities": {"headers": [{"name": "h", "essential": false}]}}),
        ),
        (
            OidcAuth,
            json!({"client_id": "c", "discovery": "https://i", "redirect_api_id": "r"}),
            json!({"client_id": "c", "discovery": "https://i", "redirect_api_id": "r", "scope": "openid email profile",
                   "access_token_expires_in": 3600, "jwt_cache_enabled": true, "jwks_enabled": true,
                   "slient_renew_access_token_enabled": true}),
        ),
        (
            ProxyMirror,
            json!({"protocol": "http", "host": "h"}),
            json!({"protocol": "http", "host": "h", "path_concat_mode": "replace", "sample_ratio": 1.0,
                   "timeout": 5000, "mirror_request_body_enabled": true}),
        ),
        (
            SetRespHeaders,
            json!({"response_headers": [{"name": "a", "value": "b", "action": "APPEND"}]}),
            json!({"response_headers": [{"name": "a", "value": "b", "action": "append", "value_type": "custom_value"}]}),
        ),
        (
            RateLimit,
            json!({"api_limit": 5}),
            json!({"api_limit": 5, "default_time_unit": "second"}),
        ),
    ];
    for (kind, short, explicit) in cases {
        assert_eq!(
            canonical(kind, &short),
            canonical(kind, &explicit),
            "{kind}"
        );
    }
}

#[test]
fn canonical_kafka_system_flags_default_to_the_documented_values() {
    let mut explicit = example(KafkaLog);
    let system = explicit["meta_config"]["system"].as_object_mut().unwrap();
    system.retain(|_, v| *v == json!(true));
    for k in ["start_time", "request_id", "client_ip"] {
        system.remove(k);
    }
    assert_eq!(
        canonical(KafkaLog, &explicit),
        canonical(KafkaLog, &example(KafkaLog))
    );
}

#[test]
fn canonical_removes_secret_paths() {
    let mut k = example(KafkaLog);
    k["sasl_config"]["sasl_password"] = json!("s3cret");
    let c = canonical(KafkaLog, &k);
    assert!(c["sasl_config"].get("sasl_password").is_none());
    assert!(c["sasl_config"].get("ssl_ca_content").is_none());
    assert!(
        canonical(OidcAuth, &example(OidcAuth))
            .get("client_secret")
            .is_none()
    );
}
