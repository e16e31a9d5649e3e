//! kafka_log (SPEC §6.3): KafkaLogContent.

use serde_json::Value;

use super::canon::{self, fill};
use super::check::{Checker, Need};

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "broker_list",
    "topic",
    "key",
    "max_retry_count",
    "retry_backoff",
    "sasl_config",
    "meta_config",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["broker_list", "topic"];

const SASL_FIELDS: &[&str] = &[
    "security_protocol",
    "sasl_mechanisms",
    "sasl_username",
    "sasl_password",
    "ssl_ca_content",
];
const PROTOCOLS: &[&str] = &["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"];
const META_FIELDS: &[&str] = &["system", "call_data"];
/// The `meta_config.system` flags that default to true; every other flag defaults to false.
const SYSTEM_TRUE: &[&str] = &["start_time", "request_id", "client_ip"];
/// Every `meta_config.system` flag (SPEC §6.3).
const SYSTEM_FIELDS: &[&str] = &[
    "start_time",
    "request_id",
    "client_ip",
    "api_id",
    "user_name",
    "app_id",
    "access_model1",
    "request_time",
    "http_status",
    "server_protocol",
    "scheme",
    "request_method",
    "host",
    "api_uri_mode",
    "uri",
    "request_size",
    "response_size",
    "upstream_uri",
    "upstream_addr",
    "upstream_status",
    "upstream_connect_time",
    "upstream_header_time",
    "upstream_response_time",
    "all_upstream_response_time",
    "region_id",
    "auth_type",
    "http_x_forwarded_for",
    "http_user_agent",
    "error_type",
    "access_model2",
    "inner_time",
    "proxy_protocol_vni",
    "proxy_protocol_vpce_id",
    "proxy_protocol_addr",
    "body_bytes_sent",
    "api_name",
    "app_name",
    "provider_app_id",
    "provider_app_name",
    "custom_data_log01",
    "custom_data_log02",
    "custom_data_log03",
    "custom_data_log04",
    "custom_data_log05",
    "custom_data_log06",
    "custom_data_log07",
    "custom_data_log08",
    "custom_data_log09",
    "custom_data_log10",
    "response_source",
];
const CALL_DATA_BOOLS: &[&str] = &[
    "log_request_header",
    "log_request_query_string",
    "log_request_body",
    "log_response_header",
    "log_response_body",
];
const CALL_DATA_STRINGS: &[&str] = &[
    "request_header_filter",
    "request_query_string_filter",
    "response_header_filter",
];

/// Checks a kafka_log content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    let brokers = c.str_array(&root, "broker_list", Need::Required, usize::MAX, (1, 255));
    if root
        .map
        .get("broker_list")
        .is_some_and(|b| b.as_array().is_some_and(Vec::is_empty))
    {
        c.issue("/broker_list", "must list at least one broker");
    }
    for (i, broker) in brokers.iter().enumerate() {
        let port_ok = broker.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            c.issue(
                &format!("/broker_list/{i}"),
                format_args!("must be host:port, got {broker:?}"),
            );
        }
    }
    c.str_len(&root, "topic", Need::Required, 1, 255);
    c.str(&root, "key", Need::Optional);
    c.int(&root, "max_retry_count", Need::Optional, 0, 5);
    c.int(&root, "retry_backoff", Need::Optional, 1, 10);
    if let Some(sasl) = c.child(&root, "sasl_config", Need::Optional, SASL_FIELDS) {
        let protocol = c.one_of(&sasl, "security_protocol", Need::Optional, PROTOCOLS, false);
        c.str(&sasl, "sasl_mechanisms", Need::Optional);
        let user = c.str(&sasl, "sasl_username", Need::Optional);
        let password = c.str(&sasl, "sasl_password", Need::Optional);
        c.str(&sasl, "ssl_ca_content", Need::Optional);
        if let Some(p) = protocol.filter(|p| p.starts_with("SASL_")) {
            if user.is_none_or(str::is_empty) {
                c.issue(
                    "/sasl_config/sasl_username",
                    format_args!("is required with security_protocol {p}"),
                );
            }
            if password.is_none_or(str::is_empty) {
                c.issue(
                    "/sasl_config/sasl_password",
                    format_args!("is required with security_protocol {p}"),
                );
            }
        }
    }
    if let Some(meta) = c.child(&root, "meta_config", Need::Optional, META_FIELDS) {
        if let Some(system) = c.child(&meta, "system", Need::Optional, SYSTEM_FIELDS) {
            for key in SYSTEM_FIELDS {
                c.bool(&system, key, Need::Optional);
            }
        }
        validate_call_data(c, &meta);
    }
}

fn validate_call_data(c: &mut Checker, meta: &super::check::Obj<'_>) {
    let known: Vec<&str> = CALL_DATA_BOOLS
        .iter()
        .chain(CALL_DATA_STRINGS)
        .copied()
        .chain(["custom_authorizer"])
        .collect();
    let Some(call) = c.child(meta, "call_data", Need::Optional, &known) else {
        return;
    };
    for key in CALL_DATA_BOOLS {
        c.bool(&call, key, Need::Optional);
    }
    for key in CALL_DATA_STRINGS {
        c.str(&call, key, Need::Optional);
    }
    if let Some(auth) = c.child(
        &call,
        "custom_authorizer",
        Need::Optional,
        &["frontend", "backend"],
    ) {
        c.str_array(&auth, "frontend", Need::Optional, usize::MAX, (1, 255));
        c.str_array(&auth, "backend", Need::Optional, usize::MAX, (1, 255));
    }
}

/// Canonical form: the documented defaults (max_retry_count 0, PLAINTEXT, PLAIN,
/// system flags start_time/request_id/client_ip true and the others false).
pub(crate) fn canonicalize(content: &mut Value) {
    fill(content, &[], "max_retry_count", Value::from(0));
    fill(
        content,
        &["sasl_config"],
        "security_protocol",
        Value::from("PLAINTEXT"),
    );
    fill(
        content,
        &["sasl_config"],
        "sasl_mechanisms",
        Value::from("PLAIN"),
    );
    if let Some(system) = canon::object_at(content, &["meta_config", "system"]) {
        for key in SYSTEM_FIELDS {
            system
                .entry((*key).to_owned())
                .or_insert_with(|| Value::Bool(SYSTEM_TRUE.contains(key)));
        }
    }
}
