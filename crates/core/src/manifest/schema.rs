//! The JSON Schema of manifest documents (Plugin, Binding) and of the project
//! file, for editors (yaml-language-server) and CI linters.

use serde_json::{Map, Value, json};

use super::document::MAX_USER_REMARK;
use crate::content;
use crate::model::{ApiRef, PluginType, ProjectFile};

/// The plug-in name rule of SPEC §4.1 as a JSON Schema pattern.
const NAME_PATTERN: &str = "^[A-Za-z\\u4e00-\\u9fa5][A-Za-z0-9_\\-\\u4e00-\\u9fa5]{2,254}$";

/// A JSON Schema (draft 2020-12) that any manifest document or the project file validates against.
///
/// Plug-in contents are typed down to every field, from the validators themselves
/// ([`content::json_schema`]); only cross-field rules are left to `validate`.
pub fn json_schema() -> Value {
    let mut defs = Map::new();
    let project = absorb(
        serde_json::to_value(schemars::schema_for!(ProjectFile)),
        &mut defs,
    );
    let api_ref = absorb(
        serde_json::to_value(schemars::schema_for!(ApiRef)),
        &mut defs,
    );
    defs.insert("ProjectFile".to_owned(), project);
    defs.insert("ApiRef".to_owned(), api_ref);
    defs.insert("Plugin".to_owned(), plugin());
    defs.insert("Binding".to_owned(), binding());
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "apigsync manifest",
        "description": "A kind: Plugin or kind: Binding document of an apigsync manifest folder, or its project file apigsync.yaml.",
        "oneOf": [
            {"$ref": "#/$defs/Plugin"},
            {"$ref": "#/$defs/Binding"},
            {"$ref": "#/$defs/ProjectFile"}
        ],
        "$defs": defs
    })
}

/// Moves a generated schema's `$defs` into `defs` and returns the rest.
fn absorb(schema: Result<Value, serde_json::Error>, defs: &mut Map<String, Value>) -> Value {
    let mut schema = schema.unwrap_or_default();
    if let Some(Value::Object(own)) = schema.as_object_mut().and_then(|o| o.remove("$defs")) {
        defs.extend(own);
    }
    if let Some(o) = schema.as_object_mut() {
        o.remove("$schema");
    }
    schema
}

fn plugin() -> Value {
    let types: Vec<&str> = PluginType::ALL.iter().map(|t| t.as_str()).collect();
    let per_type: Vec<Value> = PluginType::ALL
        .iter()
        .map(|t| {
            json!({
                "if": {"properties": {"type": {"const": t.as_str()}}, "required": ["type"]},
                "then": {"properties": {"content": content::json_schema(*t)}}
            })
        })
        .collect();
    let props = json!({
        "kind": {"const": "Plugin"},
        "name": {"type": "string", "pattern": NAME_PATTERN, "description": "plugin_name: the identity of a plug-in within an instance"},
        "type": {"enum": types, "description": "plugin_type"},
        "scope": {"enum": ["global", "app"], "default": "global", "description": "app needs roma_app_id (ROMA Connect only)"},
        "roma_app_id": {"type": "string"},
        "remark": {"type": "string", "maxLength": MAX_USER_REMARK},
        "content": {"type": "object", "description": "plugin_content as plain YAML; ${VAR} and ${VAR:-default} are substituted"},
        "targets": targets_field()
    });
    json!({
        "type": "object",
        "properties": props,
        "required": ["kind", "name", "type", "content"],
        "additionalProperties": false,
        "allOf": per_type
    })
}

fn binding() -> Value {
    let props = json!({
        "kind": {"const": "Binding"},
        "plugin": {"type": "string", "description": "the plug-in name"},
        "env": {"type": "string", "description": "environment name (or id)"},
        "apis": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/ApiRef"}},
        "displace": {"type": "boolean", "default": false, "description": "allow these bindings to replace a plug-in of the same type that apigsync does not manage (the gateway keeps one per type, API and environment); the plan shows it as destructive"},
        "targets": targets_field()
    });
    json!({
        "type": "object",
        "properties": props,
        "required": ["kind", "plugin", "env", "apis"],
        "additionalProperties": false
    })
}

/// A document's `targets:`: the targets of apigsync.yaml it exists in.
fn targets_field() -> Value {
    json!({"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "only in these targets of apigsync.yaml's targets: (default: every target)"})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::document::{BINDING_FIELDS, PLUGIN_FIELDS};

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v["properties"]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        k.sort_unstable();
        k
    }

    #[test]
    fn document_properties_are_the_fields_the_loader_accepts() {
        let mut plugin = PLUGIN_FIELDS.to_vec();
        plugin.sort_unstable();
        assert_eq!(keys(&super::plugin()), plugin);
        let mut binding = BINDING_FIELDS.to_vec();
        binding.sort_unstable();
        assert_eq!(keys(&super::binding()), binding);
    }
}
