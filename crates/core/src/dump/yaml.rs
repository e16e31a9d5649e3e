//! A small block-style YAML emitter for manifest documents, from [`serde_json::Value`].
//!
//! Why not a serializer: the dump wants comments, block style, flow lists of API names and
//! literal blocks for PEM text, and above all a quoting rule it can state. The rule:
//! a string is written plain only when no YAML 1.1 or 1.2 reader can take it for anything
//! but that string; otherwise it is double-quoted (JSON escapes, which are valid YAML), or,
//! when it spans lines, written as a literal block (`|` / `|-`).
//!
//! Plain strings: non-empty; start with a letter (any script), `_` or `/`; made of letters,
//! digits, `_`, `-`, `.`, `/`, `,`, `+`, `(`, `)` and inner single spaces; not one of the
//! words YAML 1.1 reads as booleans or null (`yes`, `off`, `null`, `~`, …). So `"*"`,
//! `"1.0"`, `"yes"`, `"a: b"`, `"#x"`, `"-x"` and `""` are quoted. Key order is kept.

use serde_json::{Map, Value};

/// Longest flow list (`[a, b]`) before a block list is used instead.
const FLOW_WIDTH: usize = 90;

/// Words that YAML 1.1 (or 1.2) resolves to a boolean or null.
const RESERVED: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// Appends `map` as a block mapping at `indent` spaces.
pub(crate) fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        out.push_str(&pad);
        out.push_str(&scalar_key(key));
        out.push(':');
        value_after_key(out, value, indent);
    }
}

/// A value after `key:` (on the same line when it is a scalar or empty).
fn value_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            mapping(out, m, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => match flow(items, indent) {
            Some(line) => {
                out.push(' ');
                out.push_str(&line);
                out.push('\n');
            }
            None => {
                out.push('\n');
                sequence(out, items, indent + 2);
            }
        },
        other => {
            out.push(' ');
            scalar_value(out, other, indent + 2);
        }
    }
}

/// Appends `items` as a block sequence at `indent` spaces.
fn sequence(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => nested(out, &pad, indent, |o| {
                mapping(o, m, indent + 2);
            }),
            Value::Array(inner) if !inner.is_empty() => nested(out, &pad, indent, |o| {
                sequence(o, inner, indent + 2);
            }),
            other => {
                out.push_str(&pad);
                out.push_str("- ");
                scalar_value(out, other, indent + 2);
            }
        }
    }
}

/// `- ` followed by a nested collection whose first line shares the dash's line.
fn nested(out: &mut String, pad: &str, indent: usize, emit: impl FnOnce(&mut String)) {
    let mut inner = String::new();
    emit(&mut inner);
    // The nested block starts with `indent + 2` spaces: replace them by `pad` + "- ".
    out.push_str(pad);
    out.push_str("- ");
    out.push_str(&inner[indent + 2..]);
}

/// A list of scalars on one line, when it is short and every item is a plain-safe or
/// quoted scalar.
fn flow(items: &[Value], indent: usize) -> Option<String> {
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        parts.push(match item {
            Value::String(s) if s.contains('\n') => return None,
            Value::String(s) if plain_in_flow(s) => s.clone(),
            Value::String(s) => quoted(s),
            Value::Object(_) | Value::Array(_) => return None,
            other => other.to_string(),
        });
    }
    let line = format!("[{}]", parts.join(", "));
    (indent + line.len() <= FLOW_WIDTH).then_some(line)
}

/// A scalar after `key: ` or `- `, with its newline. Multi-line strings become literal
/// blocks indented by `block_indent`.
fn scalar_value(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::String(s) => match literal_block(s, block_indent) {
            Some(block) => out.push_str(&block),
            None => {
                out.push_str(&string(s));
                out.push('\n');
            }
        },
        Value::Object(_) => out.push_str("{}\n"),
        Value::Array(_) => out.push_str("[]\n"),
        other => {
            // null, booleans and numbers: JSON's spelling is YAML's.
            out.push_str(&other.to_string());
            out.push('\n');
        }
    }
}

