//! The binding rules that need an API's path or backend type (the user guides, SPEC §4.3):
//! - APIs of one group with the same path share one CORS plug-in in an environment (APIG user
//!   guide, "CORS": "APIs with the same request path in an API group can only be bound with
//!   the same CORS plug-in policy"; ROMA's guide says "published in the same environment").
//! - No CORS plug-in on an API whose path also has an OPTIONS API in its group ("You cannot
//!   bind the CORS plug-in to APIs with the same request path as another API that uses the
//!   OPTIONS method"; ROMA's guide limits it to the environments the OPTIONS API is published
//!   in, APIG's does not: the APIG wording is followed).
//! - No request mirroring on an API with a Mock backend (APIG user guide, "配置API的流量镜像"
//!   (request mirroring), constraints: "API的后端服务类型为Mock时，不支持绑定流量镜像策略").
//!
//! Sources: support.huaweicloud.com/intl/en-us/usermanual-apig/apig_03_0021.html (CORS),
//! support.huaweicloud.com/intl/en-us/usermanual-roma/roma_03_2147.html (ROMA CORS),
//! support.huaweicloud.com/usermanual-apig/apig_03_0112.html (mirroring).
//!
//! A path or backend type the gateway did not report (empty) is not judged: such an API is
//! left out of these rules, never the cause of an error. Nor is a binding the gateway already
//! holds: it is not attached again, so the gateway has nothing to refuse.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use crate::fast_hash::{HashMap, HashSet};

use crate::model::{Api, Desired, DesiredPlugin, Live, Location, PluginType};

use super::super::error::PlanError;
use super::super::model::Operation;
use super::displace::Origins;
use super::replace::{TEMP_SUFFIX, temp_name};
use super::rules::{Wanted, deleted};

/// The OPTIONS APIs of the instance by (group id, path), for the per-binding rules.
pub(super) struct PathRules<'a> {
    options: HashMap<(&'a str, &'a str), &'a Api>,
}

impl<'a> PathRules<'a> {
    /// Indexes the OPTIONS APIs of `live` whose group and path are known.
    pub(super) fn new(live: &'a Live) -> Self {
        let options = live
            .apis
            .iter()
            .filter(|a| a.method.eq_ignore_ascii_case("OPTIONS") && known(a))
            .map(|a| ((a.group_id.as_str(), a.req_uri.as_str()), a))
            .collect();
        Self { options }
    }

    /// The rule a binding of `plugin` to `api` breaks, if any: a CORS plug-in on a path with
    /// an OPTIONS API, or request mirroring on a Mock backend.
    pub(super) fn binding(
        &self,
        plugin: &DesiredPlugin,
        api: &Api,
        location: &Location,
    ) -> Option<PlanError> {
        match plugin.plugin_type {
            PluginType::Cors if known(api) => {
                let options = self
                    .options
                    .get(&(api.group_id.as_str(), api.req_uri.as_str()))?;
                Some(PlanError::CorsOnOptionsPath {
                    location: location.clone(),
                    plugin: plugin.name.clone(),
                    api: api.name.clone(),
                    options: options.name.clone(),
                    group: api.group_name.clone(),
                    path: api.req_uri.clone(),
                })
            }
            PluginType::ProxyMirror if api.backend_type.eq_ignore_ascii_case("MOCK") => {
                Some(PlanError::MirrorOnMock {
                    location: location.clone(),
                    plugin: plugin.name.clone(),
                    api: api.name.clone(),
                })
            }
            _ => None,
        }
    }
}

/// The group and the path of `api` are known.
fn known(api: &Api) -> bool {
    !api.group_id.is_empty() && !api.req_uri.is_empty()
}

/// A CORS plug-in as it would hold an API after the plan.
#[derive(Clone, Copy)]
struct Holder<'a> {
    plugin: &'a str,
    /// Its binding document, for a plug-in of the manifests.
    location: Option<&'a Location>,
    /// The plan attaches it there (the gateway does not hold that binding yet).
    new: bool,
}

