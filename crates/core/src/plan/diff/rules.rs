//! Resolution of the desired bindings against the live APIs and environments, and the
//! plan-time rules the service enforces on them (those that need an API's path or backend
//! type are in [`super::paths`], the plug-in quota in [`super::quota`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::fast_hash::{HashMap, HashSet};

use serde_json::Value;

use crate::content;
use crate::model::{Api, ApiRef, Desired, DesiredPlugin, Live, LivePlugin, Location, PluginType};

use super::super::model::{Notice, NoticeKind, OpKind, Operation};

use super::super::error::PlanError;
use super::super::resolve::{self, ApiLookup, Resolver};
use super::paths::PathRules;

/// Desired bindings after resolution: plug-in name → env id → API ids.
pub(super) type Wanted<'a> = BTreeMap<&'a str, BTreeMap<String, BTreeSet<String>>>;

/// The method rules of the user guides (SPEC §4.3): a CORS plug-in's `allow_methods`
/// lists every bound API's method; a response cache binds only to GET and HEAD APIs.
/// Unknown methods and `ANY` APIs are not judged.
fn method_rule(plugin: &DesiredPlugin, api: &Api, location: &Location) -> Option<PlanError> {
    let method = api.method.to_ascii_uppercase();
    if method.is_empty() || method == "ANY" {
        return None;
    }
    match plugin.plugin_type {
        PluginType::Cors => {
            let allowed = plugin.content.get("allow_methods")?.as_str()?;
            let listed = allowed
                .split(',')
                .map(|m| m.trim().to_ascii_uppercase())
                .any(|m| m == "*" || m == method);
            (!listed).then(|| PlanError::MethodNotAllowed {
                location: location.clone(),
                plugin: plugin.name.clone(),
                api: api.name.clone(),
                method,
                allowed: allowed.to_owned(),
            })
        }
        PluginType::ProxyCache => {
            (method != "GET" && method != "HEAD").then(|| PlanError::CacheNeedsGet {
                location: location.clone(),
                plugin: plugin.name.clone(),
                api: api.name.clone(),
                method,
            })
        }
        _ => None,
    }
}

/// Whether apigsync knows the live plug-in's type; one it does not (e.g. `jwt_auth` on newer
/// gateways, SPEC §4.2) is never changed, pruned or adopted.
pub(super) fn known_type(plugin: &LivePlugin) -> bool {
    plugin.plugin_type.parse::<PluginType>().is_ok()
}

/// Where a desired binding of (plug-in, env id, API id) comes from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Origin<'a> {
    /// The binding document.
    pub(super) location: &'a Location,
    /// `displace: true` in that document.
    pub(super) displace: bool,
}

/// The desired bindings resolved against the live state.
pub(super) struct Resolved<'a> {
    /// Plug-in name → env id → API ids.
    pub(super) wanted: Wanted<'a>,
    /// (plug-in, env id, API id) → the first binding document that asks for it.
    pub(super) origins: super::displace::Origins<'a>,
    /// Bindings kept to APIs taken offline.
    pub(super) notices: Vec<Notice>,
}

/// The bindings the gateway holds, by (plug-in name, type, scope, environment id, API id):
/// built once, on the first desired binding to an API that is not published, so that
/// checking each of them costs one look-up.
#[derive(Default)]
struct HeldBindings<'a> {
    held: Option<HashSet<HeldKey<'a>>>,
}

/// (plug-in name, type, scope, environment id, API id) of a binding the gateway holds.
type HeldKey<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

impl<'a> HeldBindings<'a> {
    /// Whether the gateway already binds `plugin` (of the desired type and scope, so not
    /// replaced by this plan) to `api_id` in `env_id`: such a binding survives an API going
    /// offline (SPEC §3.8: "Taking an API offline does not remove its bindings"; attached-apis
    /// "also includes APIs taken offline"), so the manifests may keep it.
    fn kept(&mut self, live: &'a Live, plugin: &DesiredPlugin, env_id: &str, api_id: &str) -> bool {
        let held = self.held.get_or_insert_with(|| {
            live.plugins
                .iter()
                .flat_map(|l| {
                    l.bindings.iter().flatten().map(move |b| {
                        (
                            l.name.as_str(),
                            l.plugin_type.as_str(),
                            l.scope.as_str(),
                            b.env_id.as_str(),
                            b.api_id.as_str(),
                        )
                    })
                })
                .collect()
        });
        held.contains(&(
            plugin.name.as_str(),
            plugin.plugin_type.as_str(),
            plugin.scope.as_str(),
            env_id,
            api_id,
        ))
    }
}

