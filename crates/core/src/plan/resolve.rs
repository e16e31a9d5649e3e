//! Resolving the environment and API references of a binding against the live state.

use crate::fast_hash::HashMap;

use crate::model::{Api, ApiRef, Env, Live};

/// Why an API reference did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiLookup {
    /// No API matches; the names close to the reference, closest first.
    Unknown(Vec<String>),
    /// Several APIs match a bare name: `group/name (id)` of each.
    Ambiguous(Vec<String>),
}

/// Lookup tables over the live environments and APIs, built once per diff.
pub(crate) struct Resolver<'a> {
    live: &'a Live,
    by_id: HashMap<&'a str, &'a Api>,
    by_name: HashMap<&'a str, Vec<&'a Api>>,
}

impl<'a> Resolver<'a> {
    /// Indexes `live`.
    pub(crate) fn new(live: &'a Live) -> Self {
        let mut by_name: HashMap<&str, Vec<&Api>> = HashMap::default();
        for api in &live.apis {
            by_name.entry(&api.name).or_default().push(api);
        }
        Self {
            live,
            by_id: live.apis.iter().map(|a| (a.id.as_str(), a)).collect(),
            by_name,
        }
    }

    /// The environment named or identified by `reference` (name first, then id).
    pub(crate) fn env(&self, reference: &str) -> Result<&'a Env, Option<String>> {
        let envs = &self.live.envs;
        envs.iter()
            .find(|e| e.name == reference)
            .or_else(|| envs.iter().find(|e| e.id == reference))
            .ok_or_else(|| {
                close_names(reference, envs.iter().map(|e| e.name.as_str()))
                    .into_iter()
                    .next()
            })
    }

    /// The names of every environment, sorted.
    pub(crate) fn env_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.live.envs.iter().map(|e| e.name.clone()).collect();
        names.sort();
        names
    }

    /// The API that `reference` designates.
    pub(crate) fn api(&self, reference: &ApiRef) -> Result<&'a Api, ApiLookup> {
        let named = |name: &str| self.by_name.get(name).cloned().unwrap_or_default();
        let matches: Vec<&Api> = match reference {
            ApiRef::Id { id } => self.by_id.get(id.as_str()).copied().into_iter().collect(),
            ApiRef::Name(name) => named(name),
            ApiRef::GroupName { group, name } => named(name)
                .into_iter()
                .filter(|a| a.group_name == *group)
                .collect(),
        };
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(ApiLookup::Unknown(match reference {
                ApiRef::Id { .. } => Vec::new(),
                ApiRef::Name(name) | ApiRef::GroupName { name, .. } => {
                    close_names(name, self.live.apis.iter().map(|a| a.name.as_str()))
                }
            })),
            many => Err(ApiLookup::Ambiguous(
                many.iter()
                    .map(|a| format!("{}/{} ({})", a.group_name, a.name, a.id))
                    .collect(),
            )),
        }
    }
}

/// How a reference reads in messages: `orders_list`, `{id: 5f0c…}`, `shop/orders_list`.
pub(crate) fn label(reference: &ApiRef) -> String {
    match reference {
        ApiRef::Name(name) => name.clone(),
        ApiRef::Id { id } => format!("{{id: {id}}}"),
        ApiRef::GroupName { group, name } => format!("{group}/{name}"),
    }
}

/// Most names [`close_names`] gives.
const CLOSE_NAMES: usize = 3;

/// The candidates similar enough to `wanted` to be a likely typo, most similar first (at
/// most [`CLOSE_NAMES`], each once).
fn close_names<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| (strsim::jaro_winkler(wanted, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !out.iter().any(|n| n == name) && out.len() < CLOSE_NAMES {
            out.push(name.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Live {
        let api = |id: &str, name: &str, group: &str| Api {
            id: id.to_owned(),
            name: name.to_owned(),
            group_id: format!("g-{group}"),
            group_name: group.to_owned(),
            method: "GET".into(),
            req_uri: String::new(),
            backend_type: String::new(),
            published_in: vec![],
        };
        Live {
            plugin_quota: None,
            plugins: vec![],
            envs: vec![Env {
                id: "e1".to_owned(),
                name: "TEST".to_owned(),
            }],
            apis: vec![
                api("a1", "orders_list", "shop"),
                api("a2", "health", "shop"),
                api("a3", "health", "users"),
            ],
        }
    }

    #[test]
    fn env_resolves_by_name_or_id_and_suggests_a_close_name() {
        let live = live();
        assert_eq!(Resolver::new(&live).env("TEST").map(|e| &*e.id), Ok("e1"));
        assert_eq!(Resolver::new(&live).env("e1").map(|e| &*e.id), Ok("e1"));
        assert_eq!(
            Resolver::new(&live).env("TSET").map(|e| &*e.id),
            Err(Some("TEST".to_owned()))
        );
        assert_eq!(
            Resolver::new(&live).env("PRODUCTION").map(|e| &*e.id),
            Err(None)
        );
    }

    #[test]
    fn api_resolves_by_name_id_and_group() {
        let live = live();
        assert_eq!(
            Resolver::new(&live)
                .api(&ApiRef::Name("orders_list".into()))
                .map(|a| &*a.id),
            Ok("a1")
        );
        assert_eq!(
            Resolver::new(&live)
                .api(&ApiRef::Id { id: "a2".into() })
                .map(|a| &*a.id),
            Ok("a2")
        );
        let by_group = ApiRef::GroupName {
            group: "users".into(),
            name: "health".into(),
        };
        assert_eq!(
            Resolver::new(&live).api(&by_group).map(|a| &*a.id),
            Ok("a3")
        );
    }

    #[test]
    fn ambiguous_api_name_lists_every_candidate() {
        let live = live();
        assert_eq!(
            Resolver::new(&live)
                .api(&ApiRef::Name("health".into()))
                .map(|a| &*a.id),
            Err(ApiLookup::Ambiguous(vec![
                "shop/health (a2)".to_owned(),
                "users/health (a3)".to_owned()
            ]))
        );
    }

    #[test]
    fn unknown_api_suggests_the_closest_name() {
        let live = live();
        assert_eq!(
            Resolver::new(&live)
                .api(&ApiRef::Name("order_list".into()))
                .map(|a| &*a.id),
            Err(ApiLookup::Unknown(vec!["orders_list".to_owned()]))
        );
        assert_eq!(
            Resolver::new(&live)
                .api(&ApiRef::Id { id: "zz".into() })
                .map(|a| &*a.id),
            Err(ApiLookup::Unknown(vec![]))
        );
    }
}
