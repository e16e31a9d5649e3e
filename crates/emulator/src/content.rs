//! The emulator's model of what the service does with `plugin_content` (SPEC §3.2, §6):
//! what it refuses, what it stores and what reads return. Written from SPEC and the facts
//! file ([`super::facts`]), not from the client's validator, so a wrong guess on either side
//! shows up in tests. No IO.

use serde_json::{Map, Value};

use super::error::ServiceError;
use super::facts::{FieldFact, OnRead, facts, type_facts};
use super::model::PluginType;

/// Checks content text as the service documents it, and returns what it stores: the text
/// verbatim, or re-serialised when the service normalises it ([`normalize`]).
///
/// Refused with 400 APIG.2012 `parameterName:plugin_content.` (code: chosen, SPEC §10.3):
/// text longer than the limit (SPEC §4.3), text that is not a JSON object (SPEC §2), a
/// documented field that is missing, of the wrong JSON type or outside its documented
/// values (SPEC §6 tables). Fields SPEC does not list are accepted (SPEC §6.6: the server
/// drops or keeps unknown keys, it does not refuse them).
pub fn check(kind: &PluginType, text: String) -> Result<String, ServiceError> {
    let max = facts().content_max_chars;
    if text.chars().count() > max {
        return Err(refused(&format!(
            "The content is longer than {max} characters"
        )));
    }
    let parsed: Value = serde_json::from_str(&text)
        .map_err(|err| refused(&format!("The content is not valid JSON: {err}")))?;
    if !parsed.is_object() {
        return Err(refused("The content must be a JSON object"));
    }
    if let Some(model) = type_facts(kind.as_str()) {
        for (pattern, fact) in &model.fields {
            for (pointer, value) in locate(&parsed, pattern) {
                check_field(&pointer, value, fact).map_err(|m| refused(&m))?;
            }
        }
    }
    let normalized = normalize(kind, parsed.clone());
    Ok(if normalized == parsed {
        text
    } else {
        normalized.to_string()
    })
}

fn refused(detail: &str) -> ServiceError {
    ServiceError::invalid("plugin_content", detail)
}

/// Every place `pattern` (a JSON pointer, `*` = every array item) names in `root` whose
/// parent is present: `(concrete pointer, the value there or None)`.
fn locate<'a>(root: &'a Value, pattern: &str) -> Vec<(String, Option<&'a Value>)> {
    let steps: Vec<&str> = pattern.split('/').skip(1).collect();
    let Some((last, parents)) = steps.split_last() else {
        return Vec::new();
    };
    let mut here: Vec<(String, &Value)> = vec![(String::new(), root)];
    for step in parents {
        here = here
            .into_iter()
            .flat_map(|(at, v)| children(&at, v, step))
            .filter_map(|(at, v)| v.filter(|v| !v.is_null()).map(|v| (at, v)))
            .collect();
    }
    here.into_iter()
        .flat_map(|(at, v)| children(&at, v, last))
        .collect()
}

/// The child `step` of `v` (`*`: every item of an array); nothing when `v` has no such place.
fn children<'a>(at: &str, v: &'a Value, step: &str) -> Vec<(String, Option<&'a Value>)> {
    match (step, v) {
        ("*", Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("{at}/{i}"), Some(item)))
            .collect(),
        (key, Value::Object(map)) if key != "*" => vec![(format!("{at}/{key}"), map.get(key))],
        _ => Vec::new(),
    }
}

fn check_field(pointer: &str, value: Option<&Value>, fact: &FieldFact) -> Result<(), String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return if fact.required {
            Err(format!("{pointer}: is required"))
        } else {
            Ok(())
        };
    };
    let names = fact.types.names();
    let typed = names.iter().any(|t| match *t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    });
    if !typed {
        return Err(format!("{pointer}: must be of type {}", names.join(" or ")));
    }
    if let (Some(allowed), Some(text)) = (&fact.allowed, value.as_str()) {
        let listed = allowed.iter().any(|a| {
            if fact.enum_ignore_case {
                a.eq_ignore_ascii_case(text)
            } else {
                a == text
            }
        });
        if !listed {
            return Err(format!("{pointer}: must be one of {}", allowed.join(", ")));
        }
    }
    Ok(())
}

/// What the server stores after a create or update. third_auth (SPEC §6.6, seeds 000/001/002):
/// `auth_request.vpc_channel_enabled` true/false → 1/2, `vpc_channel_info` → null when the
/// channel is off, `identities.query` dropped, `identities.queries: null` added,
/// `identities.headers[].essential: false` added. Other types: stored as sent (SPEC §6,
/// "some types come back verbatim").
pub fn normalize(kind: &PluginType, mut content: Value) -> Value {
    if *kind != PluginType::ThirdAuth {
        return content;
    }
    if let Some(req) = content
        .get_mut("auth_request")
        .and_then(Value::as_object_mut)
        && let Some(on) = req.get("vpc_channel_enabled").and_then(Value::as_bool)
    {
        req.insert(
            "vpc_channel_enabled".to_owned(),
            Value::from(if on { 1 } else { 2 }),
        );
        if !on {
            req.insert("vpc_channel_info".to_owned(), Value::Null);
        }
    }
    if let Some(ids) = content.get_mut("identities").and_then(Value::as_object_mut) {
        ids.shift_remove("query");
        ids.entry("queries").or_insert(Value::Null);
        if let Some(Value::Array(headers)) = ids.get_mut("headers") {
            for h in headers.iter_mut().filter_map(Value::as_object_mut) {
                h.entry("essential").or_insert(Value::Bool(false));
            }
        }
    }
    content
}