/// Resolves every desired binding; unresolvable references become errors. Only a binding
/// the gateway does not hold yet must name an API published in its environment; one it
/// already holds to an API taken offline since is kept, with a notice.
pub(super) fn resolve_bindings<'a>(
    desired: &'a Desired,
    live: &'a Live,
    errors: &mut Vec<PlanError>,
) -> Resolved<'a> {
    let mut out = Resolved {
        wanted: BTreeMap::new(),
        origins: HashMap::default(),
        notices: Vec::new(),
    };
    // (env id, type, API id) → the first plug-in bound there, and where.
    let mut taken: HashMap<(&str, PluginType, &str), (&str, &Location)> = HashMap::default();
    let resolver = Resolver::new(live);
    let mut held = HeldBindings::default();
    let path_rules = PathRules::new(live);
    let mut declared_by_name = HashMap::default();
    for p in &desired.plugins {
        declared_by_name.entry(p.name.as_str()).or_insert(p);
    }
    for binding in &desired.bindings {
        let plugin = binding.plugin.as_str();
        let location = &binding.location;
        let Some(&declared) = declared_by_name.get(plugin) else {
            errors.push(PlanError::UnknownPlugin {
                location: location.clone(),
                plugin: plugin.to_owned(),
            });
            continue;
        };
        let env = match resolver.env(&binding.env) {
            Ok(env) => env,
            Err(did_you_mean) => {
                errors.push(PlanError::UnknownEnv {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    env: binding.env.clone(),
                    did_you_mean,
                    existing: resolver.env_names(),
                });
                continue;
            }
        };
        out.wanted
            .entry(plugin)
            .or_default()
            .entry(env.id.clone())
            .or_default();
        for (i, reference) in binding.apis.iter().enumerate() {
            let api = match resolver.api(reference) {
                Ok(api) => api,
                Err(ApiLookup::Unknown(close)) => {
                    errors.push(PlanError::UnknownApi {
                        location: binding.api_locations.get(i).unwrap_or(location).clone(),
                        plugin: plugin.to_owned(),
                        api: resolve::label(reference),
                        close,
                    });
                    continue;
                }
                Err(ApiLookup::Ambiguous(candidates)) => {
                    errors.push(PlanError::AmbiguousApi {
                        location: location.clone(),
                        plugin: plugin.to_owned(),
                        api: resolve::label(reference),
                        candidates,
                    });
                    continue;
                }
            };
            if !api.published_in.contains(&env.id) {
                if !held.kept(live, declared, &env.id, &api.id) {
                    errors.push(PlanError::NotPublished {
                        location: location.clone(),
                        plugin: plugin.to_owned(),
                        api: api.name.clone(),
                        env: env.name.clone(),
                    });
                    continue;
                }
                out.notices.push(Notice {
                    kind: NoticeKind::Offline,
                    plugin: plugin.to_owned(),
                    message: format!(
                        "API {:?} is offline in {}: the gateway keeps its binding to plug-in {plugin:?}, which takes effect again when the API is published; remove the API from the binding to detach it",
                        api.name, env.name
                    ),
                    location: Some(location.clone()),
                });
            }
            // A binding the gateway already holds is not attached again: it cannot be refused.
            let path_rule = || {
                path_rules
                    .binding(declared, api, location)
                    .filter(|_| !held.kept(live, declared, &env.id, &api.id))
            };
            if let Some(error) = method_rule(declared, api, location).or_else(path_rule) {
                errors.push(error);
                continue;
            }
            let key = (env.id.as_str(), declared.plugin_type, api.id.as_str());
            match taken.get(&key) {
                Some((other, other_location)) if *other != plugin => {
                    errors.push(PlanError::TwoOfOneType {
                        location: location.clone(),
                        plugin: plugin.to_owned(),
                        other_location: (*other_location).clone(),
                        other: (*other).to_owned(),
                        plugin_type: declared.plugin_type.to_string(),
                        api: api.name.clone(),
                        env: env.name.clone(),
                    });
                }
                Some(_) => {}
                None => {
                    taken.insert(key, (plugin, location));
                }
            }
            if let Some(apis) = out.wanted.get_mut(plugin).and_then(|w| w.get_mut(&env.id)) {
                apis.insert(api.id.clone());
            }
            out.origins
                .entry((plugin, env.id.as_str(), api.id.as_str()))
                .or_insert(Origin {
                    location,
                    displace: binding.displace,
                });
        }
    }
    out
}

/// The content fields of `oidc_auth` that name an API bound to the plug-in (SPEC §6.9:
/// "API bound to the plug-in that receives the IdP redirect"; the same for logout).
const OIDC_API_FIELDS: [&str; 2] = ["redirect_api_id", "logout_api_id"];

