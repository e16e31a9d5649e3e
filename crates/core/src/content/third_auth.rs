//! third_auth (SPEC §6.6): ThirdAuthContent, and the server's normalisations of it.

use serde_json::{Map, Value};

use super::ContentIssue;
use super::canon::{self, fill};
use super::check::{Checker, Need, Obj};
use super::common;

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "auth_request",
    "identities",
    "carry_body",
    "carry_path_enabled",
    "return_resp_body_enabled",
    "carry_resp_headers",
    "simple_auth_mode_enabled",
    "match_auth",
    "rule_enabled",
    "rule_type",
    "parameters",
    "rules",
    "custom_forbid_limit",
    "auth_downgrade_enabled",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["auth_request"];

const REQUEST_FIELDS: &[&str] = &[
    "method",
    "protocol",
    "url_domain",
    "timeout",
    "path",
    "vpc_channel_enabled",
    "vpc_channel_info",
];
/// `query` is what the documented request examples write; the server drops it (SPEC §6.6).
const IDENTITY_FIELDS: &[&str] = &["headers", "queries", "query"];
/// APIG's integer convention for `vpc_channel_enabled`.
const VPC_YES: i64 = 1;
const VPC_NO: i64 = 2;

/// Checks a third_auth content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    if let Some(req) = c.child(&root, "auth_request", Need::Required, REQUEST_FIELDS) {
        auth_request(c, &req);
    }
    if let Some(ids) = c.child(&root, "identities", Need::Optional, IDENTITY_FIELDS) {
        identities(c, &ids, "headers");
        identities(c, &ids, "queries");
    }
    if let Some(body) = c.child(
        &root,
        "carry_body",
        Need::Optional,
        &["enabled", "max_body_size"],
    ) {
        c.bool(&body, "enabled", Need::Optional);
        c.int(
            &body,
            "max_body_size",
            Need::Optional,
            0,
            i64::from(i32::MAX),
        );
    }
    c.bool(&root, "carry_path_enabled", Need::Optional);
    c.bool(&root, "return_resp_body_enabled", Need::Optional);
    c.str_array(&root, "carry_resp_headers", Need::Optional, 10, (1, 64));
    c.bool(&root, "simple_auth_mode_enabled", Need::Optional);
    if let Some(m) = c.child(&root, "match_auth", Need::Optional, &["key", "value"]) {
        c.str(&m, "key", Need::Required);
        c.str(&m, "value", Need::Required);
    }
    let rules_on = c.bool(&root, "rule_enabled", Need::Optional) == Some(true);
    let need_type = if rules_on {
        Need::Required
    } else {
        Need::Optional
    };
    c.one_of(&root, "rule_type", need_type, &["allow", "deny"], false);
    common::parameters(c, &root, "parameters", usize::MAX);
    for (ptr, item) in c
        .array(&root, "rules", Need::Optional, 100)
        .unwrap_or_default()
    {
        if let Some(rule) = c.object(&ptr, item, &["rule_name", "match_regex"], false) {
            c.str_len(&rule, "rule_name", Need::Required, 1, 64);
            common::expression(c, &rule, "match_regex", Need::Required);
        }
    }
    c.int(
        &root,
        "custom_forbid_limit",
        Need::Optional,
        0,
        i64::from(i32::MAX),
    );
    c.bool(&root, "auth_downgrade_enabled", Need::Optional);
}

fn auth_request(c: &mut Checker, req: &Obj<'_>) {
    c.one_of(
        req,
        "method",
        Need::Required,
        &["GET", "POST", "PUT", "HEAD"],
        false,
    );
    c.one_of(req, "protocol", Need::Required, &["HTTP", "HTTPS"], false);
    let domain = c.str_len(req, "url_domain", Need::Optional, 0, 255);
    c.int(req, "timeout", Need::Optional, 1, 60_000);
    if let Some(path) = c.str(req, "path", Need::Required)
        && !path.starts_with('/')
    {
        c.issue(
            "/auth_request/path",
            format_args!("must start with '/', got {path:?}"),
        );
    }
    let vpc = match c.field(req, "vpc_channel_enabled", Need::Required) {
        Some(v) => vpc_flag(v).or_else(|| {
            c.issue(
                "/auth_request/vpc_channel_enabled",
                format_args!("must be a boolean, got {}", super::check::describe(v)),
            );
            None
        }),
        None => None,
    };
    if vpc == Some(true) {
        if let Some(info) = c.child(
            req,
            "vpc_channel_info",
            Need::Required,
            &["vpc_id", "vpc_proxy_host"],
        ) {
            c.str_len(&info, "vpc_id", Need::Required, 1, 64);
            c.str(&info, "vpc_proxy_host", Need::Optional);
        }
    } else if vpc == Some(false) && domain.is_none_or(str::is_empty) {
        c.issue(
            "/auth_request/url_domain",
            "is required when vpc_channel_enabled is false",
        );
    }
}

