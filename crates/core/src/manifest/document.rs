//! One YAML document into a `kind: Plugin` or `kind: Binding` value: field
//! names, field types, the plug-in name rule, the remark length, `${VAR}`
//! substitution, secret provenance and the content model check.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use super::error::Diags;
use super::subst;
use super::targets::{Membership, TargetFilter};
use super::typed;
use super::yaml::{Entry, Node, Pos, Yaml};
use crate::content;
use crate::content::did_you_mean;
use crate::model::{
    ApiRef, DesiredBinding, DesiredPlugin, Location, Options, PluginType, Scope, SecretSource,
};

/// Longest remark a user may write: 255 minus the longest ownership marker
/// ` [apigsync@OWNER k:xxxxxxxx,xxxxxxxx c:xxxxxxxx b:xxxxxxxx]` (`plan::marker::MAX_LEN`, 70).
pub const MAX_USER_REMARK: usize = 255 - 70;

/// The document kinds.
pub(crate) const KINDS: &[&str] = &["Plugin", "Binding"];
/// Fields of a `kind: Plugin` document.
pub(crate) const PLUGIN_FIELDS: &[&str] = &[
    "kind",
    "name",
    "type",
    "scope",
    "roma_app_id",
    "remark",
    "content",
    "targets",
];
/// Fields of a `kind: Binding` document.
pub(crate) const BINDING_FIELDS: &[&str] =
    &["kind", "plugin", "env", "apis", "displace", "targets"];

/// A plug-in document with the positions the cross-document checks point at.
#[derive(Debug)]
pub(crate) struct PluginDoc {
    pub plugin: DesiredPlugin,
    pub type_at: Location,
    pub scope_at: Location,
}

/// A binding document with the positions the cross-document checks point at.
#[derive(Debug)]
pub(crate) struct BindingDoc {
    pub binding: DesiredBinding,
    pub plugin_at: Location,
    pub api_at: Vec<Location>,
}

/// A document of either kind.
#[derive(Debug)]
pub(crate) enum Doc {
    Plugin(PluginDoc),
    Binding(BindingDoc),
}

/// Reads documents of one file.
pub(crate) struct Reader<'a> {
    pub file: &'a Path,
    pub env: &'a BTreeMap<String, String>,
    pub options: &'a Options,
    /// The target the documents are read for.
    pub target: &'a TargetFilter<'a>,
    pub diags: &'a mut Diags,
    /// An offline load (`validate`): an unset variable of a secret field is a note,
    /// not an error (plan and apply need it; nothing else depends on its value).
    pub offline: bool,
}

