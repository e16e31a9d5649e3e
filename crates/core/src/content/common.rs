//! Pieces shared by several types: PluginCommonParameter and rule expressions
//! (breaker, rate_limit, third_auth; SPEC §6.4).

use serde_json::Value;

use super::check::{Checker, Need};

const PARAMETER_FIELDS: &[&str] = &["name", "type", "value"];
/// Keys the console writes into parameters; the server tolerates them (SPEC §6.4).
const UI_KEYS: &[&str] = &["id", "disabled", "focused"];
const PARAMETER_TYPES: &[&str] = &["header", "query", "path", "method", "system"];

/// Checks an array of PluginCommonParameter at `key` of `obj`.
pub(crate) fn parameters(c: &mut Checker, obj: &super::check::Obj<'_>, key: &str, max: usize) {
    let known: Vec<&str> = PARAMETER_FIELDS.iter().chain(UI_KEYS).copied().collect();
    for (ptr, item) in c.array(obj, key, Need::Optional, max).unwrap_or_default() {
        let Some(p) = c.object(&ptr, item, &known, false) else {
            continue;
        };
        c.str_len(&p, "name", Need::Required, 1, 32);
        c.one_of(&p, "type", Need::Required, PARAMETER_TYPES, false);
        c.str(&p, "value", Need::Required);
    }
}

/// Checks a rule expression string at `key` of `obj`: a JSON array, as text.
pub(crate) fn expression(c: &mut Checker, obj: &super::check::Obj<'_>, key: &str, need: Need) {
    let Some(text) = c.str(obj, key, need) else {
        return;
    };
    if text.is_empty() {
        if need == Need::Required {
            c.issue(&super::check::join(&obj.ptr, key), "must not be empty");
        }
        return;
    }
    if !matches!(serde_json::from_str::<Value>(text), Ok(Value::Array(_))) {
        c.issue(
            &super::check::join(&obj.ptr, key),
            format_args!(
                "must be a rule expression (a JSON array as text, e.g. [\"reqPath\",\"==\",\"/a\"]), got {text:?}"
            ),
        );
    }
}
