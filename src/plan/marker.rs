//! The ownership marker ` [apigsync:xxxxxx]` that apigsync appends to the remark of every
//! plug-in it manages.
//!
//! The six hex digits are the first 3 bytes of a SHA-256 over the plug-in name and its secret
//! values (in pointer order), so a changed secret changes the marker even though the server
//! never returns the secret itself. A plug-in without secrets still gets a marker: its
//! presence is what makes the plug-in managed.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::DesiredPlugin;

use super::secrets;

const OPEN: &str = "[apigsync:";
const HEX_LEN: usize = 6;
/// Length of the marker itself, without the separating space.
pub const MARKER_LEN: usize = OPEN.len() + HEX_LEN + 1;

/// The secret fingerprint of a plug-in: 6 lowercase hex digits over `name` and the secret
/// values keyed by JSON pointer. Values are hashed as their JSON text, in pointer order.
pub fn fingerprint<'a>(
    name: &str,
    secrets: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> String {
    let sorted: BTreeMap<&str, &Value> = secrets.into_iter().collect();
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0]);
    for (pointer, value) in sorted {
        hasher.update(pointer.as_bytes());
        hasher.update([0]);
        hasher.update(value.to_string().as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..HEX_LEN / 2])
}

/// The fingerprint a desired plug-in's marker must carry.
pub fn plugin_fingerprint(plugin: &DesiredPlugin) -> String {
    let values = secrets::secret_values(plugin);
    fingerprint(&plugin.name, values.iter().map(|(p, v)| (p.as_str(), *v)))
}

/// The remark to send: the user's remark followed by the marker (just the marker when the
/// user's remark is empty).
pub fn with_marker(user_remark: &str, fp: &str) -> String {
    if user_remark.is_empty() {
        format!("{OPEN}{fp}]")
    } else {
        format!("{user_remark} {OPEN}{fp}]")
    }
}

/// Splits a live remark into the user's remark and the marker's fingerprint, if it ends with
/// a well-formed marker. A remark without a marker is returned whole.
pub fn split_marker(remark: &str) -> (String, Option<String>) {
    let Some(start) = remark.len().checked_sub(MARKER_LEN) else {
        return (remark.to_owned(), None);
    };
    let Some(tail) = remark.get(start..) else {
        return (remark.to_owned(), None);
    };
    let hex = tail
        .strip_prefix(OPEN)
        .and_then(|rest| rest.strip_suffix(']'));
    let Some(hex) = hex.filter(|h| {
        h.len() == HEX_LEN
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }) else {
        return (remark.to_owned(), None);
    };
    let user = &remark[..start];
    let user = user.strip_suffix(' ').unwrap_or(user);
    (user.to_owned(), Some(hex.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn marker_round_trips_with_a_user_remark() {
        let remark = with_marker("CORS for the public APIs", "3f9a1c");
        assert_eq!(remark, "CORS for the public APIs [apigsync:3f9a1c]");
        assert_eq!(
            split_marker(&remark),
            (
                "CORS for the public APIs".to_owned(),
                Some("3f9a1c".to_owned())
            )
        );
    }

    #[test]
    fn marker_alone_has_no_leading_space() {
        let remark = with_marker("", "00ff00");
        assert_eq!(remark, "[apigsync:00ff00]");
        assert_eq!(
            split_marker(&remark),
            (String::new(), Some("00ff00".to_owned()))
        );
    }

    #[test]
    fn remark_without_marker_is_unmanaged() {
        for remark in [
            "",
            "hello",
            "x [apigsync:XYZXYZ]",
            "[apigsync:12345]",
            "a [apigsync:123456",
        ] {
            assert_eq!(
                split_marker(remark),
                (remark.to_owned(), None),
                "{remark:?}"
            );
        }
    }

    #[test]
    fn non_ascii_remark_does_not_panic() {
        let remark = "跨域插件配置说明文字";
        assert_eq!(split_marker(remark), (remark.to_owned(), None));
        let marked = with_marker(remark, "abcdef");
        assert_eq!(split_marker(&marked).1.as_deref(), Some("abcdef"));
    }

    #[test]
    fn changed_secret_changes_the_fingerprint() {
        let a = json!("s3cret");
        let b = json!("s3cret2");
        let p = "/sasl_config/sasl_password";
        assert_ne!(
            fingerprint("kafka", [(p, &a)]),
            fingerprint("kafka", [(p, &b)])
        );
        assert_ne!(
            fingerprint("kafka", [(p, &a)]),
            fingerprint("kafka2", [(p, &a)])
        );
        assert_eq!(fingerprint("kafka", [(p, &a)]).len(), 6);
    }

    #[test]
    fn plugin_without_secrets_still_has_a_fingerprint() {
        let fp = fingerprint("cors_public", []);
        assert_eq!(fp.len(), 6);
        assert_eq!(fp, fingerprint("cors_public", []));
    }
}
