//! The differ: desired state against live state, into a [`Plan`].
//!
//! Semantics (DESIGN.md "Semantics that the differ and executor must respect"):
//! - Identity is the plug-in name. A live plug-in is managed when its remark ends with the
//!   ownership marker ([`super::marker`]); only managed plug-ins are ever changed. A desired
//!   name that exists live without a marker is an error unless `adopt` is set.
//! - Content is compared as [`content::canonical`] on both sides, with secret fields and
//!   `null` members removed; secrets are compared through the marker's fingerprint.
//! - A change of type or scope is a replace: detach all, delete, create, re-attach.
//! - All bindings of a managed plug-in are managed: desired minus live is attached, live
//!   minus desired is detached.
//! - Managed plug-ins absent from the manifests are deleted only with `prune`, and an empty
//!   manifest set with `prune` is refused unless `allow_empty` is set.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::content;
use crate::model::{Api, Desired, DesiredPlugin, Live, LivePlugin, Location, Options, PluginType};

use super::changes::diff_values;
use super::error::{PlanError, PlanErrors};
use super::marker;
use super::model::{
    ApiItem, BindingOp, FieldChange, MAX_APIS_PER_CALL, Notice, NoticeKind, OpKind, Operation,
    Plan, PluginSpec, Read, ReadObject, Target,
};
use super::order::order;
use super::resolve::{self, ApiLookup, Resolver};
use super::secrets;
use super::stale::{bindings_fingerprint, plugin_fingerprint};

/// How the differ treats ownership and deletion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Delete managed plug-ins that are absent from the manifests.
    pub prune: bool,
    /// Take over live plug-ins with a desired name that lack the ownership marker.
    pub adopt: bool,
    /// Allow `prune` when the manifests declare no plug-in at all.
    pub allow_empty: bool,
    /// The gateway, recorded in the plan.
    pub target: Target,
}

impl DiffOptions {
    /// The differ's part of the project file's `options`, for `target`.
    pub fn new(options: &Options, target: Target) -> Self {
        Self {
            prune: options.prune,
            adopt: options.adopt,
            allow_empty: options.allow_empty,
            target,
        }
    }
}

/// Desired bindings after resolution: plug-in name → env id → API ids.
type Wanted<'a> = BTreeMap<&'a str, BTreeMap<String, BTreeSet<String>>>;

/// Compares `desired` with `live` and returns the plan that makes the gateway match, or
/// every reason no plan can be made.
pub fn diff(desired: &Desired, live: &Live, opts: &DiffOptions) -> Result<Plan, PlanErrors> {
    let mut errors = Vec::new();
    let wanted = resolve_bindings(desired, live, &mut errors);
    let live_by_name: BTreeMap<&str, &LivePlugin> =
        live.plugins.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut b = Builder {
        live,
        api_names: live
            .apis
            .iter()
            .map(|a| (a.id.as_str(), a.name.as_str()))
            .collect(),
        ops: Vec::new(),
        notices: Vec::new(),
    };
    let no_bindings = BTreeMap::new();

    let mut desired_plugins: Vec<&DesiredPlugin> = desired.plugins.iter().collect();
    desired_plugins.sort_by(|a, b| a.name.cmp(&b.name));
    for p in &desired_plugins {
        let want = wanted.get(p.name.as_str()).unwrap_or(&no_bindings);
        match live_by_name.get(p.name.as_str()) {
            None => {
                b.create(spec(p), false, None);
                b.bindings(
                    &p.name,
                    p.plugin_type.as_str(),
                    None,
                    want,
                    &BTreeMap::new(),
                    false,
                );
            }
            Some(l) => {
                let managed = managed(l);
                if !managed && !opts.adopt {
                    errors.push(PlanError::Unmanaged {
                        location: p.location.clone(),
                        plugin: p.name.clone(),
                        id: l.id.clone(),
                    });
                    continue;
                }
                if l.bindings.is_none() {
                    errors.push(PlanError::BindingsNotRead {
                        plugin: l.name.clone(),
                    });
                    continue;
                }
                b.existing(p, l, want, !managed);
            }
        }
    }

    let desired_names: HashSet<&str> = desired.plugins.iter().map(|p| p.name.as_str()).collect();
    let orphans: Vec<&LivePlugin> = live
        .plugins
        .iter()
        .filter(|l| managed(l) && !desired_names.contains(l.name.as_str()))
        .collect();
    if opts.prune && desired.plugins.is_empty() && !orphans.is_empty() && !opts.allow_empty {
        errors.push(PlanError::EmptyPrune {
            count: orphans.len(),
        });
    }
    for l in &orphans {
        if opts.prune && l.bindings.is_none() {
            errors.push(PlanError::BindingsNotRead {
                plugin: l.name.clone(),
            });
        } else if opts.prune {
            b.remove(l, false, None);
        } else {
            b.notices.push(Notice {
                kind: NoticeKind::KeptOrphan,
                plugin: l.name.clone(),
                message: format!(
                    "managed plug-in {:?} is absent from the manifests and kept because prune is off",
                    l.name
                ),
                location: None,
            });
        }
    }
    if !errors.is_empty() {
        return Err(PlanErrors(errors));
    }
    b.displacement_notices(desired);

    let mut plan = Plan::new(opts.target.clone());
    plan.reads = reads(&desired_plugins, &orphans, &live_by_name, &wanted);
    plan.notices = b.notices;
    plan.notices
        .sort_by(|a, b| (a.kind, &a.plugin, &a.message).cmp(&(b.kind, &b.plugin, &b.message)));
    plan.operations = order(b.ops);
    Ok(plan)
}

