//! Attach and detach, in both directions (SPEC §3.8). All ids of a call are
//! checked before anything changes, so a failed call changes nothing. No IO.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde::Deserialize;

use super::error::ServiceError;
use super::store::{BindingRec, Instance};

/// Most ids in one attach or detach call.
pub const MAX_IDS: usize = 500;

/// The body of the four bind calls (`PluginOperApiInfo` / `ApiOperPluginInfo`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BindBody {
    /// `env_id`.
    pub env_id: Option<String>,
    /// `api_ids` (plug-in side).
    pub api_ids: Option<Vec<String>>,
    /// `plugin_ids` (API side).
    pub plugin_ids: Option<Vec<String>>,
}

impl BindBody {
    /// The environment id, which must name an environment of `inst`.
    pub fn env(&self, inst: &Instance) -> Result<String, ServiceError> {
        let env_id = self
            .env_id
            .clone()
            .ok_or_else(|| ServiceError::missing("env_id"))?;
        inst.env(&env_id)?;
        Ok(env_id)
    }
}

/// The id list `param` of a body: present, 1–500 ids.
pub fn ids(list: Option<&Vec<String>>, param: &str) -> Result<Vec<String>, ServiceError> {
    let list = list.ok_or_else(|| ServiceError::missing(param))?;
    if list.is_empty() || list.len() > MAX_IDS {
        return Err(ServiceError::invalid(param, ""));
    }
    Ok(list.clone())
}

fn not_published() -> ServiceError {
    ServiceError::new(
        StatusCode::CONFLICT,
        "APIG.3707",
        "Only published APIs can be bound with plug-ins",
    )
}

/// Binds one plug-in to one API in one environment. An existing identical binding
/// is kept as is; a binding of another plug-in of the same type is replaced.
fn bind(inst: &mut Instance, plugin_id: &str, api_id: &str, env_id: &str, now: &str) -> BindingRec {
    if let Some(existing) = inst.bindings.find(plugin_id, api_id, env_id) {
        return existing.clone();
    }
    let kind = inst.plugins.get(plugin_id).map(|p| p.plugin_type.clone());
    let plugins = &inst.plugins;
    inst.bindings.remove_of_api(api_id, |b| {
        b.env_id == env_id && plugins.get(&b.plugin_id).map(|p| &p.plugin_type) == kind.as_ref()
    });
    let rec = BindingRec {
        id: inst.next_id("binding"),
        plugin_id: plugin_id.to_string(),
        api_id: api_id.to_string(),
        env_id: env_id.to_string(),
        attached_time: now.to_string(),
    };
    inst.bindings.push(rec.clone());
    rec
}

fn check_published(inst: &Instance, api_id: &str, env_id: &str) -> Result<(), ServiceError> {
    inst.api(api_id)?
        .published_in(env_id)
        .map(|_| ())
        .ok_or_else(not_published)
}

/// POST `/plugins/{plugin_id}/attach`: binds one plug-in to APIs.
pub fn attach_apis(
    inst: &mut Instance,
    plugin_id: &str,
    body: &BindBody,
    now: &str,
) -> Result<Vec<BindingRec>, ServiceError> {
    inst.plugin(plugin_id)?;
    let env_id = body.env(inst)?;
    let api_ids = ids(body.api_ids.as_ref(), "api_ids")?;
    for api_id in &api_ids {
        check_published(inst, api_id, &env_id)?;
    }
    Ok(api_ids
        .iter()
        .map(|api_id| bind(inst, plugin_id, api_id, &env_id, now))
        .collect())
}

/// POST `/apis/{api_id}/plugins/attach`: binds plug-ins to one API (the last of a type wins).
pub fn attach_plugins(
    inst: &mut Instance,
    api_id: &str,
    body: &BindBody,
    now: &str,
) -> Result<Vec<BindingRec>, ServiceError> {
    inst.api(api_id)?;
    let env_id = body.env(inst)?;
    let plugin_ids = ids(body.plugin_ids.as_ref(), "plugin_ids")?;
    for plugin_id in &plugin_ids {
        inst.plugin(plugin_id)?;
    }
    check_published(inst, api_id, &env_id)?;
    let attached: Vec<BindingRec> = plugin_ids
        .iter()
        .map(|plugin_id| bind(inst, plugin_id, api_id, &env_id, now))
        .collect();
    Ok(attached
        .into_iter()
        .filter(|b| inst.bindings.find(&b.plugin_id, api_id, &env_id) == Some(b))
        .collect())
}

/// PUT `/plugins/{plugin_id}/detach`: unbinds APIs from one plug-in (ids not bound are ignored).
pub fn detach_apis(
    inst: &mut Instance,
    plugin_id: &str,
    body: &BindBody,
) -> Result<(), ServiceError> {
    inst.plugin(plugin_id)?;
    let env_id = body.env(inst)?;
    let api_ids = ids(body.api_ids.as_ref(), "api_ids")?;
    for api_id in &api_ids {
        inst.api(api_id)?;
    }
    let api_ids: HashSet<String> = api_ids.into_iter().collect();
    inst.bindings.remove_of_plugin(plugin_id, |b| {
        b.env_id == env_id && api_ids.contains(&b.api_id)
    });
    Ok(())
}

/// PUT `/apis/{api_id}/plugins/detach`: unbinds plug-ins from one API (ids not bound are ignored).
pub fn detach_plugins(
    inst: &mut Instance,
    api_id: &str,
    body: &BindBody,
) -> Result<(), ServiceError> {
    inst.api(api_id)?;
    let env_id = body.env(inst)?;
    let plugin_ids = ids(body.plugin_ids.as_ref(), "plugin_ids")?;
    for plugin_id in &plugin_ids {
        inst.plugin(plugin_id)?;
    }
    let plugin_ids: HashSet<String> = plugin_ids.into_iter().collect();
    inst.bindings.remove_of_api(api_id, |b| {
        b.env_id == env_id && plugin_ids.contains(&b.plugin_id)
    });
    Ok(())
}
