//! Resolution of the desired bindings against the live APIs and environments, and the
//! plan-time rules the service enforces on them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Api, Desired, DesiredPlugin, Live, Location, PluginType};

use super::super::error::PlanError;
use super::super::resolve::{self, ApiLookup, Resolver};

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

/// Resolves every desired binding; unresolvable references become errors.
pub(super) fn resolve_bindings<'a>(
    desired: &'a Desired,
    live: &Live,
    errors: &mut Vec<PlanError>,
) -> Wanted<'a> {
    let mut wanted: Wanted<'a> = BTreeMap::new();
    // (env id, type, API id) → the first plug-in bound there, and where.
    let mut taken: HashMap<(String, PluginType, String), (&str, &Location)> = HashMap::new();
    let resolver = Resolver::new(live);
    let mut declared_by_name = HashMap::new();
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
                });
                continue;
            }
        };
        let apis = wanted
            .entry(plugin)
            .or_default()
            .entry(env.id.clone())
            .or_default();
        for reference in &binding.apis {
            match resolver.api(reference) {
                Ok(api) if api.published_in.contains(&env.id) => {
                    if let Some(error) = method_rule(declared, api, location) {
                        errors.push(error);
                        continue;
                    }
                    let key = (env.id.clone(), declared.plugin_type, api.id.clone());
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
                    apis.insert(api.id.clone());
                }
                Ok(api) => errors.push(PlanError::NotPublished {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    api: api.name.clone(),
                    env: env.name.clone(),
                }),
                Err(ApiLookup::Unknown(did_you_mean)) => errors.push(PlanError::UnknownApi {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    api: resolve::label(reference),
                    did_you_mean,
                }),
                Err(ApiLookup::Ambiguous(candidates)) => errors.push(PlanError::AmbiguousApi {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    api: resolve::label(reference),
                    candidates,
                }),
            }
        }
    }
    wanted
}
