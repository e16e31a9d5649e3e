//! breaker (SPEC §6.4): BreakerContent.

use serde_json::Value;

use super::check::{Checker, Need, Obj};
use super::common;

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "scope",
    "breaker_condition",
    "downgrade_default",
    "downgrade_parameters",
    "downgrade_rules",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["breaker_condition"];

const CONDITION_FIELDS: &[&str] = &[
    "breaker_type",
    "breaker_mode",
    "unhealthy_condition",
    "unhealthy_threshold",
    "min_call_threshold",
    "unhealthy_percentage",
    "time_window",
    "open_breaker_time",
];
const RULE_FIELDS: &[&str] = &[
    "rule_name",
    "match_regex",
    "breaker_condition",
    "downgrade_backend",
    "parameters",
];
const BACKEND_FIELDS: &[&str] = &[
    "type",
    "mock_info",
    "http_info",
    "http_vpc_info",
    "func_info",
    "passthrough_infos",
];
const BACKEND_TYPES: &[&str] = &["http", "http_vpc", "function", "mock", "passthrough"];
const MAX: i64 = i32::MAX as i64;

/// Checks a breaker content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    c.one_of(&root, "scope", Need::Optional, &["basic", "share"], false);
    if let Some(cond) = c.child(&root, "breaker_condition", Need::Required, CONDITION_FIELDS) {
        condition(c, &cond);
    }
    if let Some(backend) = c.child(&root, "downgrade_default", Need::Optional, BACKEND_FIELDS) {
        c.one_of(&backend, "type", Need::Required, BACKEND_TYPES, false);
    }
    common::parameters(c, &root, "downgrade_parameters", usize::MAX);
    for (ptr, item) in c
        .array(&root, "downgrade_rules", Need::Optional, 100)
        .unwrap_or_default()
    {
        let Some(rule) = c.object(&ptr, item, RULE_FIELDS, false) else {
            continue;
        };
        c.str_len(&rule, "rule_name", Need::Required, 1, 64);
        common::expression(c, &rule, "match_regex", Need::Required);
        if let Some(cond) = c.child(&rule, "breaker_condition", Need::Optional, CONDITION_FIELDS) {
            condition(c, &cond);
        }
        if let Some(backend) = c.child(&rule, "downgrade_backend", Need::Optional, BACKEND_FIELDS) {
            c.one_of(&backend, "type", Need::Required, BACKEND_TYPES, false);
        }
        c.str_array(&rule, "parameters", Need::Optional, usize::MAX, (1, 32));
    }
}

fn condition(c: &mut Checker, cond: &Obj<'_>) {
    let kind = c.one_of(
        cond,
        "breaker_type",
        Need::Required,
        &["timeout", "condition"],
        false,
    );
    let mode = c.one_of(
        cond,
        "breaker_mode",
        Need::Required,
        &["counter", "percentage"],
        false,
    );
    let need_condition = if kind == Some("condition") {
        Need::Required
    } else {
        Need::Optional
    };
    common::expression(c, cond, "unhealthy_condition", need_condition);
    let need = |wanted: &str| {
        if mode == Some(wanted) {
            Need::Required
        } else {
            Need::Optional
        }
    };
    c.int(cond, "unhealthy_threshold", need("counter"), 1, MAX);
    c.int(cond, "min_call_threshold", need("percentage"), 1, MAX);
    c.int(cond, "unhealthy_percentage", need("percentage"), 1, 100);
    c.int(cond, "time_window", Need::Optional, 1, MAX);
    c.int(cond, "open_breaker_time", Need::Optional, 1, MAX);
}
