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

mod admin;
mod defaults;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ServiceError;
use super::model::PluginType;
use super::plugins::{self, PluginBody};
use super::shared::{InstanceRef, Shared, lock};
use super::store::{Instance, PluginRec};

pub use admin::{ForeignPlugin, insert_plugin, router};
use defaults::stored;

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
    /// Most Kafka log plug-ins per instance (the documented quota is the facts file's
    /// `kafka_log_per_gateway`, 5); `None`: not enforced.
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
                .push_back((Instant::now(), inst.id.clone(), inst.plugins.to_vec()));
        }
    }

    /// The plug-ins the list shows: as they were before the oldest write younger than the lag.
    pub fn listed(&mut self, inst: &Instance, q: &ServiceQuirks) -> Vec<PluginRec> {
        let Some(lag) = q.list_lag else {
            self.before_writes.clear();
            return inst.plugins.to_vec();
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
            .map_or_else(|| inst.plugins.to_vec(), |(_, _, plugins)| plugins.clone())
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
) -> Result<(), ServiceError> {
    let kafka = PluginType::KafkaLog;
    let Some(quota) = q.kafka_log_quota else {
        return Ok(());
    };
    let held = inst
        .plugins
        .iter()
        .filter(|p| p.plugin_type == kafka)
        .count();
    if plugin_type == Some(kafka.as_str()) && held >= quota {
        return Err(ServiceError::new(
            StatusCode::FORBIDDEN,
            "APIG.3100",
            format!("The number of kafka_log plug-ins exceeds the limit of {quota}"),
        ));
    }
    Ok(())
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
    for id in &listed {
        inst.bindings.remove_of_plugin(id, |_| true);
        inst.plugins.remove(id);
    }
}

fn rule_broken(param: &str, detail: &str) -> ServiceError {
    ServiceError::invalid(param, detail)
}

/// `bind_rules`: the rules of binding `plugin_id` to `api_ids` in `env_id`.
fn bind_rules(
    inst: &Instance,
    plugin_id: &str,
    api_ids: &[String],
    env_id: &str,
    q: &ServiceQuirks,
) -> Result<(), ServiceError> {
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
            PluginType::Cors if method != "ANY" => {
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
            PluginType::ProxyCache if !matches!(method.as_str(), "GET" | "HEAD" | "ANY") => {
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
    if plugin.plugin_type == PluginType::OidcAuth {
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

/// Create with the switches: the Kafka log quota, the list lag, the filled defaults.
pub fn create_plugin(
    s: &Shared,
    inst: &mut Instance,
    body: PluginBody,
    now: &str,
) -> Result<PluginRec, ServiceError> {
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
) -> Result<PluginRec, ServiceError> {
    let q = current(s);
    lock(&s.quirks).before_write(inst, &q);
    let rec = plugins::update(inst, id, body, now)?;
    Ok(stored(inst, rec, &q))
}

/// Delete with the list lag.
pub fn delete_plugin(s: &Shared, inst: &mut Instance, id: &str) -> Result<(), ServiceError> {
    lock(&s.quirks).before_write(inst, &current(s));
    plugins::delete(inst, id)
}

/// The plug-ins the list answers with (see [`Runtime::listed`]).
pub fn listed_plugins(s: &Shared, inst: &Instance) -> Vec<PluginRec> {
    lock(&s.quirks).listed(inst, &current(s))
}

/// After a plug-in list: `vanish_between_reads`.
pub fn after_list(s: &Shared, t: &InstanceRef, answer: &Value) -> Result<(), ServiceError> {
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
) -> Result<(), ServiceError> {
    let q = current(s);
    plugin_ids
        .iter()
        .try_for_each(|p| bind_rules(inst, p, api_ids, env_id, &q))
}
