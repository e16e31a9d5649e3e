//! `dump`: the live state of an instance as a manifest folder (pure).
//!
//! [`dump`] turns a [`Live`] snapshot into files, `{relative path → text}`: one
//! `plugins/<name>.yaml` per plug-in (its `kind: Plugin` document, then one `kind: Binding`
//! per environment), the project file `apigsync.yaml` and `apigsync.schema.json` for
//! editors. The folder loads back with [`crate::manifest::load_dir`], and `plan` on it
//! reports no changes (see [`Dump::adopted_with_update`] for the exception).
//!
//! Choices:
//! - The remark loses its ownership marker; the content loses `null` members (`null` ≡
//!   absent) and third_auth's `vpc_channel_enabled` is written back as a boolean. Key order
//!   is the server's; plug-ins, environments and APIs are sorted, so the output is
//!   deterministic.
//! - Secret fields ([`content::secret_pointers`]) are never written as values: the server
//!   removes or anonymises them anyway. Each becomes `${APIGSYNC_<PLUGIN>_<FIELD>}` where a
//!   value is present or required, and [`Dump::secrets`] lists the variables to set.
//! - APIs are written by name, as `{group, name}` when the name is ambiguous, as `{id}` when
//!   the API is unknown. A binding to an API taken offline in its environment is written
//!   with a warning: the gateway keeps it, and plan keeps it while the manifests do.
//! - Plug-ins of a type apigsync does not know are skipped with a warning.
//! - `oidc_auth`'s redirect and logout API ids are written like a binding's APIs.
//! - `options.adopt` is set when an unmarked plug-in is dumped, `prune` is left off.

mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::content;
use crate::manifest::{self, PROJECT_FILE, Source, subst};
use crate::model::{ApiRef, Flavour, Live, LivePlugin, PluginType, Scope, TargetConfig};
use crate::plan::marker;

/// The schema file written beside the manifests, for editors.
pub const SCHEMA_FILE: &str = "apigsync.schema.json";
/// The folder of the plug-in files.
pub const PLUGINS_DIR: &str = "plugins";

/// What to dump, and the target to record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DumpOptions {
    /// The `target:` of the project file, as it should be written (placeholders included).
    pub target: TargetConfig,
    /// Flavour of the instance (decides which types and scopes are valid).
    pub flavour: Option<Flavour>,
    /// Instance id, for the header comments.
    pub instance_id: String,
    /// Only plug-ins that carry the apigsync ownership marker.
    pub managed_only: bool,
}

/// A secret field written as a `${VAR}` placeholder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretVar {
    /// The environment variable to set.
    pub var: String,
    /// The plug-in.
    pub plugin: String,
    /// The field, as a JSON pointer into the content.
    pub pointer: String,
}

/// The result of a dump.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dump {
    /// Relative path (with `/`) → file text.
    pub files: BTreeMap<String, String>,
    /// Names of the dumped plug-ins, sorted.
    pub plugins: Vec<String>,
    /// Number of `kind: Binding` documents.
    pub bindings: usize,
    /// The placeholders written for secret fields, by variable name.
    pub secrets: Vec<SecretVar>,
    /// Dumped plug-ins without the ownership marker (taken over through `options.adopt`).
    pub unmanaged: Vec<String>,
    /// Unmanaged plug-ins with secret fields: their adoption still writes them once (the
    /// server does not return the secret, so it cannot be compared).
    pub adopted_with_update: Vec<String>,
    /// Things left out or that need a look, one sentence each.
    pub warnings: Vec<String>,
}