fn managed(plugin: &LivePlugin) -> bool {
    marker::split_marker(plugin.remark.as_deref().unwrap_or(""))
        .1
        .is_some()
}

/// The body to send for a desired plug-in (secrets as templates).
fn spec(p: &DesiredPlugin) -> PluginSpec {
    let fp = marker::plugin_fingerprint(p);
    let (content, secrets) = secrets::plan_content(p);
    PluginSpec {
        name: p.name.clone(),
        plugin_type: p.plugin_type,
        scope: p.scope,
        roma_app_id: p.roma_app_id.clone(),
        remark: marker::with_marker(p.remark.as_deref().unwrap_or(""), &fp),
        content,
        secrets,
    }
}

/// The method rules of the user guides (SPEC §4.3): a CORS plug-in's `allow_methods`
/// lists every bound API's method; a response cache binds only to GET and HEAD APIs.
/// Unknown methods and `ANY` APIs are not judged.
fn method_rule(plugin: &DesiredPlugin, api: &Api, location: &Location) -> Option<PlanError> {
    let method = api.method.to_ascii_uppercase();
    if method.is_empty() || method == "ANY" {
        return None;
    }
    match plugin.plugin_type {
        PluginType::Cors => {
            let allowed = plugin.content.get("allow_methods")?.as_str()?;
            let listed = allowed
                .split(',')
                .map(|m| m.trim().to_ascii_uppercase())
                .any(|m| m == "*" || m == method);
            (!listed).then(|| PlanError::MethodNotAllowed {
                location: location.clone(),
                plugin: plugin.name.clone(),
                api: api.name.clone(),
                method,
                allowed: allowed.to_owned(),
            })
        }
        PluginType::ProxyCache => {
            (method != "GET" && method != "HEAD").then(|| PlanError::CacheNeedsGet {
                location: location.clone(),
                plugin: plugin.name.clone(),
                api: api.name.clone(),
                method,
            })
        }
        _ => None,
    }
}

