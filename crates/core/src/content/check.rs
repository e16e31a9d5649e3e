//! Shared building blocks of the per-type validators: a [`Checker`] that walks a
//! content object field by field and collects [`ContentIssue`]s.
//!
//! Null is treated as absent everywhere (SPEC §6.6: the server writes `null` for
//! unset optional objects and lists), so a required field that is `null` is missing.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::ContentIssue;
use crate::model::PluginType;

/// Smallest similarity (Jaro-Winkler) for a "did you mean" hint.
const HINT_SIMILARITY: f64 = 0.8;

/// Whether a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Missing (or null) is an issue.
    Required,
    /// Missing (or null) is fine.
    Optional,
}

/// An object inside the content, with the JSON pointer it sits at.
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    /// JSON pointer of the object (`""` for the root).
    pub ptr: String,
    /// Its fields.
    pub map: &'a Map<String, Value>,
}

/// Collects the issues of one content object of one plug-in type. In declaring mode
/// ([`Checker::declaring`]) it instead records the type of every field the validator asks
/// for, which is how the JSON Schema of contents comes from the validators themselves.
#[derive(Debug)]
pub(crate) struct Checker {
    kind: PluginType,
    secrets: &'static [&'static str],
    issues: Vec<ContentIssue>,
    declared: Option<Vec<Declaration>>,
}

/// What a validator asks of one field: its JSON Schema fragment and whether it is required.
#[derive(Debug, Clone)]
pub(crate) struct Declaration {
    /// JSON pointer of the field; an array's items are the segment [`ITEMS`].
    pub ptr: String,
    /// Its schema (merged with the other declarations of the same pointer).
    pub schema: Value,
    /// Whether it must be present.
    pub need: Need,
}

/// The pointer segment that stands for "every item" of an array in declaring mode.
pub(crate) const ITEMS: &str = "[]";

/// In declaring mode every object is read as this empty one.
static NO_FIELDS: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// A `${VAR}` or `${VAR:-default}` reference: a number or boolean written as one is
/// substituted before it is checked, so the schema lets it stand in for the value.
const VAR_PATTERN: &str = "^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$";