/// Dumps `live` as a manifest folder.
pub fn dump(live: &Live, opts: &DumpOptions) -> Dump {
    let mut out = Dump::default();
    let mut used_files: BTreeSet<String> = BTreeSet::new();
    let mut used_vars: BTreeSet<String> = BTreeSet::new();
    let mut plugins: Vec<&LivePlugin> = live.plugins.iter().collect();
    plugins.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    for l in plugins {
        let (user_remark, fp) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
        let managed = fp.is_some();
        if opts.managed_only && !managed {
            continue;
        }
        let Ok(kind) = PluginType::from_str(&l.plugin_type) else {
            out.warnings.push(format!(
                "plug-in {:?} skipped: apigsync does not manage plug-ins of type {:?}",
                l.name, l.plugin_type
            ));
            continue;
        };
        let Ok(scope) = Scope::from_str(&l.scope) else {
            out.warnings.push(format!(
                "plug-in {:?} skipped: unknown scope {:?}",
                l.name, l.scope
            ));
            continue;
        };
        let file = file_name(&l.name, &mut used_files);
        let mut content = clean_content(kind, &l.content);
        if kind == PluginType::OidcAuth {
            name_oidc_apis(&mut content, live);
        }
        let mut vars = Vec::new();
        for pointer in content::secret_pointers(kind) {
            if !wants_placeholder(kind, &content, pointer) {
                continue;
            }
            let var = var_name(&l.name, pointer, &mut used_vars);
            set_pointer(&mut content, pointer, Value::String(format!("${{{var}}}")));
            vars.push(SecretVar {
                var,
                plugin: l.name.clone(),
                pointer: (*pointer).to_owned(),
            });
        }
        if !managed {
            out.unmanaged.push(l.name.clone());
            if !content::secret_pointers(kind).is_empty() {
                out.adopted_with_update.push(l.name.clone());
            }
        }
        let mut doc = Map::new();
        doc.insert("kind".into(), json!("Plugin"));
        doc.insert("name".into(), json!(l.name));
        doc.insert("type".into(), json!(kind.as_str()));
        doc.insert("scope".into(), json!(scope.as_str()));
        if let Some(app) = l.roma_app_id.as_deref().filter(|a| !a.is_empty()) {
            doc.insert("roma_app_id".into(), json!(app));
        }
        if !user_remark.is_empty() {
            doc.insert("remark".into(), json!(subst::escape(&user_remark)));
        }
        doc.insert("content".into(), content);
        let mut text = header(opts, l, managed, &vars, "../");
        yaml::mapping(&mut text, &doc, 0);
        for binding in bindings(l, live, &mut out.warnings) {
            // The modeline again: the YAML language server reads it per document.
            text.push_str(&format!(
                "---\n# yaml-language-server: $schema=../{SCHEMA_FILE}\n"
            ));
            yaml::mapping(&mut text, &binding, 0);
            out.bindings += 1;
        }
        out.files.insert(format!("{PLUGINS_DIR}/{file}"), text);
        out.plugins.push(l.name.clone());
        out.secrets.extend(vars);
    }
    out.secrets.sort();
    out.warnings.sort();
    out.files
        .insert(PROJECT_FILE.to_owned(), project_file(opts, &out));
    let schema = serde_json::to_string_pretty(&manifest::json_schema()).unwrap_or_default();
    out.files.insert(SCHEMA_FILE.to_owned(), schema + "\n");
    check_loads(&mut out);
    out
}

/// The comment lines that open a plug-in file.
fn header(
    opts: &DumpOptions,
    l: &LivePlugin,
    managed: bool,
    vars: &[SecretVar],
    up: &str,
) -> String {
    let mut h = format!(
        "# yaml-language-server: $schema={up}{SCHEMA_FILE}\n\
         # Generated by `apigsync dump` from instance {}: plug-in {:?} (id {}).\n",
        opts.instance_id, l.name, l.id
    );
    if !managed {
        h.push_str(
            "# Not managed by apigsync yet (no ownership marker): options.adopt takes it over.\n",
        );
    }
    for v in vars {
        h.push_str(&format!(
            "# Secret {}: set ${} before plan/apply (secrets are never written here).\n",
            v.pointer.trim_start_matches('/'),
            v.var
        ));
    }
    h
}

/// The content as it should be written: `null` members dropped, third_auth's
/// `vpc_channel_enabled` 1/2 back to true/false.
fn clean_content(kind: PluginType, live: &Value) -> Value {
    let mut v = live.clone();
    content::strip_nulls(&mut v);
    escape_templates(&mut v);
    if kind == PluginType::ThirdAuth
        && let Some(flag) = v.pointer_mut("/auth_request/vpc_channel_enabled")
    {
        match flag.as_i64() {
            Some(1) => *flag = Value::Bool(true),
            Some(2) => *flag = Value::Bool(false),
            _ => {}
        }
    }
    v
}

