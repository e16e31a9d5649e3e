//! The shipped examples load, and the JSON Schema accepts them and is published up to date.

use std::collections::BTreeMap;
use std::path::Path;

use apigsync::manifest::{json_schema, load_dir};
use apigsync::model::{Flavour, PluginType};
use serde_json::Value;

/// The environment the examples need: the Kafka log plug-in's secret.
fn example_env() -> BTreeMap<String, String> {
    BTreeMap::from([("KAFKA_SASL_PASSWORD".to_owned(), "from-env".to_owned())])
}

#[test]
fn examples_manifests_load_with_their_secret_from_the_environment() {
    let desired = load_dir(Path::new("examples/manifests"), &example_env())
        .unwrap_or_else(|e| panic!("examples/manifests is invalid:\n{e}"));
    let project = desired.project.expect("the project file is read");
    assert_eq!(project.target.flavour, Some(Flavour::Apig));
    let mut types: Vec<PluginType> = desired.plugins.iter().map(|p| p.plugin_type).collect();
    types.sort();
    types.dedup();
    assert!(types.len() >= 6, "{types:?}");
    let envs: std::collections::BTreeSet<&str> =
        desired.bindings.iter().map(|b| b.env.as_str()).collect();
    assert_eq!(envs, ["RELEASE", "TEST"].into_iter().collect());
    let kafka = desired
        .plugins
        .iter()
        .find(|p| p.plugin_type == PluginType::KafkaLog)
        .unwrap();
    let secret = &kafka.secrets["/sasl_config/sasl_password"];
    assert_eq!(secret.template, "${KAFKA_SASL_PASSWORD}");
    assert!(!secret.literal);
    assert_eq!(kafka.content["sasl_config"]["sasl_password"], "from-env");
}

#[test]
fn the_examples_name_the_missing_secret_variable() {
    let err = load_dir(Path::new("examples/manifests"), &BTreeMap::new()).unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"variable "KAFKA_SASL_PASSWORD" of a secret field is not set"#),
        "{err}"
    );
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_example_document_validates_against_the_json_schema() {
    let schema = json_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let mut files = Vec::new();
    yaml_files(Path::new("examples/manifests"), &mut files);
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} documents");
}

#[test]
fn the_schema_rejects_an_unknown_type_and_an_unknown_content_field() {
    let schema = json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad_type =
        serde_json::json!({"kind": "Plugin", "name": "abc", "type": "jwt_auth", "content": {}});
    assert!(!validator.is_valid(&bad_type));
    let bad_field = serde_json::json!({"kind": "Plugin", "name": "abc", "type": "cors", "content": {"allow_origin": "*", "alow_methods": "GET"}});
    assert!(!validator.is_valid(&bad_field));
    let good = serde_json::json!({"kind": "Plugin", "name": "abc", "type": "cors", "content": {"allow_origin": "*"}});
    assert!(validator.is_valid(&good));
}

/// `schema/apigsync.schema.json` is what editors point at: it must match the code.
/// Compared in memory: a test never writes into the source tree.
#[test]
fn published_schema_file_is_up_to_date() {
    let fresh = format!(
        "{}\n",
        serde_json::to_string_pretty(&json_schema()).unwrap()
    );
    let committed = std::fs::read_to_string("schema/apigsync.schema.json").unwrap_or_default();
    assert!(
        committed == fresh,
        "schema/apigsync.schema.json is stale; regenerate it with \
         `cargo run -- schema > schema/apigsync.schema.json`, review and commit it"
    );
}
