//! set_resp_headers (SPEC §6.2): SetRespHeadersContent.

use std::collections::BTreeMap;

use serde_json::Value;

use super::canon;
use super::check::{Checker, Need};

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &["response_headers"];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &[];

const HEADER_FIELDS: &[&str] = &["name", "value_type", "value", "action"];
const VALUE_TYPES: &[&str] = &["custom_value", "system_parameter"];
const ACTIONS: &[&str] = &["append", "override", "delete", "skip", "add"];
/// Most headers per plug-in (SPEC §4.3).
const MAX_HEADERS: usize = 10;

/// Checks a set_resp_headers content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (ptr, item) in c
        .array(&root, "response_headers", Need::Optional, MAX_HEADERS)
        .unwrap_or_default()
    {
        let Some(h) = c.object(&ptr, item, HEADER_FIELDS, false) else {
            continue;
        };
        if let Some(name) = c.str_len(&h, "name", Need::Required, 1, 32) {
            check_name(c, &format!("{ptr}/name"), name);
            if let Some(first) = seen.insert(name.to_ascii_lowercase(), name.to_owned()) {
                c.issue(
                    &format!("{ptr}/name"),
                    format_args!(
                        "{name:?} repeats header {first:?} (names are case-insensitive and must be unique)"
                    ),
                );
            }
        }
        let value_type = c.one_of(&h, "value_type", Need::Optional, VALUE_TYPES, false);
        c.str_len(&h, "value", Need::Optional, 0, 255);
        let action = c.one_of(&h, "action", Need::Optional, ACTIONS, true);
        if value_type == Some("system_parameter")
            && let Some(a) = action
            && !(a.eq_ignore_ascii_case("add") || a.eq_ignore_ascii_case("append"))
        {
            c.issue(
                &format!("{ptr}/action"),
                format_args!("must be add or append with value_type system_parameter, got {a:?}"),
            );
        }
    }
}

fn check_name(c: &mut Checker, ptr: &str, name: &str) {
    let well_formed = name.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
    if !well_formed {
        c.issue(
            ptr,
            format_args!(
                "must start with a letter and hold only letters, digits and '-', got {name:?}"
            ),
        );
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("x-apig-")
        || lower == "x-request-id"
        || lower.starts_with("access-control-")
    {
        c.issue(
            ptr,
            format_args!(
                "{name:?} cannot be managed (x-apig-*, x-request-id and CORS headers are reserved)"
            ),
        );
    }
}

/// Canonical form: `value_type` defaults to `custom_value`; `action` is case-insensitive.
pub(crate) fn canonicalize(content: &mut Value) {
    canon::each_item(content, &["response_headers"], |h| {
        h.entry("value_type")
            .or_insert_with(|| Value::from("custom_value"));
        if let Some(Value::String(a)) = h.get_mut("action") {
            *a = a.to_ascii_lowercase();
        }
    });
}
