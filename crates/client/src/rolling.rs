//! A view of the gateway read in parts, for `watch` (issue 19): the lists (plug-ins with
//! their contents and remarks, environments, APIs, where they are published, the quota)
//! are read whole each time, the bindings part by part: one part is a plug-in's bindings
//! (`attached-apis`, SPEC §3.9 #10) or an API's (`attached-plugins`, SPEC §3.9 #11),
//! whichever [`Direction`] costs fewer calls. Each part keeps the time it was read, so the
//! view knows how old its oldest part is ([`Ages::oldest`]).
//!
//! A read given the earlier view and a number of calls re-reads every new part (a plug-in
//! or API listed since) and, of the others, the least recently read that fit: a rolling
//! scan, round-robin, where every part is read again within `ceil(parts / slice)` reads.
//! Parts no longer listed drop out.
//!
//! Service assumption (SPEC §3.9 #11): `GET /apis/{api_id}/attached-plugins` without
//! `env_id` lists every plug-in bound to the API in every environment, each item with the
//! binding's `env_id` (the query table lists `env_id` as an optional filter, and the
//! answer's `AttachedPluginInfo` carries it). Were it wrong (bindings of some environment
//! missing), a view read per API would miss bindings: so a caller plans against such a view
//! only to find what to re-read per plug-in ([`crate::refresh`]), and acts on that; and a
//! service that refuses the call without `env_id` (a 4xx) is read per plug-in instead.
//!
//! Both directions give the same [`Live`] as [`crate::fetch_live`] when the API list holds
//! every bound API; a binding to an API the list lacks is seen only per plug-in (per API
//! there is no such API to ask), and only a detach of it would be missed, never a write.
//! Pages: each part read follows every page (`paged`); an API holds at most one plug-in
//! of a type per environment (SPEC §8), so its answer rarely needs a second page.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::client::Client;
use super::error::ApiError;
use super::kind::ErrorKind;
use super::live::{Bound, assemble, condense, limited, listed, vanished};
use apigsync_core::model::{Api, Live, LiveBinding};

/// Which way bindings are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// One `attached-apis` call per plug-in (SPEC §3.9 #10).
    PerPlugin,
    /// One `attached-plugins` call per API, every environment at once (SPEC §3.9 #11).
    PerApi,
}

impl Direction {
    /// The cheaper direction on a gateway of `plugins` plug-ins and `apis` APIs: one call
    /// each (and one per further page of 500 bindings, rare either way).
    pub fn cheaper(plugins: usize, apis: usize) -> Self {
        if apis < plugins {
            Self::PerApi
        } else {
            Self::PerPlugin
        }
    }
}

/// When each part of a view was read.
#[derive(Debug, Clone)]
pub struct Ages {
    /// How the bindings were read: the parts are plug-ins or APIs.
    pub direction: Direction,
    /// When the lists were read.
    lists: Instant,
    /// When each part (a plug-in id or an API id) was read.
    parts: BTreeMap<String, Instant>,
}

impl Ages {
    /// When the oldest part of the view was read: its staleness is the time since.
    pub fn oldest(&self) -> Instant {
        self.parts.values().copied().fold(self.lists, Instant::min)
    }

    /// The parts of the view.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// The ages of `live`, every part of it read `direction` at `at`.
    pub fn whole(direction: Direction, at: Instant, live: &Live) -> Self {
        let parts = match direction {
            Direction::PerPlugin => live.plugins.iter().map(|p| (p.id.clone(), at)).collect(),
            Direction::PerApi => live.apis.iter().map(|a| (a.id.clone(), at)).collect(),
        };
        Self {
            direction,
            lists: at,
            parts,
        }
    }
}

/// A live state and the age of each of its parts.
#[derive(Debug, Clone)]
pub struct View {
    /// The gateway as read.
    pub live: Live,
    /// When each part was read.
    pub ages: Ages,
    /// Every part was read by this read (none kept from an earlier one).
    pub whole: bool,
}

