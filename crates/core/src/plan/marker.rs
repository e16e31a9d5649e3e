//! The ownership marker that apigsync appends to the remark of every plug-in it manages:
//! ` [apigsync@OWNER c:0a1b2c3d b:4e5f6a7b]`, or
//! ` [apigsync@OWNER k:1a2b3c4d,- c:0a1b2c3d b:4e5f6a7b]` for a type with secret fields.
//!
//! - `OWNER` is the folder's `options.owner` ([`crate::model::DEFAULT_OWNER`] when unset): a
//!   folder manages only plug-ins whose marker names its owner.
//! - After the owner, one fingerprint per secret field of the plug-in's type, in the order of
//!   [`content::secret_pointers`] (`-` for a field left empty), tagged with how they were
//!   computed (`k`: HMAC-SHA256 under the operator's key, `a`: Argon2id; see
//!   [`super::fingerprint::secret`]). The server never returns a secret, so these tell which
//!   secret changed, one by one, without letting a reader of the gateway test guesses.
//! - `c:` and `b:` record what apigsync last applied: the plug-in's content (with its remark
//!   and app) and its bindings ([`super::fingerprint::applied_content`],
//!   [`super::fingerprint::applied_bindings`]). Against them the differ tells whether a
//!   change comes from the files, from the gateway (drift), or both. A marker without them
//!   (older, or adopted as is) records nothing, and every change counts as from the files.
//! - `s:` (optional, after `b:`) records what the service STORED when that differs from what
//!   was sent: a newer server that adds fields, or rewrites values, returns another content
//!   than the one written. The executor compares the write's answer with what it sent and,
//!   when they differ, writes the remark once more with `s:` (the fingerprint of the stored
//!   form, [`super::fingerprint::applied_content`] of the answer). The differ then takes
//!   the stored form as the gateway's reference: while the files still match `c:` and the
//!   gateway still matches `s:`, nothing changed, whatever the server added; a console
//!   edit changes the gateway's fingerprint and is drift. (`s:` is written only when the
//!   remark has room for it within the service's 255 characters.)
//! - A marker of the first format, `[apigsync:xxxxxx]` (one unsalted hash over all secrets),
//!   is read as owned by the default owner with [`Secrets::Legacy`]: every secret of such a
//!   plug-in counts as changed once, and that update writes the new format.
//!
//! A plug-in without secrets still gets a marker: its presence is what makes it managed.

use serde_json::Value;

use crate::content;
use crate::model::{DEFAULT_OWNER, DesiredPlugin, MAX_OWNER_LEN, PluginType, owner_problem};

use super::fingerprint::{self, MarkerKey, RECORD_FP_LEN, SECRET_FP_LEN};

const OPEN: &str = "[apigsync@";
const LEGACY_OPEN: &str = "[apigsync:";
const LEGACY_HEX_LEN: usize = 6;
/// Most secret fields of any plug-in type (kafka_log's two).
const MAX_SECRET_SLOTS: usize = 2;
/// The longest marker, with its separating space: owner, scheme and every secret slot, and
/// the record of what was applied.
pub const MAX_LEN: usize =
    1 + OPEN.len() + MAX_OWNER_LEN + 3 + MAX_SECRET_SLOTS * (SECRET_FP_LEN + 1) - 1
        + 2 * (3 + RECORD_FP_LEN)
        + 1;

// The longest user remark and the longest marker fit the service's 255 characters
// (SPEC §3.3, create body: `remark` max 255).
const _: () = assert!(crate::manifest::MAX_USER_REMARK + MAX_LEN <= 255);

/// A parsed ownership marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The owner whose folder manages the plug-in.
    pub owner: String,
    /// What it records of the plug-in's secrets.
    pub secrets: Secrets,
    /// What apigsync last applied, when recorded.
    pub applied: Option<Applied>,
}

/// The record of what apigsync last applied to a plug-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// [`fingerprint::applied_content`] of what was written.
    pub content: String,
    /// [`fingerprint::applied_bindings`] of the bindings the plan set.
    pub bindings: String,
    /// [`fingerprint::applied_content`] of what the service stored, when it differs from
    /// what was written (`s:`).
    pub stored: Option<String>,
}