impl Reader<'_> {
    fn at(&self, pos: Pos) -> Location {
        Location::new(self.file, pos.line, pos.column)
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        let at = self.at(pos);
        self.diags.push(at, message);
    }

    fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        let at = self.at(pos);
        self.diags.warn(at, message);
    }

    /// Reads one document; `None` when it is unusable (with diagnostics) or
    /// belongs to other targets only (its `targets:` field).
    pub(crate) fn document(&mut self, mut doc: Node) -> Option<Doc> {
        let Yaml::Map(entries) = &doc.value else {
            let got = doc.type_name();
            self.error(
                doc.pos,
                format!("expected a mapping with kind: Plugin or kind: Binding, got {got}"),
            );
            return None;
        };
        let kind = match entries.iter().find(|e| e.key == "kind") {
            None => {
                self.error(
                    doc.pos,
                    format!(
                        "missing field \"kind\", expected one of {}",
                        KINDS.join(", ")
                    ),
                );
                return None;
            }
            Some(Entry {
                value:
                    Node {
                        value: Yaml::Str(k),
                        ..
                    },
                ..
            }) if KINDS.contains(&k.as_str()) => k.clone(),
            Some(e) => {
                let shown = shown(&e.value);
                let hint = hint_for(&shown, KINDS);
                self.error(
                    e.value.pos,
                    format!(
                        "unknown kind {shown}, expected one of {}{hint}",
                        KINDS.join(", ")
                    ),
                );
                return None;
            }
        };
        match self.target.membership(&doc) {
            Membership::In => {}
            Membership::Out => return None,
            Membership::Invalid(problems) => {
                for (pos, message) in problems {
                    self.error(pos, message);
                }
                return None;
            }
        }
        let secrets = if kind == "Plugin" {
            self.secret_templates(&doc)
        } else {
            BTreeMap::new()
        };
        let secret_ptrs: Vec<String> = secrets.keys().map(|p| format!("/content{p}")).collect();
        let mut whole = Vec::new();
        self.substitute_at(&mut doc, String::new(), &secret_ptrs, &mut whole);
        if kind == "Plugin" {
            let whole: Vec<String> = whole
                .iter()
                .filter_map(|p| p.strip_prefix("/content").map(str::to_owned))
                .collect();
            let plugin = self.plugin(&doc, secrets, &whole).map(Doc::Plugin);
            if plugin.is_none()
                && let Some(Entry {
                    value:
                        Node {
                            value: Yaml::Str(name),
                            ..
                        },
                    ..
                }) = doc.entry("name")
            {
                // Declared, though invalid: its bindings are not "unknown plug-in" too.
                self.diags.invalid_plugin(name.clone());
            }
            plugin
        } else {
            self.binding(&doc).map(Doc::Binding)
        }
    }

    /// The secret fields of a plug-in's content as written, before substitution.
    fn secret_templates(&mut self, doc: &Node) -> BTreeMap<String, SecretSource> {
        let mut out = BTreeMap::new();
        let Some(kind) = doc.entry("type").and_then(|e| match &e.value.value {
            Yaml::Str(s) => PluginType::from_str(s).ok(),
            _ => None,
        }) else {
            return out;
        };
        let Some(content) = doc.entry("content") else {
            return out;
        };
        for pointer in content::secret_pointers(kind) {
            let Some((pos, Yaml::Str(template))) = lookup(&content.value, pointer) else {
                continue;
            };
            // `${VAR:-default}` with a default is a literal: the default is the
            // secret whenever VAR is unset, and a plan must never hold it.
            let literal = !subst::is_env_reference(template);
            if literal && !template.is_empty() && !self.options.allow_literal_secrets {
                let field = pointer.trim_start_matches('/');
                self.error(
                    pos,
                    format!(
                        "secret field {field} in {kind} content is written as a literal \
                         (a ${{VAR:-default}} default counts as one); use ${{VAR}} \
                         (or set options.allow_literal_secrets: true in apigsync.yaml)"
                    ),
                );
            }
            let field = pointer.trim_start_matches('/');
            if let Some(problem) = self.target.secret_problem(field, template) {
                self.error(pos, problem);
            }
            out.insert(
                (*pointer).to_owned(),
                SecretSource {
                    template: template.clone(),
                    literal,
                },
            );
        }
        out
    }

    /// Replaces `${VAR}` in every string value of `node`; returns the pointers of
    /// the values that were exactly one reference (candidates for a typed value).
    pub(crate) fn substitute(&mut self, node: &mut Node) -> Vec<String> {
        let mut whole = Vec::new();
        self.substitute_at(node, String::new(), &[], &mut whole);
        whole
    }

    /// Replaces `${VAR}` under `node` (at document pointer `ptr`); errors in the
    /// `secrets` pointers never quote the text. Pointers of values that were
    /// exactly one reference go to `whole`.
    fn substitute_at(
        &mut self,
        node: &mut Node,
        ptr: String,
        secrets: &[String],
        whole: &mut Vec<String>,
    ) {
        match &mut node.value {
            Yaml::Str(s) => match subst::substitute(s, self.env) {
                Ok(v) => {
                    if subst::is_single_reference(s) {
                        whole.push(ptr);
                    }
                    *s = v;
                }
                Err(e) => {
                    let secret = secrets.contains(&ptr);
                    let pos = node.pos;
                    let why = match e {
                        subst::SubstError::Unset(name) if secret && self.offline => {
                            // The template stands in for the value: it passes the
                            // content checks a secret has (a non-empty string).
                            let field = dotted_field(&ptr);
                            let at = self.at(pos);
                            self.diags.note(
                                at,
                                format!(
                                    "variable {name:?} of secret field {field} is not set: needed by plan and apply"
                                ),
                            );
                            return;
                        }
                        subst::SubstError::Unset(name) if secret => format!(
                            "variable {name:?} of a secret field is not set (set it in the \
                             environment: a secret has no default in the files)"
                        ),
                        subst::SubstError::BadName(_) if secret => {
                            "a ${…} reference in a secret field is not a variable name".to_owned()
                        }
                        other => other.to_string(),
                    };
                    self.error(pos, format!("cannot substitute: {why}"));
                }
            },
            Yaml::Seq(items) => {
                for (i, n) in items.iter_mut().enumerate() {
                    self.substitute_at(n, format!("{ptr}/{i}"), secrets, whole);
                }
            }
            Yaml::Map(entries) => {
                for e in entries.iter_mut() {
                    let at = format!("{ptr}/{}", e.key);
                    self.substitute_at(&mut e.value, at, secrets, whole);
                }
            }
            _ => {}
        }
    }

    /// Unknown fields of a document, with a hint.
    fn unknown_fields(&mut self, doc: &Node, known: &[&str], kind: &str) {
        if let Yaml::Map(entries) = &doc.value {
            for e in entries.iter().filter(|e| !known.contains(&e.key.as_str())) {
                let hint = hint_for(&format!("{:?}", e.key), known);
                self.error(
                    e.key_pos,
                    format!("unknown field {:?} in {kind} document{hint}", e.key),
                );
            }
        }
    }

    /// A string field; `None` (with a diagnostic when required or mistyped) otherwise.
    fn string(
        &mut self,
        doc: &Node,
        key: &str,
        required: bool,
        kind: &str,
    ) -> Option<(String, Pos)> {
        match doc.entry(key) {
            None
            | Some(Entry {
                value: Node {
                    value: Yaml::Null, ..
                },
                ..
            }) => {
                if required {
                    self.error(doc.pos, format!("missing field {key:?} in {kind} document"));
                }
                None
            }
            Some(Entry { value, .. }) if as_text(value).is_some() => {
                let s = as_text(value).unwrap_or_default();
                if required && s.is_empty() {
                    self.error(value.pos, format!("{key:?} must not be empty"));
                    return None;
                }
                Some((s, value.pos))
            }
            Some(e) => {
                let got = shown(&e.value);
                self.error(e.value.pos, format!("{key:?} must be a string, got {got}"));
                None
            }
        }
    }

    fn plugin(
        &mut self,
        doc: &Node,
        secrets: BTreeMap<String, SecretSource>,
        whole: &[String],
    ) -> Option<PluginDoc> {
        self.unknown_fields(doc, PLUGIN_FIELDS, "Plugin");
        let name = self.string(doc, "name", true, "Plugin");
        if let Some((n, pos)) = &name
            && let Err(why) = check_name(n)
        {
            self.error(*pos, format!("plug-in name {n:?} {why}"));
        }
        let kind = self
            .string(doc, "type", true, "Plugin")
            .and_then(|(t, pos)| match PluginType::from_str(&t) {
                Ok(k) => Some((k, pos)),
                Err(_) => {
                    let all: Vec<&str> = PluginType::ALL.iter().map(|k| k.as_str()).collect();
                    let hint = hint_for(&format!("{t:?}"), &all);
                    self.error(
                        pos,
                        format!(
                            "unknown plug-in type {t:?}, expected one of {}{hint}",
                            all.join(", ")
                        ),
                    );
                    None
                }
            });
        let scope = match self.string(doc, "scope", false, "Plugin") {
            None => Some((Scope::Global, doc.pos)),
            Some((s, pos)) => match Scope::from_str(&s) {
                Ok(sc) => Some((sc, pos)),
                Err(e) => {
                    self.error(pos, e);
                    None
                }
            },
        };
        let roma_app_id = self
            .string(doc, "roma_app_id", false, "Plugin")
            .map(|(s, _)| s);
        let remark = self.string(doc, "remark", false, "Plugin");
        if let Some((r, pos)) = &remark {
            let n = r.chars().count();
            if n > MAX_USER_REMARK {
                self.error(
                    *pos,
                    format!(
                        "remark is {n} characters long, at most {MAX_USER_REMARK} are allowed \
                         (255 minus the ownership marker apigsync appends)"
                    ),
                );
            }
            if r.contains("[apigsync") {
                self.error(
                    *pos,
                    "remark must not contain \"[apigsync\" (apigsync's ownership marker)",
                );
            }
        }
        if let Some((Scope::App, pos)) = scope
            && roma_app_id.as_deref().is_none_or(str::is_empty)
        {
            self.error(
                pos,
                "scope app needs roma_app_id (the ROMA integration application id)",
            );
        }
        let content = self.content(doc, kind.map(|k| k.0), whole);
        let ((name, _), (plugin_type, type_pos), (scope, scope_pos), content) =
            (name?, kind?, scope?, content?);
        Some(PluginDoc {
            plugin: DesiredPlugin {
                name,
                plugin_type,
                scope,
                roma_app_id,
                remark: remark.map(|r| r.0),
                content,
                secrets,
                location: self.at(doc.pos),
            },
            type_at: self.at(type_pos),
            scope_at: self.at(scope_pos),
        })
    }

    /// The `content` mapping as JSON, checked against the type's model. A value
    /// that was exactly one `${VAR}` (pointers in `whole`) becomes a number or a
    /// boolean where the model wants one.
    fn content(
        &mut self,
        doc: &Node,
        kind: Option<PluginType>,
        whole: &[String],
    ) -> Option<serde_json::Value> {
        let Some(entry) = doc.entry("content") else {
            self.error(doc.pos, "missing field \"content\" in Plugin document");
            return None;
        };
        if !matches!(entry.value.value, Yaml::Map(_)) {
            let got = shown(&entry.value);
            self.error(
                entry.value.pos,
                format!("\"content\" must be a mapping, got {got}"),
            );
            return None;
        }
        let mut value = entry.value.to_json();
        if let Some(kind) = kind {
            typed::apply(kind, &mut value, whole);
            for issue in content::validate(kind, &value) {
                let pos = entry.value.locate(&issue.pointer, entry.key_pos);
                let from_var = whole.contains(&issue.pointer);
                let message = if from_var {
                    format!(
                        "{} (the value comes from a ${{VAR}} reference)",
                        issue.message
                    )
                } else {
                    issue.message
                };
                self.error(pos, message);
            }
            for issue in content::dropped_fields(kind, &value) {
                let pos = entry.value.locate(&issue.pointer, entry.key_pos);
                self.warn(pos, issue.message);
            }
        }
        Some(value)
    }

    fn binding(&mut self, doc: &Node) -> Option<BindingDoc> {
        self.unknown_fields(doc, BINDING_FIELDS, "Binding");
        let plugin = self.string(doc, "plugin", true, "Binding");
        let env = self.string(doc, "env", true, "Binding");
        let apis = self.apis(doc);
        let displace = self.flag(doc, "displace");
        let ((plugin, plugin_pos), (env, _), (apis, api_at)) = (plugin?, env?, apis?);
        Some(BindingDoc {
            binding: DesiredBinding {
                plugin,
                env,
                apis,
                displace,
                location: self.at(doc.pos),
                api_locations: api_at.clone(),
            },
            plugin_at: self.at(plugin_pos),
            api_at,
        })
    }

    /// An optional boolean field (false when absent).
    fn flag(&mut self, doc: &Node, key: &str) -> bool {
        match doc.entry(key).map(|e| &e.value) {
            None => false,
            Some(Node {
                value: Yaml::Bool(b),
                ..
            }) => *b,
            Some(node) => {
                let got = shown(node);
                self.error(
                    node.pos,
                    format!("{key:?} must be true or false, got {got}"),
                );
                false
            }
        }
    }

    fn apis(&mut self, doc: &Node) -> Option<(Vec<ApiRef>, Vec<Location>)> {
        let Some(entry) = doc.entry("apis") else {
            self.error(doc.pos, "missing field \"apis\" in Binding document");
            return None;
        };
        let Yaml::Seq(items) = &entry.value.value else {
            let got = shown(&entry.value);
            self.error(
                entry.value.pos,
                format!("\"apis\" must be a list of APIs, got {got}"),
            );
            return None;
        };
        if items.is_empty() {
            self.error(entry.value.pos, "\"apis\" must list at least one API");
        }
        let mut apis = Vec::new();
        let mut at = Vec::new();
        let mut ok = true;
        for item in items {
            match self.api_ref(item) {
                Some(api) => {
                    if let Some(i) = apis.iter().position(|a| *a == api) {
                        let first: &Location = &at[i];
                        let msg = format!(
                            "API {} is listed twice in this binding (first at line {})",
                            api_label(&api),
                            first.line
                        );
                        self.error(item.pos, msg);
                        ok = false;
                    }
                    apis.push(api);
                    at.push(self.at(item.pos));
                }
                None => ok = false,
            }
        }
        ok.then_some((apis, at))
    }

    fn api_ref(&mut self, item: &Node) -> Option<ApiRef> {
        const EXPECTED: &str = "an API name, {id: …} or {group: …, name: …}";
        match &item.value {
            Yaml::Str(_) | Yaml::Number(_) | Yaml::Bool(_) => match as_text(item) {
                Some(s) if !s.is_empty() => Some(ApiRef::Name(s)),
                _ => {
                    self.error(item.pos, format!("API entry must be {EXPECTED}, got \"\""));
                    None
                }
            },
            Yaml::Map(entries) => {
                let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
                let text = |k: &str| {
                    item.entry(k)
                        .and_then(|e| as_text(&e.value))
                        .filter(|s| !s.is_empty())
                };
                match keys.as_slice() {
                    ["id"] => text("id").map(|id| ApiRef::Id { id }),
                    ["group", "name"] | ["name", "group"] => match (text("group"), text("name")) {
                        (Some(group), Some(name)) => Some(ApiRef::GroupName { group, name }),
                        _ => None,
                    },
                    _ => None,
                }
                .or_else(|| {
                    let hint = entries
                        .iter()
                        .find_map(|e| {
                            (!["id", "group", "name"].contains(&e.key.as_str())).then(|| {
                                hint_for(&format!("{:?}", e.key), &["id", "group", "name"])
                            })
                        })
                        .unwrap_or_default();
                    self.error(
                        item.pos,
                        format!(
                            "API entry with fields {} must be {EXPECTED}{hint}",
                            keys.join(", ")
                        ),
                    );
                    None
                })
            }
            _ => {
                let got = shown(item);
                self.error(item.pos, format!("API entry must be {EXPECTED}, got {got}"));
                None
            }
        }
    }
}

