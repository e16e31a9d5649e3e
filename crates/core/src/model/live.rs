//! The live state: what the gateway holds, as fetched by the API client.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Id of the built-in release environment, which always exists.
pub const RELEASE_ENV_ID: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";
/// Name of the built-in release environment.
pub const RELEASE_ENV_NAME: &str = "RELEASE";

/// A snapshot of one instance, as plain values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Live {
    /// Every plug-in of the instance.
    pub plugins: Vec<LivePlugin>,
    /// Every environment.
    pub envs: Vec<Env>,
    /// Every API of the instance (published or not), with where it is published.
    pub apis: Vec<Api>,
    /// The gateway's plug-in quota, when it reports one (`PLUGIN_NUM_LIMIT` of the
    /// instance's configs); `None` when it does not, and then it is not enforced.
    #[serde(default)]
    pub plugin_quota: Option<PluginQuota>,
}

/// How many plug-ins the gateway lets a tenant hold (SPEC §11.3: `config_name`
/// `PLUGIN_NUM_LIMIT` of `GET …/project/configs`, default 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginQuota {
    /// `config_value`: the most plug-ins the gateway holds.
    pub limit: usize,
    /// `used`: how many the gateway counts now, when it says.
    #[serde(default)]
    pub used: Option<usize>,
}

/// A plug-in as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivePlugin {
    /// `plugin_id`.
    pub id: String,
    /// `plugin_name`.
    pub name: String,
    /// `plugin_type` as returned (may be a type apigsync does not know, e.g. `jwt_auth`).
    pub plugin_type: String,
    /// `plugin_scope` as returned.
    pub scope: String,
    /// `roma_app_id`, if any.
    pub roma_app_id: Option<String>,
    /// `remark` as returned (may hold the ownership marker).
    pub remark: Option<String>,
    /// `plugin_content` parsed as JSON (redacted by the server where it redacts).
    pub content: Value,
    /// `update_time`, as returned.
    pub update_time: Option<String>,
    /// Bindings, when they were fetched (only for managed or desired plug-ins).
    pub bindings: Option<Vec<LiveBinding>>,
}

/// One binding of a plug-in to an API in an environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LiveBinding {
    /// Environment id.
    pub env_id: String,
    /// API id.
    pub api_id: String,
}

/// An environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Env {
    /// Environment id (`DEFAULT_ENVIRONMENT_RELEASE_ID` for RELEASE).
    pub id: String,
    /// Environment name.
    pub name: String,
}

/// An API and where it is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Api {
    /// API id.
    pub id: String,
    /// API name.
    pub name: String,
    /// Group id.
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// HTTP method (`GET`, `POST`, …; `ANY`), empty when unknown.
    #[serde(default)]
    pub method: String,
    /// Request path (`req_uri`, e.g. `/orders/{id}`), empty when unknown.
    #[serde(default)]
    pub req_uri: String,
    /// Backend type (`backend_type`: `HTTP`, `FUNCTION`, `MOCK`, …), empty when unknown
    /// (the attached-apis answer and older gateways do not carry it).
    #[serde(default)]
    pub backend_type: String,
    /// Ids of the environments the API is published in.
    pub published_in: Vec<String>,
}
