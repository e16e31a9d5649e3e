//! Typed wire structs (serde) of SPEC §3. Lenient on read: unknown fields are
//! ignored and every optional field defaults, since real servers add fields.
//! `plugin_content` is JSON text on the wire and a `serde_json::Value` here.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use apigsync_core::model::{PluginQuota, PluginType, Scope};

/// A plug-in object (SPEC §3.2): create/show/update responses and list items.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Plugin {
    /// `plugin_id`.
    #[serde(rename = "plugin_id")]
    pub id: String,
    /// `plugin_name`.
    #[serde(rename = "plugin_name")]
    pub name: String,
    /// `plugin_type`, as returned (may be a type apigsync does not model).
    #[serde(rename = "plugin_type", default)]
    pub plugin_type: String,
    /// `plugin_scope`, as returned.
    #[serde(rename = "plugin_scope", default)]
    pub scope: String,
    /// `plugin_content` parsed from its JSON text (a string that is not JSON is kept as a string).
    #[serde(
        rename = "plugin_content",
        default,
        deserialize_with = "content_from_text"
    )]
    pub content: Value,
    /// `remark`.
    #[serde(default)]
    pub remark: Option<String>,
    /// `create_time` (RFC 3339), as returned.
    #[serde(default)]
    pub create_time: Option<String>,
    /// `update_time` (RFC 3339), as returned.
    #[serde(default)]
    pub update_time: Option<String>,
    /// `roma_app_id` (ROMA `app` scope).
    #[serde(default)]
    pub roma_app_id: Option<String>,
    /// `roma_app_name` (ROMA).
    #[serde(default)]
    pub roma_app_name: Option<String>,
}

/// The body of create and update (a full replacement on update, SPEC §3.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginBody {
    /// `plugin_name`.
    pub plugin_name: String,
    /// `plugin_type` (must equal the live one on update).
    pub plugin_type: PluginType,
    /// `plugin_scope` (must equal the live one on update).
    pub plugin_scope: Scope,
    /// Sent as compact JSON text.
    #[serde(serialize_with = "content_to_text")]
    pub plugin_content: Value,
    /// `remark`; omitted when `None` (send `Some("")` to clear it on update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// `roma_app_id` (ROMA `app` scope); omitted when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roma_app_id: Option<String>,
}

/// Body of attach (POST) and detach (PUT) of `/plugins/{id}/attach|detach`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginOperApiInfo<'a> {
    /// The environment.
    pub env_id: &'a str,
    /// 1–500 API ids.
    pub api_ids: &'a [String],
}

/// Response of attach: `{"attached_plugins": [...]}` (SPEC §3.8), or `{"bindings": [...]}`
/// as the Terraform provider's SDK reads it (SPEC §11.1): both are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AttachResponse {
    /// The bindings made (the documented key).
    #[serde(default)]
    pub attached_plugins: Vec<AttachedPlugin>,
    /// The bindings made, under the key the Terraform provider reads.
    #[serde(default)]
    pub bindings: Vec<AttachedPlugin>,
}

impl AttachResponse {
    /// Every entry, under either key.
    pub fn entries(self) -> Vec<AttachedPlugin> {
        let mut all = self.attached_plugins;
        all.extend(self.bindings);
        all
    }
}

/// The per-API result an attach answer may carry (`binding_result`, SPEC §11.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct BindingResult {
    /// e.g. `SUCCESS` or `FAILED`.
    pub status: Option<String>,
    /// The error code of a failed binding, when given.
    pub error_code: Option<String>,
    /// The error message of a failed binding, when given.
    pub error_msg: Option<String>,
}

/// One binding made by attach (`PluginApiAttachInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AttachedPlugin {
    /// Binding record id.
    pub plugin_attach_id: String,
    /// Plug-in id.
    pub plugin_id: String,
    /// Plug-in name.
    pub plugin_name: String,
    /// Environment id.
    pub env_id: String,
    /// Environment name.
    pub env_name: String,
    /// API id.
    pub api_id: String,
    /// API name.
    pub api_name: String,
    /// When it was bound.
    pub attached_time: String,
    /// A per-entry status, when the answer carries one (undocumented; SPEC §11.1).
    pub status: Option<String>,
    /// A per-entry result, when the answer carries one: the Terraform provider fails the
    /// APIs of `bindings[?binding_result.status=='FAILED']`
    /// (`huaweicloud/services/apig/resource_huaweicloud_apig_plugin_batch_apis_associate.go`,
    /// formerly `resource_huaweicloud_apig_plugin_associate.go`).
    pub binding_result: Option<BindingResult>,
}