impl Applied {
    /// The fingerprint the gateway's content had right after the apply: what it stored.
    pub fn gateway_content(&self) -> &str {
        self.stored.as_deref().unwrap_or(&self.content)
    }
}

/// The most characters of a remark (SPEC §3.3, create body: `remark` max 255).
pub const MAX_REMARK_CHARS: usize = 255;

/// The fingerprint of what the service stored of a plug-in of type `kind`, from what it
/// returned: its content, remark (the marker is left out) and app. Equal to the `c:` of
/// what was written when the service stored it unchanged.
pub fn stored_fingerprint(
    kind: PluginType,
    content: &Value,
    remark: Option<&str>,
    app: Option<&str>,
) -> String {
    let (user_remark, _) = split_marker(remark.unwrap_or(""));
    fingerprint::applied_content(kind, content, Some(&user_remark), app)
}

/// The remark that records, in `written`'s marker, that the service stored a content whose
/// [`fingerprint::applied_content`] is `stored`; `None` when no second write is needed (the
/// service stored what was written, or `written` has no record) or when the remark has no
/// room left for it.
pub fn record_stored(written: &str, stored: &str) -> Option<String> {
    let (user, marker) = split_marker(written);
    let marker = marker?;
    let applied = marker.applied.clone()?;
    if applied.content == stored || applied.stored.as_deref() == Some(stored) {
        return None;
    }
    let marker = marker.with_applied(Applied {
        stored: Some(stored.to_owned()),
        ..applied
    });
    let remark = with_marker(&user, &marker);
    (remark.chars().count() <= MAX_REMARK_CHARS).then_some(remark)
}

/// What a marker records of a plug-in's secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secrets {
    /// The type has no secret field.
    None,
    /// A first-format marker: nothing comparable per secret.
    Legacy,
    /// One fingerprint per secret field of the type (`None`: the field is empty).
    Fingerprints {
        /// How they were computed ([`MarkerKey::scheme`]).
        scheme: char,
        /// In the order of [`content::secret_pointers`].
        slots: Vec<Option<String>>,
    },
}

impl Marker {
    /// The marker of a plug-in of `owner` named `name` of type `kind`, whose secret values are
    /// `values` (JSON pointer → value; empty fields left out).
    pub fn new<'a>(
        key: &MarkerKey,
        owner: &str,
        name: &str,
        kind: PluginType,
        values: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> Self {
        let pointers = content::secret_pointers(kind);
        if pointers.is_empty() {
            return Self {
                owner: owner.to_owned(),
                secrets: Secrets::None,
                applied: None,
            };
        }
        let values: Vec<(&str, &Value)> = values.into_iter().collect();
        let slots = pointers
            .iter()
            .map(|pointer| {
                values
                    .iter()
                    .find(|(p, _)| p == pointer)
                    .map(|(p, v)| fingerprint::secret(key, owner, name, p, v))
            })
            .collect();
        Self {
            owner: owner.to_owned(),
            secrets: Secrets::Fingerprints {
                scheme: key.scheme(),
                slots,
            },
            applied: None,
        }
    }

    /// This marker recording `applied`.
    pub fn with_applied(self, applied: Applied) -> Self {
        Self {
            applied: Some(applied),
            ..self
        }
    }

    /// The marker of desired plug-in `plugin` of `owner`.
    pub fn of_desired(key: &MarkerKey, owner: &str, plugin: &DesiredPlugin) -> Self {
        let values = content::secret_values(plugin.plugin_type, &plugin.content);
        Self::new(key, owner, &plugin.name, plugin.plugin_type, values)
    }

    /// The marker's text, without the separating space.
    pub fn render(&self) -> String {
        let mut out = format!("{OPEN}{}", self.owner);
        if let Secrets::Fingerprints { scheme, slots } = &self.secrets {
            let slots: Vec<&str> = slots.iter().map(|s| s.as_deref().unwrap_or("-")).collect();
            out.push_str(&format!(" {scheme}:{}", slots.join(",")));
        }
        if let Some(applied) = &self.applied {
            out.push_str(&format!(" c:{} b:{}", applied.content, applied.bindings));
            if let Some(stored) = &applied.stored {
                out.push_str(&format!(" s:{stored}"));
            }
        }
        out.push(']');
        out
    }

