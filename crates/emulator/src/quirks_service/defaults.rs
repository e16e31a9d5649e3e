//! `fill_defaults`: the documented defaults the server writes into stored content.

use serde_json::Value;

use super::ServiceQuirks;
use crate::content::fill_defaults;
use crate::store::{Instance, PluginRec};

/// `fill_defaults`: writes the documented defaults (facts file, SPEC §6 tables) into the
/// stored content of `rec`.
pub(super) fn stored(inst: &mut Instance, mut rec: PluginRec, q: &ServiceQuirks) -> PluginRec {
    if !q.fill_defaults {
        return rec;
    }
    let Ok(mut value) = serde_json::from_str::<Value>(&rec.content) else {
        return rec;
    };
    fill_defaults(&rec.plugin_type, &mut value);
    rec.content = value.to_string();
    if let Some(slot) = inst.plugins.get_mut(&rec.id) {
        slot.content = rec.content.clone();
    }
    rec
}
