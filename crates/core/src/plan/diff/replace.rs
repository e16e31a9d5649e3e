//! Replacements: a change of type or scope of one name, made so that the old plug-in keeps
//! every binding until the new one holds them. The plug-in name can be changed by an update
//! while type and scope cannot (SPEC §3.5, §4.2), so the new plug-in is created under a
//! temporary name, attached everywhere it is wanted, the old one is detached and deleted,
//! and the new one is renamed. A re-run finds a leftover temporary plug-in of an interrupted
//! replacement (managed, named [`temp_name`] of a desired name) and finishes or removes it.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::model::{DesiredPlugin, LivePlugin};

use super::super::model::{Notice, NoticeKind, OpKind, Replacement};
use super::builder::Builder;
use super::kinds::{kind_change, same_kind};
use super::{live_bindings, spec};

/// What [`temp_name`] appends to a plug-in name.
pub const TEMP_SUFFIX: &str = "__apigsync_tmp";
/// Longest plug-in name, in characters (SPEC §4.1).
const MAX_NAME_CHARS: usize = 255;

/// The temporary name of the new plug-in of a replacement of `name`: `name` followed by
/// [`TEMP_SUFFIX`], or, when that exceeds 255 characters, a prefix of `name`, `_`, 8 hex
/// digits of a hash of `name` and the suffix. Only letters, digits and `_` are added, so it
/// is a valid name (SPEC §4.1) whenever `name` is, and it is the same on every run.
pub fn temp_name(name: &str) -> String {
    let full = format!("{name}{TEMP_SUFFIX}");
    if full.chars().count() <= MAX_NAME_CHARS {
        return full;
    }
    let hash = hex::encode(&Sha256::digest(name.as_bytes())[..4]);
    let keep = MAX_NAME_CHARS - TEMP_SUFFIX.len() - hash.len() - 1;
    let head: String = name.chars().take(keep).collect();
    format!("{head}_{hash}{TEMP_SUFFIX}")
}

fn leftover(name: &str) -> String {
    format!("leftover temporary plug-in of an interrupted replacement of {name}")
}

