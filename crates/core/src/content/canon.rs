//! Generic steps of the canonical form: null ≡ absent, one number form, sorted
//! keys, defaults filled, secret paths removed.

use serde_json::{Map, Number, Value};

/// Removes object members that are `null`, recursively (arrays keep their items).
pub(crate) fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Rebuilds the value with object keys sorted and integral floats as integers (`1.0` → `1`).
pub(crate) fn unify(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, unify(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(unify).collect()),
        Value::Number(n) => Value::Number(unify_number(n)),
        other => other,
    }
}

fn unify_number(n: Number) -> Number {
    if n.is_i64() || n.is_u64() {
        return n;
    }
    match super::check::as_int(&Value::Number(n.clone())) {
        Some(i) => Number::from(i),
        None => n,
    }
}

/// The object at `path` under `value`, created (as `{}`) where absent; `None` when
/// something on the way is not an object (invalid content is left alone).
pub(crate) fn object_at<'a>(
    value: &'a mut Value,
    path: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    let mut here = value.as_object_mut()?;
    for key in path {
        here = here
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()?;
    }
    Some(here)
}

/// Sets `key` to `default` in the object at `path` (created if absent) when `key` is absent.
pub(crate) fn fill(value: &mut Value, path: &[&str], key: &str, default: Value) {
    if let Some(obj) = object_at(value, path) {
        obj.entry(key.to_owned()).or_insert(default);
    }
}

/// Applies `f` to every object item of the array at `path`, when there is one.
pub(crate) fn each_item(value: &mut Value, path: &[&str], f: impl Fn(&mut Map<String, Value>)) {
    let mut here = value;
    for key in path {
        match here.get_mut(*key) {
            Some(next) => here = next,
            None => return,
        }
    }
    if let Value::Array(items) = here {
        items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(f);
    }
}

/// Removes the member a JSON pointer names, if present.
pub(crate) fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}
