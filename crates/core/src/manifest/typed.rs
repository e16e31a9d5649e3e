//! Typed substitution: a value written as exactly one `${VAR}` is text after
//! substitution, but where the model wants a number or a boolean (`api_limit:
//! ${RL_LIMIT}`) it becomes one, when the text reads as one.
//!
//! The model decides: the content is checked with the value as text and as the
//! typed value, and the typed value is kept only where it removes the issue at
//! that field. A field that accepts text keeps text (`topic: ${TOPIC}` with
//! `TOPIC=123` stays `"123"`). Text that does not read as the wanted type stays
//! text and fails the model's check at its line, as a literal would.

use serde_json::Value;

use crate::content;
use crate::model::PluginType;

/// Turns the values at `whole` (pointers into `content`) into numbers or
/// booleans where the model of `kind` wants them.
pub(crate) fn apply(kind: PluginType, content: &mut Value, whole: &[String]) {
    let typed: Vec<(&String, Value)> = whole
        .iter()
        .filter_map(|p| {
            let text = content.pointer(p)?.as_str()?;
            Some((p, scalar(text)?))
        })
        .collect();
    if typed.is_empty() {
        return;
    }
    let as_text = content::validate(kind, content);
    let mut coerced = content.clone();
    for (p, v) in &typed {
        if let Some(slot) = coerced.pointer_mut(p) {
            *slot = v.clone();
        }
    }
    let as_typed = content::validate(kind, &coerced);
    let flagged = |issues: &[content::ContentIssue], p: &str| issues.iter().any(|i| i.pointer == p);
    for (p, v) in typed {
        if flagged(&as_text, p)
            && !flagged(&as_typed, p)
            && let Some(slot) = content.pointer_mut(p)
        {
            *slot = v;
        }
    }
}

/// `text` as a YAML 1.2 core number or boolean, when it reads as one.
pub(crate) fn scalar(text: &str) -> Option<Value> {
    match text.trim() {
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        t => t
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| t.parse::<u64>().map(Value::from).ok())
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_number_field_gets_a_number_and_a_text_field_keeps_text() {
        let mut c = json!({"allow_origin": "*", "max_age": "600", "allow_headers": "123"});
        let whole = ["/max_age".to_owned(), "/allow_headers".to_owned()];
        apply(PluginType::Cors, &mut c, &whole);
        assert_eq!(c["max_age"], json!(600));
        assert_eq!(c["allow_headers"], json!("123"));
    }

    #[test]
    fn text_that_is_not_a_number_stays_text() {
        let mut c = json!({"allow_origin": "*", "max_age": "ten"});
        apply(PluginType::Cors, &mut c, &["/max_age".to_owned()]);
        assert_eq!(c["max_age"], json!("ten"));
    }

    #[test]
    fn scalars_read_as_yaml_core_types() {
        assert_eq!(scalar("42"), Some(json!(42)));
        assert_eq!(scalar("1.5"), Some(json!(1.5)));
        assert_eq!(scalar("true"), Some(json!(true)));
        assert_eq!(scalar("yes"), None);
        assert_eq!(scalar("NaN"), None);
    }
}
