//! The oracle of the no-phantom-diff tests: what the APIG server returns for a content,
//! as RECORDED — the documentation's request/response pairs
//! (`tests/fixtures/plugin-content-variants.json`) and the expectations written by hand
//! from SPEC §6 (`tests/fixtures/recorded/round-trips.json`). Nothing here calls
//! `apigsync::content`: an expectation never comes from the code under test.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use apigsync::model::PluginType;
use serde_json::{Map, Value};

/// One recorded round trip: a content sent in a create or update, and the forms a later
/// read returned (several when documents disagree, e.g. `vpc_channel_enabled` false or 2).
#[derive(Debug, Clone)]
pub struct RoundTrip {
    pub kind: PluginType,
    /// Where the pair comes from.
    pub source: String,
    pub request: Value,
    pub responses: Vec<Value>,
}

static RECORDED: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../fixtures/recorded/round-trips.json"))
        .expect("round-trips.json parses")
});

static ROUND_TRIPS: LazyLock<Vec<RoundTrip>> = LazyLock::new(load_round_trips);

fn variants_file() -> Value {
    serde_json::from_str(include_str!("../../fixtures/plugin-content-variants.json"))
        .expect("plugin-content-variants.json parses")
}

fn kind_of(name: &str) -> PluginType {
    PluginType::ALL
        .into_iter()
        .find(|k| k.as_str() == name)
        .unwrap_or_else(|| panic!("unknown plug-in type {name:?} in a fixture"))
}

/// Every recorded round trip: the documents' seed pairs (one per distinct request, all the
/// responses recorded for it), then the hand-written cases.
pub fn round_trips() -> &'static [RoundTrip] {
    &ROUND_TRIPS
}

fn load_round_trips() -> Vec<RoundTrip> {
    let recorded = &*RECORDED;
    let excluded = recorded["excluded_seed_pairs"]
        .as_object()
        .expect("excluded_seed_pairs");
    let variants = variants_file();
    let mut out: Vec<RoundTrip> = Vec::new();
    for kind in PluginType::ALL {
        let seeds = variants[kind.as_str()]["seed_examples"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for response in seeds.iter().filter(|e| e["kind"] == "response") {
            let seed = response["seed"].as_str().expect("seed");
            if excluded.contains_key(&format!("{kind} {seed}")) {
                continue;
            }
            let request = seeds
                .iter()
                .find(|e| e["kind"] == "request" && e["seed"] == seed)
                .unwrap_or_else(|| panic!("{kind} seed {seed}: a response with no request"));
            let content = &request["content"];
            match out
                .iter_mut()
                .find(|t| t.kind == kind && &t.request == content)
            {
                Some(same) => {
                    same.source.push_str(&format!(", {seed}"));
                    same.responses.push(response["content"].clone());
                }
                None => out.push(RoundTrip {
                    kind,
                    source: format!("plugin-content-variants.json {kind} seeds {seed}"),
                    request: content.clone(),
                    responses: vec![response["content"].clone()],
                }),
            }
        }
    }
    for case in recorded["cases"].as_array().expect("cases") {
        out.push(RoundTrip {
            kind: kind_of(case["type"].as_str().expect("type")),
            source: case["source"].as_str().expect("source").to_owned(),
            request: case["request"].clone(),
            responses: case["responses"].as_array().expect("responses").clone(),
        });
    }
    out
}

/// The first recorded round trip of `kind` (the seed 000 pair where the documents have one).
pub fn first(kind: PluginType) -> &'static RoundTrip {
    round_trips()
        .iter()
        .find(|t| t.kind == kind)
        .unwrap_or_else(|| panic!("no recorded round trip of {kind}"))
}

/// How a read treats a secret field (SPEC §6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOnRead {
    /// The value sent is never returned.
    NotReturned,
    /// A mask is returned instead of the value.
    Anonymised,
    /// Echo behaviour undocumented.
    Unknown,
}

/// The secret fields of `kind` (JSON pointers) and how reads treat them.
pub fn secrets(kind: PluginType) -> BTreeMap<String, SecretOnRead> {
    RECORDED["secrets"][kind.as_str()]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(pointer, rule)| {
            let rule = match rule.as_str() {
                Some("not_returned") => SecretOnRead::NotReturned,
                Some("anonymised") => SecretOnRead::Anonymised,
                Some("unknown") => SecretOnRead::Unknown,
                other => panic!("unknown secret rule {other:?}"),
            };
            (pointer.clone(), rule)
        })
        .collect()
}

