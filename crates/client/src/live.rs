//! Reads a whole instance into [`Live`] with as few calls as the API allows,
//! up to `parallelism` in flight. Only GETs.
//!
//! Calls, with every list fitting one page of 500: `4 + E + P` for E environments
//! and P plug-ins: the plug-in, environment and API lists and the plug-in quota (the
//! instance's configs, [`Client::plugin_quota`]); the APIs published in
//! each environment (to fill [`Api::published_in`]); the bindings of each plug-in
//! (one `attached-apis` call without environment filter), or of those a filter
//! accepts with [`fetch_live_with`].
//!
//! A plug-in deleted by someone else between the list and the read of its bindings (404
//! APIG.3068 on `attached-apis`, SPEC §3.1) is simply absent from the result, as the
//! Terraform provider treats it (`resourcePluginBatchApisAssociateRead` reads
//! `attached-apis` and hands any error to `common.CheckDeletedDiag`, which drops the
//! resource on a 404).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::client::Client;
use super::error::ApiError;
use super::wire::{ApiInfo, AttachedApi, EnvInfo, Plugin};
use apigsync_core::model::{Api, Env, Live, LiveBinding, LivePlugin, PluginQuota};

/// The answer of one call of the fetch.
enum Detail {
    /// Every plug-in.
    Plugins(Vec<Plugin>),
    /// Every environment.
    Envs(Vec<EnvInfo>),
    /// Every API.
    Apis(Vec<ApiInfo>),
    /// The plug-in quota, when the gateway reports it.
    Quota(Option<PluginQuota>),
    /// The ids of the APIs published in an environment.
    Published(String, Vec<String>),
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
/// No stage waits for another: the bindings are read as soon as the plug-in list is in,
/// the published APIs as soon as the environment list is, whatever the API list is doing.
///
/// Beware: the differ needs the bindings of unmanaged plug-ins of a desired type
/// to tell when a desired binding would displace one.
pub async fn fetch_live_with(
    client: &Client,
    parallelism: usize,
    wants_bindings: impl Fn(&Plugin) -> bool,
) -> Result<Live, ApiError> {
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut tasks = JoinSet::new();
    for list in [List::Plugins, List::Envs, List::Apis, List::Quota] {
        let (client, permits) = (client.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire().await;
            Ok(match list {
                List::Plugins => Detail::Plugins(client.list_plugins().await?),
                List::Envs => Detail::Envs(client.list_envs().await?),
                List::Apis => Detail::Apis(client.list_apis(None).await?),
                List::Quota => Detail::Quota(client.plugin_quota().await?),
            })
        });
    }