fn identities(c: &mut Checker, ids: &Obj<'_>, key: &str) {
    for (ptr, item) in c.array(ids, key, Need::Optional, 10).unwrap_or_default() {
        if let Some(id) = c.object(&ptr, item, &["name", "essential"], false) {
            c.str_len(&id, "name", Need::Required, 1, 64);
            c.bool(&id, "essential", Need::Optional);
        }
    }
}

/// `vpc_channel_enabled` as a boolean: `true`/`false`, or the server's `1`/`2`.
fn vpc_flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        other => match super::check::as_int(other) {
            Some(VPC_YES) => Some(true),
            Some(VPC_NO) => Some(false),
            _ => None,
        },
    }
}

/// Fields of `content` the server drops on store (see [`super::dropped_fields`]).
pub(super) fn dropped_fields(content: &Value) -> Vec<ContentIssue> {
    let written = content
        .get("identities")
        .and_then(|ids| ids.get("query"))
        .is_some_and(|q| !q.is_null());
    if !written {
        return Vec::new();
    }
    vec![ContentIssue {
        pointer: "/identities/query".to_owned(),
        message: "the gateway drops identities.query (as in the docs' examples): write identities.queries to forward query-string identities".to_owned(),
        unknown_field: true,
    }]
}

/// What the server stores (SPEC §6.6, seeds 000/002): `vpc_channel_enabled` as 1/2,
/// `vpc_channel_info` null when the channel is off, `identities.query` dropped,
/// `identities.queries: null` added, `essential: false` added to header identities.
pub(crate) fn store_normalize(mut content: Value) -> Value {
    if let Some(req) = content
        .get_mut("auth_request")
        .and_then(Value::as_object_mut)
    {
        let flag = req.get("vpc_channel_enabled").and_then(vpc_flag);
        if let Some(on) = flag {
            req.insert(
                "vpc_channel_enabled".to_owned(),
                Value::from(if on { VPC_YES } else { VPC_NO }),
            );
            if !on {
                req.insert("vpc_channel_info".to_owned(), Value::Null);
            }
        }
    }
    if let Some(ids) = content.get_mut("identities").and_then(Value::as_object_mut) {
        ids.shift_remove("query");
        ids.entry("queries").or_insert(Value::Null);
        add_essential(ids, "headers");
    }
    content
}

fn add_essential(ids: &mut Map<String, Value>, key: &str) {
    if let Some(Value::Array(items)) = ids.get_mut(key) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.entry("essential").or_insert(Value::Bool(false));
        }
    }
}

/// Canonical form: `vpc_channel_enabled` 1/2 ≡ true/false, `vpc_channel_info`
/// ignored when the channel is off, timeout default 5000, `essential` default false.
pub(crate) fn canonicalize(content: &mut Value) {
    if let Some(req) = content
        .get_mut("auth_request")
        .and_then(Value::as_object_mut)
        && let Some(on) = req.get("vpc_channel_enabled").and_then(vpc_flag)
    {
        req.insert("vpc_channel_enabled".to_owned(), Value::Bool(on));
        if !on {
            req.shift_remove("vpc_channel_info");
        }
    }
    fill(content, &["auth_request"], "timeout", Value::from(5000));
    for key in ["headers", "queries"] {
        canon::each_item(content, &["identities", key], |id| {
            id.entry("essential").or_insert(Value::Bool(false));
        });
    }
}