    /// The indexes (into [`content::secret_pointers`]) of the secret fields whose fingerprint
    /// differs between `self` (desired) and `live`. Every field counts as changed against a
    /// legacy marker or a fingerprint computed another way (another key, or none).
    pub fn changed_secrets(&self, live: &Marker) -> Vec<usize> {
        let Secrets::Fingerprints { scheme, slots } = &self.secrets else {
            return Vec::new();
        };
        let comparable = match &live.secrets {
            Secrets::Fingerprints {
                scheme: s,
                slots: l,
            } if s == scheme && l.len() == slots.len() => Some(l),
            _ => None,
        };
        slots
            .iter()
            .enumerate()
            .filter(|(i, slot)| match comparable {
                Some(live) => live[*i] != **slot,
                // Nothing to compare with: an empty field stays empty.
                None => slot.is_some(),
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// The remark to send: the user's remark followed by the marker (just the marker when the
/// user's remark is empty).
pub fn with_marker(user_remark: &str, marker: &Marker) -> String {
    if user_remark.is_empty() {
        marker.render()
    } else {
        format!("{user_remark} {}", marker.render())
    }
}

/// Splits a live remark into the user's remark and the marker, if it ends with a well-formed
/// one (either format). A remark without a marker is returned whole.
pub fn split_marker(remark: &str) -> (String, Option<Marker>) {
    let parsed = remark.strip_suffix(']').and_then(|body| {
        let start = body.rfind("[apigsync")?;
        parse(&body[start..]).map(|m| (start, m))
    });
    let Some((start, marker)) = parsed else {
        return (remark.to_owned(), None);
    };
    let user = &remark[..start];
    let user = user.strip_suffix(' ').unwrap_or(user);
    (user.to_owned(), Some(marker))
}

/// The owner named by the marker at the end of `remark`, if any.
pub fn owner_of(remark: Option<&str>) -> Option<String> {
    split_marker(remark.unwrap_or("")).1.map(|m| m.owner)
}

/// Whether a plug-in with `remark` is managed by `owner`: its marker names that owner (the
/// one ownership rule; the differ and watch's metrics both ask it).
pub fn is_managed_by(remark: Option<&str>, owner: &str) -> bool {
    owner_of(remark).as_deref() == Some(owner)
}

/// Parses `[apigsync@…` or `[apigsync:…` without the closing bracket.
fn parse(text: &str) -> Option<Marker> {
    if let Some(hex) = text.strip_prefix(LEGACY_OPEN) {
        let ok = hex.len() == LEGACY_HEX_LEN && hex.bytes().all(is_lower_hex);
        return ok.then(|| Marker {
            owner: DEFAULT_OWNER.to_owned(),
            secrets: Secrets::Legacy,
            applied: None,
        });
    }
    let mut fields = text.strip_prefix(OPEN)?.split(' ').peekable();
    let owner = fields.next().filter(|o| owner_problem(o).is_none())?;
    let secrets = match fields.next_if(|f| f.starts_with("k:") || f.starts_with("a:")) {
        Some(record) => parse_secrets(record)?,
        None => Secrets::None,
    };
    let applied = match (fields.next(), fields.next()) {
        (None, None) => None,
        (Some(c), Some(b)) => Some(Applied {
            content: record_fp(c.strip_prefix("c:")?)?,
            bindings: record_fp(b.strip_prefix("b:")?)?,
            stored: match fields.next() {
                Some(s) => Some(record_fp(s.strip_prefix("s:")?)?),
                None => None,
            },
        }),
        _ => return None,
    };
    if fields.next().is_some() {
        return None;
    }
    Some(Marker {
        owner: owner.to_owned(),
        secrets,
        applied,
    })
}

/// A well-formed record fingerprint.
fn record_fp(fp: &str) -> Option<String> {
    (fp.len() == RECORD_FP_LEN && fp.bytes().all(is_lower_hex)).then(|| fp.to_owned())
}

/// `k:1a2b3c4d,-` → the scheme and the slots.
fn parse_secrets(record: &str) -> Option<Secrets> {
    let (scheme, slots) = record.split_once(':')?;
    let scheme = match scheme {
        "k" => 'k',
        "a" => 'a',
        _ => return None,
    };
    let slots = slots
        .split(',')
        .map(|s| match s {
            "-" => Some(None),
            fp if fp.len() == SECRET_FP_LEN && fp.bytes().all(is_lower_hex) => {
                Some(Some(fp.to_owned()))
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (slots.len() <= MAX_SECRET_SLOTS).then_some(Secrets::Fingerprints { scheme, slots })
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PASSWORD: &str = "/sasl_config/sasl_password";
    const CA: &str = "/sasl_config/ssl_ca_content";

    fn key() -> MarkerKey {
        MarkerKey::Keyed(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    fn kafka(password: &str, ca: Option<&str>) -> Marker {
        let p = json!(password);
        let c = ca.map(|c| json!(c));
        let values = [(PASSWORD, &p)]
            .into_iter()
            .chain(c.as_ref().map(|c| (CA, c)));
        Marker::new(&key(), "team-a", "kafka", PluginType::KafkaLog, values)
    }

    #[test]
    fn marker_round_trips_with_a_user_remark() {
        let m = kafka("s3cret", None);
        let remark = with_marker("Kafka access log", &m);
        assert!(remark.starts_with("Kafka access log [apigsync@team-a k:"));
        assert!(remark.ends_with(",-]"), "{remark}");
        assert_eq!(
            split_marker(&remark),
            ("Kafka access log".to_owned(), Some(m))
        );
    }

    #[test]
    fn marker_of_a_type_without_secrets_names_only_the_owner() {
        let m = Marker::new(&key(), "default", "cors", PluginType::Cors, []);
        assert_eq!(with_marker("", &m), "[apigsync@default]");
        assert_eq!(split_marker("[apigsync@default]"), (String::new(), Some(m)));
    }

    #[test]
    fn markers_without_an_owner_are_read_as_the_default_owner() {
        let (user, m) = split_marker("CORS for the shop [apigsync:3f9a1c]");
        assert_eq!(user, "CORS for the shop");
        assert_eq!(
            m,
            Some(Marker {
                owner: DEFAULT_OWNER.to_owned(),
                secrets: Secrets::Legacy,
                applied: None,
            })
        );
        assert_eq!(
            owner_of(Some("[apigsync:00ff00]")).as_deref(),
            Some("default")
        );
    }

    #[test]
    fn remark_without_a_well_formed_marker_is_unmanaged() {
        for remark in [
            "",
            "hello",
            "x [apigsync:XYZXYZ]",
            "[apigsync:12345]",
            "a [apigsync:123456",
            "[apigsync@]",
            "[apigsync@Team-A]",
            "[apigsync@team-a x:1a2b3c4d]",
            "[apigsync@team-a k:1a2b3c4]",
            "[apigsync@team-a k:1a2b3c4d,-,-]",
            "[apigsync@team a]",
            "[apigsync@team-a k:]",
            "[apigsync@team-a c:0a1b2c3d]",
            "[apigsync@team-a c:0a1b2c3d b:0a1b2c3]",
            "[apigsync@team-a b:0a1b2c3d c:0a1b2c3d]",
            "[apigsync@team-a c:0a1b2c3d b:0a1b2c3d x]",
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
        let m = kafka("s", Some("ca"));
        let marked = with_marker(remark, &m);
        assert_eq!(split_marker(&marked), (remark.to_owned(), Some(m)));
    }

    #[test]
    fn changing_one_secret_changes_exactly_its_slot() {
        let before = kafka("s3cret", Some("ca-pem"));
        assert!(before.changed_secrets(&before).is_empty());
        assert_eq!(kafka("other", Some("ca-pem")).changed_secrets(&before), [0]);
        assert_eq!(kafka("s3cret", Some("ca-2")).changed_secrets(&before), [1]);
        assert_eq!(kafka("s3cret", None).changed_secrets(&before), [1]);
    }

    #[test]
    fn a_legacy_or_differently_keyed_marker_changes_every_present_secret_once() {
        let now = kafka("s3cret", None);
        let legacy = split_marker("[apigsync:3f9a1c]").1.unwrap();
        assert_eq!(now.changed_secrets(&legacy), [0]);
        let p = json!("s3cret");
        let unkeyed = Marker::new(
            &MarkerKey::Unkeyed,
            "team-a",
            "kafka",
            PluginType::KafkaLog,
            [(PASSWORD, &p)],
        );
        assert_eq!(now.changed_secrets(&unkeyed), [0]);
    }

    fn applied() -> Applied {
        Applied {
            content: "0a1b2c3d".to_owned(),
            bindings: "4e5f6a7b".to_owned(),
            stored: None,
        }
    }

    #[test]
    fn a_stored_form_is_recorded_once_and_round_trips() {
        let written = with_marker("r", &kafka("s", None).with_applied(applied()));
        assert_eq!(
            record_stored(&written, "0a1b2c3d"),
            None,
            "the service stored what was written: no second write"
        );
        let again = record_stored(&written, "99887766").expect("a second write");
        assert!(
            again.ends_with(" c:0a1b2c3d b:4e5f6a7b s:99887766]"),
            "{again}"
        );
        let (_, parsed) = split_marker(&again);
        let recorded = parsed.and_then(|m| m.applied).expect("a record");
        assert_eq!(recorded.gateway_content(), "99887766");
        assert_eq!(recorded.content, "0a1b2c3d");
        assert_eq!(
            record_stored(&again, "99887766"),
            None,
            "already recorded: no third write"
        );
    }

    #[test]
    fn a_stored_form_is_not_recorded_when_the_remark_has_no_room() {
        let long = "x".repeat(crate::manifest::MAX_USER_REMARK);
        let (p, c) = (json!("p"), json!("c"));
        let m = Marker::new(
            &key(),
            "abcdefghijklmnop",
            "kafka",
            PluginType::KafkaLog,
            [(PASSWORD, &p), (CA, &c)],
        )
        .with_applied(applied());
        let written = with_marker(&long, &m);
        assert!(written.len() + 11 > MAX_REMARK_CHARS, "{}", written.len());
        assert_eq!(record_stored(&written, "99887766"), None);
    }

    #[test]
    fn the_record_of_what_was_applied_round_trips() {
        for m in [
            kafka("s", Some("ca")).with_applied(applied()),
            Marker::new(&key(), "team-a", "cors", PluginType::Cors, []).with_applied(applied()),
        ] {
            let remark = with_marker("r", &m);
            assert!(remark.ends_with(" c:0a1b2c3d b:4e5f6a7b]"), "{remark}");
            assert_eq!(split_marker(&remark), ("r".to_owned(), Some(m)));
        }
    }

    #[test]
    fn the_longest_marker_fits_with_the_longest_user_remark() {
        let p = json!("p");
        let c = json!("c");
        let longest = Marker::new(
            &key(),
            "abcdefghijklmnop",
            "kafka",
            PluginType::KafkaLog,
            [(PASSWORD, &p), (CA, &c)],
        )
        .with_applied(applied());
        assert_eq!(longest.render().len() + 1, MAX_LEN);
    }

    #[test]
    fn the_marker_does_not_hold_a_plain_hash_of_the_secret() {
        use sha2::{Digest, Sha256};
        let remark = with_marker("", &kafka("s3cret", None));
        for guess in [&b"s3cret"[..], &b"\"s3cret\""[..]] {
            let plain = hex::encode(Sha256::digest(guess));
            assert!(!remark.contains(&plain[..SECRET_FP_LEN]), "{remark}");
            assert!(!remark.contains(&plain[..LEGACY_HEX_LEN]), "{remark}");
        }
    }
}
