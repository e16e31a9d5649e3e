//! The differ: desired state against live state, into a [`Plan`].
//!
//! Semantics (docs/DESIGN.md "Semantics that the differ and executor must respect"):
//! - Identity is the plug-in name. A live plug-in is managed when its remark ends with the
//!   ownership marker ([`super::marker`]) of this folder's owner; only managed plug-ins are
//!   ever changed. Plug-ins of other owners are invisible, except that a desired name held by
//!   another owner is an error (never a takeover). A desired name that exists live without a
//!   marker is an error unless `adopt` is set.
//! - Content is compared as [`content::canonical`] on both sides, with secret fields and
//!   `null` members removed; secrets are compared one by one through the marker's
//!   fingerprints.
//! - A change of type or scope is a replacement ([`replace`]): create the new plug-in under
//!   a temporary name, attach it, detach and delete the old one, rename the new one.
//! - All bindings of a managed plug-in are managed: desired minus live is attached, live
//!   minus desired is detached.
//! - Managed plug-ins absent from the manifests are deleted only with `prune`, and an empty
//!   manifest set with `prune` is refused unless `allow_empty` is set.

mod builder;
mod cause;
mod displace;
mod fields;
mod kinds;
mod paths;
mod quota;
mod replace;
mod rules;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_paths;

use std::collections::{BTreeMap, BTreeSet};

use crate::fast_hash::{HashMap, HashSet};

use crate::model::{DEFAULT_OWNER, Desired, DesiredPlugin, Live, LivePlugin, Options};

use super::error::{PlanError, PlanErrors};
use super::fingerprint::{self, MIN_MARKER_KEY_LEN, MarkerKey};
use super::marker::{self, Applied, Marker};
use super::model::{Notice, NoticeKind, Plan, PlanTarget, PluginSpec, Read, ReadObject};
use super::order::order;
use super::secrets;
use builder::Builder;
pub use replace::temp_name;
use rules::{Resolved, Wanted, known_type, resolve_bindings};

/// How the differ treats ownership and deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    /// Delete managed plug-ins that are absent from the manifests.
    pub prune: bool,
    /// Take over live plug-ins with a desired name that lack the ownership marker.
    pub adopt: bool,
    /// Allow `prune` when the manifests declare no plug-in at all.
    pub allow_empty: bool,
    /// The gateway, recorded in the plan.
    pub target: PlanTarget,
    /// The folder's owner (`options.owner`): only plug-ins with its marker are managed.
    pub owner: String,
    /// How the marker fingerprints secrets (see [`super::fingerprint::secret`]).
    pub marker_key: MarkerKey,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            prune: false,
            adopt: false,
            allow_empty: false,
            target: PlanTarget::default(),
            owner: DEFAULT_OWNER.to_owned(),
            marker_key: MarkerKey::default(),
        }
    }
}

impl DiffOptions {
    /// The differ's part of the project file's `options`, for `target`.
    pub fn new(options: &Options, target: PlanTarget) -> Self {
        Self {
            prune: options.prune,
            adopt: options.adopt,
            allow_empty: options.allow_empty,
            target,
            owner: options.owner.clone(),
            marker_key: MarkerKey::default(),
        }
    }

    /// These options with the marker key `key` (from [`MarkerKey::from_env`]).
    pub fn with_marker_key(self, key: MarkerKey) -> Self {
        Self {
            marker_key: key,
            ..self
        }
    }
}

/// What every marker the plan writes needs: the owner, the secrets' key, and the bindings
/// to record.
pub(super) struct Ownership<'a> {
    owner: &'a str,
    key: &'a MarkerKey,
    wanted: &'a Wanted<'a>,
    /// The record of applying each desired plug-in, computed once (the marker of its spec and
    /// the cause of its operations both need it).
    applied: &'a HashMap<&'a str, (&'a DesiredPlugin, Applied)>,
}

impl Ownership<'_> {
    /// True when `plugin`'s marker names this owner.
    fn manages(&self, plugin: &LivePlugin) -> bool {
        marker::is_managed_by(plugin.remark.as_deref(), self.owner)
    }

    /// The record of applying `p` with the bindings the files give it.
    fn applied(&self, p: &DesiredPlugin) -> Applied {
        match self.applied.get(p.name.as_str()) {
            Some((of, applied)) if std::ptr::eq(*of, p) => applied.clone(),
            _ => cause::desired_record(p, self.wanted.get(p.name.as_str())),
        }
    }
}

/// The record of applying each of `desired`'s plug-ins, by name.
fn applied_records<'a>(
    desired: &'a Desired,
    wanted: &Wanted<'_>,
) -> HashMap<&'a str, (&'a DesiredPlugin, Applied)> {
    let mut out = HashMap::default();
    for p in &desired.plugins {
        out.entry(p.name.as_str())
            .or_insert_with(|| (p, cause::desired_record(p, wanted.get(p.name.as_str()))));
    }
    out
}

