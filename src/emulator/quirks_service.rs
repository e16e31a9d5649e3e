//! Behaviours of the real service that the default emulator hides, each behind a switch of
//! [`ServiceQuirks`] (part of [`super::Faults`]: `PUT /_emulator/faults` and the
//! `apigsync emulator` flags), so tests can exercise what apigsync must survive.
//!
//! | switch | behaviour | source |
//! |---|---|---|
//! | `fill_defaults` | stored content gets the documented defaults of its type | SPEC §6 tables; Terraform docs: "All default values in content need to be filled in, otherwise terraform plan will prompt the script to change" (SPEC §6, general) |
//! | `vanish_between_reads` | the named plug-ins are deleted right after a plug-in list returned them, so reading their bindings answers 404 APIG.3068 | SPEC §3.1 (404 APIG.3068 on attached-apis); a concurrent console delete |
//! | `kafka_log_quota` | creating a Kafka log plug-in beyond the quota: 403 APIG.3100 | APIG user guide, Kafka Log Push: "A maximum of five Kafka log push policies can be created for a gateway" (<https://support.huaweicloud.com/intl/en-us/usermanual-apig/apig_03_0061.html>); code: SPEC §5 (APIG.3100 "resource count exceeds the limit", OTC table) |
//! | `bind_rules` | attach refuses a CORS plug-in whose `allow_methods` lacks the API's method, a response cache on an API that is not GET or HEAD, and an `oidc_auth` plug-in whose redirect/logout API would not be bound to it in that environment: 400 APIG.2012 | SPEC §4.3 (user guides), §6.1, §6.9; the codes are undocumented (SPEC §10.3): chosen |
//! | `list_lag` | the plug-in list answers with the plug-ins as they were before any write younger than the lag | chosen (eventual consistency of list reads; shows only in `list_plugins`) |
//!
//! Always on: a live `jwt_auth` plug-in (SPEC §4.2) from the seed's `plugins:` or
//! `POST /_emulator/plugins`; taking an API offline keeps its bindings (SPEC §3.8, and the
//! user guide above: "Taking an API offline does not affect the policies bound to it"),
//! reachable as `POST /apis/action` or `POST /_emulator/offline`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::plugins::{self, PluginBody};
use super::shared::{Shared, Target, lock, now};
use super::store::{Instance, PluginRec, StoredType};
use crate::model::{PluginType, Scope};

/// The switches of the service behaviours above; all off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceQuirks {
    /// Stored content gets the documented defaults of its type.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fill_defaults: bool,
    /// Plug-ins (by name) deleted right after a plug-in list returned them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vanish_between_reads: Vec<String>,
    /// Most Kafka log plug-ins per instance (the documented quota is
    /// [`crate::content::KAFKA_LOG_PER_GATEWAY`]); `None`: not enforced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_log_quota: Option<usize>,
    /// The bind-time rules (CORS methods, cache on GET/HEAD, OIDC APIs bound).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bind_rules: bool,
    /// How long a plug-in write stays invisible to the plug-in list; `None`: no lag.
    #[serde(
        with = "opt_millis",
        rename = "list_lag_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub list_lag: Option<Duration>,
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// What the switches need to remember between requests.
#[derive(Debug, Default)]
pub struct Runtime {
    /// `(when, instance id, its plug-ins just before a write)`, oldest first.
    before_writes: VecDeque<(Instant, String, Vec<PluginRec>)>,
}

impl Runtime {
    /// Remembers the plug-ins of `inst` as they are before a write (only while a lag is set).
    pub fn before_write(&mut self, inst: &Instance, q: &ServiceQuirks) {
        if q.list_lag.is_some() {
            self.before_writes
                .push_back((Instant::now(), inst.id.clone(), inst.plugins.clone()));
        }
    }

    /// The plug-ins the list shows: as they were before the oldest write younger than the lag.
    pub fn listed(&mut self, inst: &Instance, q: &ServiceQuirks) -> Vec<PluginRec> {
        let Some(lag) = q.list_lag else {
            self.before_writes.clear();
            return inst.plugins.clone();
        };
        let now = Instant::now();
        while self
            .before_writes
            .front()
            .is_some_and(|(at, _, _)| now.duration_since(*at) >= lag)
        {
            self.before_writes.pop_front();
        }
        self.before_writes
            .iter()
            .find(|(_, id, _)| *id == inst.id)
            .map_or_else(|| inst.plugins.clone(), |(_, _, plugins)| plugins.clone())
    }

    /// Forgets everything (reset).
    pub fn clear(&mut self) {
        self.before_writes.clear();
    }
}

/// The current switches.
pub fn current(s: &Shared) -> ServiceQuirks {
    lock(&s.faults).service.clone()
}