/// The stored content as reads return it (SPEC §6.10): secret fields removed or masked as
/// the facts file says.
pub fn redact(kind: &PluginType, mut content: Value) -> Value {
    let Some(model) = type_facts(kind.as_str()) else {
        return content;
    };
    for secret in &model.secrets {
        let Some((parent, key)) = secret.pointer.rsplit_once('/') else {
            continue;
        };
        let Some(obj) = content.pointer_mut(parent).and_then(Value::as_object_mut) else {
            continue;
        };
        match secret.on_read {
            OnRead::Remove => {
                obj.shift_remove(key);
            }
            OnRead::Mask => {
                if let Some(v) = obj.get_mut(key) {
                    *v = Value::from(facts().anonymised_mask.as_str());
                }
            }
            OnRead::Keep => {}
        }
    }
    content
}

/// Writes the documented defaults of `kind` (the facts' `defaults`) into `content` where
/// absent; missing parent objects are created, `*` applies to every object item of an array.
pub fn fill_defaults(kind: &PluginType, content: &mut Value) {
    let Some(model) = type_facts(kind.as_str()) else {
        return;
    };
    for d in &model.defaults {
        let steps: Vec<&str> = d.pointer.split('/').skip(1).collect();
        set_default(content, &steps, &d.value);
    }
}

fn set_default(here: &mut Value, steps: &[&str], default: &Value) {
    let Some((step, rest)) = steps.split_first() else {
        return;
    };
    match (*step, here) {
        ("*", Value::Array(items)) => {
            for item in items.iter_mut().filter(|i| i.is_object()) {
                set_default(item, rest, default);
            }
        }
        (key, Value::Object(map)) if rest.is_empty() => {
            map.entry(key.to_owned()).or_insert_with(|| default.clone());
        }
        (key, Value::Object(map)) => {
            let next = map
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            set_default(next, rest, default);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal(kind: PluginType, content: Value) -> Option<String> {
        check(&kind, content.to_string()).err().map(|e| e.message)
    }

    #[test]
    fn documented_fields_are_checked_and_unknown_ones_accepted() {
        assert_eq!(
            refusal(PluginType::Cors, json!({"allow_origin": "*", "x": 1})),
            None
        );
        assert_eq!(
            refusal(PluginType::Cors, json!({"allow_methods": "GET"})).as_deref(),
            Some(
                "Invalid parameter value,parameterName:plugin_content. /allow_origin: is required"
            )
        );
        assert_eq!(
            refusal(PluginType::RateLimit, json!({"api_limit": "10"})).as_deref(),
            Some(
                "Invalid parameter value,parameterName:plugin_content. /api_limit: must be of type integer"
            )
        );
        assert_eq!(
            refusal(
                PluginType::SetRespHeaders,
                json!({"response_headers": [{"name": "a", "action": "OVERRIDE"}, {"name": "b", "action": "drop"}]})
            )
            .as_deref(),
            Some("Invalid parameter value,parameterName:plugin_content. /response_headers/1/action: must be one of append, override, delete, skip, add")
        );
        assert_eq!(
            refusal(PluginType::Cors, json!([1])).as_deref(),
            Some(
                "Invalid parameter value,parameterName:plugin_content. The content must be a JSON object"
            )
        );
    }

    #[test]
    fn third_auth_is_normalised_as_the_docs_show() {
        let sent = json!({"auth_request": {"method": "GET", "protocol": "HTTPS", "path": "/a",
            "vpc_channel_enabled": false, "vpc_channel_info": {"vpc_id": "v"}},
            "identities": {"headers": [{"name": "h"}], "query": [{"name": "q"}]}});
        let stored = check(&PluginType::ThirdAuth, sent.to_string()).expect("valid");
        assert_eq!(
            serde_json::from_str::<Value>(&stored).expect("json"),
            json!({"auth_request": {"method": "GET", "protocol": "HTTPS", "path": "/a",
                "vpc_channel_enabled": 2, "vpc_channel_info": null},
                "identities": {"headers": [{"name": "h", "essential": false}], "queries": null}})
        );
    }

    #[test]
    fn reads_remove_or_mask_secrets() {
        assert_eq!(
            redact(
                &PluginType::KafkaLog,
                json!({"sasl_config": {"sasl_password": "p", "ssl_ca_content": "c"}})
            ),
            json!({"sasl_config": {"ssl_ca_content": "c"}})
        );
        assert_eq!(
            redact(&PluginType::OidcAuth, json!({"client_secret": "s"})),
            json!({"client_secret": "******"})
        );
    }

    #[test]
    fn defaults_fill_absent_fields_only() {
        let mut v = json!({"response_headers": [{"name": "a"}, {"name": "b", "value_type": "system_parameter"}]});
        fill_defaults(&PluginType::SetRespHeaders, &mut v);
        assert_eq!(
            v,
            json!({"response_headers": [{"name": "a", "value_type": "custom_value"}, {"name": "b", "value_type": "system_parameter"}]})
        );
        let mut v = json!({"topic": "t"});
        fill_defaults(&PluginType::KafkaLog, &mut v);
        assert_eq!(
            v,
            json!({"topic": "t", "max_retry_count": 0,
                "sasl_config": {"security_protocol": "PLAINTEXT", "sasl_mechanisms": "PLAIN"},
                "meta_config": {"system": {"start_time": true, "request_id": true, "client_ip": true}}})
        );
    }
}
