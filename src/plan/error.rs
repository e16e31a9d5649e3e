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
    #[error("{location}: binding of plug-in {plugin:?} names environment {env:?}, which does not exist{}", hint(.did_you_mean))]
    UnknownEnv {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The environment as written.
        env: String,
        /// The closest existing environment name.
        did_you_mean: Option<String>,
    },
    /// A binding names an API that does not exist.
    #[error("{location}: binding of plug-in {plugin:?} names API {api}, which does not exist{}", hint(.did_you_mean))]
    UnknownApi {
        /// The binding document.
        location: Location,
        /// The plug-in name.
        plugin: String,
        /// The API reference as written.
        api: String,
        /// The closest existing API name.
        did_you_mean: Option<String>,
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
