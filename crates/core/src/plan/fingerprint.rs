//! Every fingerprint apigsync computes, one function per purpose:
//!
//! - [`live_plugin`] and [`live_bindings`]: what a plan read, so `apply --plan` can refuse a
//!   plan made against an older state (see [`super::stale`]). Plain SHA-256 of visible data.
//! - [`applied_content`] and [`applied_bindings`]: what apigsync last applied to a plug-in,
//!   recorded in its marker so the differ can tell a file change from a console change
//!   (drift). Plain SHA-256 of data anyone reading the gateway sees anyway.
//! - [`secret`]: one secret value, as the ownership marker records it (see [`super::marker`]).
//!   Whoever can read the gateway can read the marker, so this one must not let a reader test
//!   guesses of the secret offline: with an operator key ([`MARKER_KEY_VAR`]) it is an
//!   HMAC-SHA256 under that key; without one it is Argon2id (19 MiB, 2 passes) salted per
//!   plug-in, so each guess costs a reader what it costs apigsync, for every plug-in anew.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{KeyInit, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::content;
use crate::model::{LivePlugin, PluginType};

/// The environment variable that holds the key of the marker's secret fingerprints.
pub const MARKER_KEY_VAR: &str = "APIGSYNC_MARKER_KEY";

/// Shortest marker key accepted, in bytes (`openssl rand -hex 32` gives 64).
pub const MIN_MARKER_KEY_LEN: usize = 16;

/// Hex digits of one secret fingerprint in the marker (32 bits: a changed secret goes unseen
/// with a chance of one in four billion; the bits say nothing without the key or the KDF).
pub const SECRET_FP_LEN: usize = 8;

/// Hex digits of the marker's record of what was applied (content, bindings).
pub const RECORD_FP_LEN: usize = 8;

/// How the marker's secret fingerprints are computed.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum MarkerKey {
    /// No key configured: Argon2id, salted per owner and plug-in name (slow on purpose).
    #[default]
    Unkeyed,
    /// HMAC-SHA256 under the operator's key (fast; the recommended setting).
    Keyed(Vec<u8>),
}

impl fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkerKey::Unkeyed => f.write_str("Unkeyed"),
            MarkerKey::Keyed(_) => f.write_str("Keyed(…)"),
        }
    }
}

impl MarkerKey {
    /// The key named by [`MARKER_KEY_VAR`] in `env`; unkeyed when unset or empty.
    pub fn from_env(env: &BTreeMap<String, String>) -> Self {
        match env.get(MARKER_KEY_VAR) {
            Some(key) if !key.is_empty() => MarkerKey::Keyed(key.as_bytes().to_vec()),
            _ => MarkerKey::Unkeyed,
        }
    }

    /// The one-letter tag the marker records, so a fingerprint is only compared with one
    /// computed the same way: `k` keyed, `a` Argon2id.
    pub fn scheme(&self) -> char {
        match self {
            MarkerKey::Unkeyed => 'a',
            MarkerKey::Keyed(_) => 'k',
        }
    }

    /// True when a key is set but shorter than [`MIN_MARKER_KEY_LEN`].
    pub fn is_weak(&self) -> bool {
        matches!(self, MarkerKey::Keyed(k) if k.len() < MIN_MARKER_KEY_LEN)
    }
}

/// The fingerprint of one secret value of plug-in `plugin` of `owner`, at JSON `pointer`:
/// [`SECRET_FP_LEN`] hex digits. The owner, name and pointer are bound in, so equal secrets of
/// two plug-ins (or fields) fingerprint differently.
pub fn secret(key: &MarkerKey, owner: &str, plugin: &str, pointer: &str, value: &Value) -> String {
    let label = framed(&[owner, plugin, pointer]);
    let value = value.to_string();
    let bytes = match key {
        MarkerKey::Keyed(key) => keyed(key, &label, value.as_bytes()),
        MarkerKey::Unkeyed => stretched(&label, value.as_bytes()),
    };
    hex::encode(&bytes[..SECRET_FP_LEN / 2])
}

