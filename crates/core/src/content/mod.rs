//! Plug-in content models (SPEC §6): schema checks per type, documented
//! defaults, the server's normalisations and redactions, and secret fields.
//!
//! Shared by the loader (validation), the differ (semantic comparison) and the
//! emulator (what the server accepts, stores and returns). Pure.
//!
//! One file per type holds its field lists, its checks and its canonical
//! defaults; `check` holds the field-by-field walker, `canon` the generic steps
//! of the canonical form, `common` the parameter and rule-expression pieces
//! that breaker, rate_limit and third_auth share.
//!
//! # What the server does to a content, and what `canonical` equates
//!
//! | type | behaviour | where | source |
//! |---|---|---|---|
//! | third_auth | `auth_request.vpc_channel_enabled` false → `2`, true → `1` | [`store_normalize`] | SPEC §6.6, seeds 000/002 |
//! | third_auth | `auth_request.vpc_channel_info` → `null` when the channel is off | [`store_normalize`] | SPEC §6.6, seeds 000/001/002 |
//! | third_auth | `identities.query` dropped, `identities.queries: null` added when absent | [`store_normalize`] | SPEC §6.6, seeds 000/001/002 |
//! | third_auth | `identities.headers[].essential: false` added when absent | [`store_normalize`] | SPEC §6.6, seeds 000/002 |
//! | other types | stored as sent | [`store_normalize`] | SPEC §6 (cors responses verbatim) |
//! | kafka_log | `sasl_config.sasl_password` removed (key absent) on reads | [`redact`] | SPEC §6.10 "not returned"; absent chosen |
//! | kafka_log | `sasl_config.ssl_ca_content` returned as is | [`redact`] | chosen (echo behaviour unknown); still compared by fingerprint, never shown |
//! | oidc_auth | `client_secret` → `"******"` on reads | [`redact`] | SPEC §6.9 "anonymized"; the mask is chosen |
//! | all | `null` ≡ absent in objects | [`canonical`] | SPEC §6.6 |
//! | all | `1` ≡ `1.0`; key order ignored | [`canonical`] | JSON semantics |
//! | all | secret paths removed (compared by fingerprint elsewhere) | [`canonical`] | SPEC §6.10 |
//! | third_auth | `vpc_channel_enabled` 1/2 ≡ true/false; `vpc_channel_info` ignored when off | [`canonical`] | SPEC §6.6 |
//! | third_auth | `auth_request.timeout` default 5000; identities `essential` default false | [`canonical`] | SPEC §6.6 |
//! | kafka_log | `max_retry_count` 0, `security_protocol` PLAINTEXT, `sasl_mechanisms` PLAIN; `meta_config.system` start_time/request_id/client_ip true, other flags false | [`canonical`] | SPEC §6.3 |
//! | rate_limit | `default_time_unit` second | [`canonical`] | SPEC §6.5 |
//! | set_resp_headers | `value_type` custom_value; `action` case-insensitive | [`canonical`] | SPEC §6.2 (seed 001 response omits value_type) |
//! | proxy_mirror | `path_concat_mode` replace, `sample_ratio` 1, `timeout` 5000, `mirror_request_body_enabled` true | [`canonical`] | SPEC §6.8 |
//! | oidc_auth | `scope` "openid email profile", `access_token_expires_in` 3600, `jwt_cache_enabled`, `jwks_enabled`, `slient_renew_access_token_enabled` true | [`canonical`] | SPEC §6.9 |
//!
//! Validation choices beyond SPEC: a limit of 0 in rate_limit `app_limit`,
//! `user_limit`, `ip_limit` means "not set" (the documented examples send 0) and
//! is not compared; set_resp_headers entries need a `name`; unknown fields are
//! issues except the console's UI keys (`id`, `disabled`, `focused`) in
//! parameters and third_auth `identities.query`, which the server tolerates.

mod breaker;
mod canon;
mod check;
mod common;
mod cors;
mod kafka_log;
mod oidc_auth;
mod proxy_cache;
mod proxy_mirror;
mod rate_limit;
mod schema;
mod set_resp_headers;
mod third_auth;

pub use schema::json_schema;

use serde_json::Value;

pub(crate) use canon::strip_nulls;

pub(crate) use check::did_you_mean;

