//! YAML documents as a located tree: every node and every mapping key keeps its
//! line and column, so later checks (document fields, content JSON pointers) can
//! point at the exact place in the file.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

/// A 1-based line and column in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Yaml,
    /// A number or boolean scalar as written (`0123`, `1e3`, a 32-digit id), so a
    /// field that wants text gets exactly what the file says.
    pub written: Option<String>,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Yaml {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// A YAML syntax error (or duplicate key) with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses every document of `text` (separated by `---`); empty documents are skipped.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    // YAML 1.2 core booleans only: `off`, `yes`, `y` stay strings (API names,
    // cache modes); numbers with leading zeros stay strings (ids).
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.budget = Some(budget());
    // Alias replay bounded far below the defaults (a million events): together
    // with the budget's anchor limits, a 700-byte merge-key bomb is refused in
    // milliseconds instead of seconds and hundreds of MB.
    options.alias_limits.max_total_replayed_events = MAX_EXPANDED_EVENTS;
    options.alias_limits.max_replay_stack_depth = 16;
    let docs: Vec<Spanned<Raw>> = serde_saphyr::from_str_multiple_with_options(text, options)
        .map_err(|e| {
            let pos = e
                .location()
                .map(|l| Pos {
                    line: to_usize(l.line()),
                    column: to_usize(l.column()),
                })
                .unwrap_or(Pos { line: 1, column: 1 });
            SyntaxError {
                pos,
                message: bare_message(&e),
            }
        })?;
    Ok(docs
        .into_iter()
        .map(|d| node(d, text))
        .filter(|n| n.value != Yaml::Null)
        .collect())
}

/// Most YAML events anchors may record and aliases (or merge keys) replay:
/// far more than manifests need to share an API list or a content block.
const MAX_EXPANDED_EVENTS: usize = 10_000;

/// The parse budget. The default stops at 1,024 documents per file; a generated
/// file of bindings for a large gateway has more (the file size limit bounds
/// them). Anchors, aliases and merge keys are bounded tightly: they are the only
/// way a small input becomes large work.
fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = 100_000;
    budget.max_nodes = 5_000_000;
    budget.max_events = 20_000_000;
    budget.max_anchors = 10_000;
    budget.max_aliases = 10_000;
    budget.max_merge_keys = 1_000;
    budget.max_recorded_anchor_events = MAX_EXPANDED_EVENTS;
    budget
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The error's message without serde-saphyr's snippet and trailing position.
fn bare_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    let text = text.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    let expansion = ["Anchor", "Alias", "MergeKeys", "alias replay"];
    if expansion.iter().any(|k| text.contains(k)) {
        format!(
            "anchors, aliases or merge keys (<<) expand to too much YAML ({text}); \
             write the values out or share less"
        )
    } else if text.contains("budget breached") {
        format!("the YAML is too large or nested too deeply ({text}); split the file")
    } else {
        text
    }
}

impl Node {
    /// The node as a plain JSON value (positions dropped).
    pub(crate) fn to_json(&self) -> Value {
        match &self.value {
            Yaml::Null => Value::Null,
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Number(n) => Value::Number(n.clone()),
            Yaml::Str(s) => Value::String(s.clone()),
            Yaml::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Yaml::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    /// The entry `key` of a mapping node.
    pub(crate) fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Yaml::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The position a JSON pointer into this node refers to: the key of a mapping
    /// member, the item of a sequence, or the deepest existing ancestor (`fallback`
    /// for the root itself).
    pub(crate) fn locate(&self, pointer: &str, fallback: Pos) -> Pos {
        let mut here = self;
        let mut pos = fallback;
        for raw in pointer.split('/').skip(1) {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            let next = match &here.value {
                Yaml::Map(entries) => entries
                    .iter()
                    .find(|e| e.key == seg)
                    .map(|e| (e.key_pos, &e.value)),
                Yaml::Seq(items) => seg
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n.pos, n)),
                _ => None,
            };
            match next {
                Some((p, n)) => {
                    pos = p;
                    here = n;
                }
                None => break,
            }
        }
        pos
    }

    /// A short name of the node's YAML type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.value {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Number(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }
}