/// Reads the gateway, `parallelism` calls at once: every part when there is no `earlier`
/// view (or it was read the other way) or `fits` is `None`, else the new parts and the
/// least recently read others within `fits` calls (the lists' calls counted in). The
/// direction is `direction`, or the cheaper one for the counts just listed.
pub async fn read_view(
    client: &Client,
    parallelism: usize,
    earlier: Option<View>,
    fits: Option<usize>,
    direction: Option<Direction>,
) -> Result<View, ApiError> {
    let lists = read_lists(client, parallelism).await?;
    let asked = direction;
    let direction =
        direction.unwrap_or_else(|| Direction::cheaper(lists.plugins.len(), lists.by_id.len()));
    match read_in(client, parallelism, earlier, fits, direction, lists).await {
        Ok(view) => Ok(view),
        // A service that refuses the per-API read without `env_id` (the assumption above
        // wrong): read per plug-in, which needs no such assumption.
        Err((e, lists)) if asked.is_none() && e.kind() == ErrorKind::Rejected => {
            tracing::warn!(error = %e, "reading bindings per API was refused; reading them per plug-in");
            read_in(client, parallelism, None, None, Direction::PerPlugin, lists)
                .await
                .map_err(|(e, _)| e)
        }
        Err((e, _)) => Err(e),
    }
}

/// The rest of [`read_view`] once the lists are in: the parts `direction` (all of them, or
/// those that fit), then the view. A failed part read gives back the lists, for another
/// direction.
async fn read_in(
    client: &Client,
    parallelism: usize,
    earlier: Option<View>,
    fits: Option<usize>,
    direction: Direction,
    lists: Lists,
) -> Result<View, (ApiError, Lists)> {
    let started = lists.at;
    let listed: Vec<String> = match direction {
        Direction::PerPlugin => lists.plugins.iter().map(|p| p.id.clone()).collect(),
        Direction::PerApi => lists.by_id.keys().cloned().collect(),
    };
    let earlier = earlier.filter(|v| v.ages.direction == direction);
    let room = fits.map(|fits| fits.saturating_sub(lists.calls).max(1));
    let kept_ages = earlier
        .as_ref()
        .map(|v| v.ages.parts.clone())
        .unwrap_or_default();
    let chosen = choose(&listed, &kept_ages, room);
    let whole = chosen.len() == listed.len();
    let read = match read_parts(client, parallelism, direction, &chosen, &lists.by_id).await {
        Ok(read) => read,
        Err(e) => return Err((e, lists)),
    };

    let mut parts = BTreeMap::new();
    for id in &listed {
        if chosen.contains(id.as_str()) {
            if !read.gone.contains(id) {
                parts.insert(id.clone(), started);
            }
        } else if let Some(at) = kept_ages.get(id) {
            parts.insert(id.clone(), *at);
        }
    }
    let live = match direction {
        Direction::PerPlugin => per_plugin(lists, read, earlier.as_ref().map(|v| &v.live)),
        Direction::PerApi => per_api(lists, read, earlier.as_ref().map(|v| &v.live)),
    };
    Ok(View {
        live,
        ages: Ages {
            direction,
            lists: started,
            parts,
        },
        whole,
    })
}

/// The parts to read: every one of `listed` not in `ages` (new), then the least recently
/// read of the others (oldest first, ties by id) up to `room` in all; all when `room` is
/// `None` or they fit.
fn choose<'a>(
    listed: &'a [String],
    ages: &BTreeMap<String, Instant>,
    room: Option<usize>,
) -> BTreeSet<&'a str> {
    let Some(room) = room else {
        return listed.iter().map(String::as_str).collect();
    };
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    let mut known: Vec<(Instant, &str)> = Vec::new();
    for id in listed {
        match ages.get(id) {
            Some(at) => known.push((*at, id)),
            None => {
                chosen.insert(id);
            }
        }
    }
    known.sort_unstable();
    let left = room.saturating_sub(chosen.len());
    chosen.extend(known.into_iter().take(left).map(|(_, id)| id));
    chosen
}

/// The lists every read starts with.
struct Lists {
    /// When their read began.
    at: Instant,
    /// The calls they took (pages and retries included).
    calls: usize,
    plugins: Vec<crate::wire::Plugin>,
    envs: Vec<crate::wire::EnvInfo>,
    /// The listed APIs by id, shared with the part reads (per plug-in they name the APIs).
    by_id: Arc<BTreeMap<String, Api>>,
    published: BTreeMap<String, BTreeSet<String>>,
    quota: Option<apigsync_core::model::PluginQuota>,
}

