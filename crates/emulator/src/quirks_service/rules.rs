//! `bind_rules`: the binding rules the user guides document (SPEC §4.3, §6.1, §6.9), checked
//! on attach. Every refusal is 400 APIG.2012 (the codes are undocumented, SPEC §10.3: chosen).

use serde_json::Value;

use crate::error::ServiceError;
use crate::model::PluginType;
use crate::store::{ApiRec, Instance, PluginRec};

fn broken(param: &str, detail: &str) -> ServiceError {
    ServiceError::invalid(param, detail)
}

/// The rules of binding `plugin_id` to `api_ids` in `env_id`.
pub(super) fn check(
    inst: &Instance,
    plugin_id: &str,
    api_ids: &[String],
    env_id: &str,
) -> Result<(), ServiceError> {
    let Ok(plugin) = inst.plugin(plugin_id) else {
        return Ok(());
    };
    let content: Value = serde_json::from_str(&plugin.content).unwrap_or(Value::Null);
    for api_id in api_ids {
        let Ok(api) = inst.api(api_id) else {
            continue;
        };
        match plugin.plugin_type {
            PluginType::Cors => cors(inst, plugin, &content, api, api_ids, env_id)?,
            PluginType::ProxyCache => cache(api)?,
            PluginType::ProxyMirror => mirror(api)?,
            _ => {}
        }
    }
    if plugin.plugin_type == PluginType::OidcAuth {
        oidc(inst, plugin_id, &content, api_ids, env_id)?;
    }
    Ok(())
}

/// The other APIs of `api`'s group with the same path (SPEC §4.3: "APIs with the same path
/// in a group").
fn same_path<'a>(inst: &'a Instance, api: &'a ApiRec) -> impl Iterator<Item = &'a ApiRec> {
    inst.apis
        .iter()
        .filter(move |a| a.id != api.id && a.group_id == api.group_id && a.path == api.path)
}

/// CORS (SPEC §4.3, §6.1): the API's method must be in `allow_methods`; no OPTIONS API may
/// share the path; APIs of one group with the same path share one CORS plug-in (another CORS
/// plug-in bound to one of them in this environment is refused).
fn cors(
    inst: &Instance,
    plugin: &PluginRec,
    content: &Value,
    api: &ApiRec,
    api_ids: &[String],
    env_id: &str,
) -> Result<(), ServiceError> {
    let method = api.method.to_ascii_uppercase();
    let listed = content["allow_methods"].as_str().is_none_or(|a| {
        a.split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .any(|m| m == "*" || m == method)
    });
    if method != "ANY" && !listed {
        return Err(broken(
            "allow_methods",
            &format!(
                "The method {method} of API {} is not allowed by the CORS plug-in",
                api.name
            ),
        ));
    }
    if let Some(options) = std::iter::once(api)
        .chain(same_path(inst, api))
        .find(|a| a.method.eq_ignore_ascii_case("OPTIONS"))
    {
        return Err(broken(
            "api_id",
            &format!(
                "A CORS plug-in cannot be bound to path {}: API {} answers OPTIONS there",
                api.path, options.name
            ),
        ));
    }
    for other in same_path(inst, api).filter(|a| !api_ids.contains(&a.id)) {
        let rival = inst
            .bindings
            .of_api(&other.id)
            .filter(|b| b.env_id == env_id && b.plugin_id != plugin.id)
            .filter_map(|b| inst.plugins.get(&b.plugin_id))
            .find(|p| p.plugin_type == PluginType::Cors);
        if let Some(rival) = rival {
            return Err(broken(
                "api_id",
                &format!(
                    "APIs with path {} in one group must share one CORS plug-in: API {} is bound to {}",
                    api.path, other.name, rival.name
                ),
            ));
        }
    }
    Ok(())
}

/// Response cache only on GET and HEAD APIs (SPEC §4.3).
fn cache(api: &ApiRec) -> Result<(), ServiceError> {
    let method = api.method.to_ascii_uppercase();
    if matches!(method.as_str(), "GET" | "HEAD" | "ANY") {
        return Ok(());
    }
    Err(broken(
        "api_ids",
        &format!(
            "The response cache plug-in only binds GET and HEAD APIs, API {} is {method}",
            api.name
        ),
    ))
}

/// Request mirroring not on APIs with a Mock backend (SPEC §4.3).
fn mirror(api: &ApiRec) -> Result<(), ServiceError> {
    if !api.backend_type.eq_ignore_ascii_case("MOCK") {
        return Ok(());
    }
    Err(broken(
        "api_ids",
        &format!(
            "The request mirroring plug-in cannot be bound to API {}: its backend is MOCK",
            api.name
        ),
    ))
}

/// OIDC (SPEC §6.9): the redirect and logout APIs must be bound to the plug-in.
fn oidc(
    inst: &Instance,
    plugin_id: &str,
    content: &Value,
    api_ids: &[String],
    env_id: &str,
) -> Result<(), ServiceError> {
    for field in ["redirect_api_id", "logout_api_id"] {
        let Some(id) = content[field].as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        let bound = api_ids.iter().any(|a| a == id)
            || inst
                .bindings
                .iter()
                .any(|b| b.plugin_id == plugin_id && b.env_id == env_id && b.api_id == id);
        if !bound {
            return Err(broken(
                field,
                &format!("The API {id} must be bound to the OIDC plug-in"),
            ));
        }
    }
    Ok(())
}
