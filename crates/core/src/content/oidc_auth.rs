//! oidc_auth (SPEC §6.9): OIDCAuthContent.

use serde_json::Value;

use super::canon::fill;
use super::check::{Checker, Need, Obj, describe, join};

/// Top-level fields.
pub(crate) const FIELDS: &[&str] = &[
    "client_id",
    "client_secret",
    "discovery",
    "redirect_api_id",
    "scope",
    "logout_api_id",
    "access_token_expires_in",
    "jwt_cache_enabled",
    "jwks_enabled",
    "public_key",
    "redirect_after_logout_uri",
    "slient_renew_access_token_enabled",
];
/// Required top-level fields.
pub(crate) const REQUIRED: &[&str] =
    &["client_id", "client_secret", "discovery", "redirect_api_id"];

/// Checks an oidc_auth content.
pub(crate) fn validate(c: &mut Checker, content: &Value) {
    let Some(root) = c.object("", content, FIELDS, false) else {
        return;
    };
    c.str_len(&root, "client_id", Need::Required, 1, 255);
    c.str_len(&root, "client_secret", Need::Required, 1, 255);
    if let Some(url) = c.str(&root, "discovery", Need::Required)
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        c.issue(
            "/discovery",
            format_args!("must be an http(s) URL, got {url:?}"),
        );
    }
    api_reference(c, &root, "redirect_api_id", Need::Required);
    c.str(&root, "scope", Need::Optional);
    api_reference(c, &root, "logout_api_id", Need::Optional);
    c.int(
        &root,
        "access_token_expires_in",
        Need::Optional,
        1,
        i64::from(i32::MAX),
    );
    c.bool(&root, "jwt_cache_enabled", Need::Optional);
    let jwks = c.bool(&root, "jwks_enabled", Need::Optional);
    let key = c.str(&root, "public_key", Need::Optional);
    if jwks == Some(false) && key.is_none_or(str::is_empty) {
        c.issue("/public_key", "is required when jwks_enabled is false");
    }
    c.str(&root, "redirect_after_logout_uri", Need::Optional);
    c.bool(&root, "slient_renew_access_token_enabled", Need::Optional);
}

/// `redirect_api_id` / `logout_api_id`: an API bound to the plug-in (SPEC §6.9), written
/// like an API of a binding (a name or id, `{id: …}`, `{group: …, name: …}`); the plan
/// resolves it to the id it sends. An empty `logout_api_id` means none.
fn api_reference(c: &mut Checker, root: &Obj<'_>, key: &str, need: Need) {
    c.declare(
        &join(&root.ptr, key),
        serde_json::json!({"oneOf": [
            {"type": "string"},
            {"type": "object", "properties": {"id": {"type": "string"}},
             "required": ["id"], "additionalProperties": false},
            {"type": "object", "properties": {"group": {"type": "string"}, "name": {"type": "string"}},
             "required": ["group", "name"], "additionalProperties": false}
        ]}),
        need,
    );
    let Some(value) = c.field(root, key, need) else {
        return;
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let ok = match value {
        Value::String(s) => need == Need::Optional || !s.is_empty(),
        Value::Object(m) => {
            let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
            keys.sort_unstable();
            match keys.as_slice() {
                ["id"] => text(m.get("id")),
                ["group", "name"] => text(m.get("group")) && text(m.get("name")),
                _ => false,
            }
        }
        _ => false,
    };
    if !ok {
        c.issue(
            &join(&root.ptr, key),
            format_args!(
                "must be an API bound to the plug-in: its name or id, {{id: …}} or {{group: …, name: …}}, got {}",
                describe(value)
            ),
        );
    }
}

/// Canonical form: the documented defaults.
pub(crate) fn canonicalize(content: &mut Value) {
    fill(content, &[], "scope", Value::from("openid email profile"));
    fill(content, &[], "access_token_expires_in", Value::from(3600));
    fill(content, &[], "jwt_cache_enabled", Value::Bool(true));
    fill(content, &[], "jwks_enabled", Value::Bool(true));
    fill(
        content,
        &[],
        "slient_renew_access_token_enabled",
        Value::Bool(true),
    );
}