/// Statuses that mean "bound" (compared ignoring case). The success value is not
/// documented anywhere: any other status counts as a failure, which is safe (the API is
/// sent again and then reported as not bound).
const SUCCESS: [&str; 4] = ["SUCCESS", "SUCCEEDED", "SUCCESSFUL", "OK"];

impl AttachedPlugin {
    /// Why the answer says this binding was not made, or `None` when it reports no failure
    /// (no status at all, as documented, or a success status).
    pub fn failure(&self) -> Option<String> {
        let failed = |status: &Option<String>| {
            status
                .as_deref()
                .filter(|s| !SUCCESS.iter().any(|ok| s.eq_ignore_ascii_case(ok)))
                .map(str::to_string)
        };
        let result = self.binding_result.clone().unwrap_or_default();
        let status = failed(&result.status).or_else(|| failed(&self.status))?;
        let detail: Vec<String> = [result.error_code, result.error_msg]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        Some(if detail.is_empty() {
            format!("status {status}")
        } else {
            format!("status {status}: {}", detail.join(" "))
        })
    }
}

/// An item of `attached-apis` (`PluginApiInfo`): an API a plug-in is bound to, in one
/// environment; the fields apigsync uses (the binding record's id and time are skipped unread:
/// 80,000 items of a large gateway's read would hold 160,000 strings more).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AttachedApi {
    /// API id.
    pub api_id: String,
    /// API name.
    pub api_name: String,
    /// Environment of the binding.
    pub env_id: String,
    /// Environment name.
    pub env_name: String,
    /// API group id.
    pub group_id: String,
    /// API group name.
    pub group_name: String,
    /// Request method of the API.
    pub req_method: String,
    /// Request path of the API.
    pub req_uri: String,
}

/// An environment (`EnvInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EnvInfo {
    /// Environment id.
    pub id: String,
    /// Environment name.
    pub name: String,
    /// Remark.
    pub remark: Option<String>,
}

/// An item of the API list (`ApiInfoPerPage`), the fields apigsync uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ApiInfo {
    /// API id.
    pub id: String,
    /// API name.
    pub name: String,
    /// Group id.
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// Request method.
    pub req_method: String,
    /// Request path.
    pub req_uri: String,
    /// Backend type: `HTTP`, `FUNCTION`, `MOCK`, … (ListApisV2's `backend_type`; read by
    /// the Terraform provider's `data_source_huaweicloud_apig_api_basic_configurations.go`
    /// from `GET …/apis` items with `req_method` and `req_uri`). Empty when absent.
    pub backend_type: String,
    /// Environment(s) it runs in (`|`-separated on some endpoints; see SPEC §3.10).
    pub run_env_id: Option<String>,
}

/// An item of the instance's configs (`GET …/project/configs`, SPEC §11.3): `configs[]`
/// as the Terraform provider's `data_source_huaweicloud_apig_instance_quotas.go` reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct InstanceConfig {
    /// `config_name`, e.g. `PLUGIN_NUM_LIMIT`.
    pub config_name: String,
    /// `config_value`: a string of digits in the provider's schema; a number is accepted too.
    pub config_value: Value,
    /// `used`: how much of it is used (an integer in the provider's schema).
    pub used: Value,
}

/// `config_name` of the plug-in quota (SPEC §11.3).
pub const PLUGIN_NUM_LIMIT: &str = "PLUGIN_NUM_LIMIT";

/// The plug-in quota among `configs`: the first `PLUGIN_NUM_LIMIT` entry whose value is a
/// count; `None` when there is none (the quota is then not reported).
pub fn plugin_quota(configs: &[InstanceConfig]) -> Option<PluginQuota> {
    configs
        .iter()
        .filter(|c| c.config_name == PLUGIN_NUM_LIMIT)
        .find_map(|c| {
            Some(PluginQuota {
                limit: count(&c.config_value)?,
                used: count(&c.used),
            })
        })
}