/// One error for each CORS plug-in that would share a path of a group with another one in an
/// environment after the plan: the manifests' CORS plug-ins with the bindings they ask for,
/// and the live CORS plug-ins the plan leaves alone (not in the manifests, not deleted) with
/// their bindings, where they were read. Only a path the plan attaches a CORS plug-in to is
/// judged: where the gateway already holds every binding, there is no attach to refuse.
pub(super) fn shared_cors_paths(
    desired: &Desired,
    live: &Live,
    wanted: &Wanted<'_>,
    origins: &Origins<'_>,
    ops: &[Operation],
) -> Vec<PlanError> {
    let cors = PluginType::Cors;
    // Names whose bindings the plan sets: every plug-in of the manifests and their
    // temporary replacements.
    // The temporary names are made only when a live CORS plug-in's name could be one.
    let names: HashSet<&str> = desired.plugins.iter().map(|p| p.name.as_str()).collect();
    let temps: OnceCell<HashSet<String>> = OnceCell::new();
    let managed = |name: &str| {
        names.contains(name)
            || (name.ends_with(TEMP_SUFFIX)
                && temps
                    .get_or_init(|| desired.plugins.iter().map(|p| temp_name(&p.name)).collect())
                    .contains(name))
    };
    let deleted = deleted(ops);
    // (plug-in, env id, API id) of the CORS bindings the gateway holds.
    let live_cors: HashSet<(&str, &str, &str)> = live
        .plugins
        .iter()
        .filter(|l| l.plugin_type == cors.as_str())
        .flat_map(|l| {
            let bound = l.bindings.iter().flatten();
            bound.map(move |b| (l.name.as_str(), b.env_id.as_str(), b.api_id.as_str()))
        })
        .collect();
    // (env id, API id) → the CORS plug-in there after the plan.
    let mut held: BTreeMap<(&str, &str), Holder<'_>> = BTreeMap::new();
    for l in live.plugins.iter().filter(|l| {
        l.plugin_type == cors.as_str() && !managed(&l.name) && !deleted.contains(l.name.as_str())
    }) {
        for b in l.bindings.iter().flatten() {
            let holder = Holder {
                plugin: &l.name,
                location: None,
                new: false,
            };
            held.insert((&b.env_id, &b.api_id), holder);
        }
    }
    for p in desired.plugins.iter().filter(|p| p.plugin_type == cors) {
        for (env_id, apis) in wanted.get(p.name.as_str()).into_iter().flatten() {
            for api_id in apis {
                let location = origins
                    .get(&(p.name.as_str(), env_id.as_str(), api_id.as_str()))
                    .map_or(&p.location, |o| o.location);
                let holder = Holder {
                    plugin: &p.name,
                    location: Some(location),
                    new: !live_cors.contains(&(p.name.as_str(), env_id.as_str(), api_id.as_str())),
                };
                held.insert((env_id, api_id), holder);
            }
        }
    }
    let apis: HashMap<&str, &Api> = live.apis.iter().map(|a| (a.id.as_str(), a)).collect();
    // (env id, group id, path) → plug-in → (the first API it holds there, its holder; new
    // when the plan attaches it to any API of the path). A path holds a few plug-ins at
    // most: a vector sorted by name, not a map whose every node has room for eleven
    // (a gateway of 40,000 paths spent 25 MB on them).
    type OnPath<'a> = Vec<(&'a str, (&'a Api, Holder<'a>))>;
    let mut paths: BTreeMap<(&str, &str, &str), OnPath<'_>> = BTreeMap::new();
    for ((env_id, api_id), holder) in held {
        let Some(api) = apis.get(api_id).filter(|a| known(a)) else {
            continue;
        };
        let on_path = paths
            .entry((env_id, &api.group_id, &api.req_uri))
            .or_insert_with(|| Vec::with_capacity(1));
        match on_path.binary_search_by(|(name, _)| name.cmp(&holder.plugin)) {
            Ok(at) => on_path[at].1.1.new |= holder.new,
            Err(at) => on_path.insert(at, (holder.plugin, (api, holder))),
        }
    }
    let env_name = |id: &str| {
        live.envs
            .iter()
            .find(|e| e.id == id)
            .map_or_else(|| id.to_owned(), |e| e.name.clone())
    };
    let mut errors = Vec::new();
    let judged = |p: &OnPath<'_>| p.len() > 1 && p.iter().any(|(_, (_, h))| h.new);
    for ((env_id, _, path), on_path) in paths.iter().filter(|(_, p)| judged(p)) {
        // Located at a binding of the manifests: the first of their plug-ins there.
        let Some(&(plugin, (api, holder))) =
            on_path.iter().find(|(_, (_, h))| h.location.is_some())
        else {
            continue;
        };
        let Some(location) = holder.location else {
            continue;
        };
        for &(other, (other_api, other_holder)) in on_path.iter().filter(|(o, _)| *o != plugin) {
            errors.push(PlanError::CorsPathShared {
                location: location.clone(),
                plugin: plugin.to_owned(),
                api: api.name.clone(),
                other: other.to_owned(),
                other_api: other_api.name.clone(),
                other_location: other_holder.location.cloned(),
                group: api.group_name.clone(),
                path: (*path).to_owned(),
                env: env_name(env_id),
            });
        }
    }
    errors
}
