//! The emulator's responses: query parsing, pagination (SPEC §2) and the JSON of every
//! object the API returns. Reads go through [`content::redact`] here, in one place.

use serde_json::{Map, Value, json};

use super::content;
use super::error::ServiceError;
use super::model::Flavour;
use super::store::{ApiRec, BindingRec, EnvRec, GroupRec, Instance, PluginRec, VersionRec};
use apigsync_signing as signing;

/// The query parameters of a request, decoded.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Query {
        Query(raw.map(signing::parse_query).unwrap_or_default())
    }

    /// The first value of `key`; an empty value counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Exact match when `key` is given.
    pub fn exact(&self, key: &str, actual: &str) -> bool {
        self.get(key).is_none_or(|want| want == actual)
    }

    /// Substring match when `key` is given, exact when `precise_search` names `key` (or `alias`).
    pub fn fuzzy(&self, key: &str, alias: &str, actual: &str) -> bool {
        let precise = self
            .get("precise_search")
            .is_some_and(|p| p.split(',').any(|p| p == key || p == alias));
        match self.get(key) {
            None => true,
            Some(want) if precise => want == actual,
            Some(want) => actual.contains(want),
        }
    }

    /// A mandatory parameter.
    pub fn required(&self, key: &str) -> Result<&str, ServiceError> {
        self.get(key).ok_or_else(|| ServiceError::missing(key))
    }
}

/// Pagination: `offset` < 0 → 0; `limit` default 20, ≤ 0 → 20, > 500 → 500.
/// `items` are the matches; `render` turns those on the page into JSON.
pub fn page<T>(
    query: &Query,
    key: &str,
    items: Vec<T>,
    render: impl Fn(T) -> Value,
) -> Result<Value, ServiceError> {
    let offset = match query.get("offset") {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ServiceError::invalid("offset", ""))?
            .max(0),
    };
    let limit = match query.get("limit") {
        None => 20,
        Some(v) => match v
            .parse::<i64>()
            .map_err(|_| ServiceError::invalid("limit", ""))?
        {
            n if n <= 0 => 20,
            n => n.min(500),
        },
    };
    let total = items.len();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(20))
        .min(total);
    // Only the page is rendered: listing N items in pages costs O(N), not O(N²/500).
    let slice: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(render)
        .collect();
    let mut out = Map::new();
    out.insert("total".into(), json!(total));
    out.insert("size".into(), json!(slice.len()));
    out.insert(key.into(), Value::Array(slice));
    Ok(Value::Object(out))
}

/// The stored content as reads return it: redacted; verbatim text when nothing was redacted.
pub fn read_content(rec: &PluginRec) -> String {
    match serde_json::from_str::<Value>(&rec.content) {
        Ok(parsed) => {
            let redacted = content::redact(&rec.plugin_type, parsed.clone());
            if redacted == parsed {
                rec.content.clone()
            } else {
                redacted.to_string()
            }
        }
        Err(_) => rec.content.clone(),
    }
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

/// The plug-in object (SPEC §3.2).
pub fn plugin(flavour: Flavour, rec: &PluginRec) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("plugin_id".into(), json!(rec.id));
    m.insert("plugin_name".into(), json!(rec.name));
    m.insert("plugin_type".into(), json!(rec.plugin_type.as_str()));
    m.insert("plugin_scope".into(), json!(rec.scope.as_str()));
    m.insert("plugin_content".into(), json!(read_content(rec)));
    insert_opt(&mut m, "remark", rec.remark.as_deref());
    m.insert("create_time".into(), json!(rec.create_time));
    m.insert("update_time".into(), json!(rec.update_time));
    if flavour.supports_app_scope() {
        insert_opt(&mut m, "roma_app_id", rec.roma_app_id.as_deref());
        insert_opt(&mut m, "roma_app_name", rec.roma_app_id.as_deref());
    }
    m
}

fn env_name<'a>(inst: &'a Instance, env_id: &str) -> &'a str {
    inst.envs
        .iter()
        .find(|e| e.id == env_id)
        .map_or("", |e| e.name.as_str())
}