/// A string as a YAML scalar on one line: plain when safe, else double-quoted.
pub(crate) fn string(s: &str) -> String {
    if plain(s) { s.to_owned() } else { quoted(s) }
}

fn scalar_key(s: &str) -> String {
    string(s)
}

/// Whether `s` reads back as the same string when written plain (block context).
pub(crate) fn plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if s.ends_with(' ') || s.contains("  ") {
        return false;
    }
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    s.chars()
        .all(|c| c.is_alphanumeric() || "_-./,+() ".contains(c))
}

/// Plain and also safe inside `[...]` (no `,` and no brackets).
fn plain_in_flow(s: &str) -> bool {
    plain(s) && !s.contains([',', '(', ')'])
}

/// `s` double-quoted with escapes YAML and JSON share; also escapes the characters YAML
/// treats as line breaks or byte-order marks.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal block (`|` or `|-` and the lines indented by `indent`) for a multi-line
/// string whose text a literal block keeps exactly; `None` otherwise.
fn literal_block(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n')
        || s.starts_with([' ', '\n'])
        || s.ends_with("\n\n")
        || s.chars().any(|c| {
            c != '\n' && (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
        })
    {
        return None;
    }
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(body) => (body, "|"),
        None => (s, "|-"),
    };
    let pad = " ".repeat(indent);
    let mut out = format!("{chomp}\n");
    for line in body.split('\n') {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn emit(v: Value) -> String {
        let Value::Object(m) = v else { panic!() };
        let mut out = String::new();
        mapping(&mut out, &m, 0);
        out
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "*", "yes", "No", "off", "ON", "y", "null", "~", "true", "1.0", "123", "0x1f", "1e3",
            ".inf", "-x", "- x", "a: b", "a #b", "#x", "", " lead", "trail ", "a  b", "@x", "`x",
            "!tag", "&anchor", "*alias", "{a}", "[a]", "'q'", "\"q\"", "%x", "|", ">", "?", "=",
            "<<", "a:b", "x\ty",
        ] {
            assert!(!plain(s), "{s:?} must be quoted");
            assert!(string(s).starts_with('"'), "{s:?}");
        }
        for s in [
            "GET,POST",
            "orders_list",
            "Content-Type",
            "/check",
            "apig-access-log",
            "Access log",
            "跨域插件",
            "openid email profile",
            "x.y",
        ] {
            assert_eq!(string(s), s, "{s:?} can stay plain");
        }
    }

    #[test]
    fn quoting_escapes_what_yaml_would_fold_or_break() {
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quoted("l\u{2028}s\u{1}"), r#""l\u2028s\u0001""#);
    }

    #[test]
    fn nested_content_is_block_style_with_flow_lists_of_scalars() {
        let out = emit(json!({
            "broker_list": ["10.0.0.1:9092", "kafka-2:9092"],
            "sasl_config": {"security_protocol": "SASL_SSL", "sasl_username": "apig"},
            "headers": [{"name": "X-A", "value": "1", "action": "override"}, {"name": "X-B"}],
            "rules": [["a", "b"], []],
            "empty": {},
            "none": [],
            "num": 1.5, "b": true, "z": null, "n": 0
        }));
        assert_eq!(
            out,
            "\
broker_list: [\"10.0.0.1:9092\", \"kafka-2:9092\"]
sasl_config:
  security_protocol: SASL_SSL
  sasl_username: apig
headers:
  - name: X-A
    value: \"1\"
    action: override
  - name: X-B
rules:
  - - a
    - b
  - []
empty: {}
none: []
num: 1.5
b: true
z: null
\"n\": 0
"
        );
    }

    #[test]
    fn multi_line_text_is_a_literal_block_or_quoted() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n\nxyz\n-----END CERTIFICATE-----\n";
        let out = emit(json!({"ca": pem, "no_newline": "a\nb", "odd": " a\nb", "crlf": "a\r\nb"}));
        assert_eq!(
            out,
            "ca: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n\n  xyz\n  -----END CERTIFICATE-----\n\
             no_newline: |-\n  a\n  b\nodd: \" a\\nb\"\ncrlf: \"a\\r\\nb\"\n"
        );
    }
}