/// `parent` + `/` + `key`, escaped per RFC 6901.
pub(crate) fn join(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// The pointer without its leading `/`, for messages (`sasl_config/sasl_password`).
fn field_name(ptr: &str) -> &str {
    ptr.strip_prefix('/').unwrap_or(ptr)
}

/// The best "did you mean" candidate for `name` among `known`.
pub(crate) fn did_you_mean<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score >= HINT_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// A short description of a JSON value for messages: type and (abbreviated) value.
pub(crate) fn describe(value: &Value) -> String {
    const MAX: usize = 40;
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > MAX => {
            let head: String = s.chars().take(MAX).collect();
            format!("string {head:?}…")
        }
        Value::String(s) => format!("string {s:?}"),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

impl Checker {
    /// A checker for a content of `kind`.
    pub(crate) fn new(kind: PluginType) -> Self {
        Self {
            kind,
            secrets: super::secret_pointers(kind),
            issues: Vec::new(),
            declared: None,
        }
    }

    /// A checker that records what the validator asks of each field instead of checking
    /// a value: every object reads as empty, every array as one item.
    pub(crate) fn declaring(kind: PluginType) -> Self {
        Self {
            declared: Some(Vec::new()),
            ..Self::new(kind)
        }
    }

    /// The declarations recorded in declaring mode.
    pub(crate) fn declarations(self) -> Vec<Declaration> {
        self.declared.unwrap_or_default()
    }

    /// In declaring mode, records `schema` as (part of) the JSON Schema of the field at `ptr`.
    pub(crate) fn declare(&mut self, ptr: &str, schema: Value, need: Need) {
        if let Some(declared) = &mut self.declared {
            declared.push(Declaration {
                ptr: ptr.to_owned(),
                schema,
                need,
            });
        }
    }

    /// A number or boolean type that a `${VAR}` string may stand in for.
    fn scalar(kind: &str, description: String) -> Value {
        json!({"type": [kind, "string"], "pattern": VAR_PATTERN, "description": description})
    }

    /// The issues found so far.
    pub(crate) fn finish(self) -> Vec<ContentIssue> {
        self.issues
    }

    /// Records an issue at `ptr`; `what` is the rest of the sentence after the field name.
    pub(crate) fn issue(&mut self, ptr: &str, what: impl std::fmt::Display) {
        let message = if ptr.is_empty() {
            format!("{} content {what}", self.kind)
        } else {
            format!("{} in {} content {what}", field_name(ptr), self.kind)
        };
        self.issues.push(ContentIssue {
            pointer: ptr.to_owned(),
            message,
            unknown_field: false,
        });
    }

    /// The value for messages, hidden when `ptr` is a secret field.
    fn shown(&self, ptr: &str, value: &Value) -> String {
        if self.secrets.contains(&ptr) {
            "a value (hidden: secret field)".to_owned()
        } else {
            describe(value)
        }
    }

    fn wrong(&mut self, ptr: &str, expected: &str, got: &Value) {
        let got = self.shown(ptr, got);
        self.issue(ptr, format_args!("must be {expected}, got {got}"));
    }

    /// Checks that `value` (at `ptr`) is an object whose fields are all in `known`.
    /// With `lenient`, unknown fields are accepted (the server tolerates them there).
    pub(crate) fn object<'a>(
        &mut self,
        ptr: &str,
        value: &'a Value,
        known: &[&str],
        lenient: bool,
    ) -> Option<Obj<'a>> {
        if self.declared.is_some() {
            let properties: Map<String, Value> =
                known.iter().map(|k| ((*k).to_owned(), json!({}))).collect();
            let schema = json!({"type": "object", "properties": properties, "additionalProperties": lenient});
            self.declare(ptr, schema, Need::Optional);
            return Some(Obj {
                ptr: ptr.to_owned(),
                map: &NO_FIELDS,
            });
        }
        let Value::Object(map) = value else {
            self.wrong(ptr, "an object", value);
            return None;
        };
        if !lenient {
            for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
                let at = if ptr.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", field_name(ptr))
                };
                let hint = did_you_mean(key, known)
                    .map(|k| format!(", did you mean {k:?}?"))
                    .unwrap_or_default();
                self.issues.push(ContentIssue {
                    pointer: join(ptr, key),
                    message: format!("unknown field {key:?}{at} in {} content{hint}", self.kind),
                    unknown_field: true,
                });
            }
        }
        Some(Obj {
            ptr: ptr.to_owned(),
            map,
        })
    }

    /// The field `key` of `obj`, if present and not null; an issue when required and missing.
    pub(crate) fn field<'a>(&mut self, obj: &Obj<'a>, key: &str, need: Need) -> Option<&'a Value> {
        self.declare(&join(&obj.ptr, key), json!({}), need);
        match obj.map.get(key) {
            Some(Value::Null) | None => {
                if need == Need::Required {
                    self.issue(&join(&obj.ptr, key), "is required");
                }
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A string field.
    pub(crate) fn str<'a>(&mut self, obj: &Obj<'a>, key: &str, need: Need) -> Option<&'a str> {
        self.declare(&join(&obj.ptr, key), json!({"type": "string"}), need);
        let v = self.field(obj, key, need)?;
        match v {
            Value::String(s) => Some(s),
            other => {
                self.wrong(&join(&obj.ptr, key), "a string", other);
                None
            }
        }
    }

    /// A string field of at most `max` characters (and at least `min`).
    pub(crate) fn str_len<'a>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        need: Need,
        min: usize,
        max: usize,
    ) -> Option<&'a str> {
        let schema = json!({"minLength": min, "maxLength": max, "description": format!("{min} to {max} characters")});
        self.declare(&join(&obj.ptr, key), schema, need);
        let s = self.str(obj, key, need)?;
        let n = s.chars().count();
        if n < min || n > max {
            let ptr = join(&obj.ptr, key);
            self.issue(
                &ptr,
                format_args!("must be {min} to {max} characters long, got {n}"),
            );
        }
        Some(s)
    }

    /// A string field whose value must be one of `allowed` (case-insensitive when
    /// `fold_case`); `None` when absent or not allowed, so cross-field rules skip it.
    pub(crate) fn one_of<'a>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        need: Need,
        allowed: &[&str],
        fold_case: bool,
    ) -> Option<&'a str> {
        let mut values: Vec<String> = allowed.iter().map(|a| (*a).to_owned()).collect();
        if fold_case {
            values.extend(allowed.iter().map(|a| a.to_lowercase()));
            values.extend(allowed.iter().map(|a| a.to_uppercase()));
            values.sort();
            values.dedup();
        }
        let description = format!("one of {}", allowed.join(", "));
        let schema = json!({"enum": values, "description": description});
        self.declare(&join(&obj.ptr, key), schema, need);
        let s = self.str(obj, key, need)?;
        let ok = allowed
            .iter()
            .any(|a| *a == s || (fold_case && a.eq_ignore_ascii_case(s)));
        if !ok {
            let ptr = join(&obj.ptr, key);
            let hint = did_you_mean(s, allowed)
                .map(|k| format!(", did you mean {k:?}?"))
                .unwrap_or_default();
            self.issue(
                &ptr,
                format_args!("must be one of {}, got {s:?}{hint}", allowed.join(", ")),
            );
            return None;
        }
        Some(s)
    }

    /// A boolean field.
    pub(crate) fn bool(&mut self, obj: &Obj<'_>, key: &str, need: Need) -> Option<bool> {
        let schema = Self::scalar("boolean", "true or false".to_owned());
        self.declare(&join(&obj.ptr, key), schema, need);
        match self.field(obj, key, need)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong(&join(&obj.ptr, key), "a boolean", other);
                None
            }
        }
    }

    /// An integer field in `min..=max` (a float with no fraction counts as an integer).
    pub(crate) fn int(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        need: Need,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let mut schema = Self::scalar("integer", format!("an integer from {min} to {max}"));
        schema["minimum"] = json!(min);
        schema["maximum"] = json!(max);
        self.declare(&join(&obj.ptr, key), schema, need);
        let v = self.field(obj, key, need)?;
        let ptr = join(&obj.ptr, key);
        let Some(n) = as_int(v) else {
            self.wrong(&ptr, "an integer", v);
            return None;
        };
        if n < min || n > max {
            self.issue(&ptr, format_args!("must be from {min} to {max}, got {n}"));
        }
        Some(n)
    }

    /// A number field in `min..=max`.
    pub(crate) fn number(
        &mut self,
        obj: &Obj<'_>,
        key: &str,
        need: Need,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let mut schema = Self::scalar("number", format!("a number from {min} to {max}"));
        schema["minimum"] = json!(min);
        schema["maximum"] = json!(max);
        self.declare(&join(&obj.ptr, key), schema, need);
        let v = self.field(obj, key, need)?;
        let ptr = join(&obj.ptr, key);
        let Some(n) = v.as_f64() else {
            self.wrong(&ptr, "a number", v);
            return None;
        };
        if n < min || n > max {
            self.issue(&ptr, format_args!("must be from {min} to {max}, got {n}"));
        }
        Some(n)
    }

    /// An array field of at most `max` items; returns each item with its pointer.
    pub(crate) fn array<'a>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        need: Need,
        max: usize,
    ) -> Option<Vec<(String, &'a Value)>> {
        let ptr = join(&obj.ptr, key);
        if self.declared.is_some() {
            let mut schema = json!({"type": "array"});
            if max != usize::MAX {
                schema["maxItems"] = json!(max);
            }
            self.declare(&ptr, schema, need);
            return Some(vec![(format!("{ptr}/{ITEMS}"), &Value::Null)]);
        }
        let v = self.field(obj, key, need)?;
        let Value::Array(items) = v else {
            self.wrong(&ptr, "an array", v);
            return None;
        };
        if items.len() > max {
            self.issue(
                &ptr,
                format_args!("must have at most {max} items, got {}", items.len()),
            );
        }
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| (format!("{ptr}/{i}"), item))
                .collect(),
        )
    }

    /// An array of strings, each `min_len..=max_len` characters long.
    pub(crate) fn str_array<'a>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        need: Need,
        max: usize,
        (min_len, max_len): (usize, usize),
    ) -> Vec<&'a str> {
        let item = json!({"type": "string", "minLength": min_len, "maxLength": max_len});
        self.declare(
            &format!("{}/{ITEMS}", join(&obj.ptr, key)),
            item,
            Need::Optional,
        );
        if self.declared.is_some() {
            self.array(obj, key, need, max);
            return Vec::new();
        }
        let mut out = Vec::new();
        for (ptr, item) in self.array(obj, key, need, max).unwrap_or_default() {
            match item {
                Value::String(s) => {
                    let n = s.chars().count();
                    if n < min_len || n > max_len {
                        self.issue(
                            &ptr,
                            format_args!("must be {min_len} to {max_len} characters long, got {n}"),
                        );
                    }
                    out.push(s.as_str());
                }
                other => self.wrong(&ptr, "a string", other),
            }
        }
        out
    }

    /// A nested object field whose fields are all in `known`.
    pub(crate) fn child<'a>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        need: Need,
        known: &[&str],
    ) -> Option<Obj<'a>> {
        if self.declared.is_some() {
            let ptr = join(&obj.ptr, key);
            self.declare(&ptr, json!({}), need);
            return self.object(&ptr, &Value::Null, known, false);
        }
        let v = self.field(obj, key, need)?;
        self.object(&join(&obj.ptr, key), v, known, false)
    }
}

/// The value as an integer, when it is one (`5` or `5.0`).
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let f = v.as_f64()?;
    let exact = f.fract() == 0.0 && f.abs() < 9.0e15;
    exact.then_some(f as i64)
}