use crate::model::PluginType;

/// One problem found in a content object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentIssue {
    /// JSON pointer to the offending value inside the content (`""` for the root).
    pub pointer: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// True for a field the model does not know. The server drops (some) unknown
    /// fields silently; the loader reports them, with a "did you mean" hint.
    pub unknown_field: bool,
}

/// The mask the server returns instead of an OIDC `client_secret` (chosen; SPEC §10.5).
pub const ANONYMISED: &str = "******";

/// Most characters of `plugin_content`, the JSON text sent (SPEC §3.2, §4.3: "≤ 65535 chars").
pub const MAX_CONTENT_CHARS: usize = 65535;

/// Most Kafka log plug-ins one gateway holds: "A maximum of five Kafka log push policies can
/// be created for a gateway" (APIG user guide, Kafka Log Push, usage guidelines:
/// <https://support.huaweicloud.com/intl/en-us/usermanual-apig/apig_03_0061.html>; ROMA
/// Connect says the same per instance, roma_03_2008; SPEC §4.3).
pub const KAFKA_LOG_PER_GATEWAY: usize = 5;

/// Checks `content` against the model of `kind`: fields, types, enums, ranges, cross-field
/// rules, and the length of the JSON text that is sent.
pub fn validate(kind: PluginType, content: &Value) -> Vec<ContentIssue> {
    let mut c = check::Checker::new(kind);
    let chars = json_text_chars(content);
    if chars > MAX_CONTENT_CHARS {
        c.issue(
            "",
            format_args!(
                "is {chars} characters long as the JSON text sent, the service accepts at most {MAX_CONTENT_CHARS}"
            ),
        );
    }
    run(kind, &mut c, content);
    c.finish()
}

/// The characters of `content`'s compact JSON text (as `Value::to_string` writes it),
/// counted as it is written, without building the text.
fn json_text_chars(content: &Value) -> usize {
    /// Counts the chars of UTF-8 output: every byte that does not continue a character.
    struct Chars(usize);
    impl std::io::Write for Chars {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Chars(0);
    // Writing a `Value` to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, content);
    counter.0
}

/// Runs the validator of `kind` with `c` (checking, or declaring the schema).
fn run(kind: PluginType, c: &mut check::Checker, content: &Value) {
    match kind {
        PluginType::Cors => cors::validate(c, content),
        PluginType::SetRespHeaders => set_resp_headers::validate(c, content),
        PluginType::KafkaLog => kafka_log::validate(c, content),
        PluginType::Breaker => breaker::validate(c, content),
        PluginType::RateLimit => rate_limit::validate(c, content),
        PluginType::ThirdAuth => third_auth::validate(c, content),
        PluginType::ProxyCache => proxy_cache::validate(c, content),
        PluginType::ProxyMirror => proxy_mirror::validate(c, content),
        PluginType::OidcAuth => oidc_auth::validate(c, content),
    }
}

/// The top-level field names of `kind`'s content, in SPEC order.
pub fn fields(kind: PluginType) -> &'static [&'static str] {
    match kind {
        PluginType::Cors => cors::FIELDS,
        PluginType::SetRespHeaders => set_resp_headers::FIELDS,
        PluginType::KafkaLog => kafka_log::FIELDS,
        PluginType::Breaker => breaker::FIELDS,
        PluginType::RateLimit => rate_limit::FIELDS,
        PluginType::ThirdAuth => third_auth::FIELDS,
        PluginType::ProxyCache => proxy_cache::FIELDS,
        PluginType::ProxyMirror => proxy_mirror::FIELDS,
        PluginType::OidcAuth => oidc_auth::FIELDS,
    }
}

/// The required top-level fields of `kind`'s content.
pub fn required_fields(kind: PluginType) -> &'static [&'static str] {
    match kind {
        PluginType::Cors => cors::REQUIRED,
        PluginType::SetRespHeaders => set_resp_headers::REQUIRED,
        PluginType::KafkaLog => kafka_log::REQUIRED,
        PluginType::Breaker => breaker::REQUIRED,
        PluginType::RateLimit => rate_limit::REQUIRED,
        PluginType::ThirdAuth => third_auth::REQUIRED,
        PluginType::ProxyCache => proxy_cache::REQUIRED,
        PluginType::ProxyMirror => proxy_mirror::REQUIRED,
        PluginType::OidcAuth => oidc_auth::REQUIRED,
    }
}

