//! Behaviours of the real service that the default emulator hides, each behind a switch of
//! [`ServiceQuirks`] (part of [`super::Faults`]: `PUT /_emulator/faults` and the
//! `apigsync emulator` flags), so tests can exercise what apigsync must survive.
//!
//! | switch | behaviour | source |
//! |---|---|---|
//! | `fill_defaults` | stored content gets the documented defaults of its type (`defaults` of `spec/service-facts.json`) | SPEC §6 tables; Terraform docs: "All default values in content need to be filled in, otherwise terraform plan will prompt the script to change" (SPEC §6, general) |
//! | `unknown_fields` | stored content of every type gets `"x_new_option": false` at the top level and inside each first-level object (and each object item of a first-level array) its model has, where present; every read returns it | SPEC §11.5 (the server stores values the request did not carry, beyond what the docs list), §4.2 (newer gateways add options); the field name is chosen |
//! | `rewrite_values` | the server rewrites stored values: set_resp_headers `response_headers[].name` and cors `allow_headers`/`expose_headers` lower-cased, cors `max_age` returned as a string (`86400` → `"86400"`), kafka_log `broker_list` sorted | SPEC §6.2 (header names are case-insensitive), §6 ("re-serialized through the server model"), §10.6; each rewrite itself is chosen |
//! | `plugin_quota` | the instance's `PLUGIN_NUM_LIMIT`: a create beyond it answers 403 APIG.3100; `GET …/project/configs` shows it | SPEC §11.3 (Terraform `data_source_huaweicloud_apig_instance_quotas.go`), SPEC §5 (APIG.3100); default 500 when off: chosen |
//! | `vanish_between_reads` | the named plug-ins are deleted right after a plug-in list returned them, so reading their bindings answers 404 APIG.3068 | SPEC §3.1 (404 APIG.3068 on attached-apis); a concurrent console delete |
//! | `kafka_log_quota` | creating a Kafka log plug-in beyond the quota: 403 APIG.3100 | APIG user guide, Kafka Log Push: "A maximum of five Kafka log push policies can be created for a gateway" (<https://support.huaweicloud.com/intl/en-us/usermanual-apig/apig_03_0061.html>); code: SPEC §5 (APIG.3100 "resource count exceeds the limit", OTC table) |
//! | `bind_rules` | attach refuses a CORS plug-in whose `allow_methods` lacks the API's method, a CORS plug-in on a path of the group where an OPTIONS API exists, a CORS plug-in other than the one already bound to another API of the group with the same path (in that environment), a response cache on an API that is not GET or HEAD, request mirroring on an API with a `MOCK` backend, and an `oidc_auth` plug-in whose redirect/logout API would not be bound to it in that environment: 400 APIG.2012 | SPEC §4.3 (user guides), §6.1, §6.9; the codes are undocumented (SPEC §10.3): chosen |
//! | `list_lag` | the plug-in list answers with the plug-ins as they were before any write younger than the lag | chosen (eventual consistency of list reads; shows only in `list_plugins`) |
//!
//! Always on: a live `jwt_auth` plug-in (SPEC §4.2) from the seed's `plugins:` or
//! `POST /_emulator/plugins`; taking an API offline keeps its bindings (SPEC §3.8, and the
//! user guide above: "Taking an API offline does not affect the policies bound to it"),
//! reachable as `POST /apis/action` or `POST /_emulator/offline`.

mod admin;
mod quota;
mod rules;
mod stored;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ServiceError;
use super::plugins::{self, PluginBody};
use super::shared::{InstanceRef, Shared, lock};
use super::store::{Instance, PluginRec};

pub use admin::{ForeignPlugin, insert_plugin, router};
pub use quota::{PLUGIN_NUM_LIMIT, configs};
pub use stored::NEW_FIELD;
use stored::stored;

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
    /// The bind-time rules (CORS methods, paths and OPTIONS, cache on GET/HEAD, mirror not on
    /// Mock backends, OIDC APIs bound).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bind_rules: bool,
    /// Stored content gets fields a newer server adds (`x_new_option`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unknown_fields: bool,
    /// The server rewrites some stored values (header names lower-cased, ...).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rewrite_values: bool,
    /// The instance's plug-in quota (`PLUGIN_NUM_LIMIT`); `None`: not enforced (the configs
    /// list then shows the default 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_quota: Option<usize>,
    /// How long a plug-in write stays invisible to the plug-in list; `None`: no lag.
    #[serde(
        with = "opt_millis",
        rename = "list_lag_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub list_lag: Option<Duration>,
}

/// `Option<Duration>` as optional milliseconds in the JSON of `/_emulator/faults`.
pub(crate) mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes milliseconds.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    /// Reads milliseconds.
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

/// Create with the switches: the quotas, the list lag, the stored-content switches.
pub fn create_plugin(
    s: &Shared,
    inst: &mut Instance,
    body: PluginBody,
    now: &str,
) -> Result<PluginRec, ServiceError> {
    let q = current(s);
    quota::check(inst, body.plugin_type.as_deref(), &q)?;
    lock(&s.quirks).before_write(inst, &q);
    let rec = plugins::create(inst, body, now)?;
    Ok(stored(inst, rec, &q))
}

/// Update with the switches: the list lag, the stored-content switches.
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
    if !current(s).bind_rules {
        return Ok(());
    }
    plugin_ids
        .iter()
        .try_for_each(|p| rules::check(inst, p, api_ids, env_id))
}
