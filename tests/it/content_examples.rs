//! The documented content examples against the content models: they validate,
//! and the server's store/read round trip never produces a phantom diff.

use apigsync::content::{self, canonical, redact, store_normalize, validate};
use apigsync::model::PluginType;
use proptest::prelude::*;
use serde_json::Value;

fn examples() -> Value {
    serde_json::from_str(include_str!("../fixtures/plugin-content-examples.json")).unwrap()
}

fn variants() -> Value {
    serde_json::from_str(include_str!("../fixtures/plugin-content-variants.json")).unwrap()
}

/// Every (type, label, kind, content) in the variants file.
fn all_variants() -> Vec<(PluginType, String, String, Value)> {
    let v = variants();
    let mut out = Vec::new();
    for kind in PluginType::ALL {
        let entry = &v[kind.as_str()];
        for section in ["seed_examples", "other_examples"] {
            for (i, e) in entry[section].as_array().into_iter().flatten().enumerate() {
                let label = format!(
                    "{kind} {section}[{i}] seed {} {}",
                    e["seed"].as_str().unwrap_or("-"),
                    e["source"].as_str().unwrap_or("")
                );
                let example_kind = e["kind"].as_str().unwrap_or("request").to_owned();
                out.push((kind, label, example_kind, e["content"].clone()));
            }
        }
    }
    out
}

#[test]
fn every_primary_example_validates_with_no_issue() {
    let ex = examples();
    for kind in PluginType::ALL {
        let issues = validate(kind, &ex[kind.as_str()]);
        assert!(issues.is_empty(), "{kind}: {issues:#?}");
    }
}