/// `oidc_auth`'s redirect and logout APIs written like a binding's API (a name where it is
/// unambiguous), as the plan accepts them; an id the API list does not hold stays an id.
fn name_oidc_apis(content: &mut Value, live: &Live) {
    for field in ["redirect_api_id", "logout_api_id"] {
        let Some(api) = content
            .get(field)
            .and_then(Value::as_str)
            .and_then(|id| live.apis.iter().find(|a| a.id == id))
        else {
            continue;
        };
        if let Ok(reference) = serde_json::to_value(api_ref(api, live)) {
            content[field] = reference;
        }
    }
}

/// Live text that looks like `${VAR}` must stay text: escape it so the loader
/// does not substitute it (the secret placeholders are written afterwards).
fn escape_templates(v: &mut Value) {
    match v {
        Value::String(s) => *s = subst::escape(s),
        Value::Array(items) => items.iter_mut().for_each(escape_templates),
        Value::Object(m) => m.values_mut().for_each(escape_templates),
        _ => {}
    }
}

/// Whether a secret field gets a placeholder: when the server shows a value (masked or not),
/// or when the field is required (kafka_log's password with a SASL protocol, oidc_auth's
/// client secret), since the server removes it from reads.
fn wants_placeholder(kind: PluginType, content: &Value, pointer: &str) -> bool {
    let shown = content
        .pointer(pointer)
        .is_some_and(|v| !v.is_null() && v.as_str() != Some(""));
    let required = match (kind, pointer) {
        (PluginType::KafkaLog, "/sasl_config/sasl_password") => content
            .pointer("/sasl_config/security_protocol")
            .and_then(Value::as_str)
            .is_some_and(|p| p.starts_with("SASL_")),
        (PluginType::OidcAuth, "/client_secret") => true,
        _ => false,
    };
    shown || required
}

/// Sets the member at `pointer`, creating the last segment in an existing object.
fn set_pointer(content: &mut Value, pointer: &str, value: Value) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let parent = if parent.is_empty() {
        Some(content)
    } else {
        content.pointer_mut(parent)
    };
    if let Some(Value::Object(m)) = parent {
        m.insert(key.to_owned(), value);
    }
}

/// `APIGSYNC_<PLUGIN>_<FIELD>`: upper case, every other character `_`; made unique with a
/// numeric suffix.
fn var_name(plugin: &str, pointer: &str, used: &mut BTreeSet<String>) -> String {
    let field = pointer.rsplit('/').next().unwrap_or(pointer);
    let up = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    let base = format!("APIGSYNC_{}_{}", up(plugin), up(field));
    unique(base, used, "_")
}

/// `<name>.yaml`, unique even on case-insensitive file systems.
fn file_name(plugin: &str, used: &mut BTreeSet<String>) -> String {
    let safe: String = plugin
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = safe.to_lowercase();
    let lower = unique(base.clone(), used, "-");
    format!("{safe}{}.yaml", &lower[base.len()..])
}