/// `parts`, each preceded by its length, so no two lists frame to the same bytes.
fn framed(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

fn keyed(key: &[u8], label: &[u8], value: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(label);
    mac.update(value);
    mac.finalize().into_bytes().to_vec()
}

/// Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane).
fn stretched(label: &[u8], value: &[u8]) -> Vec<u8> {
    // The salt is per owner, plug-in and field; 16 bytes of its SHA-256.
    let salt = Sha256::digest(label);
    let mut out = [0u8; SECRET_FP_LEN / 2];
    let argon = Params::new(19 * 1024, 2, 1, Some(out.len()))
        .map(|params| Argon2::new(Algorithm::Argon2id, Version::V0x13, params));
    match argon.map(|a| a.hash_password_into(value, &salt[..16], &mut out)) {
        Ok(Ok(())) => out.to_vec(),
        // Fixed valid parameters and salt length: unreachable, and fails closed (a
        // fingerprint that matches nothing, so the secret is written again).
        _ => vec![0xff; SECRET_FP_LEN / 2],
    }
}

/// The record of a plug-in's user-written fields as applied: its content as
/// [`content::canonical`] compares it (secrets left out), its remark without the marker and
/// its app (empty ≡ absent). Equal for a desired plug-in and its live copy when the differ
/// sees no change.
pub fn applied_content(
    kind: PluginType,
    body: &Value,
    user_remark: Option<&str>,
    app: Option<&str>,
) -> String {
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
    let record = json!({
        "content": content::canonical(kind, body),
        "remark": non_empty(user_remark),
        "app": non_empty(app),
    });
    of_json(&record)[..RECORD_FP_LEN].to_owned()
}

/// The record of a plug-in's bindings as applied: the set of `(environment id, API id)`.
pub fn applied_bindings<'a>(bindings: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: BTreeSet<(&str, &str)> = bindings.into_iter().collect();
    let mut text = Vec::new();
    write_json(&pairs, &mut text);
    of_text(&text)[..RECORD_FP_LEN].to_owned()
}

/// The staleness fingerprint of a live plug-in: id, name, type, scope, app, remark and
/// content (`update_time` left out: it changes without any change that matters). The
/// canonical JSON of that object, written member by member in key order.
pub fn live_plugin(plugin: &LivePlugin) -> String {
    let mut text = Vec::new();
    text.extend_from_slice(br#"{"content":"#);
    write_canonical(&plugin.content, &mut text);
    let members = [
        ("id", Some(&plugin.id)),
        ("name", Some(&plugin.name)),
        ("remark", plugin.remark.as_ref()),
        ("roma_app_id", plugin.roma_app_id.as_ref()),
        ("scope", Some(&plugin.scope)),
        ("type", Some(&plugin.plugin_type)),
    ];
    for (key, value) in members {
        text.push(b',');
        write_json(key, &mut text);
        text.push(b':');
        write_json(&value, &mut text);
    }
    text.push(b'}');
    of_text(&text)
}

/// The staleness fingerprint of the set of APIs `plugin` is bound to in `env_id`, when its
/// bindings were fetched.
pub fn live_bindings(plugin: &LivePlugin, env_id: &str) -> Option<String> {
    let bindings = plugin.bindings.as_ref()?;
    let apis: BTreeSet<&str> = bindings
        .iter()
        .filter(|b| b.env_id == env_id)
        .map(|b| b.api_id.as_str())
        .collect();
    let mut text = Vec::new();
    write_json(&apis, &mut text);
    Some(of_text(&text))
}

/// The first 8 bytes (16 hex digits) of the SHA-256 of the canonical JSON of `value`.
fn of_json(value: &Value) -> String {
    let mut text = Vec::new();
    write_canonical(value, &mut text);
    of_text(&text)
}

/// The first 8 bytes (16 hex digits) of the SHA-256 of `text`.
fn of_text(text: &[u8]) -> String {
    let digest = Sha256::digest(text);
    hex::encode(&digest[..8])
}

/// Writes `value` as JSON with object keys sorted at every level, so equal values give equal
/// text whatever order their keys were read in.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(key, out);
                out.push(b':');
                write_canonical(member, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_json(scalar, out),
    }
}

