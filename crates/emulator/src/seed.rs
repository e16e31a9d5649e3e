//! The seed: the instances, environments, groups and APIs the emulator starts with.
//!
//! ```yaml
//! project_id: 5f1e0a2b3c4d5e6f708192a3b4c5d6e7
//! instances:
//!   - id: 3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d
//!     flavour: apig            # apig (apigw paths) | roma (apic paths) | otc (apigw paths)
//!     envs: [TEST]             # RELEASE always exists; an entry may be {name, id}
//!     groups: [shop]           # an entry may be {name, id}
//!     apis:
//!       - {name: orders_list, group: shop, method: GET, path: /orders, backend_type: HTTP, published: [RELEASE, TEST]}
//!     plugins:                 # optional: plug-ins present from the start, of any type
//!       - {name: console_jwt, type: jwt_auth, content: {}}
//! ```
//! Ids not given are derived from the instance id and the name (see [`derived_id`]).

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::EmulatorError;
use super::model::Flavour;

/// The built-in demo seed (`examples/emulator-seed.yaml`), the world `examples/manifests` targets.
pub const DEMO_SEED_YAML: &str = include_str!("../../../examples/emulator-seed.yaml");

/// A parsed seed file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The IAM project id every path must carry.
    pub project_id: String,
    /// The gateway / ROMA instances.
    pub instances: Vec<SeedInstance>,
}

/// One instance of the seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedInstance {
    /// Instance id.
    pub id: String,
    /// Which product it is; decides the path flavour and the plug-in types.
    pub flavour: Flavour,
    /// Environments besides RELEASE.
    #[serde(default)]
    pub envs: Vec<Named>,
    /// API groups.
    #[serde(default)]
    pub groups: Vec<Named>,
    /// APIs.
    #[serde(default)]
    pub apis: Vec<SeedApi>,
    /// Plug-ins present from the start, e.g. a `jwt_auth` one apigsync does not manage.
    #[serde(default)]
    pub plugins: Vec<SeedPlugin>,
}

/// A plug-in of the seed, stored as is (no checks beyond a known type and a unique name).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlugin {
    /// `plugin_name`.
    pub name: String,
    /// `plugin_type`: any name (e.g. `jwt_auth`, `lua_script`).
    #[serde(rename = "type")]
    pub plugin_type: String,
    /// `plugin_content` as YAML.
    #[serde(default)]
    pub content: serde_json::Value,
    /// `remark`.
    #[serde(default)]
    pub remark: Option<String>,
}

/// A name, optionally with a fixed id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Named {
    /// `TEST`: the id is derived.
    Name(String),
    /// `{name: TEST, id: ...}`.
    WithId {
        /// The name.
        name: String,
        /// The id.
        id: String,
    },
}

impl Named {
    /// The name.
    pub fn name(&self) -> &str {
        match self {
            Named::Name(name) | Named::WithId { name, .. } => name,
        }
    }

    /// The id given in the seed, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            Named::Name(_) => None,
            Named::WithId { id, .. } => Some(id),
        }
    }
}

/// One API of the seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedApi {
    /// API name.
    pub name: String,
    /// Fixed id; derived when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Group name.
    pub group: String,
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Request path, e.g. `/orders/{id}`.
    pub path: String,
    /// Backend type, e.g. `HTTP` or `MOCK` (the default).
    #[serde(default = "crate::store::default_backend")]
    pub backend_type: String,
    /// Names of the environments the API is published in.
    #[serde(default)]
    pub published: Vec<String>,
}

impl Seed {
    /// Parses a seed; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Seed, EmulatorError> {
        serde_saphyr::from_str(text).map_err(|err| EmulatorError::SeedParse {
            origin: origin.to_string(),
            message: err.to_string(),
        })
    }

    /// The built-in demo seed (pinned by a unit test, so it always parses).
    #[allow(
        clippy::expect_used,
        reason = "a constant compiled into the binary, pinned by a unit test; not user input"
    )]
    pub fn demo() -> Seed {
        Seed::from_yaml(DEMO_SEED_YAML, "built-in demo seed").expect("the demo seed parses")
    }
}

/// A 32-hex id derived from the instance id, a kind (`env`, `group`, `api`, ...) and a name.
pub fn derived_id(instance_id: &str, kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{instance_id}\n{kind}\n{name}").as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_parses_with_both_flavours() {
        let seed = Seed::demo();
        assert_eq!(seed.project_id, "5f1e0a2b3c4d5e6f708192a3b4c5d6e7");
        let flavours: Vec<Flavour> = seed.instances.iter().map(|i| i.flavour).collect();
        assert_eq!(flavours, vec![Flavour::Apig, Flavour::Roma]);
    }

    #[test]
    fn derived_ids_are_32_hex_and_stable() {
        let a = derived_id("inst", "env", "TEST");
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, derived_id("inst", "env", "TEST"));
        assert_ne!(a, derived_id("inst2", "env", "TEST"));
    }

    #[test]
    fn a_seeded_jwt_auth_plugin_is_stored_with_its_type() {
        let seed = Seed::from_yaml(
            "project_id: p\ninstances:\n  - id: i\n    flavour: apig\n    plugins:\n      - {name: console_jwt, type: jwt_auth, content: {issuer: idp}}\n",
            "test",
        )
        .expect("parses");
        let state = crate::store::State::from_seed(&seed, "test", "t").expect("valid");
        let jwt = &state.instances[0].plugins[0];
        assert_eq!(
            (
                jwt.name.as_str(),
                jwt.plugin_type.as_str(),
                jwt.content.as_str()
            ),
            ("console_jwt", "jwt_auth", "{\"issuer\":\"idp\"}")
        );
    }

    #[test]
    fn named_entries_accept_a_fixed_id() {
        let seed = Seed::from_yaml(
            "project_id: p\ninstances:\n  - id: i\n    flavour: roma\n    envs: [{name: DEV, id: e1}]\n",
            "test",
        )
        .expect("parses");
        assert_eq!(seed.instances[0].envs[0].id(), Some("e1"));
    }
}
