//! The desired state: what the manifest folder says the gateway should hold.

use std::collections::BTreeMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Flavour, Location, PluginType, Scope};

/// Everything the loader read from a manifest folder, validated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    /// The project file `apigsync.yaml`, when the folder has one.
    pub project: Option<ProjectFile>,
    /// Desired plug-ins, sorted by name.
    pub plugins: Vec<DesiredPlugin>,
    /// Desired bindings, in file order.
    pub bindings: Vec<DesiredBinding>,
    /// Things that load but will not do what they say (e.g. a field the gateway drops).
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// A manifest problem that does not stop a load, located like an error.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Warning {
    /// Where it is.
    pub location: Location,
    /// What will happen, and what to write instead; lowercase, no trailing period.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// One `kind: Plugin` document after substitution and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredPlugin {
    /// `plugin_name`: the identity of a plug-in within an instance.
    pub name: String,
    /// `plugin_type`.
    pub plugin_type: PluginType,
    /// `plugin_scope`.
    pub scope: Scope,
    /// ROMA integration application, for `app` scope.
    pub roma_app_id: Option<String>,
    /// The user's remark, without any ownership marker.
    pub remark: Option<String>,
    /// The content as a JSON object, `${VAR}` already substituted (secrets included).
    pub content: Value,
    /// For each secret field (JSON pointer into `content`), where its value came from.
    pub secrets: BTreeMap<String, SecretSource>,
    /// Where the document starts.
    pub location: Location,
}

/// Where a secret value of a desired plug-in came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretSource {
    /// The string as written in the manifest, e.g. `${KAFKA_PASSWORD}`.
    pub template: String,
    /// True when the manifest held the secret as a literal (no `${VAR}`).
    pub literal: bool,
}

/// One `kind: Binding` document: a plug-in bound to APIs in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredBinding {
    /// The plug-in name.
    pub plugin: String,
    /// Environment name (or id).
    pub env: String,
    /// The APIs, by name or id.
    pub apis: Vec<ApiRef>,
    /// `displace: true`: the user accepts that these bindings replace a plug-in of the same
    /// type that apigsync does not manage (the gateway keeps one per type, API and env).
    #[serde(default)]
    pub displace: bool,
    /// Where the document starts.
    pub location: Location,
    /// Where each of `apis` is written, in the same order (empty when not read from a file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_locations: Vec<Location>,
}

/// A reference to an API in a binding: by name (optionally within a group) or by id.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(untagged)]
pub enum ApiRef {
    /// `orders_list`
    Name(String),
    /// `{id: 5f0c…}`
    Id {
        /// The API id.
        id: String,
    },
    /// `{group: shop, name: orders_list}`: a name made unambiguous by its group.
    GroupName {
        /// The API group name.
        group: String,
        /// The API name.
        name: String,
    },
}

/// The project file `apigsync.yaml` at the root of the manifest folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// Which gateway to manage (one target; see `targets` for several).
    #[serde(default)]
    pub target: TargetConfig,
    /// Several gateways, by target name, instead of `target`: `plan`, `apply` and
    /// `watch` work on each of them (or on those named by `--target`).
    /// In the order they are written: plan, apply and watch take them in this order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub targets: IndexMap<String, TargetConfig>,
    /// How to manage it.
    #[serde(default)]
    pub options: Options,
}

/// The target gateway. Flags and `HW_*` variables override each field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// `apig` | `roma` | `otc`.
    pub flavour: Option<Flavour>,
    /// Region id, e.g. `cn-north-4`; the endpoint is derived from it.
    pub region: Option<String>,
    /// Explicit endpoint URL, instead of a region.
    pub endpoint: Option<String>,
    /// IAM project id (32 hex).
    pub project_id: Option<String>,
    /// Gateway / ROMA instance id.
    pub instance_id: Option<String>,
    /// Run against the embedded emulator instead of a real gateway.
    pub emulator: Option<EmulatorTarget>,
    /// Read this target's credentials from `PREFIX_HW_ACCESS_KEY` and `PREFIX_HW_SECRET_KEY`
    /// (or `PREFIX_HW_AUTH_TOKEN`) instead of `HW_*`: targets in different accounts. The
    /// names only; the values stay in the environment.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub credentials_prefix: Option<String>,
    /// Values (text, numbers, booleans) substituted into `${VAR}` of this target's
    /// documents; they win over the environment. Never secrets: a secret field may
    /// not name one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, Value>,
}

/// `target.emulator`: start the emulator in-process, seeded with the demo seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmulatorTarget {
    /// File that keeps the emulator's state between runs (relative to the folder).
    pub state: Option<PathBuf>,
}

/// `options` of the project file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Delete managed plug-ins that are absent from the files.
    pub prune: bool,
    /// Allow prune to delete everything when the files declare no plug-in.
    pub allow_empty: bool,
    /// Take over live plug-ins with a desired name that lack the ownership marker.
    pub adopt: bool,
    /// Allow secret fields written as literals instead of `${VAR}`.
    pub allow_literal_secrets: bool,
    /// Most API calls in flight at once.
    pub parallelism: usize,
    /// The namespace of this folder's plug-ins on the gateway (`team-a`): written into their
    /// ownership marker; the folder sees, changes and prunes only plug-ins of its owner.
    #[schemars(
        length(min = 1, max = 16),
        regex(pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub owner: String,
}

/// What command-line flags may change of a project file's [`Options`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionFlags {
    /// `--prune`.
    pub prune: bool,
    /// `--adopt`.
    pub adopt: bool,
    /// `--allow-empty`.
    pub allow_empty: bool,
    /// `--parallelism`.
    pub parallelism: Option<usize>,
}

impl Options {
    /// These options with `flags` applied, the one place flags meet the project file: a
    /// flag turns prune, adopt or allow_empty on (never off), and its parallelism wins.
    pub fn with_flags(&self, flags: &OptionFlags) -> Options {
        Options {
            prune: flags.prune || self.prune,
            adopt: flags.adopt || self.adopt,
            allow_empty: flags.allow_empty || self.allow_empty,
            parallelism: flags.parallelism.unwrap_or(self.parallelism).max(1),
            ..self.clone()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            prune: false,
            allow_empty: false,
            adopt: false,
            allow_literal_secrets: false,
            parallelism: 8,
            owner: super::DEFAULT_OWNER.to_owned(),
        }
    }
}