/// Resolves every desired binding; unresolvable references become errors.
fn resolve_bindings<'a>(
    desired: &'a Desired,
    live: &Live,
    errors: &mut Vec<PlanError>,
) -> Wanted<'a> {
    let mut wanted: Wanted<'a> = BTreeMap::new();
    // (env id, type, API id) → the first plug-in bound there, and where.
    let mut taken: HashMap<(String, PluginType, String), (&str, &Location)> = HashMap::new();
    let resolver = Resolver::new(live);
    for binding in &desired.bindings {
        let plugin = binding.plugin.as_str();
        let location = &binding.location;
        let Some(declared) = desired.plugins.iter().find(|p| p.name == plugin) else {
            errors.push(PlanError::UnknownPlugin {
                location: location.clone(),
                plugin: plugin.to_owned(),
            });
            continue;
        };
        let env = match resolver.env(&binding.env) {
            Ok(env) => env,
            Err(did_you_mean) => {
                errors.push(PlanError::UnknownEnv {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    env: binding.env.clone(),
                    did_you_mean,
                });
                continue;
            }
        };
        let apis = wanted
            .entry(plugin)
            .or_default()
            .entry(env.id.clone())
            .or_default();
        for reference in &binding.apis {
            match resolver.api(reference) {
                Ok(api) if api.published_in.contains(&env.id) => {
                    if let Some(error) = method_rule(declared, api, location) {
                        errors.push(error);
                        continue;
                    }
                    let key = (env.id.clone(), declared.plugin_type, api.id.clone());
                    match taken.get(&key) {
                        Some((other, other_location)) if *other != plugin => {
                            errors.push(PlanError::TwoOfOneType {
                                location: location.clone(),
                                plugin: plugin.to_owned(),
                                other_location: (*other_location).clone(),
                                other: (*other).to_owned(),
                                plugin_type: declared.plugin_type.to_string(),
                                api: api.name.clone(),
                                env: env.name.clone(),
                            });
                        }
                        Some(_) => {}
                        None => {
                            taken.insert(key, (plugin, location));
                        }
                    }
                    apis.insert(api.id.clone());
                }
                Ok(api) => errors.push(PlanError::NotPublished {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    api: api.name.clone(),
                    env: env.name.clone(),
                }),
                Err(ApiLookup::Unknown(did_you_mean)) => errors.push(PlanError::UnknownApi {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    api: resolve::label(reference),
                    did_you_mean,
                }),
                Err(ApiLookup::Ambiguous(candidates)) => errors.push(PlanError::AmbiguousApi {
                    location: location.clone(),
                    plugin: plugin.to_owned(),
                    api: resolve::label(reference),
                    candidates,
                }),
            }
        }
    }
    wanted
}

/// Live bindings of a plug-in: env id → API ids (none when they were not fetched).
fn live_bindings(l: &LivePlugin) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in l.bindings.iter().flatten() {
        out.entry(b.env_id.clone())
            .or_default()
            .insert(b.api_id.clone());
    }
    out
}

/// The fingerprints of every live object the plan depends on.
fn reads(
    desired: &[&DesiredPlugin],
    orphans: &[&LivePlugin],
    live_by_name: &BTreeMap<&str, &LivePlugin>,
    wanted: &Wanted<'_>,
) -> Vec<Read> {
    let names: BTreeSet<&str> = desired
        .iter()
        .map(|p| p.name.as_str())
        .chain(orphans.iter().map(|l| l.name.as_str()))
        .collect();
    let mut reads = Vec::new();
    for name in names {
        let live = live_by_name.get(name);
        reads.push(Read {
            object: ReadObject::Plugin {
                name: name.to_owned(),
            },
            fingerprint: live.map(|l| plugin_fingerprint(l)),
        });
        let Some(l) = live else { continue };
        let mut envs: BTreeSet<&str> = l
            .bindings
            .iter()
            .flatten()
            .map(|b| b.env_id.as_str())
            .collect();
        envs.extend(
            wanted
                .get(name)
                .into_iter()
                .flat_map(|w| w.keys().map(String::as_str)),
        );
        for env_id in envs {
            if let Some(fingerprint) = bindings_fingerprint(l, env_id) {
                reads.push(Read {
                    object: ReadObject::Bindings {
                        plugin: name.to_owned(),
                        env_id: env_id.to_owned(),
                    },
                    fingerprint: Some(fingerprint),
                });
            }
        }
    }
    reads
}

/// Accumulates operations and notices.
struct Builder<'a> {
    live: &'a Live,
    api_names: HashMap<&'a str, &'a str>,
    ops: Vec<Operation>,
    notices: Vec<Notice>,
}

