//! The API operations apigsync uses (SPEC §3), each one call of [`Client::send`]
//! or [`Client::paged`]. Ids are percent-encoded into paths like the SDK does.

use std::future::Future;
use std::pin::Pin;

use reqwest::Method;
use serde_json::Value;

use super::client::{Call, Client, Recovery, Reply};
use super::error::{ApiError, Op};
use super::wire::{
    ApiId, ApiInfo, AttachResponse, AttachedApi, AttachedPlugin, EnvInfo, InstanceConfig, Plugin,
    PluginBody, PluginOperApiInfo, plugin_quota,
};
use apigsync_core::model::PluginQuota;
use apigsync_core::plan::MAX_APIS_PER_CALL;
use apigsync_signing::encode;

impl Client {
    /// Every plug-in of the instance (all pages).
    pub async fn list_plugins(&self) -> Result<Vec<Plugin>, ApiError> {
        let op = Op::new("list_plugins", "listing plug-ins");
        self.paged(Call::new(&op, Method::GET, "/plugins"), "plugins")
            .await
    }

    /// The plug-in named exactly `name`, if any (server-side precise search, re-filtered here).
    pub async fn find_plugin_by_name(&self, name: &str) -> Result<Option<Plugin>, ApiError> {
        let op = Op::new("list_plugins", format!("looking up plug-in {name:?}"));
        match self.plugin_named(&op, name).await? {
            Some(found) => serde_json::from_value(found)
                .map(Some)
                .map_err(|e| ApiError::Decode {
                    op,
                    status: 200,
                    body_snippet: format!("unexpected JSON: {e}"),
                }),
            None => Ok(None),
        }
    }

    /// The plug-in named exactly `name`, as the server sent it.
    async fn plugin_named(&self, op: &Op, name: &str) -> Result<Option<Value>, ApiError> {
        let call = Call::new(op, Method::GET, "/plugins")
            .query("plugin_name", name)
            .query("precise_search", "plugin_name");
        let found: Vec<Value> = self.paged(call, "plugins").await?;
        Ok(found
            .into_iter()
            .find(|p| p.get("plugin_name").and_then(Value::as_str) == Some(name)))
    }

    /// One plug-in by id.
    pub async fn show_plugin(&self, id: &str) -> Result<Plugin, ApiError> {
        let op = Op::new("show_plugin", format!("reading plug-in {id}"));
        let call = Call::new(&op, Method::GET, format!("/plugins/{}", encode(id)))
            .template("/plugins/{plugin_id}");
        self.send_json(&call).await
    }