/// JSON pointers of the secret fields of `kind` (SPEC §6.10).
pub fn secret_pointers(kind: PluginType) -> &'static [&'static str] {
    match kind {
        PluginType::KafkaLog => &["/sasl_config/sasl_password", "/sasl_config/ssl_ca_content"],
        PluginType::OidcAuth => &["/client_secret"],
        _ => &[],
    }
}

/// The secret values present in `content` of a plug-in of `kind`, in the order of
/// [`secret_pointers`]. An empty string or `null` hides nothing and is not a secret value.
pub fn secret_values(kind: PluginType, content: &Value) -> Vec<(&'static str, &Value)> {
    secret_pointers(kind)
        .iter()
        .filter_map(|p| content.pointer(p).map(|v| (*p, v)))
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .collect()
}

/// Fields the user wrote that the server accepts but drops on store, so they
/// would have no effect (e.g. third_auth `identities.query`, which the docs'
/// own examples use; the model's field is `identities.queries`).
pub fn dropped_fields(kind: PluginType, content: &Value) -> Vec<ContentIssue> {
    match kind {
        PluginType::ThirdAuth => third_auth::dropped_fields(content),
        _ => Vec::new(),
    }
}

/// The content as the server stores it after a create or update (e.g. third_auth normalisations).
pub fn store_normalize(kind: PluginType, content: Value) -> Value {
    match kind {
        PluginType::ThirdAuth => third_auth::store_normalize(content),
        _ => content,
    }
}

/// The stored content as the server returns it on reads (secrets removed or anonymised).
pub fn redact(kind: PluginType, mut content: Value) -> Value {
    match kind {
        PluginType::KafkaLog => canon::remove_pointer(&mut content, "/sasl_config/sasl_password"),
        PluginType::OidcAuth => {
            if let Some(secret) = content.get_mut("client_secret") {
                *secret = Value::from(ANONYMISED);
            }
        }
        _ => {}
    }
    content
}

/// A canonical form for semantic comparison: defaults filled, equivalences applied, secrets removed.
pub fn canonical(kind: PluginType, content: &Value) -> Value {
    let mut v = store_normalize(kind, content.clone());
    canon::strip_nulls(&mut v);
    match kind {
        PluginType::SetRespHeaders => set_resp_headers::canonicalize(&mut v),
        PluginType::KafkaLog => kafka_log::canonicalize(&mut v),
        PluginType::RateLimit => rate_limit::canonicalize(&mut v),
        PluginType::ThirdAuth => third_auth::canonicalize(&mut v),
        PluginType::ProxyMirror => proxy_mirror::canonicalize(&mut v),
        PluginType::OidcAuth => oidc_auth::canonicalize(&mut v),
        PluginType::Cors | PluginType::Breaker | PluginType::ProxyCache => {}
    }
    for pointer in secret_pointers(kind) {
        canon::remove_pointer(&mut v, pointer);
    }
    canon::unify(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_json_text_is_counted_in_characters_with_escapes_as_written() {
        // {"a":"é\n","b":[1,2.5,null]}: `é` is one character of two bytes, `\n` two characters.
        let content = json!({"a": "é\n", "b": [1, 2.5, null]});
        assert_eq!(json_text_chars(&content), 28);
        assert_eq!(json_text_chars(&json!({})), 2);
    }

    #[test]
    fn a_content_one_character_over_the_limit_is_an_issue_and_at_the_limit_is_not() {
        // {"allow_origin":"…"} is 19 characters around the value.
        let at = |n: usize| json!({"allow_origin": "ü".repeat(n)});
        let long = |issues: &[ContentIssue]| {
            issues
                .iter()
                .any(|i| i.message.contains("characters long as the JSON text sent"))
        };
        assert!(!long(&validate(PluginType::Cors, &at(65535 - 19))));
        let over = validate(PluginType::Cors, &at(65536 - 19));
        assert!(long(&over), "{over:?}");
        assert!(
            over[0]
                .message
                .starts_with("cors content is 65536 characters long"),
            "{over:?}"
        );
    }
}