/// `PluginApiAttachInfo`: one item of an attach response.
pub fn attach_info(inst: &Instance, b: &BindingRec) -> Value {
    let plugin = inst.plugins.get(&b.plugin_id);
    let api = inst.apis.get(&b.api_id);
    json!({
        "plugin_attach_id": b.id,
        "plugin_id": b.plugin_id,
        "plugin_name": plugin.map(|p| p.name.as_str()),
        "plugin_type": plugin.map(|p| p.plugin_type.as_str()),
        "plugin_scope": plugin.map(|p| p.scope.as_str()),
        "env_id": b.env_id,
        "env_name": env_name(inst, &b.env_id),
        "api_id": b.api_id,
        "api_name": api.map(|a| a.name.as_str()),
        "attached_time": b.attached_time,
    })
}

/// With `failed_attach_entries`: the attach answer with a `status` per `attached_plugins`
/// entry and a `bindings` list with a `binding_result` per id asked (see
/// [`super::quirks_binding`]). `failed` holds the `(plugin id, API id)` pairs not bound.
pub fn attach_with_results(
    inst: &Instance,
    recs: &[BindingRec],
    failed: &[(String, String)],
    env_id: &str,
) -> Value {
    let mut attached = Vec::new();
    let mut bindings = Vec::new();
    for b in recs {
        let mut info = attach_info(inst, b);
        info["status"] = json!("SUCCESS");
        attached.push(info);
        bindings.push(json!({
            "api_id": b.api_id, "plugin_id": b.plugin_id, "env_id": b.env_id,
            "plugin_attach_id": b.id, "binding_result": {"status": "SUCCESS"},
        }));
    }
    for (plugin_id, api_id) in failed {
        let plugin = inst.plugins.get(plugin_id);
        attached.push(json!({
            "plugin_id": plugin_id,
            "plugin_name": plugin.map(|p| p.name.as_str()),
            "plugin_type": plugin.map(|p| p.plugin_type.as_str()),
            "plugin_scope": plugin.map(|p| p.scope.as_str()),
            "env_id": env_id,
            "env_name": env_name(inst, env_id),
            "api_id": api_id,
            "api_name": inst.apis.get(api_id).map(|a| a.name.as_str()),
            "status": "FAILED",
        }));
        bindings.push(json!({
            "api_id": api_id, "plugin_id": plugin_id, "env_id": env_id,
            "binding_result": {"status": "FAILED", "error_code": "APIG.3500",
                               "error_msg": "Failed to synchronize data to etcd"},
        }));
    }
    json!({"attached_plugins": attached, "bindings": bindings})
}

/// `AttachedPluginInfo`: one item of attached-plugins.
pub fn attached_plugin(inst: &Instance, b: &BindingRec, p: &PluginRec) -> Value {
    let mut m = plugin(inst.flavour, p);
    m.insert("plugin_attach_id".into(), json!(b.id));
    m.insert("env_id".into(), json!(b.env_id));
    m.insert("env_name".into(), json!(env_name(inst, &b.env_id)));
    m.insert("attached_time".into(), json!(b.attached_time));
    Value::Object(m)
}

/// `PluginApiInfo`: an API as attached-apis / attachable-apis list it, with the binding when there is one.
pub fn plugin_api(
    inst: &Instance,
    api: &ApiRec,
    env_id: &str,
    binding: Option<&BindingRec>,
) -> Value {
    let mut m = Map::new();
    m.insert("api_id".into(), json!(api.id));
    m.insert("api_name".into(), json!(api.name));
    m.insert("type".into(), json!(1));
    m.insert("req_protocol".into(), json!("HTTPS"));
    m.insert("req_method".into(), json!(api.method));
    m.insert("req_uri".into(), json!(api.path));
    m.insert("auth_type".into(), json!("NONE"));
    m.insert("match_mode".into(), json!("NORMAL"));
    m.insert("remark".into(), json!(""));
    m.insert("group_id".into(), json!(api.group_id));
    m.insert("group_name".into(), json!(inst.group_name(&api.group_id)));
    m.insert("env_id".into(), json!(env_id));
    m.insert("env_name".into(), json!(env_name(inst, env_id)));
    if let Some(v) = api.published_in(env_id) {
        m.insert("publish_id".into(), json!(v.publish_id));
    }
    if let Some(b) = binding {
        m.insert("plugin_attach_id".into(), json!(b.id));
        m.insert("attached_time".into(), json!(b.attached_time));
    }
    if inst.flavour == Flavour::Roma {
        m.insert("roma_app_id".into(), json!(""));
    } else {
        m.insert("tags".into(), json!([]));
    }
    Value::Object(m)
}

