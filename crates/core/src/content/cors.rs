//! cors (SPEC §6.1): CorsPluginContent.

use serde_json::Value;

use super::check::{Checker, Need};

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "allow_origin",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "max_age",
    "allow_credentials",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["allow_origin"];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];

/// Checks a cors content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    if let Some(origin) = c.str(&root, "allow_origin", Need::Required)
        && origin.trim().is_empty()
    {
        c.issue(
            "/allow_origin",
            "must not be empty (use \"*\" for any origin)",
        );
    }
    if let Some(methods) = c.str(&root, "allow_methods", Need::Optional) {
        for m in methods.split(',').map(str::trim) {
            if !METHODS.contains(&m) {
                c.issue(
                    "/allow_methods",
                    format_args!(
                        "must be a comma-separated list of {}, got {m:?} in {methods:?}",
                        METHODS.join(", ")
                    ),
                );
            }
        }
    }
    c.str(&root, "allow_headers", Need::Optional);
    c.str(&root, "expose_headers", Need::Optional);
    // SPEC §6.1: the zh model says 0–86400, but the apigw examples use 172800: only the lower bound holds.
    c.int(&root, "max_age", Need::Optional, 0, i64::from(i32::MAX));
    c.bool(&root, "allow_credentials", Need::Optional);
}
