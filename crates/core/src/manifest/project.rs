//! The project file `apigsync.yaml`: target and options, `${VAR}` substituted,
//! unknown fields reported with their position and a hint.

use serde_json::Value;

use super::document::Reader;
use super::error::Diags;
use super::yaml::{Node, Yaml};
use crate::content::did_you_mean;
use crate::model::{Location, ProjectFile, owner_problem, target_name_problem};

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
    let whole = reader.substitute(&mut doc);
    let schema = serde_json::to_value(schemars::schema_for!(ProjectFile)).unwrap_or_default();
    let before = reader.diags.len();
    unknown_fields(reader.file, &doc, &schema, &schema, "", reader.diags);
    let mut field = Field {
        file: reader.file,
        root: &schema,
        whole: &whole,
        diags: reader.diags,
    };
    field.scalars(&mut doc, &schema, "", "");
    if reader.diags.len() > before {
        return None;
    }
    match serde_json::from_value::<ProjectFile>(doc.to_json()) {
        Ok(project) => bounds(reader, &doc, project)
            .and_then(|p| check_owner(reader, &doc, p))
            .and_then(|p| check_targets(reader, &doc, p)),
        Err(e) => {
            let at = Location::new(reader.file, doc.pos.line, doc.pos.column);
            // serde's message names the field and what was expected.
            reader.diags.push(at, format!("invalid project file: {e}"));
            None
        }
    }
}

/// Most API calls in flight at once that `options.parallelism` (and `--parallelism`) accept.
pub const MAX_PARALLELISM: usize = 64;

/// The bounds serde does not check, each reported at its field.
fn bounds(reader: &mut Reader<'_>, doc: &Node, project: ProjectFile) -> Option<ProjectFile> {
    let n = project.options.parallelism;
    if !(1..=MAX_PARALLELISM).contains(&n) {
        let pos = doc.locate("/options/parallelism", doc.pos);
        let at = Location::new(reader.file, pos.line, pos.column);
        reader.diags.push(
            at,
            format!("options.parallelism is {n}, expected 1 to {MAX_PARALLELISM}"),
        );
        return None;
    }
    Some(project)
}

/// Scalars of the project file made to fit their field's type: a number or
/// boolean written where text is wanted (an unquoted all-digit id) is the text
/// as written; a value that was exactly one `${VAR}` where a number or boolean
/// is wanted is parsed as one, with a located error when it does not read as one.
struct Field<'a> {
    file: &'a std::path::Path,
    root: &'a Value,
    whole: &'a [String],
    diags: &'a mut Diags,
}

impl Field<'_> {
    fn scalars(&mut self, node: &mut Node, schema: &Value, ptr: &str, path: &str) {
        let schema = resolve(schema, self.root);
        if let Yaml::Map(entries) = &mut node.value {
            let Some(props) = schema.get("properties") else {
                return;
            };
            for e in entries.iter_mut() {
                if let Some(sub) = props.get(&e.key) {
                    let ptr = format!("{ptr}/{}", e.key);
                    let path = if path.is_empty() {
                        e.key.clone()
                    } else {
                        format!("{path}.{}", e.key)
                    };
                    self.scalars(&mut e.value, sub, &ptr, &path);
                }
            }
            return;
        }
        let wants = |t: &str| match schema.get("type") {
            Some(Value::String(s)) => s == t,
            Some(Value::Array(types)) => types.iter().any(|x| x == t),
            _ => false,
        };
        let typed = ["integer", "number", "boolean"]
            .into_iter()
            .find(|t| wants(t));
        match (&node.value, typed) {
            (Yaml::Number(_) | Yaml::Bool(_), None) if wants("string") => {
                if let Some(text) = node.written.clone() {
                    node.value = Yaml::Str(text);
                }
            }
            (Yaml::Str(text), Some(kind)) if self.whole.iter().any(|w| w == ptr) => {
                match super::typed::scalar(text).filter(|v| fits(v, kind)) {
                    Some(v) => {
                        node.value = match v {
                            Value::Bool(b) => Yaml::Bool(b),
                            Value::Number(n) => Yaml::Number(n),
                            _ => return,
                        }
                    }
                    None => {
                        let at = Location::new(self.file, node.pos.line, node.pos.column);
                        self.diags.push(
                            at,
                            format!(
                                "{path} must be {}, its ${{VAR}} reference gives {text:?}",
                                article(kind)
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn fits(v: &Value, kind: &str) -> bool {
    match kind {
        "boolean" => v.is_boolean(),
        "integer" => v.is_u64() || v.is_i64(),
        _ => v.is_number(),
    }
}

fn article(kind: &str) -> &'static str {
    match kind {
        "boolean" => "a boolean (true or false)",
        "integer" => "an integer",
        _ => "a number",
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

/// The project, unless its targets are wrong: `target` and `targets` together, a bad
/// target name, an empty `targets`, or a var that is not a name or not a scalar.
fn check_targets(reader: &mut Reader<'_>, doc: &Node, project: ProjectFile) -> Option<ProjectFile> {
    let before = reader.diags.len();
    let at = |pos: super::yaml::Pos| Location::new(reader.file, pos.line, pos.column);
    let mut problems = Vec::new();
    if let (Some(_), Some(many)) = (doc.entry("target"), doc.entry("targets")) {
        problems.push((
            at(many.key_pos),
            "the project file holds either target: (one gateway) or targets: (several by name), not both".to_owned(),
        ));
    }
    if let Some(many) = doc.entry("targets") {
        if project.targets.is_empty() {
            problems.push((
                at(many.value.pos),
                "targets: names no target; declare at least one, or use target:".to_owned(),
            ));
        }
        if let Yaml::Map(entries) = &many.value.value {
            for e in entries {
                if let Some(problem) = target_name_problem(&e.key) {
                    problems.push((at(e.key_pos), problem));
                }
                vars_problems(&e.value, &at, &mut problems);
            }
        }
    }
    if let Some(one) = doc.entry("target") {
        vars_problems(&one.value, &at, &mut problems);
    }
    for (location, message) in problems {
        reader.diags.push(location, message);
    }
    (reader.diags.len() == before).then_some(project)
}

/// Problems of a target's `vars` (names that `${NAME}` cannot reference, values that are
/// not scalars) and of its `credentials_prefix`.
fn vars_problems(
    target: &Node,
    at: &impl Fn(super::yaml::Pos) -> Location,
    problems: &mut Vec<(Location, String)>,
) {
    if let Some(prefix) = target.entry("credentials_prefix")
        && let Yaml::Str(text) = &prefix.value.value
        && super::subst::reference_name(&format!("${{{text}}}")).is_none()
    {
        problems.push((
            at(prefix.value.pos),
            format!("credentials_prefix {text:?} must be the start of a variable name (letters, digits and '_', e.g. PROD)"),
        ));
    }
    let Some(Yaml::Map(vars)) = target.entry("vars").map(|e| &e.value.value) else {
        return;
    };
    for var in vars {
        if super::subst::reference_name(&format!("${{{}}}", var.key)).is_none() {
            problems.push((
                at(var.key_pos),
                format!("var name {:?} is not a variable name (letters, digits and '_', not starting with a digit)", var.key),
            ));
        }
        if matches!(var.value.value, Yaml::Map(_) | Yaml::Seq(_)) {
            problems.push((
                at(var.value.pos),
                format!(
                    "var {} must be text, a number or a boolean, got {}",
                    var.key,
                    var.value.type_name()
                ),
            ));
        }
    }
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