/// The deserialisation target: children wrapped in `Spanned` so serde-saphyr
/// records their positions.
#[derive(Debug)]
enum Raw {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

fn pos_of(l: &serde_saphyr::Location) -> Pos {
    Pos {
        line: to_usize(l.line()),
        column: to_usize(l.column()),
    }
}

/// The located tree of a deserialised value; `text` is the file, for scalars as written.
fn node(s: Spanned<Raw>, text: &str) -> Node {
    let pos = pos_of(&s.referenced);
    let written = matches!(s.value, Raw::Number(_) | Raw::Bool(_))
        .then(|| written(&s.defined, text))
        .flatten();
    let value = match s.value {
        Raw::Null => Yaml::Null,
        Raw::Bool(b) => Yaml::Bool(b),
        Raw::Number(n) => Yaml::Number(n),
        Raw::Str(s) => Yaml::Str(s),
        Raw::Seq(items) => Yaml::Seq(items.into_iter().map(|i| node(i, text)).collect()),
        Raw::Map(entries) => Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key_pos: pos_of(&k.referenced),
                    key: k.value,
                    value: node(v, text),
                })
                .collect(),
        ),
    };
    Node {
        pos,
        value,
        written,
    }
}

/// The source text a location's span covers, when it is known.
fn written(at: &serde_saphyr::Location, text: &str) -> Option<String> {
    let span = at.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    let raw = text.get(start..start.checked_add(len)?)?.trim();
    (!raw.is_empty()).then(|| raw.to_owned())
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Raw, E> {
        Number::from_f64(v)
            .map(Raw::Number)
            .ok_or_else(|| E::custom(format!("{v} is not a finite number")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values_are_kept() {
        let docs =
            parse_documents("kind: Plugin\ncontent:\n  max_age: 600\n  list: [a, b]\n").unwrap();
        let doc = &docs[0];
        let content = doc.entry("content").unwrap();
        assert_eq!(content.key_pos, Pos { line: 2, column: 1 });
        let root = Pos::default();
        assert_eq!(
            content.value.locate("/max_age", root),
            Pos { line: 3, column: 3 }
        );
        assert_eq!(
            content.value.locate("/list/1", root),
            Pos {
                line: 4,
                column: 13
            }
        );
        assert_eq!(content.value.locate("/missing/x", root), root);
    }

    #[test]
    fn several_documents_and_empty_ones() {
        let docs = parse_documents("a: 1\n---\n---\n# just a comment\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].pos.line, 6);
    }

    #[test]
    fn duplicate_keys_are_a_located_error() {
        let e = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, column: 1 });
        assert_eq!(e.message, "duplicate mapping key: a");
    }

    #[test]
    fn only_yaml_1_2_booleans_are_booleans() {
        let docs = parse_documents("a: [y, yes, off, true, False, 0123]\n").unwrap();
        assert_eq!(
            docs[0].to_json(),
            serde_json::json!({"a": ["y", "yes", "off", true, false, "0123"]})
        );
    }

    #[test]
    fn numbers_and_booleans_keep_their_text_as_written() {
        let docs =
            parse_documents("a: 12345678901234567890123456789012\nb: 1e3\nc: true\n").unwrap();
        let written = |k: &str| docs[0].entry(k).unwrap().value.written.clone();
        assert_eq!(
            written("a").as_deref(),
            Some("12345678901234567890123456789012")
        );
        assert_eq!(written("b").as_deref(), Some("1e3"));
        assert_eq!(written("c").as_deref(), Some("true"));
    }

    #[test]
    fn to_json_keeps_scalar_types() {
        let docs = parse_documents("a: 1\nb: 1.5\nc: \"600\"\nd: true\ne: ~\n").unwrap();
        assert_eq!(
            docs[0].to_json(),
            serde_json::json!({"a": 1, "b": 1.5, "c": "600", "d": true, "e": null})
        );
    }

    /// A list of 100 scalars behind an anchor, then `aliases` aliases of it: each alias
    /// replays the list's 102 events (start, 100 scalars, end).
    fn aliases_of_a_list(aliases: usize) -> String {
        let items = vec!["x"; 100].join(", ");
        let refs = vec!["*l"; aliases].join(", ");
        format!("list: &l [{items}]\nrefs: [{refs}]\n")
    }

    #[test]
    fn alias_replay_is_bounded_at_10_000_events() {
        assert!(
            parse_documents(&aliases_of_a_list(98)).is_ok(),
            "9,996 replayed events are within the limit"
        );
        let e = parse_documents(&aliases_of_a_list(99)).unwrap_err();
        assert!(
            e.message
                .starts_with("anchors, aliases or merge keys (<<) expand to too much YAML"),
            "10,098 replayed events are refused: {}",
            e.message
        );
    }
}
