//! Drift versus intent: each operation's [`Cause`], from the record of the last apply that
//! the marker keeps ([`super::super::marker::Applied`]).
//!
//! For a plug-in's update, the record's content fingerprint is compared with the files' and
//! with the gateway's; for its binding changes, the record's bindings fingerprint likewise.
//! The files differ from the record: they changed since the last apply; the gateway differs:
//! someone changed it since (drift); both. A plug-in without a record (new, older marker,
//! adopted) counts as changed by the files. Creates, deletes and replaces always are.
//!
//! The record must follow the files, so a plan whose files change a plug-in's bindings
//! without changing the plug-in itself updates the plug-in too, to rewrite the record
//! ([`Builder::refresh_records`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::fast_hash::HashSet;

use crate::model::{DesiredPlugin, LivePlugin};

use super::super::fingerprint::{applied_bindings, applied_content};
use super::super::marker::{self, Applied};
use super::super::model::{Cause, OpKind, Operation};
use super::builder::Builder;
use super::{Ownership, live_bindings, spec};

/// Bindings: environment id → API ids.
type Bindings = BTreeMap<String, BTreeSet<String>>;

/// The record of applying `p` with bindings `want`.
pub(super) fn desired_record(p: &DesiredPlugin, want: Option<&Bindings>) -> Applied {
    Applied {
        content: applied_content(
            p.plugin_type,
            &p.content,
            p.remark.as_deref(),
            p.roma_app_id.as_deref(),
        ),
        bindings: bindings_record(want.into_iter().flatten()),
        stored: None,
    }
}

/// The gateway's state of `l` as a record, and the record its marker holds (if any). `None`
/// when `l`'s type is unknown (it is then replaced, never compared).
fn live_records(l: &LivePlugin) -> Option<(Applied, Option<Applied>)> {
    let kind = l.plugin_type.parse().ok()?;
    let (user_remark, marker) = marker::split_marker(l.remark.as_deref().unwrap_or(""));
    let now = Applied {
        content: applied_content(
            kind,
            &l.content,
            Some(&user_remark),
            l.roma_app_id.as_deref(),
        ),
        bindings: bindings_record(&live_bindings(l)),
        stored: None,
    };
    Some((now, marker.and_then(|m| m.applied)))
}

fn bindings_record<'a>(
    by_env: impl IntoIterator<Item = (&'a String, &'a BTreeSet<String>)>,
) -> String {
    applied_bindings(
        by_env
            .into_iter()
            .flat_map(|(env, apis)| apis.iter().map(move |api| (env.as_str(), api.as_str()))),
    )
}

/// For each desired plug-in that exists live with a record: the record the files would
/// write, the gateway's state as a record, and the record its marker holds.
pub(super) struct Records<'a>(BTreeMap<&'a str, [Applied; 3]>);

impl<'a> Records<'a> {
    /// The records of `desired` against `live`.
    pub(super) fn new(
        desired: &[&'a DesiredPlugin],
        live: &BTreeMap<&str, &LivePlugin>,
        ownership: &Ownership<'_>,
    ) -> Self {
        let mut out = BTreeMap::new();
        for p in desired {
            let Some(l) = live.get(p.name.as_str()) else {
                continue;
            };
            let Some((now, Some(recorded))) = live_records(l) else {
                continue;
            };
            let files = ownership.applied(p);
            out.insert(p.name.as_str(), [files, now, recorded]);
        }
        Self(out)
    }

    /// The cause of `op`.
    fn cause(&self, op: &Operation) -> Cause {
        let Some([files, now, recorded]) = self.0.get(op.kind.plugin_name()) else {
            return Cause::Files;
        };
        match &op.kind {
            _ if op.replace => Cause::Files,
            // The gateway is compared with what it stored (`s:`), the files with what was written.
            OpKind::UpdatePlugin { .. } => Cause::of(
                files.content != recorded.content,
                now.content != recorded.gateway_content(),
            ),
            OpKind::Attach(_) | OpKind::Detach(_) => Cause::of(
                files.bindings != recorded.bindings,
                now.bindings != recorded.bindings,
            ),
            OpKind::CreatePlugin { .. }
            | OpKind::DeletePlugin { .. }
            | OpKind::RenamePlugin { .. } => Cause::Files,
        }
    }

    /// Sets the cause of every operation in `ops`.
    pub(super) fn assign(&self, ops: &mut [Operation]) {
        for op in ops {
            op.cause = self.cause(op);
        }
    }
}

impl Builder<'_> {
    /// Updates each managed plug-in whose files changed its bindings since the recorded
    /// apply but that no operation updates or replaces, so its marker records the new ones.
    pub(super) fn refresh_records(
        &mut self,
        desired: &[&DesiredPlugin],
        live: &BTreeMap<&str, &LivePlugin>,
        records: &Records<'_>,
        ownership: &Ownership<'_>,
    ) {
        // Plug-ins whose body this plan writes anyway (or deletes), by their final name: a
        // replacement creates under a temporary name and renames.
        let touched: HashSet<String> = self
            .ops
            .iter()
            .filter_map(|op| match &op.kind {
                OpKind::UpdatePlugin { spec, .. }
                | OpKind::CreatePlugin { spec, .. }
                | OpKind::RenamePlugin { spec, .. } => Some(spec.name.clone()),
                OpKind::DeletePlugin { name, .. } => Some(name.clone()),
                OpKind::Attach(_) | OpKind::Detach(_) => None,
            })
            .collect();
        for p in desired {
            let (Some(l), Some([files, _, recorded])) =
                (live.get(p.name.as_str()), records.0.get(p.name.as_str()))
            else {
                continue;
            };
            if touched.contains(&p.name)
                || files.bindings == recorded.bindings
                || !ownership.manages(l)
            {
                continue;
            }
            let kind = OpKind::UpdatePlugin {
                plugin_id: l.id.clone(),
                spec: spec(p, ownership),
                changes: Vec::new(),
            };
            let reason = Some("record the new bindings in the ownership marker".to_owned());
            self.push(format!("update/{}", p.name), kind, false, reason);
        }
    }
}