/// Resolves the redirect and logout APIs of every `oidc_auth` plug-in among the APIs the
/// manifests bind it to: written like a binding's API (a name, an id, `{id: …}` or
/// `{group: …, name: …}`), sent as the API id. The API must be bound to the plug-in in every
/// environment the plug-in is bound in (the redirect lands where the user logs in).
/// `None` when no content changes.
pub(super) fn oidc_apis(
    desired: &Desired,
    live: &Live,
    wanted: &Wanted<'_>,
    errors: &mut Vec<PlanError>,
) -> Option<Desired> {
    let resolver = Resolver::new(live);
    let names = |ids: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        ids.map(|id| {
            resolver
                .api(&ApiRef::Id { id: id.to_owned() })
                .map_or_else(|_| id.to_owned(), |a| a.name.clone())
        })
        .collect()
    };
    let no_envs = BTreeMap::new();
    let mut out: Option<Desired> = None;
    for (i, p) in desired.plugins.iter().enumerate() {
        if p.plugin_type != PluginType::OidcAuth {
            continue;
        }
        let per_env = wanted.get(p.name.as_str()).unwrap_or(&no_envs);
        let bound: BTreeSet<&str> = per_env.values().flatten().map(String::as_str).collect();
        for field in OIDC_API_FIELDS {
            let Some(written) = p.content.get(field).filter(|v| !is_unset(v)) else {
                continue;
            };
            let reference = match written {
                Value::String(s) if bound.contains(s.as_str()) => ApiRef::Id { id: s.clone() },
                other => serde_json::from_value(other.clone())
                    .unwrap_or_else(|_| ApiRef::Name(other.to_string())),
            };
            let not_bound = |env: Option<String>, ids: &mut dyn Iterator<Item = &str>| {
                PlanError::OidcApiNotBound {
                    location: p.location.clone(),
                    plugin: p.name.clone(),
                    field: field.to_owned(),
                    api: resolve::label(&reference),
                    env,
                    bound: names(ids),
                }
            };
            let api = match resolver.api(&reference) {
                Ok(api) if bound.contains(api.id.as_str()) => api,
                _ => {
                    errors.push(not_bound(None, &mut bound.iter().copied()));
                    continue;
                }
            };
            let mut missing = false;
            for (env_id, ids) in per_env.iter().filter(|(_, ids)| !ids.contains(&api.id)) {
                let env = resolver
                    .env(env_id)
                    .map_or(env_id.clone(), |e| e.name.clone());
                errors.push(not_bound(Some(env), &mut ids.iter().map(String::as_str)));
                missing = true;
            }
            if !missing && written.as_str() != Some(api.id.as_str()) {
                let d = out.get_or_insert_with(|| desired.clone());
                d.plugins[i].content[field] = Value::from(api.id.clone());
            }
        }
    }
    out
}

/// An optional field left empty (`logout_api_id: ""` means no logout API).
fn is_unset(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

/// The names of the plug-ins `ops` delete.
pub(super) fn deleted(ops: &[Operation]) -> BTreeSet<&str> {
    ops.iter()
        .filter_map(|op| match &op.kind {
            OpKind::DeletePlugin { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

/// The Kafka log plug-ins the gateway would hold after `ops`: live ones of every owner the
/// plan does not delete, and the ones it creates. A plan that creates one beyond
/// [`content::KAFKA_LOG_PER_GATEWAY`] is refused (the user guides: "A maximum of five Kafka
/// log push policies can be created for a gateway"). So is one that fits only once its
/// deletes ran: deletes come after creates, so the creates would meet the quota first.
pub(super) fn kafka_log_quota(
    desired: &Desired,
    live: &Live,
    ops: &[Operation],
) -> Option<PlanError> {
    let kafka = PluginType::KafkaLog;
    let deleted = deleted(ops);
    let live_kafka: BTreeSet<&str> = live
        .plugins
        .iter()
        .filter(|l| l.plugin_type == kafka.as_str())
        .map(|l| l.name.as_str())
        .collect();
    let mut held: BTreeSet<&str> = live_kafka
        .iter()
        .copied()
        .filter(|name| !deleted.contains(name))
        .collect();
    // Before the deletes run, the gateway also holds the ones the plan deletes.
    let mut peak = live_kafka;
    let mut over = None;
    for op in ops {
        if let OpKind::CreatePlugin { spec, temp_name } = &op.kind
            && spec.plugin_type == kafka
        {
            held.insert(spec.name.as_str());
            // A replacement holds its old and its new plug-in for a while.
            peak.insert(temp_name.as_deref().unwrap_or(&spec.name));
            if peak.len() > content::KAFKA_LOG_PER_GATEWAY && over.is_none() {
                over = Some(spec.name.as_str());
            }
        }
    }
    let plugin = over?;
    let before_deletes = held.len() <= content::KAFKA_LOG_PER_GATEWAY;
    let held = if before_deletes { peak } else { held };
    let location = desired
        .plugins
        .iter()
        .find(|p| p.name == plugin)
        .map(|p| p.location.clone())?;
    Some(PlanError::KafkaLogQuota {
        location,
        plugin: plugin.to_owned(),
        count: held.len(),
        limit: content::KAFKA_LOG_PER_GATEWAY,
        others: held.iter().map(|n| (*n).to_owned()).collect(),
        before_deletes,
    })
}