/// Appends the compact JSON of `value`: canonical as is for anything without objects (a
/// string, a scalar, a set of strings or of pairs of strings).
fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing strings, scalars and their sets to a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical_json(value: &Value) -> String {
        let mut text = Vec::new();
        write_canonical(value, &mut text);
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": null}, "é\"": "\n"});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1,"é\"":"\n"}"#
        );
    }

    /// The fingerprints written member by member equal the canonical JSON of the object they
    /// stand for: plans and markers written by earlier versions keep matching.
    #[test]
    fn direct_fingerprints_equal_those_of_the_canonical_json() {
        let mut plugin = LivePlugin {
            id: "id\"1".into(),
            name: "cors_ü".into(),
            plugin_type: "cors".into(),
            scope: "global".into(),
            roma_app_id: None,
            remark: Some("r [apigsync@team]".into()),
            content: json!({"max_age": 600, "allow_origin": "*", "z": {"b": [1], "a": null}}),
            update_time: None,
            bindings: Some(vec![
                crate::model::LiveBinding {
                    env_id: "e2".into(),
                    api_id: "a9".into(),
                },
                crate::model::LiveBinding {
                    env_id: "e1".into(),
                    api_id: "a2".into(),
                },
                crate::model::LiveBinding {
                    env_id: "e1".into(),
                    api_id: "a1".into(),
                },
            ]),
        };
        let object = |p: &LivePlugin| {
            of_json(&json!({
                "id": p.id, "name": p.name, "type": p.plugin_type, "scope": p.scope,
                "roma_app_id": p.roma_app_id, "remark": p.remark, "content": p.content,
            }))
        };
        assert_eq!(live_plugin(&plugin), object(&plugin));
        plugin.roma_app_id = Some("app".into());
        plugin.remark = None;
        assert_eq!(live_plugin(&plugin), object(&plugin));
        assert_eq!(
            live_bindings(&plugin, "e1"),
            Some(of_json(&json!(["a1", "a2"])))
        );
        assert_eq!(live_bindings(&plugin, "e3"), Some(of_json(&json!([]))));
        let pairs = [("e2", "a9"), ("e1", "a2"), ("e1", "a1")];
        assert_eq!(
            applied_bindings(pairs),
            of_json(&json!([["e1", "a1"], ["e1", "a2"], ["e2", "a9"]]))[..RECORD_FP_LEN]
        );
    }

    #[test]
    fn json_fingerprint_ignores_key_order_but_not_values() {
        let a: Value = serde_json::from_str(r#"{"x": 1, "y": "s"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"y": "s", "x": 1}"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"y": "s", "x": 2}"#).unwrap();
        assert_eq!(of_json(&a), of_json(&b));
        assert_ne!(of_json(&a), of_json(&c));
        assert_eq!(of_json(&a).len(), 16);
    }

    fn key(k: &str) -> MarkerKey {
        MarkerKey::Keyed(k.as_bytes().to_vec())
    }

    #[test]
    fn a_keyed_secret_fingerprint_depends_on_the_key_and_every_label() {
        let v = json!("s3cret");
        let p = "/sasl_config/sasl_password";
        let k1 = key("0123456789abcdef0123456789abcdef");
        let fp = secret(&k1, "team-a", "kafka", p, &v);
        assert_eq!(fp.len(), SECRET_FP_LEN);
        assert_eq!(fp, secret(&k1, "team-a", "kafka", p, &v));
        let k2 = key("fedcba9876543210fedcba9876543210");
        assert_ne!(fp, secret(&k2, "team-a", "kafka", p, &v));
        assert_ne!(fp, secret(&k1, "team-b", "kafka", p, &v));
        assert_ne!(fp, secret(&k1, "team-a", "kafka2", p, &v));
        assert_ne!(fp, secret(&k1, "team-a", "kafka", "/client_secret", &v));
        assert_ne!(fp, secret(&k1, "team-a", "kafka", p, &json!("s3cret2")));
    }

    #[test]
    fn an_unkeyed_secret_fingerprint_is_not_a_plain_hash_of_the_secret() {
        let v = json!("s3cret");
        let fp = secret(&MarkerKey::Unkeyed, "default", "kafka", "/p", &v);
        assert_eq!(fp.len(), SECRET_FP_LEN);
        assert_eq!(
            fp,
            secret(&MarkerKey::Unkeyed, "default", "kafka", "/p", &v)
        );
        assert_ne!(
            fp,
            secret(&MarkerKey::Unkeyed, "default", "kafka2", "/p", &v)
        );
        let plain = hex::encode(Sha256::digest(v.to_string().as_bytes()));
        assert!(!plain.starts_with(&fp));
        let plain_raw = hex::encode(Sha256::digest(b"s3cret"));
        assert!(!plain_raw.starts_with(&fp));
    }

    #[test]
    fn applied_records_ignore_order_and_empty_strings() {
        let a = applied_bindings([("e1", "a1"), ("e2", "a2")]);
        assert_eq!(a, applied_bindings([("e2", "a2"), ("e1", "a1")]));
        assert_ne!(a, applied_bindings([("e1", "a1")]));
        assert_eq!(a.len(), RECORD_FP_LEN);
        let body = json!({"allow_origin": "*"});
        let c = applied_content(PluginType::Cors, &body, Some(""), None);
        assert_eq!(c, applied_content(PluginType::Cors, &body, None, Some("")));
        assert_ne!(c, applied_content(PluginType::Cors, &body, Some("r"), None));
    }

    #[test]
    fn framing_keeps_label_boundaries() {
        assert_ne!(framed(&["ab", "c"]), framed(&["a", "bc"]));
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let k = key("0123456789abcdef-very-secret");
        assert!(!format!("{k:?}").contains("secret"));
        assert!(key("short").is_weak());
        assert!(!k.is_weak());
        assert!(!MarkerKey::Unkeyed.is_weak());
    }
}
