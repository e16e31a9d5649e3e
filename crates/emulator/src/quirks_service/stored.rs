//! What the server writes into stored content beyond what was sent: `fill_defaults`,
//! `unknown_fields` and `rewrite_values` (see the table of [`super`]).

use serde_json::{Map, Value};

use super::ServiceQuirks;
use crate::content::fill_defaults;
use crate::facts::type_facts;
use crate::model::PluginType;
use crate::store::{Instance, PluginRec};

/// The field a newer server adds, at the top level and inside the type's objects.
pub const NEW_FIELD: &str = "x_new_option";

/// Applies the switches to the stored content of `rec` (and to its record in `inst`).
pub(super) fn stored(inst: &mut Instance, mut rec: PluginRec, q: &ServiceQuirks) -> PluginRec {
    if !(q.fill_defaults || q.unknown_fields || q.rewrite_values) {
        return rec;
    }
    let Ok(mut value) = serde_json::from_str::<Value>(&rec.content) else {
        return rec;
    };
    if q.fill_defaults {
        fill_defaults(&rec.plugin_type, &mut value);
    }
    if q.unknown_fields {
        add_unknown_fields(&rec.plugin_type, &mut value);
    }
    if q.rewrite_values {
        rewrite_values(&rec.plugin_type, &mut value);
    }
    rec.content = value.to_string();
    if let Some(slot) = inst.plugins.get_mut(&rec.id) {
        slot.content = rec.content.clone();
    }
    rec
}

fn add_to(obj: &mut Map<String, Value>) {
    obj.entry(NEW_FIELD).or_insert(Value::Bool(false));
}

/// `unknown_fields`: `"x_new_option": false` at the top level, and inside every object the
/// type's model has at the first level (`/a` of type object) or as items of a first-level
/// array (`/a/*`), where present.
fn add_unknown_fields(kind: &PluginType, v: &mut Value) {
    let Some(root) = v.as_object_mut() else {
        return;
    };
    add_to(root);
    let Some(model) = type_facts(kind.as_str()) else {
        return;
    };
    for (pointer, fact) in &model.fields {
        if !fact.types.names().contains(&"object") {
            continue;
        }
        let steps: Vec<&str> = pointer.split('/').skip(1).collect();
        match steps.as_slice() {
            [key] => {
                if let Some(obj) = root.get_mut(*key).and_then(Value::as_object_mut) {
                    add_to(obj);
                }
            }
            [key, "*"] => {
                if let Some(items) = root.get_mut(*key).and_then(Value::as_array_mut) {
                    items
                        .iter_mut()
                        .filter_map(Value::as_object_mut)
                        .for_each(add_to);
                }
            }
            _ => {}
        }
    }
}

fn lower(v: Option<&mut Value>) {
    if let Some(v) = v
        && let Some(text) = v.as_str()
    {
        *v = Value::from(text.to_ascii_lowercase());
    }
}

/// `rewrite_values`: set_resp_headers `response_headers[].name` lower-cased; cors
/// `allow_headers`, `expose_headers` lower-cased and `max_age` returned as a string;
/// kafka_log `broker_list` sorted.
fn rewrite_values(kind: &PluginType, v: &mut Value) {
    match kind {
        PluginType::SetRespHeaders => {
            if let Some(headers) = v.get_mut("response_headers").and_then(Value::as_array_mut) {
                for h in headers.iter_mut() {
                    lower(h.get_mut("name"));
                }
            }
        }
        PluginType::Cors => {
            lower(v.get_mut("allow_headers"));
            lower(v.get_mut("expose_headers"));
            if let Some(age) = v.get_mut("max_age")
                && age.is_number()
            {
                *age = Value::from(age.to_string());
            }
        }
        PluginType::KafkaLog => {
            if let Some(list) = v.get_mut("broker_list").and_then(Value::as_array_mut) {
                list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
        _ => {}
    }
}
