//! proxy_cache (SPEC §6.7): ProxyCacheContent.

use serde_json::Value;

use super::check::{Checker, Need};

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "cache_key",
    "cache_http_status_and_ttl",
    "client_cache_control",
    "cacheable_headers",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["cache_key"];

const KEY_LISTS: &[&str] = &["system_params", "parameters", "headers"];
const SYSTEM_PARAMS: &[&str] = &[
    "$context.sourceIp",
    "$context.stage",
    "$context.apiId",
    "$context.appId",
    "$context.requestId",
    "$context.serverAddr",
    "$context.serverName",
    "$context.handleTime",
    "$context.providerAppId",
    "$context.apiName",
    "$context.appName",
];

/// Checks a proxy_cache content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    if let Some(key) = c.child(&root, "cache_key", Need::Required, KEY_LISTS) {
        let mut total = 0;
        for list in KEY_LISTS {
            let items = c.str_array(&key, list, Need::Optional, usize::MAX, (1, 255));
            total += items.len();
            if *list == "system_params" {
                for (i, p) in items.iter().enumerate() {
                    if !SYSTEM_PARAMS.contains(p) {
                        c.issue(
                            &format!("/cache_key/system_params/{i}"),
                            format_args!("must be one of {}, got {p:?}", SYSTEM_PARAMS.join(", ")),
                        );
                    }
                }
            }
        }
        if total == 0 {
            c.issue(
                "/cache_key",
                "must name at least one cache key in system_params, parameters or headers",
            );
        }
    }
    for (ptr, item) in c
        .array(
            &root,
            "cache_http_status_and_ttl",
            Need::Optional,
            usize::MAX,
        )
        .unwrap_or_default()
    {
        let Some(entry) = c.object(&ptr, item, &["http_status", "ttl"], false) else {
            continue;
        };
        for (sptr, status) in c
            .array(&entry, "http_status", Need::Required, usize::MAX)
            .unwrap_or_default()
        {
            if !super::check::as_int(status).is_some_and(|s| (100..=599).contains(&s)) {
                c.issue(
                    &sptr,
                    format_args!(
                        "must be an HTTP status from 100 to 599, got {}",
                        super::check::describe(status)
                    ),
                );
            }
        }
        c.int(&entry, "ttl", Need::Required, 1, i64::from(i32::MAX));
    }
    if let Some(cc) = c.child(
        &root,
        "client_cache_control",
        Need::Optional,
        &["mode", "datas"],
    ) {
        c.one_of(&cc, "mode", Need::Required, &["off", "all", "apps"], false);
        c.str_array(&cc, "datas", Need::Optional, usize::MAX, (1, 1024));
    }
    c.str_array(&root, "cacheable_headers", Need::Optional, 20, (1, 64));
}
