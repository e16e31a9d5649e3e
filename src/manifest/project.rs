//! The project file `apigsync.yaml`: target and options, `${VAR}` substituted,
//! unknown fields reported with their position and a hint.

use serde_json::Value;

use super::document::Reader;
use super::error::Diags;
use super::yaml::{Node, Yaml};
use crate::content::did_you_mean;
use crate::model::{Location, ProjectFile, owner_problem};

/// Reads the project file's single document (an empty file is the default project).
pub(crate) fn read(reader: &mut Reader<'_>, docs: Vec<Node>) -> Option<ProjectFile> {
    let mut docs = docs.into_iter();
    let Some(mut doc) = docs.next() else {
        return Some(ProjectFile::default());
    };
    if let Some(extra) = docs.next() {
        let at = Location::new(reader.file, extra.pos.line, extra.pos.column);
        reader.diags.push(
            at,
            "the project file holds one document; put plug-ins and bindings in other files",
        );
    }
    reader.substitute(&mut doc);
    let schema = serde_json::to_value(schemars::schema_for!(ProjectFile)).unwrap_or_default();
    let before = reader.diags.len();
    unknown_fields(reader.file, &doc, &schema, &schema, "", reader.diags);
    if reader.diags.len() > before {
        return None;
    }
    match serde_json::from_value::<ProjectFile>(doc.to_json()) {
        Ok(project) => check_owner(reader, &doc, project),
        Err(e) => {
            let at = Location::new(reader.file, doc.pos.line, doc.pos.column);
            // serde's message names the field and what was expected.
            reader.diags.push(at, format!("invalid project file: {e}"));
            None
        }
    }
}

/// The project, unless `options.owner` is not a valid owner name (reported at its value).
fn check_owner(reader: &mut Reader<'_>, doc: &Node, project: ProjectFile) -> Option<ProjectFile> {
    let Some(problem) = owner_problem(&project.options.owner) else {
        return Some(project);
    };
    let pos = doc
        .entry("options")
        .and_then(|o| o.value.entry("owner"))
        .map_or(doc.pos, |e| e.value.pos);
    let at = Location::new(reader.file, pos.line, pos.column);
    reader.diags.push(at, format!("options.owner: {problem}"));
    None
}

/// Reports mapping keys the schema does not declare, recursing into declared objects.
fn unknown_fields(
    file: &std::path::Path,
    node: &Node,
    schema: &Value,
    root: &Value,
    path: &str,
    diags: &mut Diags,
) {
    let schema = resolve(schema, root);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let Yaml::Map(entries) = &node.value else {
        return;
    };
    let known: Vec<&str> = props.keys().map(String::as_str).collect();
    for e in entries {
        let here = if path.is_empty() {
            e.key.clone()
        } else {
            format!("{path}.{}", e.key)
        };
        match props.get(&e.key) {
            Some(sub) => unknown_fields(file, &e.value, sub, root, &here, diags),
            None => {
                let hint = did_you_mean(&e.key, &known)
                    .map(|k| format!(", did you mean {k:?}?"))
                    .unwrap_or_default();
                let at = Location::new(file, e.key_pos.line, e.key_pos.column);
                let within = if path.is_empty() {
                    String::new()
                } else {
                    format!(" in {path}")
                };
                diags.push(
                    at,
                    format!(
                        "unknown field {:?}{within} of the project file, expected one of {}{hint}",
                        e.key,
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

/// Follows `$ref` and single-branch `anyOf`/`oneOf` wrappers (schemars' `Option<T>`).
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str)
        && let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p))
    {
        return resolve(target, root);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = schema.get(key)
            && let Some(obj) = branches
                .iter()
                .map(|b| resolve(b, root))
                .find(|b| b.get("properties").is_some())
        {
            return obj;
        }
    }
    schema
}
