//! `fill_defaults`: the documented defaults the server writes into stored content.

use serde_json::{Value, json};

use super::ServiceQuirks;
use crate::store::{Instance, PluginRec};
use apigsync_core::model::PluginType;

/// `fill_defaults`: writes the documented defaults into the stored content of `rec`.
pub(super) fn stored(inst: &mut Instance, mut rec: PluginRec, q: &ServiceQuirks) -> PluginRec {
    let Some(kind) = rec.plugin_type.known().filter(|_| q.fill_defaults) else {
        return rec;
    };
    let Ok(mut value) = serde_json::from_str::<Value>(&rec.content) else {
        return rec;
    };
    fill_defaults(kind, &mut value);
    rec.content = value.to_string();
    if let Some(slot) = inst.plugins.get_mut(&rec.id) {
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
