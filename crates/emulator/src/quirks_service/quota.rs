//! Plug-in quotas: `kafka_log_quota`, `plugin_quota`, and the instance's quota list
//! `GET …/project/configs` (SPEC §11.3) that shows `PLUGIN_NUM_LIMIT`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ServiceQuirks;
use crate::error::ServiceError;
use crate::facts::facts;
use crate::model::PluginType;
use crate::seed::derived_id;
use crate::store::Instance;

/// The name of the plug-in quota in the configs list (SPEC §11.3).
pub const PLUGIN_NUM_LIMIT: &str = "PLUGIN_NUM_LIMIT";

fn exceeded(message: String) -> ServiceError {
    // SPEC §5: 403 APIG.3100 "resource count exceeds the limit" (OTC table).
    ServiceError::new(StatusCode::FORBIDDEN, "APIG.3100", message)
}

/// Refuses a create of a plug-in of `plugin_type` beyond a quota: the Kafka log quota
/// (`kafka_log_quota`) or the plug-in quota (`plugin_quota`).
pub(super) fn check(
    inst: &Instance,
    plugin_type: Option<&str>,
    q: &ServiceQuirks,
) -> Result<(), ServiceError> {
    if let Some(quota) = q.plugin_quota
        && inst.plugins.len() >= quota
    {
        return Err(exceeded(format!(
            "The number of plug-ins exceeds the limit of {quota} ({PLUGIN_NUM_LIMIT})"
        )));
    }
    let Some(quota) = q.kafka_log_quota else {
        return Ok(());
    };
    let kafka = PluginType::KafkaLog;
    let held = inst
        .plugins
        .iter()
        .filter(|p| p.plugin_type == kafka)
        .count();
    if plugin_type == Some(kafka.as_str()) && held >= quota {
        return Err(exceeded(format!(
            "The number of kafka_log plug-ins exceeds the limit of {quota}"
        )));
    }
    Ok(())
}

/// The items of `GET …/project/configs` (`ConfigOutline` as the Terraform provider's
/// `data_source_huaweicloud_apig_instance_quotas.go` reads it: `config_id`, `config_name`,
/// `config_value` as a string, `used` as an integer, `remark`, `config_time`). Only
/// `PLUGIN_NUM_LIMIT`: the plug-in quota (`plugin_quota`, else the facts' default 500,
/// chosen) and the plug-ins the instance holds.
pub fn configs(inst: &Instance, q: &ServiceQuirks, created: &str) -> Vec<Value> {
    let limit = q.plugin_quota.unwrap_or(facts().plugin_num_limit_default);
    vec![json!({
        "config_id": derived_id(&inst.id, "config", PLUGIN_NUM_LIMIT),
        "config_name": PLUGIN_NUM_LIMIT,
        "config_value": limit.to_string(),
        "used": inst.plugins.len(),
        "remark": "Maximum number of plug-ins that can be created",
        "config_time": created,
    })]
}
