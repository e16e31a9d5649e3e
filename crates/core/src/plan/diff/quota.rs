//! The gateway's plug-in quota (`PLUGIN_NUM_LIMIT`, default 500; SPEC §11.3), counted at
//! the apply's peak: every plug-in the gateway holds (of every owner, of every type) plus
//! every plug-in the plan creates, temporary replacements included. Deletes are not
//! subtracted: they run after the creates (`plan::order` rules 3 and 5), and one without a
//! dependency may run after every create, so none is sure to come before the peak.

use crate::model::Live;

use super::super::error::PlanError;
use super::super::model::{OpKind, Operation};

/// The error of a plan whose creates would take the gateway over its plug-in quota; `None`
/// when the gateway does not report one, or the plan creates nothing.
pub(super) fn plugin_quota(live: &Live, ops: &[Operation]) -> Option<PlanError> {
    let quota = live.plugin_quota?;
    let count = |f: fn(&OpKind) -> bool| ops.iter().filter(|op| f(&op.kind)).count();
    let creates = count(|k| matches!(k, OpKind::CreatePlugin { .. }));
    // The gateway's own count, when higher, holds plug-ins the list did not show.
    let held = live.plugins.len().max(quota.used.unwrap_or(0));
    let peak = held + creates;
    (creates > 0 && peak > quota.limit).then(|| PlanError::PluginQuota {
        limit: quota.limit,
        peak,
        held,
        creates,
        deletes: count(|k| matches!(k, OpKind::DeletePlugin { .. })),
    })
}
