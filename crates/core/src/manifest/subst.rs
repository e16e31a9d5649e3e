//! `${VAR}` substitution in string values.
//!
//! - `${NAME}`: the value of `NAME` in the given environment map; unset is an error.
//! - `${NAME:-default}`: `default` when `NAME` is unset or empty (as in POSIX shells).
//! - `$${`: a literal `${` (the escape); any other `$` is kept as is.
//!
//! `NAME` is `[A-Za-z_][A-Za-z0-9_]*`; the default runs to the first `}` (no nesting).

use std::collections::BTreeMap;

/// Why a string could not be substituted. Never holds the string itself, which
/// may be (part of) a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstError {
    /// `${NAME}` with `NAME` unset and no default.
    Unset(String),
    /// `${` without a closing `}`.
    Unterminated,
    /// `${…}` whose name is not a variable name.
    BadName(String),
}

impl std::fmt::Display for SubstError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubstError::Unset(name) => write!(
                f,
                "variable {name:?} is not set (set it, or write ${{{name}:-default}})"
            ),
            SubstError::Unterminated => {
                f.write_str("\"${\" without a closing \"}\" (write \"$${\" for a literal \"${\")")
            }
            SubstError::BadName(name) => write!(
                f,
                "{name:?} is not a variable name (expected ${{NAME}} or ${{NAME:-default}}, NAME of letters, digits and '_')"
            ),
        }
    }
}

/// Whether `s` is exactly one reference, `${NAME}` or `${NAME:-default}`, and
/// nothing else: how a secret field must be written (`pass${X:-}` is a literal).
pub fn is_single_reference(s: &str) -> bool {
    let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        return false;
    };
    let name = inner.split_once(":-").map_or(inner, |(name, _)| name);
    !inner.contains('}') && is_name(name)
}

/// Whether `s` is exactly `${NAME}` (or `${NAME:-}`, an empty default): a value
/// taken from the environment alone, how a secret field must be written. A
/// non-empty default is text in the file, so `${NAME:-hunter2}` is a literal.
pub fn is_env_reference(s: &str) -> bool {
    is_single_reference(s) && s.split_once(":-").is_none_or(|(_, default)| default == "}")
}

/// The variable a single reference (`${NAME}`, `${NAME:-default}`) names; `None` for any other text.
pub fn reference_name(s: &str) -> Option<&str> {
    if !is_single_reference(s) {
        return None;
    }
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    Some(inner.split_once(":-").map_or(inner, |(name, _)| name))
}

/// `s` escaped so that substitution gives `s` back (`${` becomes `$${`): for text
/// read from a gateway and written into manifests.
pub fn escape(s: &str) -> String {
    s.replace("${", "$${")
}

/// `s` with every reference replaced from `env`.
pub fn substitute(s: &str, env: &BTreeMap<String, String>) -> Result<String, SubstError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail.find('}').ok_or(SubstError::Unterminated)?;
            out.push_str(&resolve(&tail[..end], env)?);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn resolve(inner: &str, env: &BTreeMap<String, String>) -> Result<String, SubstError> {
    let (name, default) = match inner.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (inner, None),
    };
    if !is_name(name) {
        return Err(SubstError::BadName(name.to_owned()));
    }
    match (env.get(name), default) {
        (Some(v), Some(d)) if v.is_empty() => Ok(d.to_owned()),
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => Ok(d.to_owned()),
        (None, None) => Err(SubstError::Unset(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [("A", "1"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn a_single_reference_names_its_variable() {
        assert_eq!(reference_name("${KAFKA_PASSWORD}"), Some("KAFKA_PASSWORD"));
        assert_eq!(reference_name("${A:-x}"), Some("A"));
        assert_eq!(reference_name("${A}-b"), None);
    }

    #[test]
    fn a_secret_must_be_exactly_one_reference() {
        assert!(is_single_reference("${KAFKA_PASSWORD}"));
        assert!(is_single_reference("${KAFKA_PASSWORD:-demo}"));
        assert!(!is_single_reference("hunter2${X:-}"));
        assert!(!is_single_reference("${A}${B}"));
        assert!(!is_single_reference("${A}-suffix"));
        assert!(!is_single_reference("hunter2"));
    }

    #[test]
    fn a_default_makes_a_reference_a_literal_for_secrets() {
        assert!(is_env_reference("${KAFKA_PASSWORD}"));
        assert!(is_env_reference("${KAFKA_PASSWORD:-}"));
        assert!(!is_env_reference("${KAFKA_PASSWORD:-demo}"));
        assert!(!is_env_reference("hunter2"));
    }

    #[test]
    fn escaped_text_substitutes_back_to_itself() {
        for text in ["${HOME}", "a ${B:-c} d", "no templates", "$x"] {
            assert_eq!(substitute(&escape(text), &env()).unwrap(), text);
        }
    }

    #[test]
    fn replaces_set_variables_and_defaults() {
        assert_eq!(substitute("x${A}y", &env()).unwrap(), "x1y");
        assert_eq!(substitute("${B:-two}", &env()).unwrap(), "two");
        assert_eq!(substitute("${EMPTY:-d}", &env()).unwrap(), "d");
        assert_eq!(substitute("${A:-d}", &env()).unwrap(), "1");
        assert_eq!(substitute("${B:-}", &env()).unwrap(), "");
    }

    #[test]
    fn keeps_plain_dollars_and_unescapes_double_dollar() {
        assert_eq!(
            substitute("$context.cacheStatus", &env()).unwrap(),
            "$context.cacheStatus"
        );
        assert_eq!(substitute("$${A}", &env()).unwrap(), "${A}");
    }

    #[test]
    fn reports_unset_unterminated_and_bad_names() {
        assert_eq!(
            substitute("${B}", &env()),
            Err(SubstError::Unset("B".into()))
        );
        assert_eq!(substitute("${A", &env()), Err(SubstError::Unterminated));
        assert_eq!(
            substitute("${1A}", &env()),
            Err(SubstError::BadName("1A".into()))
        );
    }
}