/// A count written as a JSON number or a string of digits.
fn count(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An item of the API list when only its id matters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ApiId {
    /// API id.
    pub id: String,
}

fn content_from_text<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    })
}

fn content_to_text<S: Serializer>(content: &Value, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&content.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plugin_content_text_is_parsed_and_unknown_fields_ignored() {
        let p: Plugin = serde_json::from_value(json!({
            "plugin_id": "id1", "plugin_name": "cors_public", "plugin_type": "cors",
            "plugin_scope": "global", "plugin_content": "{\"allow_origin\":\"*\"}",
            "create_time": "2023-05-06T06:54:59.296181801Z", "brand_new_field": 1
        }))
        .unwrap();
        assert_eq!(p.content, json!({"allow_origin": "*"}));
        assert_eq!(p.remark, None);
    }

    #[test]
    fn the_plugin_quota_is_read_from_a_string_or_a_number_and_absent_otherwise() {
        let configs: Vec<InstanceConfig> = serde_json::from_value(json!([
            {"config_id": "c1", "config_name": "API_NUM_LIMIT", "config_value": "1000", "used": 3},
            {"config_id": "c2", "config_name": "PLUGIN_NUM_LIMIT", "config_value": "500", "used": 12,
             "remark": "plug-ins a tenant may create", "config_time": "2026-12-01T00:00:00Z"}
        ]))
        .unwrap();
        assert_eq!(
            plugin_quota(&configs),
            Some(PluginQuota {
                limit: 500,
                used: Some(12)
            })
        );
        let number: Vec<InstanceConfig> = serde_json::from_value(
            json!([{"config_name": "PLUGIN_NUM_LIMIT", "config_value": 40}]),
        )
        .unwrap();
        assert_eq!(
            plugin_quota(&number),
            Some(PluginQuota {
                limit: 40,
                used: None
            })
        );
        let unreadable: Vec<InstanceConfig> = serde_json::from_value(
            json!([{"config_name": "PLUGIN_NUM_LIMIT", "config_value": "many"}]),
        )
        .unwrap();
        assert_eq!(plugin_quota(&unreadable), None);
        assert_eq!(plugin_quota(&configs[..1]), None);
    }

    #[test]
    fn non_json_content_is_kept_as_text() {
        let p: Plugin = serde_json::from_value(json!({
            "plugin_id": "i", "plugin_name": "n", "plugin_content": "not json"
        }))
        .unwrap();
        assert_eq!(p.content, json!("not json"));
    }

    #[test]
    fn attach_entries_marked_failed_are_failures_whatever_the_key() {
        let answer: AttachResponse = serde_json::from_str(
            r#"{"bindings": [
                {"api_id": "a1", "binding_result": {"status": "FAILED", "error_code": "APIG.3707", "error_msg": "not published"}},
                {"api_id": "a2", "binding_result": {"status": "SUCCESS"}}
            ], "attached_plugins": [
                {"api_id": "a3", "status": "failed"},
                {"api_id": "a4"},
                {"api_id": "a5", "status": "PENDING"},
                {"api_id": "a6", "status": "ok", "binding_result": {"status": "FAILED"}}
            ]}"#,
        )
        .unwrap();
        let verdicts: Vec<(String, Option<String>)> = answer
            .entries()
            .into_iter()
            .map(|e| (e.api_id.clone(), e.failure()))
            .collect();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            verdicts,
            vec![
                ("a3".into(), s("status failed")),
                ("a4".into(), None),
                ("a5".into(), s("status PENDING")),
                ("a6".into(), s("status FAILED")),
                ("a1".into(), s("status FAILED: APIG.3707 not published")),
                ("a2".into(), None),
            ]
        );
    }

    #[test]
    fn body_sends_content_as_compact_json_text() {
        let body = PluginBody {
            plugin_name: "cors_public".into(),
            plugin_type: PluginType::Cors,
            plugin_scope: Scope::Global,
            plugin_content: json!({"allow_origin": "*", "max_age": 600}),
            remark: None,
            roma_app_id: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"plugin_name":"cors_public","plugin_type":"cors","plugin_scope":"global","plugin_content":"{\"allow_origin\":\"*\",\"max_age\":600}"}"#
        );
    }
}