impl Builder<'_> {
    fn push(&mut self, id: String, kind: OpKind, replace: bool, reason: Option<String>) {
        self.ops.push(Operation {
            id,
            stage: kind.stage(),
            kind,
            depends_on: Vec::new(),
            replace,
            reason,
        });
    }

    fn create(&mut self, spec: PluginSpec, replace: bool, reason: Option<String>) {
        let id = format!("create/{}", spec.name);
        self.push(id, OpKind::CreatePlugin { spec }, replace, reason);
    }

    /// Detaches every binding of `l` and deletes it.
    fn remove(&mut self, l: &LivePlugin, replace: bool, reason: Option<String>) {
        self.bindings(
            &l.name,
            &l.plugin_type,
            Some(&l.id),
            &BTreeMap::new(),
            &live_bindings(l),
            replace,
        );
        let kind = OpKind::DeletePlugin {
            plugin_id: l.id.clone(),
            name: l.name.clone(),
        };
        self.push(format!("delete/{}", l.name), kind, replace, reason);
    }

    /// A desired plug-in that exists live (managed, or being adopted).
    fn existing(
        &mut self,
        p: &DesiredPlugin,
        l: &LivePlugin,
        want: &BTreeMap<String, BTreeSet<String>>,
        adopting: bool,
    ) {
        let reason = if l.plugin_type != p.plugin_type.as_str() {
            Some(format!(
                "type changed: {} → {}",
                l.plugin_type, p.plugin_type
            ))
        } else if l.scope != p.scope.as_str() {
            Some(format!("scope changed: {} → {}", l.scope, p.scope))
        } else {
            None
        };
        let as_is = adopting && reason.is_none() && adoptable_as_is(p, l);
        if adopting {
            let how = if as_is {
                "adopted as is (it already equals the manifest); the ownership marker is written at its next change"
            } else if reason.is_some() {
                "its type or scope differs, so it is DELETED and re-created as the manifest says"
            } else {
                "apigsync will manage it"
            };
            self.notices.push(Notice {
                kind: NoticeKind::Adopts,
                plugin: p.name.clone(),
                message: format!(
                    "adopts unmanaged plug-in {:?} (id {}): {how}, and all its bindings from now on",
                    p.name, l.id
                ),
                location: Some(p.location.clone()),
            });
        }
        if let Some(reason) = reason {
            self.remove(l, true, Some(reason.clone()));
            self.create(spec(p), true, Some(reason));
            self.bindings(
                &p.name,
                p.plugin_type.as_str(),
                None,
                want,
                &BTreeMap::new(),
                true,
            );
            return;
        }
        let spec = spec(p);
        let changes = if as_is {
            Vec::new()
        } else {
            field_changes(p, l, &spec)
        };
        if !changes.is_empty() || (adopting && !as_is) {
            let reason = adopting.then(|| "adopt: write the ownership marker".to_owned());
            let kind = OpKind::UpdatePlugin {
                plugin_id: l.id.clone(),
                spec,
                changes,
            };
            self.push(format!("update/{}", p.name), kind, false, reason);
        }
        self.bindings(
            &p.name,
            p.plugin_type.as_str(),
            Some(&l.id),
            want,
            &live_bindings(l),
            false,
        );
    }

    /// Attach `want − have` and detach `have − want`, per environment, in chunks.
    fn bindings(
        &mut self,
        plugin: &str,
        plugin_type: &str,
        plugin_id: Option<&str>,
        want: &BTreeMap<String, BTreeSet<String>>,
        have: &BTreeMap<String, BTreeSet<String>>,
        replace: bool,
    ) {
        let envs: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
        let empty = BTreeSet::new();
        for env_id in envs {
            let w = want.get(env_id).unwrap_or(&empty);
            let h = have.get(env_id).unwrap_or(&empty);
            let detach: Vec<&String> = h.difference(w).collect();
            let attach: Vec<&String> = w.difference(h).collect();
            for (apis, attaching) in [(detach, false), (attach, true)] {
                let mut items: Vec<ApiItem> =
                    apis.into_iter().map(|id| self.api_item(id)).collect();
                items.sort_by(|a, b| (a.label(), &a.id).cmp(&(b.label(), &b.id)));
                let env_name = self.env_name(env_id);
                for (n, chunk) in items.chunks(MAX_APIS_PER_CALL).enumerate() {
                    let op = BindingOp {
                        plugin: plugin.to_owned(),
                        plugin_id: plugin_id.map(str::to_owned),
                        plugin_type: plugin_type.to_owned(),
                        env_id: env_id.clone(),
                        env_name: env_name.clone(),
                        apis: chunk.to_vec(),
                    };
                    let verb = if attaching { "attach" } else { "detach" };
                    let id = format!("{verb}/{plugin}/{env_name}/{}", n + 1);
                    let kind = if attaching {
                        OpKind::Attach(op)
                    } else {
                        OpKind::Detach(op)
                    };
                    self.push(id, kind, replace, None);
                }
            }
        }
    }

    fn api_item(&self, id: &str) -> ApiItem {
        ApiItem {
            id: id.to_owned(),
            name: self.api_names.get(id).map(|n| (*n).to_owned()),
        }
    }

    fn env_name(&self, env_id: &str) -> String {
        self.live
            .envs
            .iter()
            .find(|e| e.id == env_id)
            .map_or_else(|| env_id.to_owned(), |e| e.name.clone())
    }

    /// A notice for each attach that displaces another plug-in of the same type that this
    /// plan does not detach from that API.
    fn displacement_notices(&mut self, desired: &Desired) {
        let mut detached: HashSet<(&str, &str, &str)> = HashSet::new();
        for op in &self.ops {
            if let OpKind::Detach(d) = &op.kind {
                detached.extend(
                    d.apis
                        .iter()
                        .map(|a| (d.plugin.as_str(), d.env_id.as_str(), a.id.as_str())),
                );
            }
        }
        // (env, type, API) → live plug-ins bound there.
        let mut bound: HashMap<(&str, &str, &str), Vec<&LivePlugin>> = HashMap::new();
        for other in &self.live.plugins {
            for b in other.bindings.iter().flatten() {
                bound
                    .entry((&b.env_id, &other.plugin_type, &b.api_id))
                    .or_default()
                    .push(other);
            }
        }
        let mut notices = Vec::new();
        for op in &self.ops {
            let OpKind::Attach(a) = &op.kind else {
                continue;
            };
            for api in &a.apis {
                let key = (a.env_id.as_str(), a.plugin_type.as_str(), api.id.as_str());
                for other in bound.get(&key).into_iter().flatten() {
                    if other.name == a.plugin
                        || detached.contains(&(
                            other.name.as_str(),
                            a.env_id.as_str(),
                            api.id.as_str(),
                        ))
                    {
                        continue;
                    }
                    let whose = if managed(other) {
                        "managed"
                    } else {
                        "unmanaged"
                    };
                    notices.push(Notice {
                        kind: NoticeKind::Displaces,
                        plugin: a.plugin.clone(),
                        message: format!(
                            "binding {:?} displaces {whose} plug-in {:?} of type {} on API {} in {}",
                            a.plugin,
                            other.name,
                            a.plugin_type,
                            api.label(),
                            a.env_name
                        ),
                        location: desired
                            .bindings
                            .iter()
                            .find(|b| b.plugin == a.plugin)
                            .map(|b| b.location.clone()),
                    });
                }
            }
        }
        self.notices.extend(notices);
    }
}