/// `ApiInfoPerPage` / the show-API object: publication fields are `|`-joined lists
/// over the environments in `envs` where the API is published.
pub fn api(inst: &Instance, api: &ApiRec, only_env: Option<&str>) -> Value {
    let versions: Vec<&VersionRec> = api
        .effective_versions()
        .filter(|v| only_env.is_none_or(|e| e == v.env_id))
        .collect();
    let join = |f: &dyn Fn(&VersionRec) -> String| {
        versions.iter().map(|v| f(v)).collect::<Vec<_>>().join("|")
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(api.id));
    m.insert("name".into(), json!(api.name));
    m.insert("type".into(), json!(1));
    m.insert("version".into(), json!(""));
    m.insert("req_protocol".into(), json!("HTTPS"));
    m.insert("req_method".into(), json!(api.method));
    m.insert("req_uri".into(), json!(api.path));
    m.insert("auth_type".into(), json!("NONE"));
    m.insert("match_mode".into(), json!("NORMAL"));
    m.insert("backend_type".into(), json!(api.backend_type));
    m.insert("remark".into(), json!(""));
    m.insert("group_id".into(), json!(api.group_id));
    m.insert("group_name".into(), json!(inst.group_name(&api.group_id)));
    m.insert("status".into(), json!(1));
    m.insert("register_time".into(), json!(api.register_time));
    m.insert("update_time".into(), json!(api.register_time));
    if !versions.is_empty() {
        m.insert("run_env_id".into(), json!(join(&|v| v.env_id.clone())));
        m.insert(
            "run_env_name".into(),
            json!(join(&|v| env_name(inst, &v.env_id).to_string())),
        );
        m.insert("publish_id".into(), json!(join(&|v| v.publish_id.clone())));
        m.insert(
            "publish_time".into(),
            json!(join(&|v| v.publish_time.clone())),
        );
    }
    Value::Object(m)
}

/// `ApiVersionResp`.
pub fn version(inst: &Instance, api: &ApiRec, v: &VersionRec) -> Value {
    json!({
        "version_id": v.version_id,
        "version_no": v.version_no,
        "api_id": api.id,
        "env_id": v.env_id,
        "env_name": env_name(inst, &v.env_id),
        "remark": v.remark,
        "publish_time": v.publish_time,
        "status": if v.effective { 1 } else { 2 },
    })
}

/// `EnvInfo`.
pub fn env(e: &EnvRec) -> Value {
    json!({"id": e.id, "name": e.name, "remark": "", "create_time": e.create_time})
}

/// `ApiGroupInfo`.
pub fn group(inst: &Instance, g: &GroupRec) -> Value {
    let mut v = json!({
        "id": g.id,
        "name": g.name,
        "status": 1,
        "sl_domain": format!("{}.apig.emulator.local", g.id),
        "register_time": g.register_time,
        "update_time": g.register_time,
        "on_sell_status": 2,
        "url_domains": [],
    });
    if inst.flavour == Flavour::Roma {
        v["roma_app_id"] = json!("");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!(i)).collect()
    }

    #[test]
    fn limit_and_offset_are_clamped_as_spec_2_says() {
        let q = Query::parse(Some("offset=-5&limit=0"));
        let v = page(&q, "x", items(30), std::convert::identity).expect("page");
        assert_eq!(
            (v["total"].clone(), v["size"].clone()),
            (json!(30), json!(20))
        );
        assert_eq!(v["x"][0], json!(0));
        let q = Query::parse(Some("offset=25&limit=900"));
        let v = page(&q, "x", items(30), std::convert::identity).expect("page");
        assert_eq!(v["size"], json!(5));
        let q = Query::parse(Some("limit=abc"));
        assert_eq!(
            page(&q, "x", items(1), std::convert::identity).map_err(|e| e.code),
            Err("APIG.2012")
        );
    }

    #[test]
    fn precise_search_makes_a_fuzzy_filter_exact() {
        let q = Query::parse(Some("plugin_name=cors"));
        assert!(q.fuzzy("plugin_name", "name", "cors_public"));
        let q = Query::parse(Some("plugin_name=cors&precise_search=plugin_name"));
        assert!(!q.fuzzy("plugin_name", "name", "cors_public"));
        assert!(q.fuzzy("plugin_name", "name", "cors"));
    }
}
