//! The [`Plan`] value: ordered operations with their dependencies, notices, and the
//! fingerprints of every live object read, serialisable as JSON (see `docs/plan-format.md`).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Flavour, Location, PluginType, Scope};

/// The version of the plan's JSON format; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// A plan: what `apply` will do to make the gateway equal to the manifests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`SCHEMA_VERSION`] for plans written by this version.
    pub schema_version: u32,
    /// The gateway the plan was made for.
    pub target: PlanTarget,
    /// The folder's owner (`options.owner`) the plan manages plug-ins for.
    #[serde(default = "default_owner")]
    pub owner: String,
    /// The operations, in an order that respects every `depends_on`.
    pub operations: Vec<Operation>,
    /// Warnings a reviewer should read (displaced bindings, adoptions, kept orphans).
    pub notices: Vec<Notice>,
    /// Fingerprints of the live objects the plan was computed from, for staleness checks.
    pub reads: Vec<Read>,
    /// The replacements (type or scope changes), each one item with its steps, for display.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replacements: Vec<Replacement>,
    /// What the policies (`plan --policy`) said about this plan, when any were evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::policy::PolicyReport>,
}

/// A plug-in replaced by a new one (its type or scope changed): the steps, in order, are
/// create the new plug-in (under a temporary name while the old one holds the name), attach
/// it everywhere it is wanted, detach and delete the old one, rename the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The plug-in name in the manifests.
    pub plugin: String,
    /// Why, e.g. `type changed: cors → set_resp_headers`.
    pub reason: String,
    /// The name the new plug-in has until the rename (the final name when it is free).
    pub new: String,
    /// The live plug-ins it retires: their detaches and deletes wait for every create,
    /// update and attach of `new`.
    pub old: Vec<String>,
    /// The operations of the replacement, in plan order.
    pub steps: Vec<OpId>,
}

fn default_owner() -> String {
    crate::model::DEFAULT_OWNER.to_owned()
}

/// The plans of several targets in one file (`plan --out` of a folder with `targets:`),
/// in target order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSet {
    /// [`SCHEMA_VERSION`], as in each plan.
    pub schema_version: u32,
    /// One plan per target; each names its target in `target.name`.
    pub plans: Vec<Plan>,
}

/// The gateway a plan targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTarget {
    /// Deployment flavour, when known.
    pub flavour: Option<Flavour>,
    /// Gateway / ROMA instance id, when known.
    pub instance_id: Option<String>,
    /// The target's name under `targets:` of apigsync.yaml (absent with one `target:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A stable operation id, unique within a plan, e.g. `attach/cors_public/RELEASE/1`.
pub type OpId = String;

/// One API call (or, for attach/detach, one call of at most [`MAX_APIS_PER_CALL`] APIs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Stable id, unique within the plan.
    pub id: OpId,
    /// The phase the operation belongs to (for display; `depends_on` is the real order).
    pub stage: Stage,
    /// What to do.
    #[serde(flatten)]
    pub kind: OpKind,
    /// Operations that must have finished before this one starts.
    pub depends_on: Vec<OpId>,
    /// True when the operation is a step of a [`Replacement`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace: bool,
    /// Why the operation exists when it is not obvious (replace, adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the operation comes from the files, from a change on the gateway since the
    /// last apply (drift), or both.
    #[serde(default)]
    pub cause: Cause,
}

/// Why an operation is needed, against the record of the last apply in the marker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The files changed since the last apply (also: nothing was recorded, e.g. a new plug-in).
    #[default]
    Files,
    /// The gateway changed since the last apply and the files did not: applying undoes it.
    Drift,
    /// Both changed.
    Both,
}

impl Cause {
    /// The cause, given whether the files and the gateway differ from the record.
    pub fn of(files_changed: bool, gateway_changed: bool) -> Self {
        match (files_changed, gateway_changed) {
            (true, true) => Cause::Both,
            (false, true) => Cause::Drift,
            _ => Cause::Files,
        }
    }

    /// True when the gateway changed (drift or both).
    pub fn is_drift(self) -> bool {
        self != Cause::Files
    }

    /// The cause as plans spell it: `files`, `drift` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Files => "files",
            Cause::Drift => "drift",
            Cause::Both => "both",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most API ids the service accepts in one attach or detach call.
pub const MAX_APIS_PER_CALL: usize = 500;

/// The phases of a plan: creates and updates, then attaches, then detaches, then deletes,
/// then the renames that end replacements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Plug-in creates and in-place updates.
    Upsert,
    /// Binding additions.
    Attach,
    /// Binding removals.
    Detach,
    /// Plug-in deletes.
    Delete,
    /// Renames of new plug-ins to their final name.
    Rename,
}