/// Whether adopting unmanaged `l` for `p` (same type and scope) can be a no-op: `p`'s type
/// has no secret field (a secret the server does not return cannot be compared, so it must
/// be written) and its app, remark and content already equal the live ones. The marker is
/// then left for the plug-in's next change; until then the plug-in stays unmarked, so it is
/// adopted again by each plan (with `adopt`) and never pruned.
fn adoptable_as_is(p: &DesiredPlugin, l: &LivePlugin) -> bool {
    secrets::secret_pointers(p).is_empty() && user_changes(p, l).is_empty()
}

/// The changes of the fields the user writes: app, remark (without the marker), content
/// (canonical, secrets and nulls removed).
fn user_changes(p: &DesiredPlugin, l: &LivePlugin) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let non_empty = |s: Option<&str>| {
        s.filter(|s| !s.is_empty())
            .map(|s| serde_json::Value::String(s.to_owned()))
    };
    diff_values(
        "/roma_app_id",
        non_empty(l.roma_app_id.as_deref()).as_ref(),
        non_empty(p.roma_app_id.as_deref()).as_ref(),
        &mut changes,
    );
    let (live_remark, _) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
    diff_values(
        "/remark",
        non_empty(Some(&live_remark)).as_ref(),
        non_empty(p.remark.as_deref()).as_ref(),
        &mut changes,
    );
    let pointers = secrets::secret_pointers(p);
    let comparable = |v: &serde_json::Value| {
        // canonical already drops nulls (null ≡ absent).
        secrets::strip(&content::canonical(p.plugin_type, v), &pointers)
    };
    diff_values(
        "/content",
        Some(&comparable(&l.content)),
        Some(&comparable(&p.content)),
        &mut changes,
    );
    changes
}