/// `kafka_log_quota`: refuses a create of a Kafka log plug-in beyond the quota.
fn check_quota(
    inst: &Instance,
    plugin_type: Option<&str>,
    q: &ServiceQuirks,
) -> Result<(), ApiError> {
    let kafka = PluginType::KafkaLog.as_str();
    let Some(quota) = q.kafka_log_quota else {
        return Ok(());
    };
    let held = inst
        .plugins
        .iter()
        .filter(|p| p.plugin_type.as_str() == kafka)
        .count();
    if plugin_type == Some(kafka) && held >= quota {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "APIG.3100",
            format!("The number of kafka_log plug-ins exceeds the limit of {quota}"),
        ));
    }
    Ok(())
}

/// `fill_defaults`: writes the documented defaults into the stored content of `rec`.
fn stored(inst: &mut Instance, mut rec: PluginRec, q: &ServiceQuirks) -> PluginRec {
    let Some(kind) = rec.plugin_type.known().filter(|_| q.fill_defaults) else {
        return rec;
    };
    let Ok(mut value) = serde_json::from_str::<Value>(&rec.content) else {
        return rec;
    };
    fill_defaults(kind, &mut value);
    rec.content = value.to_string();
    if let Some(slot) = inst.plugins.iter_mut().find(|p| p.id == rec.id) {
        slot.content = rec.content.clone();
    }
    rec
}

/// Sets `key` in the object at `path` (created where absent) unless it is there already.
fn set_default(value: &mut Value, path: &[&str], key: &str, default: Value) {
    let mut here = value;
    for step in path {
        let Some(obj) = here.as_object_mut() else {
            return;
        };
        here = obj.entry((*step).to_owned()).or_insert_with(|| json!({}));
    }
    if let Some(obj) = here.as_object_mut() {
        obj.entry(key.to_owned()).or_insert(default);
    }
}

/// The defaults the API reference documents per type (SPEC §6.2, §6.3, §6.5, §6.6, §6.8,
/// §6.9), written here from the tables, independently of `content::canonical`.
fn fill_defaults(kind: PluginType, v: &mut Value) {
    match kind {
        PluginType::SetRespHeaders => {
            if let Some(headers) = v.get_mut("response_headers").and_then(Value::as_array_mut) {
                for h in headers.iter_mut().filter_map(Value::as_object_mut) {
                    h.entry("value_type").or_insert(json!("custom_value"));
                }
            }
        }
        PluginType::KafkaLog => {
            set_default(v, &[], "max_retry_count", json!(0));
            set_default(v, &["sasl_config"], "security_protocol", json!("PLAINTEXT"));
            set_default(v, &["sasl_config"], "sasl_mechanisms", json!("PLAIN"));
            for flag in ["start_time", "request_id", "client_ip"] {
                set_default(v, &["meta_config", "system"], flag, json!(true));
            }
        }
        PluginType::RateLimit => set_default(v, &[], "default_time_unit", json!("second")),
        PluginType::ThirdAuth => set_default(v, &["auth_request"], "timeout", json!(5000)),
        PluginType::ProxyMirror => {
            set_default(v, &[], "path_concat_mode", json!("replace"));
            set_default(v, &[], "sample_ratio", json!(1));
            set_default(v, &[], "timeout", json!(5000));
            set_default(v, &[], "mirror_request_body_enabled", json!(true));
        }
        PluginType::OidcAuth => {
            set_default(v, &[], "scope", json!("openid email profile"));
            set_default(v, &[], "access_token_expires_in", json!(3600));
            for flag in [
                "jwt_cache_enabled",
                "jwks_enabled",
                "slient_renew_access_token_enabled",
            ] {
                set_default(v, &[], flag, json!(true));
            }
        }
        PluginType::Cors | PluginType::Breaker | PluginType::ProxyCache => {}
    }
}

/// `vanish_between_reads`: deletes (with their bindings) the plug-ins of a list answer
/// whose names are on the list.
fn vanish_listed(inst: &mut Instance, answer: &Value, q: &ServiceQuirks) {
    if q.vanish_between_reads.is_empty() {
        return;
    }
    let listed: Vec<String> = answer["plugins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["plugin_name"]
                .as_str()
                .is_some_and(|n| q.vanish_between_reads.iter().any(|v| v == n))
        })
        .filter_map(|p| p["plugin_id"].as_str().map(str::to_owned))
        .collect();
    inst.bindings.retain(|b| !listed.contains(&b.plugin_id));
    inst.plugins.retain(|p| !listed.contains(&p.id));
}

fn rule_broken(param: &str, detail: &str) -> ApiError {
    ApiError::invalid(param, detail)
}

