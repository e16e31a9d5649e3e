//! The documented facts of the service the emulator needs (content limit, field names and
//! types per plug-in type, secret fields and how reads hide them, documented defaults, the
//! offered types per flavour), read from `spec/service-facts.json` at the repository root.
//! The file is data, written from SPEC §3, §4 and §6; the client may read the same file,
//! but no logic is shared.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

/// The facts file, compiled in.
pub const FACTS_JSON: &str = include_str!("../../../spec/service-facts.json");

/// The parsed facts file.
#[derive(Debug, Clone, Deserialize)]
pub struct Facts {
    /// Most characters of `plugin_content` (SPEC §3.2, §4.3).
    pub content_max_chars: usize,
    /// Most characters of `remark` (SPEC §3.3).
    pub remark_max_chars: usize,
    /// What reads return instead of an anonymised secret.
    pub anonymised_mask: String,
    /// Most Kafka log plug-ins per gateway (SPEC §4.3).
    pub kafka_log_per_gateway: usize,
    /// `PLUGIN_NUM_LIMIT` when the seed does not say (SPEC §11.3; value chosen).
    pub plugin_num_limit_default: usize,
    /// The built-in RELEASE environment.
    pub release_env: ReleaseEnv,
    /// The plug-in types each flavour creates.
    pub offered_types: OfferedTypes,
    /// Per plug-in type wire name.
    pub types: BTreeMap<String, TypeFacts>,
}

/// The RELEASE environment (SPEC §3.10).
#[derive(Debug, Clone, Deserialize)]
pub struct ReleaseEnv {
    /// `DEFAULT_ENVIRONMENT_RELEASE_ID`.
    pub id: String,
    /// `RELEASE`.
    pub name: String,
}

/// The plug-in types per flavour (SPEC §4.2).
#[derive(Debug, Clone, Deserialize)]
pub struct OfferedTypes {
    /// Flavour name (`apig`, `roma`, `otc`) → type wire names.
    pub by_flavour: BTreeMap<String, Vec<String>>,
}

/// What SPEC §6 documents about one plug-in type's content.
#[derive(Debug, Clone, Deserialize)]
pub struct TypeFacts {
    /// JSON pointer (`*` for every array item) → the field's documented shape.
    pub fields: BTreeMap<String, FieldFact>,
    /// Secret fields (SPEC §6.10).
    pub secrets: Vec<SecretFact>,
    /// Documented defaults (SPEC §6 tables).
    pub defaults: Vec<DefaultFact>,
}

/// One field of a content model.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldFact {
    /// The JSON type(s) allowed: `string`, `integer`, `number`, `boolean`, `array`, `object`.
    #[serde(rename = "type")]
    pub types: OneOrMany,
    /// Mandatory when its parent is present.
    #[serde(default)]
    pub required: bool,
    /// The allowed values, when documented.
    #[serde(default, rename = "enum")]
    pub allowed: Option<Vec<String>>,
    /// Whether `enum` ignores case.
    #[serde(default)]
    pub enum_ignore_case: bool,
}

/// One JSON type name or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names.
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(t) => vec![t.as_str()],
            OneOrMany::Many(ts) => ts.iter().map(String::as_str).collect(),
        }
    }
}

/// A secret field and what reads do with it.
#[derive(Debug, Clone, Deserialize)]
pub struct SecretFact {
    /// JSON pointer.
    pub pointer: String,
    /// What reads return.
    pub on_read: OnRead,
}

/// How reads show a secret field (SPEC §6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnRead {
    /// The key is left out.
    Remove,
    /// The value is replaced by the mask.
    Mask,
    /// Returned as stored.
    Keep,
}

/// A documented default of a content field.
#[derive(Debug, Clone, Deserialize)]
pub struct DefaultFact {
    /// JSON pointer (`*` for every array item).
    pub pointer: String,
    /// The default value.
    pub value: Value,
}

static FACTS: LazyLock<Facts> = LazyLock::new(parse);

#[allow(
    clippy::expect_used,
    reason = "a constant file compiled into the binary, pinned by a unit test; not user input"
)]
fn parse() -> Facts {
    serde_json::from_str(FACTS_JSON).expect("spec/service-facts.json parses")
}

/// The facts.
pub fn facts() -> &'static Facts {
    &FACTS
}

/// The facts of plug-in type `name`, when the file documents it.
pub fn type_facts(name: &str) -> Option<&'static TypeFacts> {
    facts().types.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_file_parses_and_documents_the_nine_types() {
        let f = parse();
        assert_eq!(f.content_max_chars, 65535);
        assert_eq!(f.types.len(), 9);
        assert_eq!(f.offered_types.by_flavour["otc"].len(), 6);
        assert!(f.types["oidc_auth"].fields["/client_secret"].required);
    }
}