/// What an operation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpKind {
    /// POST a new plug-in.
    CreatePlugin {
        /// The body to send (secrets as templates; see [`crate::plan::resolve_secrets`]).
        spec: PluginSpec,
        /// The temporary name to create it under (a replacement whose old plug-in still
        /// holds `spec.name`); the final name is given by a later [`OpKind::RenamePlugin`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        temp_name: Option<String>,
    },
    /// PUT a plug-in (full replacement of its fields).
    UpdatePlugin {
        /// The live plug-in id.
        plugin_id: String,
        /// The body to send.
        spec: PluginSpec,
        /// The fields that change, for display.
        changes: Vec<FieldChange>,
    },
    /// DELETE a plug-in (after all its bindings are removed).
    DeletePlugin {
        /// The live plug-in id.
        plugin_id: String,
        /// Its name.
        name: String,
    },
    /// PUT a plug-in created or left under a temporary name: its final name and full body.
    RenamePlugin {
        /// The live plug-in id; `None` when the plug-in is created by this plan: the
        /// executor takes it from the result of the `create_plugin` of name `from`.
        plugin_id: Option<String>,
        /// The temporary name.
        from: String,
        /// The body to send (with the final name).
        spec: PluginSpec,
    },
    /// Bind a plug-in to APIs in one environment.
    Attach(BindingOp),
    /// Unbind a plug-in from APIs in one environment.
    Detach(BindingOp),
}

/// The payload of an attach or detach call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingOp {
    /// The plug-in name.
    pub plugin: String,
    /// The plug-in id; `None` when the plug-in is created by this plan: the executor takes
    /// it from the result of the `create_plugin` operation of the same name.
    pub plugin_id: Option<String>,
    /// The plug-in type (used to order binding changes that displace each other).
    pub plugin_type: String,
    /// Environment id.
    pub env_id: String,
    /// Environment name.
    pub env_name: String,
    /// The APIs, sorted by name then id; at most [`MAX_APIS_PER_CALL`].
    pub apis: Vec<ApiItem>,
}

/// An API named in a binding operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApiItem {
    /// API id.
    pub id: String,
    /// API name, when the live state knows the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ApiItem {
    /// The name, or the id when the name is unknown.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// The full plug-in body the executor sends on create or update.
///
/// A plan never holds a secret value: each secret field of `content` holds its template
/// (`${KAFKA_SASL_PASSWORD}`) or, for a secret written as a literal in the manifest,
/// [`LITERAL_SECRET`]. [`crate::plan::resolve_secrets`] puts the values back at apply time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginSpec {
    /// `plugin_name`.
    pub name: String,
    /// `plugin_type`.
    pub plugin_type: PluginType,
    /// `plugin_scope`.
    pub scope: Scope,
    /// `roma_app_id`, for `app` scope on ROMA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roma_app_id: Option<String>,
    /// `remark`: the user's remark with the ownership marker.
    pub remark: String,
    /// `plugin_content`, with secrets replaced as described above.
    pub content: Value,
    /// The secret fields of `content`, keyed by JSON pointer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretSlot>,
}

/// Placeholder stored in a plan's content for a secret written as a literal in the manifest.
pub const LITERAL_SECRET: &str = "(literal secret from the manifest)";

/// Where the executor finds a secret value of a [`PluginSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum SecretSlot {
    /// Substitute the template (`${VAR}` / `${VAR:-default}`) from the environment.
    Env {
        /// The template as written in the manifest.
        template: String,
    },
    /// Read the literal from the plug-in of the same name in the manifests.
    Literal,
}

/// One changed field of an update, addressed by a JSON pointer into the plug-in body
/// (`/remark`, `/roma_app_id`, `/content/max_age`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON pointer of the field.
    pub path: String,
    /// The live value (`None`: absent, or sensitive).
    pub old: Option<Value>,
    /// The desired value (`None`: absent, or sensitive).
    pub new: Option<Value>,
    /// True for a secret: the values are never recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// A warning attached to a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What kind of warning.
    pub kind: NoticeKind,
    /// The plug-in it is about.
    pub plugin: String,
    /// What a reviewer should know.
    pub message: String,
    /// The manifest document it comes from, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Kinds of [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A binding will silently replace another plug-in of the same type on an API.
    Displaces,
    /// An unmanaged plug-in is taken over (`options.adopt`).
    Adopts,
    /// A managed plug-in is absent from the manifests but kept because prune is off.
    KeptOrphan,
    /// A change waits for the next run (a replacement behind a leftover's clean-up).
    Deferred,
    /// An operation left out by `--select` or `--no-delete`.
    Withheld,
    /// A binding the gateway keeps to an API taken offline in that environment.
    Offline,
}

/// A live object the plan was computed from, and its fingerprint then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Read {
    /// Which object.
    #[serde(flatten)]
    pub object: ReadObject,
    /// Hash of its canonical JSON; `None` when the object did not exist.
    pub fingerprint: Option<String>,
}