/// A scalar as text: a string, or a number or boolean as written in the file
/// (an unquoted all-digit id is the id, not a float).
pub(crate) fn as_text(node: &Node) -> Option<String> {
    match &node.value {
        Yaml::Str(s) => Some(s.clone()),
        Yaml::Number(_) | Yaml::Bool(_) => node.written.clone(),
        _ => None,
    }
}

/// A node for messages: its value when it is a scalar, otherwise its type.
fn shown(node: &Node) -> String {
    match &node.value {
        Yaml::Str(s) => format!("{s:?}"),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        _ => node.type_name().to_owned(),
    }
}

/// `, did you mean "x"?` for a quoted name close to one of `known`, or nothing.
fn hint_for(quoted: &str, known: &[&str]) -> String {
    let name = quoted.trim_matches('"');
    did_you_mean(name, known)
        .map(|k| format!(", did you mean {k:?}?"))
        .unwrap_or_default()
}

/// An API reference for messages.
pub(crate) fn api_label(api: &ApiRef) -> String {
    match api {
        ApiRef::Name(n) => format!("{n:?}"),
        ApiRef::Id { id } => format!("{{id: {id}}}"),
        ApiRef::GroupName { group, name } => format!("{{group: {group}, name: {name}}}"),
    }
}

/// The node and position a JSON pointer names, when it exists.
fn lookup<'a>(node: &'a Node, pointer: &str) -> Option<(Pos, &'a Yaml)> {
    let mut here = node;
    for seg in pointer.split('/').skip(1) {
        here = &here.entry(seg)?.value;
    }
    Some((here.pos, &here.value))
}

/// The plug-in name rule (SPEC §4.1): `^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9_\-\u4e00-\u9fa5]{2,254}$`.
pub(crate) fn check_name(name: &str) -> Result<(), &'static str> {
    let cjk = |c: char| ('\u{4e00}'..='\u{9fa5}').contains(&c);
    let n = name.chars().count();
    if !(3..=255).contains(&n) {
        return Err("must be 3 to 255 characters long");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || cjk(c)) {
        return Err("must start with a letter (or a Chinese character)");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || cjk(c))
    {
        return Err("may only hold letters, digits, '_', '-' and Chinese characters");
    }
    Ok(())
}

/// `/content/sasl_config/sasl_password` as `sasl_config.sasl_password`.
fn dotted_field(pointer: &str) -> String {
    pointer
        .trim_start_matches("/content/")
        .trim_start_matches('/')
        .replace('/', ".")
}