/// Compares `desired` with `live` and returns the plan that makes the gateway match, or
/// every reason no plan can be made.
pub fn diff(desired: &Desired, live: &Live, opts: &DiffOptions) -> Result<Plan, PlanErrors> {
    let mut errors = Vec::new();
    if let MarkerKey::Keyed(key) = &opts.marker_key
        && key.len() < MIN_MARKER_KEY_LEN
    {
        errors.push(PlanError::WeakMarkerKey { len: key.len() });
    }
    let Resolved {
        wanted,
        origins,
        notices,
    } = resolve_bindings(desired, live, &mut errors);
    let with_api_ids = rules::oidc_apis(desired, live, &wanted, &mut errors);
    let desired = with_api_ids.as_ref().unwrap_or(desired);
    let applied = applied_records(desired, &wanted);
    let ownership = Ownership {
        owner: &opts.owner,
        key: &opts.marker_key,
        wanted: &wanted,
        applied: &applied,
    };
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
        notices,
        replacements: Vec::new(),
        ownership: &ownership,
    };
    let no_bindings = BTreeMap::new();

    let mut desired_plugins: Vec<&DesiredPlugin> = desired.plugins.iter().collect();
    desired_plugins.sort_by(|a, b| a.name.cmp(&b.name));
    // Leftover temporary plug-ins of interrupted replacements, by the desired name.
    let temps: BTreeMap<&str, &LivePlugin> = desired_plugins
        .iter()
        .filter_map(|p| {
            let t = live_by_name.get(temp_name(&p.name).as_str())?;
            ownership.manages(t).then_some((p.name.as_str(), *t))
        })
        .collect();
    for p in &desired_plugins {
        let want = wanted.get(p.name.as_str()).unwrap_or(&no_bindings);
        let temp = temps.get(p.name.as_str()).copied();
        if let Some(t) = temp.filter(|t| t.bindings.is_none()) {
            errors.push(PlanError::BindingsNotRead {
                plugin: t.name.clone(),
            });
            continue;
        }
        match live_by_name.get(p.name.as_str()) {
            None => match temp {
                Some(t) => b.finish(p, t, want),
                None => b.fresh(p, want, false, None),
            },
            Some(l) if !known_type(l) => errors.push(PlanError::ForeignType {
                location: p.location.clone(),
                plugin: p.name.clone(),
                id: l.id.clone(),
                live_type: l.plugin_type.clone(),
            }),
            Some(l) => {
                let owner = marker::owner_of(l.remark.as_deref());
                if let Some(owner) = owner.as_ref().filter(|o| **o != opts.owner) {
                    errors.push(PlanError::OwnedByAnother {
                        location: p.location.clone(),
                        plugin: p.name.clone(),
                        owner: owner.clone(),
                        ours: opts.owner.clone(),
                    });
                    continue;
                }
                let managed = owner.is_some();
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
                b.existing(p, l, want, !managed, temp);
            }
        }
    }

    let desired_names: HashSet<&str> = desired
        .plugins
        .iter()
        .map(|p| p.name.as_str())
        .chain(temps.values().map(|t| t.name.as_str()))
        .collect();
    let orphans: Vec<&LivePlugin> = live
        .plugins
        .iter()
        .filter(|l| {
            ownership.manages(l) && known_type(l) && !desired_names.contains(l.name.as_str())
        })
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
    errors.extend(b.displacement(&origins));
    errors.extend(rules::kafka_log_quota(desired, live, &b.ops));
    errors.extend(paths::shared_cors_paths(
        desired, live, &wanted, &origins, &b.ops,
    ));
    errors.extend(quota::plugin_quota(live, &b.ops));
    if !errors.is_empty() {
        return Err(PlanErrors(errors));
    }
    let records = cause::Records::new(&desired_plugins, &live_by_name, &ownership);
    b.refresh_records(&desired_plugins, &live_by_name, &records, &ownership);
    records.assign(&mut b.ops);

    let mut plan = Plan::new(opts.target.clone());
    plan.owner = opts.owner.clone();
    let temps: Vec<&LivePlugin> = temps.into_values().collect();
    plan.reads = reads(&desired_plugins, &orphans, &temps, &live_by_name, &wanted);
    plan.notices = b.notices;
    plan.notices
        .sort_by(|a, b| (a.kind, &a.plugin, &a.message).cmp(&(b.kind, &b.plugin, &b.message)));
    plan.operations = order(b.ops, &b.replacements);
    plan.replacements = b.replacements;
    let position: HashMap<&str, usize> = plan
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| (op.id.as_str(), i))
        .collect();
    for r in &mut plan.replacements {
        r.steps
            .sort_by_key(|id| position.get(id.as_str()).copied().unwrap_or(usize::MAX));
    }
    Ok(plan)
}

/// True when `plugin` carries an apigsync marker, of any owner.
/// The body to send for a desired plug-in (secrets as templates), its remark ending with
/// the marker of `ownership`, which records this content and the bindings the plan sets.
fn spec(p: &DesiredPlugin, ownership: &Ownership<'_>) -> PluginSpec {
    let marker =
        Marker::of_desired(ownership.key, ownership.owner, p).with_applied(ownership.applied(p));
    let (content, secrets) = secrets::plan_content(p);
    PluginSpec {
        name: p.name.clone(),
        plugin_type: p.plugin_type,
        scope: p.scope,
        roma_app_id: p.roma_app_id.clone(),
        remark: marker::with_marker(p.remark.as_deref().unwrap_or(""), &marker),
        content,
        secrets,
    }
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
    temps: &[&LivePlugin],
    live_by_name: &BTreeMap<&str, &LivePlugin>,
    wanted: &Wanted<'_>,
) -> Vec<Read> {
    let names: BTreeSet<&str> = desired
        .iter()
        .map(|p| p.name.as_str())
        .chain(orphans.iter().chain(temps).map(|l| l.name.as_str()))
        .collect();
    let mut reads = Vec::new();
    for name in names {
        let live = live_by_name.get(name);
        reads.push(Read {
            object: ReadObject::Plugin {
                name: name.to_owned(),
            },
            fingerprint: live.map(|l| fingerprint::live_plugin(l)),
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
            if let Some(fingerprint) = fingerprint::live_bindings(l, env_id) {
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
