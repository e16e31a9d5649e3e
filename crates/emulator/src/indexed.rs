//! The store's collections with the indexes its reads need, so that no request
//! costs a scan of every record: plug-ins and APIs by id, bindings by plug-in,
//! by API and by environment. Each serialises as a plain list in creation order
//! (the `--state` file format), and the indexes are rebuilt when it is read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use super::store::{ApiRec, BindingRec, PluginRec};

/// A record with an id.
pub trait Keyed {
    /// The record's id.
    fn key(&self) -> &str;
}

impl Keyed for PluginRec {
    fn key(&self) -> &str {
        &self.id
    }
}

impl Keyed for ApiRec {
    fn key(&self) -> &str {
        &self.id
    }
}

/// Records in creation order, indexed by id. Reads see a slice (`iter`, `len`);
/// changes go through methods that keep the index true (ids never change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<T>", into = "Vec<T>")]
#[serde(bound(
    serialize = "T: Clone + Serialize",
    deserialize = "T: Deserialize<'de>"
))]
pub struct ById<T: Keyed> {
    items: Vec<T>,
    at: HashMap<String, usize>,
}

impl<T: Keyed> Default for ById<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            at: HashMap::new(),
        }
    }
}

impl<T: Keyed> From<Vec<T>> for ById<T> {
    fn from(items: Vec<T>) -> Self {
        let at = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.key().to_string(), i))
            .collect();
        Self { items, at }
    }
}

impl<T: Keyed> From<ById<T>> for Vec<T> {
    fn from(c: ById<T>) -> Self {
        c.items
    }
}

impl<T: Keyed> Deref for ById<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T: Keyed> ById<T> {
    /// The record with this id.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.at.get(id).map(|&i| &self.items[i])
    }

    /// The record with this id, to change anything but its id.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.at.get(id).map(|&i| &mut self.items[i])
    }

    /// Appends a record (its id must be new).
    pub fn push(&mut self, item: T) {
        self.at.insert(item.key().to_string(), self.items.len());
        self.items.push(item);
    }

    /// Removes the record with this id, keeping the others in order.
    pub fn remove(&mut self, id: &str) {
        if self.at.contains_key(id) {
            self.items.retain(|item| item.key() != id);
            *self = std::mem::take(&mut self.items).into();
        }
    }
}

/// Bindings in creation order, indexed by plug-in, by API and by environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<BindingRec>", into = "Vec<BindingRec>")]
pub struct Bindings {
    /// Creation sequence → record.
    recs: BTreeMap<u64, BindingRec>,
    next: u64,
    by_plugin: HashMap<String, BTreeSet<u64>>,
    by_api: HashMap<String, BTreeSet<u64>>,
    by_env: HashMap<String, BTreeSet<u64>>,
}

/// Equal when they hold the same bindings in the same order (the sequence numbers do not count).
impl PartialEq for Bindings {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Bindings {}

impl From<Vec<BindingRec>> for Bindings {
    fn from(recs: Vec<BindingRec>) -> Self {
        let mut bindings = Bindings::default();
        for rec in recs {
            bindings.push(rec);
        }
        bindings
    }
}

impl From<Bindings> for Vec<BindingRec> {
    fn from(b: Bindings) -> Self {
        b.recs.into_values().collect()
    }
}

fn seqs<'a>(
    index: &'a HashMap<String, BTreeSet<u64>>,
    key: &str,
) -> impl Iterator<Item = u64> + 'a {
    index.get(key).into_iter().flatten().copied()
}

