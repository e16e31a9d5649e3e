//! Why the differ cannot make a plan: every reason, each located in the manifests.

use std::fmt;

use thiserror::Error;

use crate::model::Location;

/// A reason the differ cannot make a plan. Each names the manifest location it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// A binding names a plug-in that no manifest declares.
    #[error("{location}: binding refers to plug-in {plugin:?}, which no manifest declares")]
    UnknownPlugin {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
    },
    /// A binding names an environment that does not exist.
    #[error("{location}: binding of plug-in {plugin:?} names environment {env:?}, which does not exist{}; the environments are {}", hint(.did_you_mean), .existing.join(", "))]
    UnknownEnv {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The environment as written.
        env: String,
        /// The closest existing environment name.
        did_you_mean: Option<String>,
        /// Every environment's name, sorted.
        existing: Vec<String>,
    },
    /// A binding names an API that does not exist.
    #[error("{location}: binding of plug-in {plugin:?} names API {api}, which does not exist{}", close_hint(.close))]
    UnknownApi {
        /// The list item that names the API (the document when unknown).
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API reference as written.
        api: String,
        /// Existing API names close to it, closest first.
        close: Vec<String>,
    },
    /// Two desired plug-ins of one type bound to the same API in the same environment
    /// (written differently, e.g. by name and by id): the gateway keeps only one.
    #[error(
        "{location}: API {api:?} in environment {env} would get two {plugin_type} plug-ins, {plugin:?} and {other:?} (bound at {other_location}); the gateway keeps only one plug-in of a type per API and environment"
    )]
    TwoOfOneType {
        /// The later binding document.
        location: Location,
        /// Its plug-in.
        plugin: String,
        /// The earlier binding document.
        other_location: Location,
        /// Its plug-in.
        other: String,
        /// The shared type.
        plugin_type: String,
        /// The API name.
        api: String,
        /// The environment name.
        env: String,
    },
    /// A CORS plug-in bound to an API whose method its `allow_methods` does not list.
    #[error(
        "{location}: plug-in {plugin:?} (cors) allows methods {allowed:?}, but API {api:?} is {method}: the gateway requires every bound API's method in allow_methods"
    )]
    MethodNotAllowed {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API name.
        api: String,
        /// The API's method.
        method: String,
        /// `allow_methods` as written.
        allowed: String,
    },
    /// A response cache bound to an API that is not GET or HEAD.
    #[error(
        "{location}: plug-in {plugin:?} (proxy_cache) caches only GET and HEAD APIs, but API {api:?} is {method}"
    )]
    CacheNeedsGet {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API name.
        api: String,
        /// The API's method.
        method: String,
    },
    /// Two CORS plug-ins on APIs of one group with the same path in an environment.
    #[error(
        "{location}: plug-in {plugin:?} (cors) on API {api:?} and plug-in {other:?} on API {other_api:?} ({}) would both serve path {path} of group {group:?} in environment {env}; the gateway requires APIs of a group with the same path to share one CORS plug-in: bind them to the same one",
        .other_location.as_ref().map_or_else(|| "bound on the gateway".to_owned(), |l| format!("bound at {l}"))
    )]
    CorsPathShared {
        /// The binding document of `plugin`.
        location: Location,
        /// A CORS plug-in of the manifests.
        plugin: String,
        /// An API it would hold on the path.
        api: String,
        /// The other CORS plug-in on the path.
        other: String,
        /// An API that one would hold on the path.
        other_api: String,
        /// The binding document of `other`; `None` for a live plug-in the plan leaves alone.
        other_location: Option<Location>,
        /// The group name.
        group: String,
        /// The shared request path.
        path: String,
        /// The environment name.
        env: String,
    },
    /// A CORS plug-in bound to an API whose path has an OPTIONS API in its group.
    #[error(
        "{location}: plug-in {plugin:?} (cors) cannot be bound to API {api:?}: its path {path} in group {group:?} also has the OPTIONS API {options:?}, and the gateway binds no CORS plug-in to the APIs of such a path; remove the API from the binding, or the OPTIONS API"
    )]
    CorsOnOptionsPath {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API name.
        api: String,
        /// The OPTIONS API on the same path.
        options: String,
        /// The group name.
        group: String,
        /// The request path.
        path: String,
    },
    /// A request mirroring plug-in bound to an API with a Mock backend.
    #[error(
        "{location}: plug-in {plugin:?} (proxy_mirror) cannot be bound to API {api:?}, whose backend is Mock: the gateway mirrors no request of a Mock backend"
    )]
    MirrorOnMock {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API name.
        api: String,
    },
    /// A bare API name matches several APIs.
    #[error("{location}: binding of plug-in {plugin:?} names API {api:?}, which is ambiguous: {}; write {{group: ..., name: ...}} or {{id: ...}}", .candidates.join(", "))]
    AmbiguousApi {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API name as written.
        api: String,
        /// `group/name (id)` of each match.
        candidates: Vec<String>,
    },
    /// An API is not published in the binding's environment.
    #[error(
        "{location}: binding of plug-in {plugin:?} names API {api:?}, which is not published in environment {env:?}; only published APIs can be bound"
    )]
    NotPublished {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API name.
        api: String,
        /// The environment name.
        env: String,
    },
    /// A desired binding would silently replace a plug-in apigsync does not manage.
    #[error(
        "{location}: binding of plug-in {plugin:?} to API {api:?} in environment {env} would displace plug-in {other:?} ({plugin_type}), which this folder does not manage (unmanaged, or another owner's): the gateway keeps one plug-in of a type per API and environment; remove the binding, or set displace: true in this Binding to replace it"
    )]
    WouldDisplace {
        /// The binding document.
        location: Location,
        /// The desired plug-in.
        plugin: String,
        /// The live plug-in that would lose the binding.
        other: String,
        /// The shared type.
        plugin_type: String,
        /// The API name (or id).
        api: String,
        /// The environment name.
        env: String,
    },
    /// An `oidc_auth` redirect or logout API that is not bound to the plug-in.
    #[error(
        "{location}: plug-in {plugin:?} (oidc_auth) names {api} as {field}, which is not an API bound to it{}{}; the gateway requires the {field} API to be bound to the plug-in",
        .env.as_ref().map(|e| format!(" in {e}")).unwrap_or_default(),
        bound_hint(.bound)
    )]
    OidcApiNotBound {
        /// The plug-in document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// `redirect_api_id` or `logout_api_id`.
        field: String,
        /// The reference as written.
        api: String,
        /// The environment it is missing from, when the plug-in has it elsewhere.
        env: Option<String>,
        /// Names of the APIs the manifests bind the plug-in to (there).
        bound: Vec<String>,
    },
    /// More Kafka log plug-ins than a gateway holds.
    #[error(
        "{location}: plug-in {plugin:?} would be Kafka log plug-in number {count} on the gateway, which holds at most {limit} ({}){}",
        .others.join(", "),
        if *.before_deletes {
            "; this plan deletes some, but only after its creates: apply the deletion first"
        } else {
            "; delete one, or prune one the manifests no longer declare"
        }
    )]
    KafkaLogQuota {
        /// The plug-in document of the first plug-in over the quota.
        location: Location,
        /// Its name.
        plugin: String,
        /// How many the gateway would hold.
        count: usize,
        /// The quota.
        limit: usize,
        /// The names of the Kafka log plug-ins the gateway would hold.
        others: Vec<String>,
        /// True when the plan ends within the quota but its creates run before its deletes.
        before_deletes: bool,
    },
    /// More plug-ins than the gateway's quota at the apply's peak.
    #[error(
        "the plan would hold {peak} plug-ins on the gateway at its peak ({held} there now and {creates} it creates, temporary replacements included, before any delete runs), over the gateway's limit of {limit} (PLUGIN_NUM_LIMIT); remove {over} plug-in{} from the manifests or the gateway{}",
        if .peak - .limit == 1 { "" } else { "s" },
        if *.deletes > 0 {
            format!("; deletes ({} in this plan) run only after the creates and make no room", .deletes)
        } else {
            String::new()
        },
        over = .peak - .limit
    )]
    PluginQuota {
        /// The quota.
        limit: usize,
        /// The plug-ins at the peak.
        peak: usize,
        /// The plug-ins the gateway holds now, of every owner.
        held: usize,
        /// The plug-ins the plan creates.
        creates: usize,
        /// The plug-ins the plan deletes, after its creates.
        deletes: usize,
    },
    /// A desired name exists live as a plug-in of a type apigsync does not know.
    #[error(
        "{location}: plug-in {plugin:?} already exists on the gateway (id {id}) with type {live_type:?}, which apigsync does not manage; choose another name"
    )]
    ForeignType {
        /// The plug-in document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The live plug-in id.
        id: String,
        /// The live type, e.g. `jwt_auth`.
        live_type: String,
    },
    /// A desired name exists live without the ownership marker.
    #[error(
        "{location}: plug-in {plugin:?} already exists on the gateway (id {id}) and is not managed by apigsync (its remark has no ownership marker); set options.adopt to take it over, or choose another name"
    )]
    Unmanaged {
        /// The plug-in document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The live plug-in id.
        id: String,
    },
    /// A desired name exists live with the marker of another owner.
    #[error(
        "{location}: plug-in {plugin:?} already exists on the gateway and belongs to owner {owner:?}, not to this folder's owner {ours:?}; choose another name, or move the plug-in to the folder of owner {owner:?}"
    )]
    OwnedByAnother {
        /// The plug-in document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The owner its marker names.
        owner: String,
        /// This folder's owner (`options.owner`).
        ours: String,
    },
    /// The marker key is set but too short to keep secrets from being guessed.
    #[error(
        "the marker key APIGSYNC_MARKER_KEY is {len} bytes long; use at least 16 random bytes (e.g. `openssl rand -hex 32`)"
    )]
    WeakMarkerKey {
        /// Its length in bytes.
        len: usize,
    },
    /// The live state lacks the bindings of a plug-in the plan must manage (a bug of the
    /// caller: the live fetch reads bindings of every desired and managed plug-in).
    #[error(
        "the bindings of live plug-in {plugin:?} were not read, so its bindings cannot be managed"
    )]
    BindingsNotRead {
        /// The plug-in name.
        plugin: String,
    },
    /// Prune with no desired plug-in would delete every managed plug-in.
    #[error(
        "refusing to prune: the manifests declare no plug-in, so prune would delete all {count} managed plug-ins; set options.allow_empty to allow it"
    )]
    EmptyPrune {
        /// How many managed plug-ins would be deleted.
        count: usize,
    },
}

fn hint(did_you_mean: &Option<String>) -> String {
    did_you_mean
        .as_ref()
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default()
}

/// ` (did you mean "a"?)`, ` (did you mean "a", "b" or "c"?)`, or nothing.
fn close_hint(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!(" (did you mean {one}?)"),
        [rest @ .., last] => format!(" (did you mean {} or {last}?)", rest.join(", ")),
    }
}

fn bound_hint(bound: &[String]) -> String {
    /// Names shown before "and N more": an error line stays readable at any scale.
    const SHOWN: usize = 5;
    match bound.len() {
        0 => " (the manifests bind it to no API)".to_owned(),
        n if n <= SHOWN => format!(" (it is bound to {})", bound.join(", ")),
        n => format!(
            " (it is bound to {} and {} more)",
            bound[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

/// Every reason a plan could not be made, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