/// Removes the member a JSON pointer names (objects only).
fn remove_at(value: &mut Value, pointer: &str) {
    if let Some((parent, key)) = pointer.rsplit_once('/')
        && let Some(Value::Object(map)) = value.pointer_mut(parent)
    {
        map.shift_remove(key);
    }
}

/// `value` with null object members dropped (SPEC §6.6: null ≡ absent) and the secret
/// fields of `kind` left out (their read form is unknown, SPEC §10.5).
pub fn comparable(kind: PluginType, value: &Value) -> Value {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| (k.clone(), strip(x)))
                    .collect::<Map<_, _>>(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let mut out = strip(value);
    for pointer in secrets(kind).keys() {
        remove_at(&mut out, pointer);
    }
    out
}

/// Content fields that name an API of the gateway it is written for (SPEC §6.9): the
/// service keeps the id sent, and a test's gateway has other API ids than the recording's.
const API_REFERENCES: [&str; 2] = ["redirect_api_id", "logout_api_id"];

fn without_api_references(kind: PluginType, value: &Value) -> Value {
    let mut out = comparable(kind, value);
    if let Some(fields) = out.as_object_mut() {
        for field in API_REFERENCES {
            fields.remove(field);
        }
    }
    out
}

/// The recorded round trip of `request` (secret values and API references aside), if there
/// is one; its responses carry the API references of `request`, as the service keeps them.
pub fn find(kind: PluginType, request: &Value) -> Option<RoundTrip> {
    let wanted = without_api_references(kind, request);
    let mut trip = round_trips()
        .iter()
        .find(|t| t.kind == kind && without_api_references(kind, &t.request) == wanted)
        .cloned()?;
    for field in API_REFERENCES {
        if let Some(sent) = request.get(field) {
            for response in &mut trip.responses {
                if let Some(fields) = response.as_object_mut() {
                    fields.insert(field.to_owned(), sent.clone());
                }
            }
        }
    }
    Some(trip)
}

/// The forms a read may return after `request` was stored: the recorded responses, or
/// for a type recorded as returned as sent, the request itself with the secret rules
/// applied. Panics for a content of a re-serialising type (third_auth) with no record.
pub fn expected_reads(kind: PluginType, request: &Value) -> Vec<Value> {
    if let Some(trip) = find(kind, request) {
        return trip.responses;
    }
    assert!(
        RECORDED["returned_as_sent"].get(kind.as_str()).is_some(),
        "no recorded read of this {kind} content: add it to tests/fixtures/recorded/round-trips.json\n{request:#}"
    );
    let mut read = request.clone();
    for (pointer, rule) in secrets(kind) {
        match rule {
            SecretOnRead::NotReturned => remove_at(&mut read, &pointer),
            SecretOnRead::Anonymised => {
                // A mask; its form is unknown (SPEC §10.5) and never compared.
                if let Some(slot) = read.pointer_mut(&pointer) {
                    *slot = Value::from("******");
                }
            }
            SecretOnRead::Unknown => {}
        }
    }
    vec![read]
}

/// What the server returns on a read after `request` was stored: the first recorded form.
pub fn read_back(kind: PluginType, request: &Value) -> Value {
    expected_reads(kind, request).swap_remove(0)
}

/// Asserts that `got`, read back after `request` was stored, is one of the recorded forms,
/// and that no secret the server does not return is echoed.
#[track_caller]
pub fn assert_read_back(kind: PluginType, what: &str, request: &Value, got: &Value) {
    let forms = expected_reads(kind, request);
    let have = comparable(kind, got);
    assert!(
        forms.iter().any(|f| comparable(kind, f) == have),
        "{what}: the read is none of the recorded forms\n--- read\n{got:#}\n--- recorded\n{forms:#?}"
    );
    for (pointer, rule) in secrets(kind) {
        let sent = request.pointer(&pointer).and_then(Value::as_str);
        let echoed = got.pointer(&pointer).and_then(Value::as_str);
        if rule != SecretOnRead::Unknown && sent.is_some_and(|s| !s.is_empty()) {
            assert_ne!(echoed, sent, "{what}: {pointer} is echoed on read");
        }
    }
}
