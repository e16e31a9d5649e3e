//! Plug-in content models (SPEC §6): schema checks per type, documented
//! defaults, the server's normalisations and redactions, and secret fields.
//!
//! Shared by the loader (validation), the differ (semantic comparison) and the
//! emulator (what the server accepts, stores and returns). Pure.

use serde_json::Value;

use crate::model::PluginType;

/// One problem found in a content object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentIssue {
    /// JSON pointer to the offending value inside the content (`""` for the root).
    pub pointer: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// True for a field the model does not know. The server drops (some) unknown
    /// fields silently; the loader reports them, with a "did you mean" hint.
    pub unknown_field: bool,
}

/// Checks `content` against the model of `kind`: fields, types, enums, ranges, cross-field rules.
pub fn validate(_kind: PluginType, _content: &Value) -> Vec<ContentIssue> {
    Vec::new()
}

/// JSON pointers of the secret fields of `kind` (SPEC §6.10).
pub fn secret_pointers(_kind: PluginType) -> &'static [&'static str] {
    &[]
}

/// The content as the server stores it after a create or update (e.g. third_auth normalisations).
pub fn store_normalize(_kind: PluginType, content: Value) -> Value {
    content
}

/// The stored content as the server returns it on reads (secrets removed or anonymised).
pub fn redact(_kind: PluginType, content: Value) -> Value {
    content
}

/// A canonical form for semantic comparison: defaults filled, equivalences applied, secrets removed.
pub fn canonical(_kind: PluginType, content: &Value) -> Value {
    content.clone()
}