#[test]
fn every_documented_request_variant_validates_with_no_issue() {
    let mut checked = 0;
    for (kind, label, example_kind, content) in all_variants() {
        // Responses carry the server's forms (vpc_channel_enabled: 2, typos such as
        // auth_downgrade_enable): they are what reads return, not what users write.
        if example_kind == "response" {
            continue;
        }
        let issues = validate(kind, &content);
        assert!(issues.is_empty(), "{label}: {issues:#?}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} request variants found");
}

#[test]
fn no_phantom_diff_after_the_server_round_trip_for_every_example() {
    let ex = examples();
    let mut contents: Vec<(PluginType, Value)> = PluginType::ALL
        .into_iter()
        .map(|k| (k, ex[k.as_str()].clone()))
        .collect();
    contents.extend(all_variants().into_iter().map(|(k, _, _, c)| (k, c)));
    for (kind, c) in contents {
        let read_back = redact(kind, store_normalize(kind, c.clone()));
        assert_eq!(
            canonical(kind, &read_back),
            canonical(kind, &c),
            "{kind}: {c}"
        );
    }
}

#[test]
fn seed_request_and_response_of_one_document_are_equal_in_canonical_form() {
    let v = variants();
    for kind in PluginType::ALL {
        let seeds = v[kind.as_str()]["seed_examples"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for req in seeds.iter().filter(|e| e["kind"] == "request") {
            let Some(resp) = seeds
                .iter()
                .find(|e| e["kind"] == "response" && e["seed"] == req["seed"])
            else {
                continue;
            };
            let (mut want, got) = (
                canonical(kind, &req["content"]),
                canonical(kind, &resp["content"]),
            );
            if kind == PluginType::ThirdAuth && req["seed"] == "001" {
                // Seed 001's response drops rule_enabled/rule_type and spells
                // auth_downgrade_enable (no d): a doc typo (SPEC §6.6), not a normalisation.
                let obj = want.as_object_mut().unwrap();
                for k in ["rule_enabled", "rule_type", "auth_downgrade_enabled"] {
                    obj.remove(k);
                }
                let mut got = got;
                let g = got.as_object_mut().unwrap();
                g.remove("rule_enabled");
                g.remove("rule_type");
                g.remove("auth_downgrade_enable");
                assert_eq!(want, got, "{kind} seed 001");
                continue;
            }
            assert_eq!(want, got, "{kind} seed {}", req["seed"]);
        }
    }
}

#[test]
fn a_changed_value_changes_the_canonical_form() {
    let ex = examples();
    let cors = ex["cors"].clone();
    let mut changed = cors.clone();
    changed["max_age"] = Value::from(601);
    assert_ne!(
        canonical(PluginType::Cors, &cors),
        canonical(PluginType::Cors, &changed)
    );

    let mut kafka = ex["kafka_log"].clone();
    let before = canonical(PluginType::KafkaLog, &kafka);
    kafka["meta_config"]["system"]["api_id"] = Value::Bool(true);
    assert_ne!(before, canonical(PluginType::KafkaLog, &kafka));
}

#[test]
fn secret_pointers_name_the_documented_secret_fields() {
    assert_eq!(
        content::secret_pointers(PluginType::KafkaLog),
        ["/sasl_config/sasl_password", "/sasl_config/ssl_ca_content"]
    );
    assert_eq!(
        content::secret_pointers(PluginType::OidcAuth),
        ["/client_secret"]
    );
    assert!(content::secret_pointers(PluginType::Cors).is_empty());
}

proptest! {
    /// Dropping or nulling any optional top-level field keeps the no-phantom-diff property.
    #[test]
    fn round_trip_holds_for_any_subset_of_optional_fields(
        kind_index in 0..PluginType::ALL.len(),
        drops in proptest::collection::vec(any::<u8>(), 0..6),
        null_instead in any::<bool>(),
    ) {
        let kind = PluginType::ALL[kind_index];
        let mut c = examples()[kind.as_str()].clone();
        let optional: Vec<&str> = content::fields(kind)
            .iter()
            .copied()
            .filter(|f| !content::required_fields(kind).contains(f))
            .collect();
        if !optional.is_empty() {
            for d in drops {
                let f = optional[usize::from(d) % optional.len()];
                let obj = c.as_object_mut().unwrap();
                if null_instead { obj.insert(f.to_owned(), Value::Null); } else { obj.remove(f); }
            }
        }
        let read_back = redact(kind, store_normalize(kind, c.clone()));
        prop_assert_eq!(canonical(kind, &read_back), canonical(kind, &c));
    }
}

/// Every (pointer, leaf) of a JSON value.
fn leaves(v: &Value, ptr: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| leaves(x, format!("{ptr}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{ptr}/{i}"), out)),
        leaf => out.push((ptr, leaf.clone())),
    }
}

#[test]
fn changing_any_non_secret_leaf_of_an_example_changes_the_canonical_form() {
    let ex = examples();
    let mut checked = 0;
    for kind in PluginType::ALL {
        let original = &ex[kind.as_str()];
        let before = canonical(kind, original);
        let mut all = Vec::new();
        leaves(original, String::new(), &mut all);
        for (ptr, leaf) in all {
            let secret = content::secret_pointers(kind).contains(&ptr.as_str());
            // The server clears vpc_channel_info when the channel is off and drops the
            // unknown identities.query (SPEC §6.6): neither is stored, so neither can differ.
            let ignored_by_design = ptr.starts_with("/auth_request/vpc_channel_info/")
                || ptr.starts_with("/identities/query/");
            let changed_leaf = match &leaf {
                Value::Bool(b) => Value::Bool(!b),
                Value::Number(n) => Value::from(n.as_f64().unwrap() + 1.0),
                Value::String(s) => Value::from(format!("{s}x")),
                Value::Null => Value::from(1),
                _ => unreachable!(),
            };
            let mut changed = original.clone();
            *changed.pointer_mut(&ptr).unwrap() = changed_leaf;
            let after = canonical(kind, &changed);
            if secret || ignored_by_design {
                assert_eq!(before, after, "{kind} {ptr} must not show");
            } else {
                assert_ne!(before, after, "{kind} {ptr} change is lost");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}