/// An object whose fingerprint a plan records.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum ReadObject {
    /// A plug-in, by name: its id, type, scope, app, remark and content.
    Plugin {
        /// Plug-in name.
        name: String,
    },
    /// The set of APIs a plug-in is bound to in one environment.
    Bindings {
        /// Plug-in name.
        plugin: String,
        /// Environment id.
        env_id: String,
    },
}

/// Counts for the summary line; a replace counts once, and its re-attached bindings do not
/// count as attaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Plug-ins created.
    pub create: usize,
    /// Plug-ins updated in place.
    pub update: usize,
    /// Plug-ins replaced.
    pub replace: usize,
    /// Plug-ins deleted.
    pub delete: usize,
    /// Bindings (API, env) added.
    pub attach: usize,
    /// Bindings (API, env) removed.
    pub detach: usize,
}

impl Plan {
    /// An empty plan for `target`.
    pub fn new(target: PlanTarget) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            target,
            owner: default_owner(),
            operations: Vec::new(),
            notices: Vec::new(),
            reads: Vec::new(),
            replacements: Vec::new(),
            policy: None,
        }
    }

    /// True when the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operations by id: build it once, then each lookup takes constant time.
    pub fn index(&self) -> HashMap<&str, &Operation> {
        self.operations
            .iter()
            .map(|op| (op.id.as_str(), op))
            .collect()
    }

    /// The counts of the summary line.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            replace: self.replacements.len(),
            ..Summary::default()
        };
        let replaced_as: HashMap<&str, &str> = self
            .replacements
            .iter()
            .flat_map(|r| {
                r.steps
                    .iter()
                    .map(move |id| (id.as_str(), r.plugin.as_str()))
            })
            .collect();
        // Net binding changes of replacements: (final name, env, api) detached and re-attached.
        let mut replaced_detach: HashSet<(&str, &str, &str)> = HashSet::new();
        let mut replaced_attach: HashSet<(&str, &str, &str)> = HashSet::new();
        for op in &self.operations {
            let group = replaced_as.get(op.id.as_str()).copied();
            match (&op.kind, group) {
                (OpKind::CreatePlugin { .. } | OpKind::DeletePlugin { .. }, Some(_)) => {}
                (OpKind::CreatePlugin { .. }, None) => s.create += 1,
                (OpKind::UpdatePlugin { .. }, Some(_)) | (OpKind::RenamePlugin { .. }, _) => {}
                (OpKind::UpdatePlugin { .. }, None) => s.update += 1,
                (OpKind::DeletePlugin { .. }, None) => s.delete += 1,
                (OpKind::Attach(b), Some(name)) => {
                    replaced_attach.extend(b.apis.iter().map(|a| (name, &*b.env_id, &*a.id)));
                }
                (OpKind::Detach(b), Some(name)) => {
                    replaced_detach.extend(b.apis.iter().map(|a| (name, &*b.env_id, &*a.id)));
                }
                (OpKind::Attach(b), None) => s.attach += b.apis.len(),
                (OpKind::Detach(b), None) => s.detach += b.apis.len(),
            }
        }
        s.attach += replaced_attach.difference(&replaced_detach).count();
        s.detach += replaced_detach.difference(&replaced_attach).count();
        s
    }

    /// The replacement `op` is a step of, if any.
    pub fn replacement_of(&self, op: &str) -> Option<&Replacement> {
        self.replacements
            .iter()
            .find(|r| r.steps.iter().any(|s| s == op))
    }
}

impl OpKind {
    /// The name of the plug-in the operation is about (for a create under a temporary
    /// name and for a rename, the temporary name).
    pub fn plugin_name(&self) -> &str {
        match self {
            OpKind::CreatePlugin { spec, temp_name } => temp_name.as_deref().unwrap_or(&spec.name),
            OpKind::UpdatePlugin { spec, .. } => &spec.name,
            OpKind::RenamePlugin { from, .. } => from,
            OpKind::DeletePlugin { name, .. } => name,
            OpKind::Attach(b) | OpKind::Detach(b) => &b.plugin,
        }
    }

    /// The verb of this kind of operation: `create`, `update`, `delete`, `rename`,
    /// `attach` or `detach`.
    pub fn verb(&self) -> &'static str {
        match self {
            OpKind::CreatePlugin { .. } => "create",
            OpKind::UpdatePlugin { .. } => "update",
            OpKind::DeletePlugin { .. } => "delete",
            OpKind::RenamePlugin { .. } => "rename",
            OpKind::Attach(_) => "attach",
            OpKind::Detach(_) => "detach",
        }
    }

    /// The stage this kind of operation belongs to.
    pub fn stage(&self) -> Stage {
        match self {
            OpKind::CreatePlugin { .. } | OpKind::UpdatePlugin { .. } => Stage::Upsert,
            OpKind::Attach(_) => Stage::Attach,
            OpKind::Detach(_) => Stage::Detach,
            OpKind::DeletePlugin { .. } => Stage::Delete,
            OpKind::RenamePlugin { .. } => Stage::Rename,
        }
    }
}