fn unique(base: String, used: &mut BTreeSet<String>, sep: &str) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}{sep}{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

type SortKey = (bool, String, String, String);

/// The `kind: Binding` documents of `l`: one per environment, sorted by environment name.
fn bindings(l: &LivePlugin, live: &Live, warnings: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let mut by_env: BTreeMap<String, Vec<(SortKey, ApiRef)>> = BTreeMap::new();
    for b in l.bindings.iter().flatten() {
        let env = live
            .envs
            .iter()
            .find(|e| e.id == b.env_id)
            .map_or_else(|| b.env_id.clone(), |e| e.name.clone());
        let reference = match live.apis.iter().find(|a| a.id == b.api_id) {
            Some(api) => {
                if !api.published_in.contains(&b.env_id) {
                    warnings.push(format!(
                        "binding of plug-in {:?} to API {:?} in {env} is kept although the API is offline there (the gateway keeps the binding; removing it from the files detaches it)",
                        l.name,
                        if api.name.is_empty() { &api.id } else { &api.name }
                    ));
                }
                api_ref(api, live)
            }
            None => {
                warnings.push(format!(
                    "plug-in {:?} is bound to API {} in {env}, which the API list does not hold; it is written as {{id: {}}}",
                    l.name, b.api_id, b.api_id
                ));
                ApiRef::Id {
                    id: b.api_id.clone(),
                }
            }
        };
        // Known APIs by name, group, id; unknown ones (written as {id}) last.
        let key = live.apis.iter().find(|a| a.id == b.api_id).map_or_else(
            || (true, String::new(), String::new(), b.api_id.clone()),
            |a| (false, a.name.clone(), a.group_name.clone(), a.id.clone()),
        );
        by_env.entry(env).or_default().push((key, reference));
    }
    by_env
        .into_iter()
        .map(|(env, mut apis)| {
            apis.sort();
            let mut doc = Map::new();
            doc.insert("kind".into(), json!("Binding"));
            doc.insert("plugin".into(), json!(l.name));
            doc.insert("env".into(), json!(env));
            let apis: Vec<Value> = apis
                .into_iter()
                .map(|(_, r)| serde_json::to_value(r).unwrap_or(Value::Null))
                .collect();
            doc.insert("apis".into(), Value::Array(apis));
            doc
        })
        .collect()
}

/// How to name `api` so that the loader resolves it back to it.
fn api_ref(api: &crate::model::Api, live: &Live) -> ApiRef {
    if api.name.is_empty() {
        return ApiRef::Id { id: api.id.clone() };
    }
    let same_name = live.apis.iter().filter(|a| a.name == api.name).count();
    let same_group = live
        .apis
        .iter()
        .filter(|a| a.name == api.name && a.group_name == api.group_name)
        .count();
    match (same_name, same_group) {
        (1, _) => ApiRef::Name(api.name.clone()),
        (_, 1) if !api.group_name.is_empty() => ApiRef::GroupName {
            group: api.group_name.clone(),
            name: api.name.clone(),
        },
        _ => ApiRef::Id { id: api.id.clone() },
    }
}

/// The project file: target, options, and comments on what to do next.
fn project_file(opts: &DumpOptions, d: &Dump) -> String {
    let mut text = format!(
        "# yaml-language-server: $schema={SCHEMA_FILE}\n\
         # Generated by `apigsync dump` from instance {}.\n\
         # Review the files, commit them, then `apigsync plan` this folder: it should report\n\
         # no changes. Flags and HW_* environment variables override every target field.\n",
        opts.instance_id
    );
    if !d.secrets.is_empty() {
        text.push_str("# Set the secret variables first:");
        for s in &d.secrets {
            text.push_str(&format!(" {}", s.var));
        }
        text.push('\n');
    }
    let mut doc = Map::new();
    let target = serde_json::to_value(&opts.target).unwrap_or(Value::Null);
    let mut target = match target {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    target.retain(|_, v| !v.is_null());
    doc.insert("target".into(), Value::Object(target));
    let mut options = Map::new();
    options.insert("prune".into(), json!(false));
    if !d.unmanaged.is_empty() {
        options.insert("adopt".into(), json!(true));
    }
    options.insert("parallelism".into(), json!(8));
    doc.insert("options".into(), Value::Object(options));
    yaml::mapping(&mut text, &doc, 0);
    if !d.unmanaged.is_empty() {
        text.push_str(
            "# adopt: plug-ins without apigsync's ownership marker are taken over; one already\n\
             # equal to its file is adopted as is, and gets the marker at its next change.\n",
        );
    }
    text.push_str(
        "# prune stays off: turn it on once these files are the source of truth, so that\n\
         # plug-ins removed from them are deleted from the gateway.\n",
    );
    text
}

/// Loads the dumped manifests back (secret variables set to a stand-in) and turns every
/// problem into a warning.
fn check_loads(d: &mut Dump) {
    let env: BTreeMap<String, String> = d
        .secrets
        .iter()
        .map(|s| (s.var.clone(), "stand-in".to_owned()))
        .collect();
    let sources: Vec<Source> = d
        .files
        .iter()
        .filter(|(path, _)| path.ends_with(".yaml"))
        .map(|(path, text)| Source {
            path: path.into(),
            text: text.clone(),
        })
        .collect();
    if let Err(e) = manifest::parse_sources(&sources, &env) {
        d.warnings.push(format!(
            "the dump does not load back as is; fix these before plan:\n{e}"
        ));
    }
}

#[cfg(test)]
mod tests;