impl Bindings {
    /// Every binding, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &BindingRec> {
        self.recs.values()
    }

    /// How many bindings there are.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// True when there is no binding.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn at(&self, seqs: impl Iterator<Item = u64>) -> impl Iterator<Item = &BindingRec> {
        seqs.filter_map(|s| self.recs.get(&s))
    }

    /// The bindings of a plug-in, oldest first.
    pub fn of_plugin(&self, plugin_id: &str) -> impl Iterator<Item = &BindingRec> {
        self.at(seqs(&self.by_plugin, plugin_id))
    }

    /// The bindings to an API, oldest first.
    pub fn of_api(&self, api_id: &str) -> impl Iterator<Item = &BindingRec> {
        self.at(seqs(&self.by_api, api_id))
    }

    /// The bindings in an environment, oldest first.
    pub fn in_env(&self, env_id: &str) -> impl Iterator<Item = &BindingRec> {
        self.at(seqs(&self.by_env, env_id))
    }

    /// The binding of this plug-in to this API in this environment, if any.
    pub fn find(&self, plugin_id: &str, api_id: &str, env_id: &str) -> Option<&BindingRec> {
        self.of_api(api_id)
            .find(|b| b.plugin_id == plugin_id && b.env_id == env_id)
    }

    /// Adds a binding.
    pub fn push(&mut self, rec: BindingRec) {
        let seq = self.next;
        self.next += 1;
        for (index, key) in [
            (&mut self.by_plugin, &rec.plugin_id),
            (&mut self.by_api, &rec.api_id),
            (&mut self.by_env, &rec.env_id),
        ] {
            index.entry(key.clone()).or_default().insert(seq);
        }
        self.recs.insert(seq, rec);
    }

    /// Removes the bindings to `api_id` that `remove` selects.
    pub fn remove_of_api(&mut self, api_id: &str, remove: impl Fn(&BindingRec) -> bool) {
        let gone: Vec<u64> = seqs(&self.by_api, api_id)
            .filter(|s| self.recs.get(s).is_some_and(&remove))
            .collect();
        self.remove_seqs(&gone);
    }

    /// Removes the bindings of `plugin_id` that `remove` selects.
    pub fn remove_of_plugin(&mut self, plugin_id: &str, remove: impl Fn(&BindingRec) -> bool) {
        let gone: Vec<u64> = seqs(&self.by_plugin, plugin_id)
            .filter(|s| self.recs.get(s).is_some_and(&remove))
            .collect();
        self.remove_seqs(&gone);
    }

    fn remove_seqs(&mut self, gone: &[u64]) {
        for seq in gone {
            let Some(rec) = self.recs.remove(seq) else {
                continue;
            };
            for (index, key) in [
                (&mut self.by_plugin, &rec.plugin_id),
                (&mut self.by_api, &rec.api_id),
                (&mut self.by_env, &rec.env_id),
            ] {
                if let Some(set) = index.get_mut(key) {
                    set.remove(seq);
                    if set.is_empty() {
                        index.remove(key);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, plugin: &str, api: &str, env: &str) -> BindingRec {
        BindingRec {
            id: id.into(),
            plugin_id: plugin.into(),
            api_id: api.into(),
            env_id: env.into(),
            attached_time: String::new(),
        }
    }

    #[test]
    fn bindings_are_found_by_each_index_and_keep_creation_order() {
        let mut b = Bindings::from(vec![
            rec("1", "p1", "a1", "e1"),
            rec("2", "p2", "a1", "e1"),
            rec("3", "p1", "a2", "e2"),
        ]);
        let ids = |it: Vec<&BindingRec>| it.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(b.of_plugin("p1").collect()), ["1", "3"]);
        assert_eq!(ids(b.of_api("a1").collect()), ["1", "2"]);
        assert_eq!(ids(b.in_env("e2").collect()), ["3"]);
        assert!(b.find("p2", "a1", "e1").is_some());
        b.remove_of_api("a1", |r| r.plugin_id == "p1");
        assert_eq!(ids(b.of_plugin("p1").collect()), ["3"]);
        assert_eq!(ids(b.iter().collect()), ["2", "3"]);
        let round: Vec<BindingRec> = b.clone().into();
        assert_eq!(Bindings::from(round), b);
    }

    #[test]
    fn by_id_follows_removals() {
        let api = |id: &str| ApiRec {
            id: id.into(),
            name: id.into(),
            group_id: String::new(),
            method: "GET".into(),
            path: "/".into(),
            backend_type: "MOCK".into(),
            register_time: String::new(),
            versions: Vec::new(),
        };
        let mut c = ById::from(vec![api("a"), api("b"), api("c")]);
        c.remove("b");
        assert_eq!(c.get("c").map(|a| a.name.as_str()), Some("c"));
        assert!(c.get("b").is_none());
        assert_eq!(c.len(), 2);
    }
}
