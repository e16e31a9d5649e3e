//! `POST /_emulator/plugins` (a plug-in of any type, e.g. `jwt_auth`, put in the store as
//! is) and `POST /_emulator/offline` (an API taken offline; its bindings stay).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ServiceError;
use crate::model::{PluginType, Scope};
use crate::shared::{InstanceRef, Shared, lock};
use crate::store::{Instance, PluginRec};

/// `POST /_emulator/plugins` and `POST /_emulator/offline`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/plugins", post(put_plugin))
        .route("/_emulator/offline", post(offline))
}

/// A plug-in the API would not create (e.g. `jwt_auth`), or of any type, put in the store
/// as is.
#[derive(Debug, Clone, Deserialize)]
pub struct ForeignPlugin {
    /// Instance id; the first instance when absent.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// `plugin_name`.
    pub plugin_name: String,
    /// `plugin_type`, e.g. `jwt_auth`.
    pub plugin_type: String,
    /// `plugin_content`, any JSON (stored as its text).
    #[serde(default)]
    pub plugin_content: Value,
    /// `remark`.
    #[serde(default)]
    pub remark: Option<String>,
}

/// Adds `p` to `inst`; returns the record.
pub fn insert_plugin(
    inst: &mut Instance,
    p: &ForeignPlugin,
    now: &str,
) -> Result<PluginRec, String> {
    if p.plugin_type.is_empty() {
        return Err("plug-in type is empty".to_owned());
    }
    let plugin_type = PluginType::from(p.plugin_type.clone());
    if inst.plugins.iter().any(|r| r.name == p.plugin_name) {
        return Err(format!("plug-in {:?} exists", p.plugin_name));
    }
    let rec = PluginRec {
        id: inst.next_id("plugin"),
        name: p.plugin_name.clone(),
        plugin_type,
        scope: Scope::Global,
        roma_app_id: None,
        remark: p.remark.clone(),
        content: p.plugin_content.to_string(),
        create_time: now.to_owned(),
        update_time: now.to_owned(),
    };
    inst.plugins.push(rec.clone());
    Ok(rec)
}

/// The path target of instance `id` (the first instance when `None`).
fn target_of(s: &Shared, id: Option<&str>) -> Result<InstanceRef, ServiceError> {
    let state = lock(&s.state);
    let inst = match id {
        Some(id) => state.instances.iter().find(|i| i.id == id),
        None => state.instances.first(),
    }
    .ok_or_else(|| ServiceError::instance_not_found(id.unwrap_or("")))?;
    Ok(InstanceRef {
        project: state.project_id.clone(),
        segment: inst.flavour.path_segment().to_owned(),
        instance: inst.id.clone(),
    })
}

async fn put_plugin(
    State(s): State<Arc<Shared>>,
    Json(p): Json<ForeignPlugin>,
) -> Result<Response, ServiceError> {
    let t = target_of(&s, p.instance_id.as_deref())?;
    let rec = s.write(&t, |inst, now| {
        insert_plugin(inst, &p, now).map_err(|e| ServiceError::invalid("plugin", &e))
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"plugin_id": rec.id, "plugin_name": rec.name})),
    )
        .into_response())
}

/// The body of `POST /_emulator/offline`.
#[derive(Debug, Clone, Deserialize)]
struct Offline {
    #[serde(default)]
    instance_id: Option<String>,
    api_id: String,
    env_id: String,
}

/// Takes an API offline in an environment; its bindings stay.
async fn offline(
    State(s): State<Arc<Shared>>,
    Json(o): Json<Offline>,
) -> Result<Response, ServiceError> {
    let t = target_of(&s, o.instance_id.as_deref())?;
    s.write(&t, |inst, _| {
        let api = inst
            .apis
            .get_mut(&o.api_id)
            .ok_or_else(|| ServiceError::api_not_found(&o.api_id))?;
        for v in api.versions.iter_mut().filter(|v| v.env_id == o.env_id) {
            v.effective = false;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
