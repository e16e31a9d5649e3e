//! The JSON Schema of each plug-in type's content, declared by the type's own validator:
//! [`super::validate`] run in declaring mode records the type, range, enum and presence of
//! every field it checks, so the schema and `validate` cannot disagree on those. Cross-field
//! rules (one field required when another has some value) stay in the validator only.

use serde_json::{Value, json};

use super::check::{Checker, Declaration, ITEMS, Need};
use crate::model::PluginType;

/// The schema of a `kind` content: every field typed, unknown fields refused.
pub fn json_schema(kind: PluginType) -> Value {
    let mut checker = Checker::declaring(kind);
    super::run(kind, &mut checker, &Value::Null);
    let mut root = json!({});
    for declaration in checker.declarations() {
        place(&mut root, &declaration);
    }
    allow_null(&mut root);
    root["description"] = json!(format!(
        "{kind} content: plugin_content as plain YAML; ${{VAR}} and ${{VAR:-default}} are substituted"
    ));
    root
}

/// Puts one declaration at its pointer: object fields under `properties` (required ones in
/// the parent's `required`), array items under `items`.
fn place(root: &mut Value, d: &Declaration) {
    let segments: Vec<String> = d
        .ptr
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut node = root;
    for (i, segment) in segments.iter().enumerate() {
        if segment == ITEMS {
            node = &mut node["items"];
            continue;
        }
        if i + 1 == segments.len() && d.need == Need::Required {
            require(node, segment);
        }
        node = &mut node["properties"][segment.as_str()];
    }
    merge(node, &d.schema);
}

/// An optional field may be `null`: the validators read null as absent (SPEC §6.6: the
/// server writes null for unset optional objects and lists).
fn allow_null(node: &mut Value) {
    let required: Vec<String> = node["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(Value::Object(props)) = node.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if !required.contains(name) {
                match prop.get_mut("type") {
                    Some(Value::String(t)) => prop["type"] = json!([t.clone(), "null"]),
                    Some(Value::Array(types)) => types.push(json!("null")),
                    _ => {}
                }
                if let Some(Value::Array(values)) = prop.get_mut("enum") {
                    values.push(Value::Null);
                }
            }
            allow_null(prop);
        }
    }
    if let Some(items) = node.get_mut("items") {
        allow_null(items);
    }
}

fn require(object: &mut Value, key: &str) {
    match &mut object["required"] {
        Value::Array(list) if list.iter().any(|k| k == key) => {}
        Value::Array(list) => list.push(json!(key)),
        slot => *slot = json!([key]),
    }
}

/// Adds `schema`'s keywords to `node`; `properties` already described are kept.
fn merge(node: &mut Value, schema: &Value) {
    let Value::Object(add) = schema else {
        return;
    };
    if !node.is_object() {
        *node = json!({});
    }
    for (key, value) in add {
        match (key.as_str(), value) {
            ("properties", Value::Object(props)) => {
                for (name, prop) in props {
                    if node["properties"].get(name).is_none() {
                        node["properties"][name.as_str()] = prop.clone();
                    }
                }
            }
            _ => node[key.as_str()] = value.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_the_validator_knows_is_typed() {
        let cors = json_schema(PluginType::Cors);
        assert_eq!(cors["type"], "object");
        assert_eq!(cors["additionalProperties"], false);
        assert_eq!(cors["required"], json!(["allow_origin"]));
        assert_eq!(cors["properties"]["max_age"]["minimum"], 0);
        assert_eq!(
            cors["properties"]["allow_credentials"]["type"],
            json!(["boolean", "string", "null"])
        );
        let headers = json_schema(PluginType::SetRespHeaders);
        let action = &headers["properties"]["response_headers"]["items"]["properties"]["action"];
        assert!(
            action["enum"]
                .as_array()
                .is_some_and(|e| e.contains(&json!("override"))),
            "{headers:#}"
        );
    }

    #[test]
    fn top_level_properties_are_the_model_fields() {
        for kind in PluginType::ALL {
            let schema = json_schema(kind);
            let mut props: Vec<&str> = schema["properties"]
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            props.sort_unstable();
            let mut fields = super::super::fields(kind).to_vec();
            fields.sort_unstable();
            assert_eq!(props, fields, "{kind}");
        }
    }
}