impl Builder<'_> {
    /// Desired `p` replaces live `l` of the same name (`reason`: type or scope changed);
    /// `temp` is a leftover temporary plug-in of `p`, if any.
    pub(super) fn replace(
        &mut self,
        p: &DesiredPlugin,
        l: &LivePlugin,
        want: &BTreeMap<String, BTreeSet<String>>,
        reason: String,
        temp: Option<&LivePlugin>,
    ) {
        let start = self.ops.len();
        let plugin_type = p.plugin_type.as_str();
        let new = match temp {
            Some(t) if !same_kind(p, t) => {
                // A leftover of a replacement toward yet another type or scope: it holds
                // the temporary name, so the replacement of `l` waits for the next run.
                // This run removes whichever of the two no API depends on alone.
                self.retire_one_of(p, l, t, &reason);
                return;
            }
            Some(t) => {
                // Resume: the leftover becomes the new plug-in (its content is set by the rename).
                self.bindings(
                    &t.name,
                    plugin_type,
                    Some(&t.id),
                    want,
                    &live_bindings(t),
                    true,
                );
                t.name.clone()
            }
            None => {
                let temp = temp_name(&p.name);
                let id = format!("create/{temp}");
                let kind = OpKind::CreatePlugin {
                    spec: spec(p, self.ownership),
                    temp_name: Some(temp.clone()),
                };
                self.push(id, kind, true, Some(reason.clone()));
                self.bindings(&temp, plugin_type, None, want, &BTreeMap::new(), true);
                temp
            }
        };
        self.remove(l, true, Some(reason.clone()));
        let kind = OpKind::RenamePlugin {
            plugin_id: temp.map(|t| t.id.clone()),
            from: new.clone(),
            spec: spec(p, self.ownership),
        };
        self.push(format!("rename/{}", p.name), kind, true, None);
        self.replaced(p, reason, new, vec![l.name.clone()], start);
    }

    /// Desired `p` is not live, but `t`, the temporary plug-in of an interrupted replacement
    /// of `p`, is: it becomes `p` when it has `p`'s type and scope (an update renames it);
    /// otherwise `p` is created under its name and `t` is retired once `p` is attached.
    pub(super) fn finish(
        &mut self,
        p: &DesiredPlugin,
        t: &LivePlugin,
        want: &BTreeMap<String, BTreeSet<String>>,
    ) {
        let Some(reason) = kind_change(p, t) else {
            self.existing(p, t, want, false, None);
            return;
        };
        let start = self.ops.len();
        self.fresh(p, want, true, Some(reason.clone()));
        self.remove(t, true, Some(leftover(&p.name)));
        self.replaced(p, reason, p.name.clone(), vec![t.name.clone()], start);
    }

    /// `l` (the old plug-in of `p`'s name) and `t` (the leftover temporary plug-in of an
    /// interrupted replacement toward another type or scope than `p` asks for now) are both
    /// live. The new replacement needs both names, so it waits for the next run, and this
    /// run removes the one every API can do without, so no API is ever left without the
    /// plug-in it is bound to now:
    /// - `t` is bound nowhere `l` is not (an interruption before `l` was detached): `t` goes,
    ///   and the next run replaces `l` afresh;
    /// - otherwise, `l` is bound nowhere `t` is not (an interruption after `l` was detached):
    ///   `l` goes, and the next run starts from `t`, creating `p` under its own name and
    ///   retiring `t` once `p` is attached ([`Self::finish`]);
    /// - otherwise each is the only plug-in of some API: neither is removed, and a notice
    ///   says which APIs hold which.
    fn retire_one_of(&mut self, p: &DesiredPlugin, l: &LivePlugin, t: &LivePlugin, reason: &str) {
        let (old, temp) = (live_bindings(l), live_bindings(t));
        let within = |a: &BTreeMap<String, BTreeSet<String>>,
                      b: &BTreeMap<String, BTreeSet<String>>| {
            a.iter()
                .all(|(env, apis)| b.get(env).is_some_and(|have| apis.is_subset(have)))
        };
        let message = if within(&temp, &old) {
            self.remove(t, false, Some(leftover(&p.name)));
            format!(
                "the replacement of {:?} ({reason}) waits for the removal of the leftover temporary plug-in {:?}; it is planned by the next run",
                p.name, t.name
            )
        } else if within(&old, &temp) {
            self.remove(
                l,
                false,
                Some(format!(
                    "replaced by the leftover temporary plug-in {:?}, which its APIs are bound to now",
                    t.name
                )),
            );
            format!(
                "the APIs of {:?} are bound to the leftover temporary plug-in {:?} of an interrupted replacement: this run removes the old {:?}, the next one creates {:?} ({reason}) and retires {:?} once it is attached",
                p.name, t.name, l.name, p.name, t.name
            )
        } else {
            format!(
                "the replacement of {:?} ({reason}) cannot start: some APIs are bound only to {:?} and others only to the leftover temporary plug-in {:?} of an interrupted replacement; detach one of them from the APIs the other also holds, or restore the files of the interrupted replacement",
                p.name, l.name, t.name
            )
        };
        self.notices.push(Notice {
            kind: NoticeKind::Deferred,
            plugin: p.name.clone(),
            message,
            location: Some(p.location.clone()),
        });
    }

    /// A desired plug-in that is live as it should be, beside a leftover temporary one:
    /// the leftover is removed (its detaches wait for the attaches that take its APIs over).
    pub(super) fn clean_up(&mut self, p: &DesiredPlugin, t: &LivePlugin) {
        self.remove(t, false, Some(leftover(&p.name)));
    }

    fn replaced(
        &mut self,
        p: &DesiredPlugin,
        reason: String,
        new: String,
        old: Vec<String>,
        start: usize,
    ) {
        self.replacements.push(Replacement {
            plugin: p.name.clone(),
            reason,
            new,
            old,
            steps: self.ops[start..].iter().map(|op| op.id.clone()).collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_name_is_the_name_and_a_suffix() {
        assert_eq!(temp_name("edge"), "edge__apigsync_tmp");
    }

    #[test]
    fn a_long_name_gives_a_temporary_name_of_at_most_255_characters_and_distinct() {
        let a = "a".repeat(250);
        let b = format!("{}b", "a".repeat(249));
        let (ta, tb) = (temp_name(&a), temp_name(&b));
        assert_eq!(ta.chars().count(), 255);
        assert_ne!(ta, tb);
        assert!(ta.ends_with(TEMP_SUFFIX));
        assert_eq!(temp_name(&a), ta, "deterministic");
    }

    #[test]
    fn only_letters_digits_and_underscores_are_added() {
        let t = temp_name("x名字");
        assert!(t.starts_with("x名字"));
        assert!(
            t["x名字".len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
    }
}
