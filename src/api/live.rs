//! Reads a whole instance into [`Live`] with as few calls as the API allows,
//! up to `parallelism` in flight. Only GETs.
//!
//! Calls, with every list fitting one page of 500: `3 + E + P` for E environments
//! and P plug-ins: the plug-in, environment and API lists; the APIs published in
//! each environment (to fill [`Api::published_in`]); the bindings of each plug-in
//! (one `attached-apis` call without environment filter), or of those a filter
//! accepts with [`fetch_live_with`].
//!
//! A plug-in deleted by someone else between the list and the read of its bindings (404
//! APIG.3068 on `attached-apis`, SPEC §3.1) is simply absent from the result, as the
//! Terraform provider treats it (`resourcePluginBatchApisAssociateRead` reads
//! `attached-apis` and hands any error to `common.CheckDeletedDiag`, which drops the
//! resource on a 404).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::client::Client;
use super::error::ApiError;
use super::wire::{ApiInfo, AttachedApi, Plugin};
use crate::model::{Api, Env, Live, LiveBinding, LivePlugin};

/// The answer of one second-stage call.
enum Detail {
    /// APIs published in an environment.
    Published(String, Vec<ApiInfo>),
    /// The bindings of the plug-in at this index.
    Bindings(usize, Vec<AttachedApi>),
    /// The plug-in at this index was deleted after the list.
    Vanished(usize),
}

/// Fetches plug-ins (with their bindings), environments and APIs (with where they are published).
pub async fn fetch_live(client: &Client, parallelism: usize) -> Result<Live, ApiError> {
    fetch_live_with(client, parallelism, |_| true).await
}

/// Like [`fetch_live`], but reads the bindings only of the plug-ins `wants_bindings`
/// accepts (e.g. managed or desired ones); the others get `bindings: None`.
///
/// Beware: the differ needs the bindings of unmanaged plug-ins of a desired type
/// to tell when a desired binding would displace one.
pub async fn fetch_live_with(
    client: &Client,
    parallelism: usize,
    wants_bindings: impl Fn(&Plugin) -> bool,
) -> Result<Live, ApiError> {
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let (plugins, envs, apis) = tokio::try_join!(
        limited(&permits, client.list_plugins()),
        limited(&permits, client.list_envs()),
        limited(&permits, client.list_apis(None)),
    )?;

    let mut tasks = JoinSet::new();
    for env in &envs {
        let (client, permits, env_id) = (client.clone(), permits.clone(), env.id.clone());
        tasks.spawn(async move {
            let apis = limited(&permits, client.list_apis(Some(&env_id))).await?;
            Ok::<_, ApiError>(Detail::Published(env_id, apis))
        });
    }
    for (index, plugin) in plugins.iter().enumerate() {
        if !wants_bindings(plugin) {
            continue;
        }
        let (client, permits, id) = (client.clone(), permits.clone(), plugin.id.clone());
        tasks.spawn(async move {
            match limited(&permits, client.list_attached_apis(&id, None)).await {
                Ok(bound) => Ok(Detail::Bindings(index, bound)),
                Err(e) if vanished(&e) => {
                    tracing::info!(plugin_id = %id, error = %e, "plug-in deleted since the list; left out");
                    Ok(Detail::Vanished(index))
                }
                Err(e) => Err(e),
            }
        });
    }

    let mut published: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut bindings: Vec<Option<Vec<AttachedApi>>> = vec![None; plugins.len()];
    let mut gone = vec![false; plugins.len()];
    while let Some(joined) = tasks.join_next().await {
        // Tasks are never aborted, so a join error is a panic: let it continue.
        let detail = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        match detail {
            Detail::Published(env_id, apis) => {
                for api in apis {
                    published.entry(api.id).or_default().insert(env_id.clone());
                }
            }
            Detail::Bindings(index, bound) => bindings[index] = Some(bound),
            Detail::Vanished(index) => gone[index] = true,
        }
    }
    let (plugins, bindings) = plugins
        .into_iter()
        .zip(bindings)
        .zip(gone)
        .filter(|(_, gone)| !gone)
        .map(|(pair, _)| pair)
        .unzip();
    Ok(assemble(plugins, bindings, &envs, apis, published))
}

/// A 404 on a plug-in's bindings: the plug-in is gone (APIG.3068), not the instance (APIG.3030).
fn vanished(e: &ApiError) -> bool {
    e.is_not_found() && e.code() != Some("APIG.3030")
}

async fn limited<T>(
    permits: &Semaphore,
    call: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    // The semaphore is never closed, so acquiring only waits.
    let _permit = permits.acquire().await;
    call.await
}

fn assemble(
    plugins: Vec<Plugin>,
    bindings: Vec<Option<Vec<AttachedApi>>>,
    envs: &[super::wire::EnvInfo],
    apis: Vec<ApiInfo>,
    published: BTreeMap<String, BTreeSet<String>>,
) -> Live {
    let mut by_id: BTreeMap<String, Api> = BTreeMap::new();
    for api in apis {
        by_id.entry(api.id.clone()).or_insert_with(|| Api {
            published_in: Vec::new(),
            id: api.id,
            name: api.name,
            group_id: api.group_id,
            group_name: api.group_name,
            method: api.req_method,
        });
    }
    // Bound APIs missing from the API list (it should hold them all) are still named.
    for bound in bindings.iter().flatten().flatten() {
        by_id.entry(bound.api_id.clone()).or_insert_with(|| Api {
            id: bound.api_id.clone(),
            name: bound.api_name.clone(),
            group_id: bound.group_id.clone(),
            group_name: bound.group_name.clone(),
            method: bound.req_method.clone(),
            published_in: Vec::new(),
        });
    }
    for (api_id, envs) in published {
        if let Some(api) = by_id.get_mut(&api_id) {
            api.published_in = envs.into_iter().collect();
        }
    }
    let mut apis: Vec<Api> = by_id.into_values().collect();
    apis.sort_by(|a, b| (&a.group_name, &a.name, &a.id).cmp(&(&b.group_name, &b.name, &b.id)));

    let mut plugins: Vec<LivePlugin> = plugins
        .into_iter()
        .zip(bindings)
        .map(|(p, bound)| {
            let bindings = bound.map(|bound| {
                let set: BTreeSet<LiveBinding> = bound
                    .into_iter()
                    .map(|b| LiveBinding {
                        env_id: b.env_id,
                        api_id: b.api_id,
                    })
                    .collect();
                set.into_iter().collect()
            });
            LivePlugin {
                id: p.id,
                name: p.name,
                plugin_type: p.plugin_type,
                scope: p.scope,
                roma_app_id: p.roma_app_id.filter(|s| !s.is_empty()),
                remark: p.remark,
                content: p.content,
                update_time: p.update_time,
                bindings,
            }
        })
        .collect();
    plugins.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));

    let mut envs: Vec<Env> = envs
        .iter()
        .map(|e| Env {
            id: e.id.clone(),
            name: e.name.clone(),
        })
        .collect();
    envs.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Live {
        plugins,
        envs,
        apis,
    }
}
