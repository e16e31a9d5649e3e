//! rate_limit (SPEC §6.5): RateLimitContent (request throttling 2.0).

use serde_json::Value;

use super::check::{Checker, Need};
use super::common;

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "scope",
    "default_time_unit",
    "default_interval",
    "api_limit",
    "app_limit",
    "user_limit",
    "ip_limit",
    "algorithm",
    "specials",
    "parameters",
    "rules",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["api_limit"];

const TIME_UNITS: &[&str] = &["second", "minute", "hour", "day"];
const RULE_FIELDS: &[&str] = &["rule_name", "match_regex", "time_unit", "interval", "limit"];
const MAX: i64 = i32::MAX as i64;
/// Most rules per plug-in (SPEC §4.3).
const MAX_RULES: usize = 100;

/// Checks a rate_limit content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    c.one_of(&root, "scope", Need::Optional, &["basic", "share"], false);
    c.one_of(
        &root,
        "default_time_unit",
        Need::Optional,
        TIME_UNITS,
        false,
    );
    c.int(&root, "default_interval", Need::Optional, 1, MAX);
    let api = c.int(&root, "api_limit", Need::Required, -1, MAX);
    if api == Some(0) {
        c.issue(
            "/api_limit",
            "must be positive, or -1 for no throttling, got 0",
        );
    }
    // A limit of 0 (as in the documented examples) means "not set"; -1 on api_limit means unlimited.
    let api = api.filter(|a| *a > 0);
    let app = c
        .int(&root, "app_limit", Need::Optional, 0, MAX)
        .filter(|n| *n > 0);
    let user = c
        .int(&root, "user_limit", Need::Optional, 0, MAX)
        .filter(|n| *n > 0);
    let ip = c
        .int(&root, "ip_limit", Need::Optional, 0, MAX)
        .filter(|n| *n > 0);
    if let (Some(a), Some(u)) = (app, user)
        && a > u
    {
        c.issue(
            "/app_limit",
            format_args!("must be at most user_limit ({u}), got {a}"),
        );
    }
    if let Some(api) = api {
        for (key, limit) in [("user_limit", user), ("ip_limit", ip), ("app_limit", app)] {
            if let Some(n) = limit.filter(|n| *n > api) {
                c.issue(
                    &format!("/{key}"),
                    format_args!("must be at most api_limit ({api}), got {n}"),
                );
            }
        }
    }
    c.one_of(
        &root,
        "algorithm",
        Need::Optional,
        &["counter", "haht", "local"],
        false,
    );
    specials(c, &root, api);
    common::parameters(c, &root, "parameters", usize::MAX);
    for (ptr, item) in c
        .array(&root, "rules", Need::Optional, MAX_RULES)
        .unwrap_or_default()
    {
        let Some(rule) = c.object(&ptr, item, RULE_FIELDS, false) else {
            continue;
        };
        c.str_len(&rule, "rule_name", Need::Required, 1, 64);
        common::expression(c, &rule, "match_regex", Need::Required);
        c.one_of(&rule, "time_unit", Need::Optional, TIME_UNITS, false);
        c.int(&rule, "interval", Need::Optional, 1, MAX);
        c.int(&rule, "limit", Need::Optional, -1, MAX);
    }
}

fn specials(c: &mut Checker, root: &super::check::Obj<'_>, api: Option<i64>) {
    for (ptr, item) in c
        .array(root, "specials", Need::Optional, usize::MAX)
        .unwrap_or_default()
    {
        let Some(special) = c.object(&ptr, item, &["type", "policies"], false) else {
            continue;
        };
        c.one_of(&special, "type", Need::Required, &["app", "user"], false);
        for (pptr, policy) in c
            .array(&special, "policies", Need::Required, usize::MAX)
            .unwrap_or_default()
        {
            let Some(p) = c.object(&pptr, policy, &["key", "limit"], false) else {
                continue;
            };
            c.str_len(&p, "key", Need::Required, 1, 64);
            if let Some(limit) = c.int(&p, "limit", Need::Required, 0, MAX)
                && let Some(api) = api.filter(|a| limit > *a)
            {
                c.issue(
                    &format!("{pptr}/limit"),
                    format_args!("must be at most api_limit ({api}), got {limit}"),
                );
            }
        }
    }
}

/// Canonical form: `default_time_unit` defaults to `second`.
pub(crate) fn canonicalize(content: &mut Value) {
    super::canon::fill(content, &[], "default_time_unit", Value::from("second"));
}
