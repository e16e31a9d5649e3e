//! A targeted read: re-reads only some plug-ins of a live state read earlier, for a
//! reconcile whose cost grows with the change, not with the gateway (issue 19). The
//! plug-ins to re-read are named by the plan made against the earlier state: those it
//! writes, and every plug-in bound now to an API it attaches (found per API, SPEC §3.9
//! #11, so a binding made on the console since the earlier read is seen).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde::Deserialize;

use apigsync_core::model::{Live, LiveBinding, LivePlugin};
use apigsync_signing::encode;

use super::client::{Call, Client};
use super::error::{ApiError, Op};

/// An item of `GET /apis/{api_id}/attached-plugins` (`AttachedPluginInfo`, SPEC §3.9 #11).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ApiPlugin {
    plugin_id: String,
    env_id: String,
}

/// What a targeted read re-reads.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Plug-ins by name (live under that name now, or not).
    pub names: BTreeSet<String>,
    /// `(environment id, API id)`: every plug-in bound there now is re-read too.
    pub apis: BTreeSet<(String, String)>,
}

impl Client {
    /// The ids of the plug-ins bound to `api_id` in `env_id` (all pages).
    pub async fn list_api_plugin_ids(
        &self,
        api_id: &str,
        env_id: &str,
    ) -> Result<Vec<String>, ApiError> {
        let bound = self.list_api_bindings(api_id, Some(env_id)).await?;
        Ok(bound.into_iter().map(|(plugin_id, _)| plugin_id).collect())
    }

    /// The `(plug-in id, environment id)` of every binding of `api_id`, in `env_id` or,
    /// without it, in every environment (all pages). SPEC §3.9 #11 lists `env_id` as an
    /// optional filter and each item carries the binding's `env_id`.
    pub async fn list_api_bindings(
        &self,
        api_id: &str,
        env_id: Option<&str>,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let op = Op::new(
            "list_api_attached_plugins",
            format!("listing the plug-ins bound to API {api_id}"),
        );
        let mut call = Call::new(
            &op,
            Method::GET,
            format!("/apis/{}/attached-plugins", encode(api_id)),
        )
        .template("/apis/{api_id}/attached-plugins");
        if let Some(env_id) = env_id {
            call = call.query("env_id", env_id);
        }
        let items: Vec<ApiPlugin> = self.paged(call, "plugins").await?;
        Ok(items.into_iter().map(|p| (p.plugin_id, p.env_id)).collect())
    }

    /// One plug-in and its bindings in every environment, `None` when it is gone (404).
    async fn read_plugin(&self, id: &str) -> Result<Option<LivePlugin>, ApiError> {
        let plugin = match self.show_plugin(id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let bound = match self.list_attached_apis(id, None).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let bindings: BTreeSet<LiveBinding> = bound
            .into_iter()
            .map(|b| LiveBinding {
                env_id: b.env_id,
                api_id: b.api_id,
            })
            .collect();
        Ok(Some(LivePlugin {
            id: plugin.id,
            name: plugin.name,
            plugin_type: plugin.plugin_type,
            scope: plugin.scope,
            roma_app_id: plugin.roma_app_id.filter(|s| !s.is_empty()),
            remark: plugin.remark,
            content: plugin.content,
            update_time: plugin.update_time,
            bindings: Some(bindings.into_iter().collect()),
        }))
    }
}

/// `earlier` with the plug-ins `targets` names re-read from the gateway: changed, added
/// (a name now live that was not) or removed (gone since). Environments and APIs are kept
/// from `earlier`.
pub async fn refresh(client: &Client, earlier: &Live, targets: &Targets) -> Result<Live, ApiError> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for name in &targets.names {
        match earlier.plugins.iter().find(|p| &p.name == name) {
            Some(p) => {
                ids.insert(p.id.clone());
            }
            None => {
                if let Some(p) = client.find_plugin_by_name(name).await? {
                    ids.insert(p.id);
                }
            }
        }
    }
    for (env_id, api_id) in &targets.apis {
        ids.extend(client.list_api_plugin_ids(api_id, env_id).await?);
    }
    let mut fresh: BTreeMap<String, Option<LivePlugin>> = BTreeMap::new();
    for id in ids {
        let read = client.read_plugin(&id).await?;
        fresh.insert(id, read);
    }
    let mut live = earlier.clone();
    live.plugins.retain(|p| !fresh.contains_key(&p.id));
    live.plugins.extend(fresh.into_values().flatten());
    live.plugins
        .sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(live)
}
