//! Whether a live plug-in can become a desired one by an update: the plug-in name can
//! change, its type and scope cannot (SPEC §3.5, §4.2); a change of either is a
//! replacement. Asked by the builder (update or replace?) and by the replacements.

use crate::model::{DesiredPlugin, LivePlugin};

/// Whether live `l` has the type and scope desired `p` asks for.
pub(super) fn same_kind(p: &DesiredPlugin, l: &LivePlugin) -> bool {
    l.plugin_type == p.plugin_type.as_str() && l.scope == p.scope.as_str()
}

/// Why `l` cannot become `p` by an update, if it cannot.
pub(super) fn kind_change(p: &DesiredPlugin, l: &LivePlugin) -> Option<String> {
    if l.plugin_type != p.plugin_type.as_str() {
        Some(format!(
            "type changed: {} → {}",
            l.plugin_type, p.plugin_type
        ))
    } else if l.scope != p.scope.as_str() {
        Some(format!("scope changed: {} → {}", l.scope, p.scope))
    } else {
        None
    }
}