    /// Creates a plug-in.
    ///
    /// Create is not idempotent, so it is never blindly retried: after an ambiguous
    /// failure (connection lost, timeout, 5xx) the send path looks the name up (this
    /// call's recovery hook) and, when the plug-in exists and carries the remark we
    /// sent (apigsync's marker), returns it as the result; a plug-in someone else
    /// created under this name is not taken over; only when there is none does it try
    /// again. Slow-down answers (429, APIG.9008) are retried like any call. 4xx errors
    /// are final, except that APIG.3326 (name exists) after an ambiguous attempt is
    /// resolved by the same look-up.
    pub async fn create_plugin(&self, body: &PluginBody) -> Result<Plugin, ApiError> {
        let name = &body.plugin_name;
        let op = Op::new("create_plugin", format!("creating plug-in {name:?}"));
        let lookup = || -> Pin<Box<dyn Future<Output = Recovery> + Send + '_>> {
            Box::pin(async move {
                let lookup_op = Op::new("list_plugins", format!("looking up plug-in {name:?}"));
                match self.plugin_named(&lookup_op, name).await {
                    Ok(Some(found))
                        if found.get("remark").and_then(Value::as_str)
                            == body.remark.as_deref() =>
                    {
                        Recovery::Done(Reply {
                            status: 201,
                            body: found.to_string().into_bytes(),
                        })
                    }
                    Ok(Some(_)) => Recovery::Unknown,
                    Ok(None) => Recovery::NotDone,
                    Err(lookup) => {
                        tracing::warn!(plugin = %name, error = %lookup, "could not check whether the create went through");
                        Recovery::Unknown
                    }
                }
            })
        };
        let call = Call::new(&op, Method::POST, "/plugins")
            .json(body)?
            .recover_with(&lookup);
        self.send_json(&call).await
    }

    /// Replaces a plug-in's name, content and remark (type and scope must stay the same).
    pub async fn update_plugin(&self, id: &str, body: &PluginBody) -> Result<Plugin, ApiError> {
        let op = Op::new(
            "update_plugin",
            format!("updating plug-in {:?} ({id})", body.plugin_name),
        );
        let call = Call::new(&op, Method::PUT, format!("/plugins/{}", encode(id)))
            .template("/plugins/{plugin_id}")
            .json(body)?;
        self.send_json(&call).await
    }

    /// Deletes a plug-in. A 404 counts as done (it may be the retry of a delete that went
    /// through). A 409 APIG.3462 (still bound) is retried while bindings settle after a
    /// detach (SPEC §11.7), then reported as [`ApiError::StillBound`].
    pub async fn delete_plugin(&self, id: &str) -> Result<(), ApiError> {
        let op = Op::new("delete_plugin", format!("deleting plug-in {id}"));
        let call = Call::new(&op, Method::DELETE, format!("/plugins/{}", encode(id)))
            .template("/plugins/{plugin_id}");
        match self.send(&call).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => {
                tracing::debug!(plugin_id = id, "plug-in already gone");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Binds a plug-in to up to 500 APIs in one environment; no call for an empty list.
    /// Returns every entry of the answer, failed ones included ([`AttachedPlugin::failure`]).
    ///
    /// Retried like an idempotent call: attaching the same (plug-in, environment, APIs)
    /// again leaves the same bindings, so a retry after an ambiguous failure is safe in effect.
    pub async fn attach_apis(
        &self,
        plugin_id: &str,
        env_id: &str,
        api_ids: &[String],
    ) -> Result<Vec<AttachedPlugin>, ApiError> {
        let op = Op::new(
            "attach_api_to_plugin",
            format!(
                "attaching plug-in {plugin_id} to {} API(s) in environment {env_id}",
                api_ids.len()
            ),
        );
        if api_ids.is_empty() {
            return Ok(Vec::new());
        }
        check_id_count(&op, api_ids)?;
        let body = PluginOperApiInfo { env_id, api_ids };
        let call = Call::new(
            &op,
            Method::POST,
            format!("/plugins/{}/attach", encode(plugin_id)),
        )
        .template("/plugins/{plugin_id}/attach")
        .json(&body)?;
        let _serial = self.binding_lock(plugin_id, env_id).await;
        let response: AttachResponse = self.send_json(&call).await?;
        Ok(response.entries())
    }

    /// Unbinds a plug-in from up to 500 APIs in one environment; no call for an empty list.
    pub async fn detach_apis(
        &self,
        plugin_id: &str,
        env_id: &str,
        api_ids: &[String],
    ) -> Result<(), ApiError> {
        let op = Op::new(
            "detach_api_from_plugin",
            format!(
                "detaching plug-in {plugin_id} from {} API(s) in environment {env_id}",
                api_ids.len()
            ),
        );
        if api_ids.is_empty() {
            return Ok(());
        }
        check_id_count(&op, api_ids)?;
        let body = PluginOperApiInfo { env_id, api_ids };
        let call = Call::new(
            &op,
            Method::PUT,
            format!("/plugins/{}/detach", encode(plugin_id)),
        )
        .template("/plugins/{plugin_id}/detach")
        .json(&body)?;
        let _serial = self.binding_lock(plugin_id, env_id).await;
        self.send(&call).await.map(|_| ())
    }

    /// The APIs a plug-in is bound to, in `env_id` or in every environment (all pages).
    pub async fn list_attached_apis(
        &self,
        plugin_id: &str,
        env_id: Option<&str>,
    ) -> Result<Vec<AttachedApi>, ApiError> {
        let op = Op::new(
            "list_plugin_attached_apis",
            format!("listing the APIs bound to plug-in {plugin_id}"),
        );
        let mut call = Call::new(
            &op,
            Method::GET,
            format!("/plugins/{}/attached-apis", encode(plugin_id)),
        )
        .template("/plugins/{plugin_id}/attached-apis");
        if let Some(env_id) = env_id {
            call = call.query("env_id", env_id);
        }
        self.paged(call, "apis").await
    }

    /// Every environment (all pages; RELEASE included).
    pub async fn list_envs(&self) -> Result<Vec<EnvInfo>, ApiError> {
        let op = Op::new("list_environments_v2", "listing environments");
        self.paged(Call::new(&op, Method::GET, "/envs"), "envs")
            .await
    }

    /// Every API, or only those published in `env_id` (all pages).
    pub async fn list_apis(&self, env_id: Option<&str>) -> Result<Vec<ApiInfo>, ApiError> {
        let op = match env_id {
            Some(env) => Op::new(
                "list_apis_v2",
                format!("listing APIs published in environment {env}"),
            ),
            None => Op::new("list_apis_v2", "listing APIs"),
        };
        let mut call = Call::new(&op, Method::GET, "/apis");
        if let Some(env_id) = env_id {
            call = call.query("env_id", env_id);
        }
        self.paged(call, "apis").await
    }
}

impl Client {
    /// The gateway's plug-in quota (`PLUGIN_NUM_LIMIT` of the instance's configs, SPEC §11.3;
    /// `GET …/project/configs`, the path the Terraform provider's
    /// `data_source_huaweicloud_apig_instance_quotas.go` reads). `None` when the gateway does
    /// not report it: no such entry, an answer of another shape, or 400, 403 or 404 (older
    /// gateways, or an account not allowed to read it); the quota is then not enforced.
    pub async fn plugin_quota(&self) -> Result<Option<PluginQuota>, ApiError> {
        let op = Op::new("list_project_cofigs_v2", "reading the plug-in quota");
        let call = Call::new(&op, Method::GET, "/project/configs");
        match self.paged::<InstanceConfig>(call, "configs").await {
            Ok(configs) => Ok(plugin_quota(&configs)),
            Err(e)
                if matches!(e, ApiError::Decode { .. })
                    || matches!(e.status(), Some(400 | 403 | 404)) =>
            {
                tracing::info!(error = %e, "the gateway does not report its plug-in quota; not checked");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The ids of the APIs published in `env_id` (all pages), decoded alone: the rest of
    /// each item is skipped unread.
    pub async fn list_published_api_ids(&self, env_id: &str) -> Result<Vec<String>, ApiError> {
        let op = Op::new(
            "list_apis_v2",
            format!("listing APIs published in environment {env_id}"),
        );
        let call = Call::new(&op, Method::GET, "/apis").query("env_id", env_id);
        let apis: Vec<ApiId> = self.paged(call, "apis").await?;
        Ok(apis.into_iter().map(|a| a.id).collect())
    }
}

fn check_id_count(op: &Op, ids: &[String]) -> Result<(), ApiError> {
    if ids.len() > MAX_APIS_PER_CALL {
        return Err(ApiError::Invalid {
            op: op.clone(),
            reason: format!(
                "{} API ids given, the API takes at most {MAX_APIS_PER_CALL} per call",
                ids.len()
            ),
        });
    }
    Ok(())
}
