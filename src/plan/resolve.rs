//! Resolving the environment and API references of a binding against the live state.

use crate::model::{Api, ApiRef, Env, Live};

/// Why an API reference did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiLookup {
    /// No API matches; the closest name, if any is close.
    Unknown(Option<String>),
    /// Several APIs match a bare name: `group/name (id)` of each.
    Ambiguous(Vec<String>),
}

/// The environment named or identified by `reference` (name first, then id).
pub(crate) fn env<'a>(live: &'a Live, reference: &str) -> Result<&'a Env, Option<String>> {
    live.envs
        .iter()
        .find(|e| e.name == reference)
        .or_else(|| live.envs.iter().find(|e| e.id == reference))
        .ok_or_else(|| closest(reference, live.envs.iter().map(|e| e.name.as_str())))
}

/// The API that `reference` designates.
pub(crate) fn api<'a>(live: &'a Live, reference: &ApiRef) -> Result<&'a Api, ApiLookup> {
    let names = || live.apis.iter().map(|a| a.name.as_str());
    let matches: Vec<&Api> = match reference {
        ApiRef::Id { id } => live.apis.iter().filter(|a| a.id == *id).collect(),
        ApiRef::Name(name) => live.apis.iter().filter(|a| a.name == *name).collect(),
        ApiRef::GroupName { group, name } => live
            .apis
            .iter()
            .filter(|a| a.name == *name && a.group_name == *group)
            .collect(),
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(ApiLookup::Unknown(match reference {
            ApiRef::Id { .. } => None,
            ApiRef::Name(name) | ApiRef::GroupName { name, .. } => closest(name, names()),
        })),
        many => Err(ApiLookup::Ambiguous(
            many.iter()
                .map(|a| format!("{}/{} ({})", a.group_name, a.name, a.id))
                .collect(),
        )),
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

/// The candidate most similar to `wanted`, when it is similar enough to be a likely typo.
fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (strsim::jaro_winkler(wanted, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c.to_owned())
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
            published_in: vec![],
        };
        Live {
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
        assert_eq!(env(&live, "TEST").map(|e| &*e.id), Ok("e1"));
        assert_eq!(env(&live, "e1").map(|e| &*e.id), Ok("e1"));
        assert_eq!(
            env(&live, "TSET").map(|e| &*e.id),
            Err(Some("TEST".to_owned()))
        );
        assert_eq!(env(&live, "PRODUCTION").map(|e| &*e.id), Err(None));
    }

    #[test]
    fn api_resolves_by_name_id_and_group() {
        let live = live();
        assert_eq!(
            api(&live, &ApiRef::Name("orders_list".into())).map(|a| &*a.id),
            Ok("a1")
        );
        assert_eq!(
            api(&live, &ApiRef::Id { id: "a2".into() }).map(|a| &*a.id),
            Ok("a2")
        );
        let by_group = ApiRef::GroupName {
            group: "users".into(),
            name: "health".into(),
        };
        assert_eq!(api(&live, &by_group).map(|a| &*a.id), Ok("a3"));
    }

    #[test]
    fn ambiguous_api_name_lists_every_candidate() {
        let live = live();
        assert_eq!(
            api(&live, &ApiRef::Name("health".into())).map(|a| &*a.id),
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
            api(&live, &ApiRef::Name("order_list".into())).map(|a| &*a.id),
            Err(ApiLookup::Unknown(Some("orders_list".to_owned())))
        );
        assert_eq!(
            api(&live, &ApiRef::Id { id: "zz".into() }).map(|a| &*a.id),
            Err(ApiLookup::Unknown(None))
        );
    }
}