    let mut plugins = Vec::new();
    let mut envs = Vec::new();
    let mut by_id = None;
    let mut published: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut bindings: Vec<Option<Bound>> = Vec::new();
    // Bindings read before the API list came in (it tells which bound APIs it lacks).
    let mut unsorted: Vec<(usize, Vec<AttachedApi>)> = Vec::new();
    let mut gone = Vec::new();
    let mut plugin_quota = None;
    // Plug-ins whose bindings are still to read. Their tasks are spawned a few at a time:
    // 10,000 tasks spawned at once hold 40 MB of futures that wait for a permit.
    let mut queued: VecDeque<(usize, String)> = VecDeque::new();
    loop {
        while tasks.len() < 2 * parallelism.max(1)
            && let Some((index, id)) = queued.pop_front()
        {
            spawn_bindings(&mut tasks, client, &permits, index, id);
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        // Tasks are never aborted, so a join error is a panic: let it continue.
        let detail = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        match detail {
            Detail::Plugins(list) => {
                queued.extend(
                    list.iter()
                        .enumerate()
                        .filter(|(_, plugin)| wants_bindings(plugin))
                        .map(|(index, plugin)| (index, plugin.id.clone())),
                );
                bindings.resize_with(list.len(), || None);
                gone = vec![false; list.len()];
                plugins = list;
            }
            Detail::Envs(list) => {
                for env in &list {
                    let (client, permits, env_id) =
                        (client.clone(), permits.clone(), env.id.clone());
                    tasks.spawn(async move {
                        let apis =
                            limited(&permits, client.list_published_api_ids(&env_id)).await?;
                        Ok(Detail::Published(env_id, apis))
                    });
                }
                envs = list;
            }
            Detail::Apis(list) => {
                let listed = listed(list);
                for (index, bound) in unsorted.drain(..) {
                    bindings[index] = Some(condense(bound, &listed));
                }
                by_id = Some(listed);
            }
            Detail::Published(env_id, apis) => {
                for api in apis {
                    published.entry(api).or_default().insert(env_id.clone());
                }
            }
            // Kept as the pairs alone (and the rare API the list lacks), not as the
            // answer's items: those hold ten strings each, 80,000 of them at 10,000 plug-ins.
            Detail::Bindings(index, bound) => match &by_id {
                Some(listed) => bindings[index] = Some(condense(bound, listed)),
                None => unsorted.push((index, bound)),
            },
            Detail::Vanished(index) => gone[index] = true,
            Detail::Quota(quota) => plugin_quota = quota,
        }
    }
    // Every task ended, the API list's among them.
    let mut by_id = by_id.unwrap_or_default();
    let (plugins, bindings): (Vec<Plugin>, Vec<Option<Bound>>) = plugins
        .into_iter()
        .zip(bindings)
        .zip(gone)
        .filter(|(_, gone)| !gone)
        .map(|(pair, _)| pair)
        .unzip();
    // Bound APIs missing from the API list (it should hold them all) are still named.
    for bound in bindings.iter().flatten() {
        for api in &bound.unlisted {
            by_id.entry(api.id.clone()).or_insert_with(|| api.clone());
        }
    }
    let mut live = assemble(plugins, bindings, &envs, by_id, published);
    live.plugin_quota = plugin_quota;
    Ok(live)
}

/// The lists the fetch starts with.
#[derive(Clone, Copy)]
enum List {
    Plugins,
    Envs,
    Apis,
    Quota,
}

/// Reads the bindings of the plug-in at `index` (id `id`) in a task of `tasks`.
fn spawn_bindings(
    tasks: &mut JoinSet<Result<Detail, ApiError>>,
    client: &Client,
    permits: &Arc<Semaphore>,
    index: usize,
    id: String,
) {
    let (client, permits) = (client.clone(), permits.clone());
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

/// A plug-in's bindings as read: the distinct pairs, sorted, and the bound APIs the API
/// list does not hold.
pub(crate) struct Bound {
    pub(crate) bindings: Vec<LiveBinding>,
    pub(crate) unlisted: Vec<Api>,
}

/// The APIs of the list by id (the first of a duplicated id wins).
pub(crate) fn listed(apis: Vec<ApiInfo>) -> BTreeMap<String, Api> {
    let mut by_id: BTreeMap<String, Api> = BTreeMap::new();
    for api in apis {
        by_id.entry(api.id.clone()).or_insert_with(|| Api {
            published_in: Vec::new(),
            id: api.id,
            name: api.name,
            group_id: api.group_id,
            group_name: api.group_name,
            method: api.req_method,
            req_uri: api.req_uri,
            backend_type: api.backend_type,
        });
    }
    by_id
}

pub(crate) fn condense(bound: Vec<AttachedApi>, listed: &BTreeMap<String, Api>) -> Bound {
    let mut unlisted = Vec::new();
    let mut pairs = BTreeSet::new();
    for b in bound {
        if !listed.contains_key(&b.api_id) {
            unlisted.push(Api {
                id: b.api_id.clone(),
                name: b.api_name,
                group_id: b.group_id,
                group_name: b.group_name,
                method: b.req_method,
                req_uri: b.req_uri,
                // attached-apis does not say (SPEC §3.9): unknown.
                backend_type: String::new(),
                published_in: Vec::new(),
            });
        }
        pairs.insert(LiveBinding {
            env_id: b.env_id,
            api_id: b.api_id,
        });
    }
    Bound {
        bindings: pairs.into_iter().collect(),
        unlisted,
    }
}

/// A 404 on a plug-in's bindings: the plug-in is gone (APIG.3068), not the instance (APIG.3030).
pub(crate) fn vanished(e: &ApiError) -> bool {
    e.is_not_found() && e.code() != Some("APIG.3030")
}

pub(crate) async fn limited<T>(
    permits: &Semaphore,
    call: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    // The semaphore is never closed, so acquiring only waits.
    let _permit = permits.acquire().await;
    call.await
}

pub(crate) fn assemble(
    plugins: Vec<Plugin>,
    bindings: Vec<Option<Bound>>,
    envs: &[EnvInfo],
    mut by_id: BTreeMap<String, Api>,
    published: BTreeMap<String, BTreeSet<String>>,
) -> Live {
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
            let bindings = bound.map(|bound| bound.bindings);
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
        plugin_quota: None,
    }
}
