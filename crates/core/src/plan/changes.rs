//! Field-level changes between a live and a desired plug-in body.

use serde_json::Value;

use super::model::FieldChange;

/// Appends to `out` the changes from `old` to `new` under the JSON pointer `path`: objects
/// field by field, arrays of equal length item by item, anything else as a whole value.
pub(crate) fn diff_values(
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    if old == new {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{path}/{}", escape(key));
                diff_values(&child, a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_values(&format!("{path}/{i}"), Some(x), Some(y), out);
            }
        }
        _ => out.push(FieldChange {
            path: path.to_owned(),
            old: old.cloned(),
            new: new.cloned(),
            sensitive: false,
        }),
    }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn changes(old: Value, new: Value) -> Vec<(String, Option<Value>, Option<Value>)> {
        let mut out = Vec::new();
        diff_values("/content", Some(&old), Some(&new), &mut out);
        out.into_iter().map(|c| (c.path, c.old, c.new)).collect()
    }

    #[test]
    fn only_changed_leaves_are_reported() {
        let got = changes(
            json!({"max_age": 600, "allow_origin": "*", "nested": {"x": 1, "y": 2}}),
            json!({"max_age": 900, "allow_origin": "*", "nested": {"x": 1, "z": 3}}),
        );
        assert_eq!(
            got,
            vec![
                (
                    "/content/max_age".to_owned(),
                    Some(json!(600)),
                    Some(json!(900))
                ),
                ("/content/nested/y".to_owned(), Some(json!(2)), None),
                ("/content/nested/z".to_owned(), None, Some(json!(3))),
            ]
        );
    }

    #[test]
    fn arrays_of_equal_length_diff_by_index_others_whole() {
        assert_eq!(
            changes(json!({"r": [1, 2]}), json!({"r": [1, 3]})),
            vec![("/content/r/1".to_owned(), Some(json!(2)), Some(json!(3)))]
        );
        assert_eq!(
            changes(json!({"r": [1]}), json!({"r": [1, 3]})),
            vec![(
                "/content/r".to_owned(),
                Some(json!([1])),
                Some(json!([1, 3]))
            )]
        );
    }

    #[test]
    fn pointer_segments_are_escaped() {
        assert_eq!(
            changes(json!({"a/b~c": 1}), json!({"a/b~c": 2})),
            vec![(
                "/content/a~1b~0c".to_owned(),
                Some(json!(1)),
                Some(json!(2))
            )]
        );
    }
}