async fn read_lists(client: &Client, parallelism: usize) -> Result<Lists, ApiError> {
    let at = Instant::now();
    let before = client.stats().total_calls();
    let (plugins, envs, apis, quota) = tokio::try_join!(
        client.list_plugins(),
        client.list_envs(),
        client.list_apis(None),
        client.plugin_quota(),
    )?;
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut tasks = JoinSet::new();
    for env in &envs {
        let (client, permits, env_id) = (client.clone(), permits.clone(), env.id.clone());
        tasks.spawn(async move {
            let apis = limited(&permits, client.list_published_api_ids(&env_id)).await?;
            Ok::<_, ApiError>((env_id, apis))
        });
    }
    let mut published: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        // Tasks are never aborted, so a join error is a panic: let it continue.
        let (env_id, apis) =
            joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        for api in apis {
            published.entry(api).or_default().insert(env_id.clone());
        }
    }
    let calls =
        usize::try_from(client.stats().total_calls().saturating_sub(before)).unwrap_or(usize::MAX);
    Ok(Lists {
        at,
        calls,
        plugins,
        envs,
        by_id: Arc::new(listed(apis)),
        published,
        quota,
    })
}

/// The answers of the part reads.
#[derive(Default)]
struct Parts {
    /// Per plug-in: its bindings, by plug-in id.
    plugins: BTreeMap<String, Bound>,
    /// Per API: `(plug-in id, environment id)` bound to it, by API id.
    apis: BTreeMap<String, Vec<(String, String)>>,
    /// Parts gone since the list (404).
    gone: BTreeSet<String>,
}

enum Answer {
    Plugin(String, Bound),
    Api(String, Vec<(String, String)>),
    Gone(String),
}

