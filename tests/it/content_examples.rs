//! The documented content examples against the content models: they validate; what the
//! server's RECORDED responses return for a request (`support::recorded`) is no change in
//! canonical form, while requests it returns differently stay different; and the emulator
//! returns the recorded reads.

use apigsync::api::PluginBody;
use apigsync::content::{self, canonical, validate};
use apigsync::emulator::EmulatorConfig;
use apigsync::model::{PluginType, Scope};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::cli::World;
use crate::support::proptest_config;
use crate::support::recorded;

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
fn every_recorded_read_of_a_request_equals_it_in_canonical_form() {
    let mut checked = 0;
    for trip in recorded::round_trips() {
        let want = canonical(trip.kind, &trip.request);
        for (i, response) in trip.responses.iter().enumerate() {
            assert_eq!(
                canonical(trip.kind, response),
                want,
                "{}: response form {i} of {}",
                trip.kind,
                trip.source
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} recorded reads");
}

#[test]
fn requests_the_server_reads_back_differently_differ_in_canonical_form() {
    let trips = recorded::round_trips();
    let mut checked = 0;
    for (i, a) in trips.iter().enumerate() {
        for b in trips[i + 1..].iter().filter(|b| b.kind == a.kind) {
            let kind = a.kind;
            let same_read = a.responses.iter().any(|x| {
                b.responses
                    .iter()
                    .any(|y| recorded::comparable(kind, x) == recorded::comparable(kind, y))
            });
            if same_read {
                continue;
            }
            assert_ne!(
                canonical(kind, &a.request),
                canonical(kind, &b.request),
                "{kind}: the server keeps these apart, the plan would not\n{}\n{}",
                a.source,
                b.source
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} pairs");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_returns_every_recorded_read() {
    let world = World::empty(EmulatorConfig::demo()).await;
    let client = world.client();
    for (i, trip) in recorded::round_trips().iter().enumerate() {
        let body = PluginBody {
            plugin_name: format!("recorded_{i}_{}", trip.kind),
            plugin_type: trip.kind,
            plugin_scope: Scope::Global,
            plugin_content: trip.request.clone(),
            remark: None,
            roma_app_id: None,
        };
        let created = client
            .create_plugin(&body)
            .await
            .unwrap_or_else(|e| panic!("{}: create: {e}", trip.source));
        let shown = client.show_plugin(&created.id).await.expect("show");
        recorded::assert_read_back(trip.kind, &trip.source, &trip.request, &shown.content);
        let updated = client
            .update_plugin(&created.id, &body)
            .await
            .unwrap_or_else(|e| panic!("{}: update: {e}", trip.source));
        let listed = client
            .find_plugin_by_name(&updated.name)
            .await
            .expect("list")
            .expect("listed");
        recorded::assert_read_back(trip.kind, &trip.source, &trip.request, &listed.content);
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
    for kind in PluginType::ALL {
        let documented: Vec<String> = recorded::secrets(kind).into_keys().collect();
        let mut modelled: Vec<String> = content::secret_pointers(kind)
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        modelled.sort();
        assert_eq!(modelled, documented, "{kind} (SPEC §6.10)");
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Dropping or nulling any optional top-level field in a recorded request and in its
    /// recorded read keeps the two equal in canonical form.
    #[test]
    fn round_trip_holds_for_any_subset_of_optional_fields(
        kind_index in 0..PluginType::ALL.len(),
        drops in proptest::collection::vec(any::<u8>(), 0..6),
        null_instead in any::<bool>(),
    ) {
        let kind = PluginType::ALL[kind_index];
        let trip = recorded::first(kind);
        let (mut request, mut read) = (trip.request.clone(), trip.responses[0].clone());
        let optional: Vec<&str> = content::fields(kind)
            .iter()
            .copied()
            .filter(|f| !content::required_fields(kind).contains(f))
            .collect();
        if !optional.is_empty() {
            for d in drops {
                let f = optional[usize::from(d) % optional.len()];
                for c in [&mut request, &mut read] {
                    let obj = c.as_object_mut().unwrap();
                    if null_instead { obj.insert(f.to_owned(), Value::Null); } else { obj.remove(f); }
                }
            }
        }
        prop_assert_eq!(canonical(kind, &read), canonical(kind, &request));
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
