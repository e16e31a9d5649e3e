//! proxy_mirror (SPEC §6.8): ProxyMirrorContent.

use serde_json::Value;

use super::canon::fill;
use super::check::{Checker, Need};

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "protocol",
    "host",
    "path",
    "path_concat_mode",
    "sample_ratio",
    "timeout",
    "mirror_request_body_enabled",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] = &["protocol", "host"];

/// Checks a proxy_mirror content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    c.one_of(
        &root,
        "protocol",
        Need::Required,
        &["http", "https", "grpc", "grpcs"],
        true,
    );
    c.str_len(&root, "host", Need::Required, 1, 255);
    c.str_len(&root, "path", Need::Optional, 0, 512);
    c.one_of(
        &root,
        "path_concat_mode",
        Need::Optional,
        &["replace", "prefix"],
        false,
    );
    c.number(&root, "sample_ratio", Need::Optional, 0.00001, 1.0);
    c.int(&root, "timeout", Need::Optional, 1, i64::from(i32::MAX));
    c.bool(&root, "mirror_request_body_enabled", Need::Optional);
}

/// Canonical form: path_concat_mode replace, sample_ratio 1, timeout 5000, mirror_request_body_enabled true.
pub(crate) fn canonicalize(content: &mut Value) {
    fill(content, &[], "path_concat_mode", Value::from("replace"));
    fill(content, &[], "sample_ratio", Value::from(1));
    fill(content, &[], "timeout", Value::from(5000));
    fill(
        content,
        &[],
        "mirror_request_body_enabled",
        Value::Bool(true),
    );
}