/// The changes an update makes: [`user_changes`], and the secret fields when the marker's
/// fingerprint differs (or the marker itself, when there is no secret to blame).
fn field_changes(p: &DesiredPlugin, l: &LivePlugin, spec: &PluginSpec) -> Vec<FieldChange> {
    let mut changes = user_changes(p, l);
    let (_, live_fp) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
    let pointers = secrets::secret_pointers(p);
    let (_, fp) = marker::split_marker(&spec.remark);
    if live_fp != fp {
        let present: Vec<String> = secrets::secret_values(p)
            .into_iter()
            .map(|(ptr, _)| ptr)
            .collect();
        let sensitive: Vec<String> = if present.is_empty() {
            pointers.into_iter().collect()
        } else {
            present
        };
        let remark_changed = changes.iter().any(|c| c.path == "/remark");
        if sensitive.is_empty() && !remark_changed {
            // No secret to blame: the marker is missing or was edited; rewrite it.
            changes.push(FieldChange {
                path: "/remark".to_owned(),
                old: l.remark.clone().map(serde_json::Value::String),
                new: Some(serde_json::Value::String(spec.remark.clone())),
                sensitive: false,
            });
        }
        for pointer in sensitive {
            changes.push(FieldChange {
                path: format!("/content{pointer}"),
                old: None,
                new: None,
                sensitive: true,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use crate::model::{ApiRef, Location};

    use super::*;
    use crate::model::{Env, LiveBinding, PluginType, RELEASE_ENV_ID, Scope, SecretSource};

    fn desired_plugin(kind: PluginType, content: serde_json::Value) -> DesiredPlugin {
        DesiredPlugin {
            name: "edge".into(),
            plugin_type: kind,
            scope: Scope::Global,
            roma_app_id: None,
            remark: Some("made by hand".into()),
            content,
            secrets: BTreeMap::new(),
            location: Location::new("plugins/edge.yaml", 1, 1),
        }
    }

    /// The live copy of `p` as created by hand: no marker, bound to API `a1` in RELEASE.
    fn seeded(p: &DesiredPlugin) -> Live {
        Live {
            plugins: vec![LivePlugin {
                id: "p1".into(),
                name: p.name.clone(),
                plugin_type: p.plugin_type.as_str().into(),
                scope: "global".into(),
                roma_app_id: None,
                remark: p.remark.clone(),
                content: content::redact(p.plugin_type, p.content.clone()),
                update_time: None,
                bindings: Some(vec![LiveBinding {
                    env_id: RELEASE_ENV_ID.into(),
                    api_id: "a1".into(),
                }]),
            }],
            envs: vec![Env {
                id: RELEASE_ENV_ID.into(),
                name: "RELEASE".into(),
            }],
            apis: vec![crate::model::Api {
                id: "a1".into(),
                name: "orders_list".into(),
                group_id: "g".into(),
                group_name: "shop".into(),
                method: "GET".into(),
                published_in: vec![RELEASE_ENV_ID.into()],
            }],
        }
    }

    fn adopt() -> DiffOptions {
        DiffOptions {
            adopt: true,
            ..DiffOptions::default()
        }
    }

    fn cors() -> DesiredPlugin {
        desired_plugin(PluginType::Cors, json!({"allow_origin": "*"}))
    }

    fn ids(plan: &Plan) -> Vec<&str> {
        plan.operations.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn adopting_an_equal_plugin_without_secrets_is_a_no_op_with_a_notice() {
        let p = cors();
        let live = seeded(&p);
        let binding = crate::model::DesiredBinding {
            plugin: "edge".into(),
            env: "RELEASE".into(),
            apis: vec![ApiRef::Name("orders_list".into())],
            location: Location::new("plugins/edge.yaml", 9, 1),
        };
        let d = Desired {
            project: None,
            plugins: vec![p],
            bindings: vec![binding],
            warnings: vec![],
        };
        let plan = diff(&d, &live, &adopt()).unwrap();
        assert!(plan.is_empty(), "{:?}", ids(&plan));
        assert_eq!(plan.notices.len(), 1);
        assert_eq!(plan.notices[0].kind, NoticeKind::Adopts);
        assert!(
            plan.notices[0]
                .message
                .contains("the ownership marker is written at its next change"),
            "{}",
            plan.notices[0].message
        );
    }

    #[test]
    fn adopting_as_is_still_manages_the_bindings() {
        let p = cors();
        let live = seeded(&p);
        let d = Desired {
            project: None,
            plugins: vec![p],
            bindings: vec![],
            warnings: vec![],
        };
        let plan = diff(&d, &live, &adopt()).unwrap();
        assert_eq!(ids(&plan), ["detach/edge/RELEASE/1"]);
    }

    #[test]
    fn adopting_a_different_plugin_writes_it_and_the_marker() {
        let p = cors();
        let mut live = seeded(&p);
        live.plugins[0].remark = Some("other".into());
        let d = Desired {
            project: None,
            plugins: vec![p],
            bindings: vec![],
            warnings: vec![],
        };
        let plan = diff(&d, &live, &adopt()).unwrap();
        assert_eq!(ids(&plan)[0], "update/edge");
        let OpKind::UpdatePlugin { spec, .. } = &plan.operations[0].kind else {
            panic!()
        };
        assert!(marker::split_marker(&spec.remark).1.is_some());
    }

    #[test]
    fn adopting_a_plugin_with_secret_fields_always_writes_it() {
        let mut p = desired_plugin(
            PluginType::KafkaLog,
            json!({"broker_list": ["k:9092"], "topic": "t",
                   "sasl_config": {"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": "pw"}}),
        );
        p.secrets.insert(
            "/sasl_config/sasl_password".into(),
            SecretSource {
                template: "${PW}".into(),
                literal: false,
            },
        );
        let live = seeded(&p);
        let d = Desired {
            project: None,
            plugins: vec![p],
            bindings: vec![],
            warnings: vec![],
        };
        let plan = diff(&d, &live, &adopt()).unwrap();
        assert_eq!(ids(&plan)[0], "update/edge");
        assert_eq!(
            plan.operations[0].reason.as_deref(),
            Some("adopt: write the ownership marker")
        );
        // Even a kafka_log without a secret value: the server may hold one it does not show.
        let mut plain = desired_plugin(
            PluginType::KafkaLog,
            json!({"broker_list": ["k:9092"], "topic": "t"}),
        );
        plain.name = "edge".into();
        let live = seeded(&plain);
        let d = Desired {
            project: None,
            plugins: vec![plain],
            bindings: vec![],
            warnings: vec![],
        };
        assert_eq!(ids(&diff(&d, &live, &adopt()).unwrap())[0], "update/edge");
    }

    #[test]
    fn an_unmarked_plugin_is_never_pruned_even_after_adoption_as_is() {
        let live = seeded(&cors());
        let opts = DiffOptions {
            prune: true,
            allow_empty: true,
            ..adopt()
        };
        let plan = diff(&Desired::default(), &live, &opts).unwrap();
        assert!(plan.is_empty(), "{:?}", ids(&plan));
    }

    #[test]
    fn without_adopt_an_unmarked_plugin_is_still_an_error() {
        let p = cors();
        let live = seeded(&p);
        let d = Desired {
            project: None,
            plugins: vec![p],
            bindings: vec![],
            warnings: vec![],
        };
        let err = diff(&d, &live, &DiffOptions::default()).unwrap_err();
        assert!(matches!(err.0.as_slice(), [PlanError::Unmanaged { .. }]));
    }
}