async fn read_parts(
    client: &Client,
    parallelism: usize,
    direction: Direction,
    chosen: &BTreeSet<&str>,
    by_id: &Arc<BTreeMap<String, Api>>,
) -> Result<Parts, ApiError> {
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut queued: Vec<String> = chosen.iter().map(|id| (*id).to_owned()).collect();
    let mut tasks: JoinSet<Result<Answer, ApiError>> = JoinSet::new();
    let mut parts = Parts::default();
    loop {
        // A few tasks at a time: thousands spawned at once would each hold a future.
        while tasks.len() < 2 * parallelism.max(1)
            && let Some(id) = queued.pop()
        {
            let (client, permits, by_id) = (client.clone(), permits.clone(), by_id.clone());
            tasks.spawn(async move {
                let answer = match direction {
                    Direction::PerPlugin => limited(&permits, client.list_attached_apis(&id, None))
                        .await
                        .map(|bound| Answer::Plugin(id.clone(), condense(bound, &by_id))),
                    Direction::PerApi => limited(&permits, client.list_api_bindings(&id, None))
                        .await
                        .map(|bound| Answer::Api(id.clone(), bound)),
                };
                match answer {
                    Err(e) if vanished(&e) => Ok(Answer::Gone(id)),
                    other => other,
                }
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))? {
            Answer::Plugin(id, bound) => {
                parts.plugins.insert(id, bound);
            }
            Answer::Api(id, bound) => {
                parts.apis.insert(id, bound);
            }
            Answer::Gone(id) => {
                parts.gone.insert(id);
            }
        }
    }
    Ok(parts)
}

/// The view read per plug-in: each plug-in's bindings as read now, or as `earlier` had them.
fn per_plugin(lists: Lists, mut read: Parts, earlier: Option<&Live>) -> Live {
    let kept: BTreeMap<&str, &Option<Vec<LiveBinding>>> = earlier
        .map(|l| {
            l.plugins
                .iter()
                .map(|p| (p.id.as_str(), &p.bindings))
                .collect()
        })
        .unwrap_or_default();
    let Lists {
        plugins,
        envs,
        by_id,
        published,
        quota,
        ..
    } = lists;
    // The part reads are done: the map is no longer shared, and this takes it without a copy.
    let mut by_id = Arc::unwrap_or_clone(by_id);
    let mut kept_plugins = Vec::new();
    let mut bindings = Vec::new();
    for plugin in plugins {
        if read.gone.contains(&plugin.id) {
            continue;
        }
        let bound = match read.plugins.remove(&plugin.id) {
            Some(bound) => Some(bound),
            None => kept
                .get(plugin.id.as_str())
                .and_then(|b| b.as_ref())
                .map(|b| Bound {
                    bindings: b.clone(),
                    unlisted: Vec::new(),
                }),
        };
        kept_plugins.push(plugin);
        bindings.push(bound);
    }
    // Bound APIs missing from the API list are still named (as the earlier view named them).
    for bound in bindings.iter().flatten() {
        for api in &bound.unlisted {
            by_id.entry(api.id.clone()).or_insert_with(|| api.clone());
        }
    }
    let named: BTreeSet<&str> = bindings
        .iter()
        .flatten()
        .flat_map(|b| b.bindings.iter().map(|b| b.api_id.as_str()))
        .collect();
    for api in earlier.map(|l| l.apis.as_slice()).unwrap_or_default() {
        if named.contains(api.id.as_str()) && !by_id.contains_key(&api.id) {
            by_id.insert(api.id.clone(), api.clone());
        }
    }
    let mut live = assemble(kept_plugins, bindings, &envs, by_id, published);
    live.plugin_quota = quota;
    live
}

/// The view read per API: each listed plug-in's bindings gathered from the APIs' answers
/// (read now, or as `earlier` had them); a plug-in bound nowhere has none.
fn per_api(lists: Lists, read: Parts, earlier: Option<&Live>) -> Live {
    // An API read now (answered, or gone) replaces what the earlier view held of it.
    let mut read_now: BTreeSet<String> = read.gone;
    let mut by_plugin: BTreeMap<String, BTreeSet<LiveBinding>> = BTreeMap::new();
    for (api_id, bound) in read.apis {
        for (plugin_id, env_id) in bound {
            by_plugin.entry(plugin_id).or_default().insert(LiveBinding {
                env_id,
                api_id: api_id.clone(),
            });
        }
        read_now.insert(api_id);
    }
    for plugin in earlier.map(|l| l.plugins.as_slice()).unwrap_or_default() {
        for b in plugin.bindings.iter().flatten() {
            if lists.by_id.contains_key(&b.api_id) && !read_now.contains(&b.api_id) {
                by_plugin
                    .entry(plugin.id.clone())
                    .or_default()
                    .insert(b.clone());
            }
        }
    }
    let Lists {
        plugins,
        envs,
        by_id,
        published,
        quota,
        ..
    } = lists;
    let bindings = plugins
        .iter()
        .map(|p| {
            Some(Bound {
                bindings: by_plugin
                    .remove(&p.id)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                unlisted: Vec::new(),
            })
        })
        .collect();
    let mut live = assemble(
        plugins,
        bindings,
        &envs,
        Arc::unwrap_or_clone(by_id),
        published,
    );
    live.plugin_quota = quota;
    live
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_slice_of_two_reads_five_parts_round_robin_within_three_reads() {
        let listed = ids(&["a", "b", "c", "d", "e"]);
        let start = Instant::now();
        let mut ages: BTreeMap<String, Instant> =
            listed.iter().map(|id| (id.clone(), start)).collect();
        let mut rounds = Vec::new();
        for round in 1..=4u64 {
            let chosen: Vec<String> = choose(&listed, &ages, Some(2))
                .into_iter()
                .map(str::to_owned)
                .collect();
            for id in &chosen {
                ages.insert(id.clone(), start + Duration::from_secs(round));
            }
            rounds.push(chosen.join(""));
        }
        assert_eq!(rounds, ["ab", "cd", "ae", "bc"]);
    }

    #[test]
    fn new_parts_are_read_at_once_even_beyond_the_slice_and_gone_ones_drop_out() {
        let at = Instant::now();
        let ages: BTreeMap<String, Instant> = ids(&["gone", "kept"])
            .into_iter()
            .map(|id| (id, at))
            .collect();
        let listed = ids(&["kept", "new1", "new2"]);
        let chosen: Vec<&str> = choose(&listed, &ages, Some(1)).into_iter().collect();
        assert_eq!(chosen, ["new1", "new2"]);
        let all: Vec<&str> = choose(&listed, &ages, None).into_iter().collect();
        assert_eq!(all, ["kept", "new1", "new2"]);
    }

    #[test]
    fn the_cheaper_direction_follows_the_counts() {
        assert_eq!(Direction::cheaper(3_000, 7), Direction::PerApi);
        assert_eq!(Direction::cheaper(8, 8), Direction::PerPlugin);
        assert_eq!(Direction::cheaper(3, 50), Direction::PerPlugin);
    }
}