/// `bind_rules`: the rules of binding `plugin_id` to `api_ids` in `env_id`.
fn bind_rules(
    inst: &Instance,
    plugin_id: &str,
    api_ids: &[String],
    env_id: &str,
    q: &ServiceQuirks,
) -> Result<(), ApiError> {
    if !q.bind_rules {
        return Ok(());
    }
    let Ok(plugin) = inst.plugin(plugin_id) else {
        return Ok(());
    };
    let content: Value = serde_json::from_str(&plugin.content).unwrap_or(Value::Null);
    for api_id in api_ids {
        let Ok(api) = inst.api(api_id) else {
            continue;
        };
        let method = api.method.to_ascii_uppercase();
        match plugin.plugin_type {
            StoredType::Known(PluginType::Cors) if method != "ANY" => {
                let allowed = content["allow_methods"].as_str();
                let listed = allowed.is_none_or(|a| {
                    a.split(',')
                        .map(|m| m.trim().to_ascii_uppercase())
                        .any(|m| m == "*" || m == method)
                });
                if !listed {
                    return Err(rule_broken(
                        "allow_methods",
                        &format!(
                            "The method {method} of API {} is not allowed by the CORS plug-in",
                            api.name
                        ),
                    ));
                }
            }
            StoredType::Known(PluginType::ProxyCache)
                if !matches!(method.as_str(), "GET" | "HEAD" | "ANY") =>
            {
                return Err(rule_broken(
                    "api_ids",
                    &format!(
                        "The response cache plug-in only binds GET and HEAD APIs, API {} is {method}",
                        api.name
                    ),
                ));
            }
            _ => {}
        }
    }
    if plugin.plugin_type == StoredType::Known(PluginType::OidcAuth) {
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
                return Err(rule_broken(
                    field,
                    &format!("The API {id} must be bound to the OIDC plug-in"),
                ));
            }
        }
    }
    Ok(())
}

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
    let plugin_type = StoredType::try_from(p.plugin_type.clone())?;
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

fn instance_of<'a>(
    instances: &'a mut [Instance],
    id: Option<&str>,
) -> Result<&'a mut Instance, ApiError> {
    let found = match id {
        Some(id) => instances.iter_mut().find(|i| i.id == id),
        None => instances.first_mut(),
    };
    found.ok_or_else(|| ApiError::instance_not_found(id.unwrap_or("")))
}

async fn put_plugin(
    State(s): State<Arc<Shared>>,
    Json(p): Json<ForeignPlugin>,
) -> Result<Response, ApiError> {
    let mut state = lock(&s.state);
    let inst = instance_of(&mut state.instances, p.instance_id.as_deref())?;
    let rec = insert_plugin(inst, &p, &now()).map_err(|e| ApiError::invalid("plugin", &e))?;
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
) -> Result<Response, ApiError> {
    let mut state = lock(&s.state);
    let inst = instance_of(&mut state.instances, o.instance_id.as_deref())?;
    let api = inst
        .apis
        .iter_mut()
        .find(|a| a.id == o.api_id)
        .ok_or_else(|| ApiError::api_not_found(&o.api_id))?;
    for v in api.versions.iter_mut().filter(|v| v.env_id == o.env_id) {
        v.effective = false;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Create with the switches: the Kafka log quota, the list lag, the filled defaults.
pub fn create_plugin(
    s: &Shared,
    inst: &mut Instance,
    body: PluginBody,
    now: &str,
) -> Result<PluginRec, ApiError> {
    let q = current(s);
    check_quota(inst, body.plugin_type.as_deref(), &q)?;
    lock(&s.quirks).before_write(inst, &q);
    let rec = plugins::create(inst, body, now)?;
    Ok(stored(inst, rec, &q))
}

/// Update with the switches: the list lag, the filled defaults.
pub fn update_plugin(
    s: &Shared,
    inst: &mut Instance,
    id: &str,
    body: PluginBody,
    now: &str,
) -> Result<PluginRec, ApiError> {
    let q = current(s);
    lock(&s.quirks).before_write(inst, &q);
    let rec = plugins::update(inst, id, body, now)?;
    Ok(stored(inst, rec, &q))
}

/// Delete with the list lag.
pub fn delete_plugin(s: &Shared, inst: &mut Instance, id: &str) -> Result<(), ApiError> {
    lock(&s.quirks).before_write(inst, &current(s));
    plugins::delete(inst, id)
}

/// The plug-ins the list answers with (see [`Runtime::listed`]).
pub fn listed_plugins(s: &Shared, inst: &Instance) -> Vec<PluginRec> {
    lock(&s.quirks).listed(inst, &current(s))
}

/// After a plug-in list: `vanish_between_reads`.
pub fn after_list(s: &Shared, t: &Target, answer: &Value) -> Result<(), ApiError> {
    let q = current(s);
    if q.vanish_between_reads.is_empty() {
        return Ok(());
    }
    s.write(t, |inst, _| {
        vanish_listed(inst, answer, &q);
        Ok(())
    })
}

/// `bind_rules` for a bind call: each plug-in with the APIs it gets in `env_id`.
pub fn check_bind(
    s: &Shared,
    inst: &Instance,
    plugin_ids: &[String],
    api_ids: &[String],
    env_id: &str,
) -> Result<(), ApiError> {
    let q = current(s);
    plugin_ids
        .iter()
        .try_for_each(|p| bind_rules(inst, p, api_ids, env_id, &q))
}
