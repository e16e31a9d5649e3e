//! The JSON Schema for editors (`apigsync schema`, schema/apigsync.schema.json): typed down
//! to every field of every plug-in type by the validators themselves, so it agrees with
//! `validate`; and the modeline that points editors at it sits on every document.

use std::path::Path;

use apigsync::content::validate;
use apigsync::model::PluginType;
use serde_json::{Value, json};

use crate::support::cli::*;

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/apigsync.schema.json"),
        )
        .expect("schema file"),
    )
    .expect("schema JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn examples() -> Value {
    serde_json::from_str(include_str!("../fixtures/plugin-content-examples.json")).expect("JSON")
}

fn doc(kind: PluginType, content: &Value) -> Value {
    json!({"kind": "Plugin", "name": "schema_probe", "type": kind.as_str(), "content": content})
}

/// A value of another JSON type than `v`.
fn wrong(v: &Value) -> Value {
    match v {
        Value::String(_) => json!([1]),
        Value::Number(_) => json!("ten"),
        Value::Bool(_) => json!("yes"),
        Value::Array(_) | Value::Object(_) | Value::Null => json!("x"),
    }
}

#[test]
fn the_schema_accepts_every_documented_content_example() {
    let schema = validator();
    let ex = examples();
    for kind in PluginType::ALL {
        let d = doc(kind, &ex[kind.as_str()]);
        let errors: Vec<String> = schema.iter_errors(&d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{kind}: {errors:#?}");
    }
}

#[test]
fn the_schema_rejects_a_bad_content_in_every_plugin_type_as_validate_does() {
    let schema = validator();
    let ex = examples();
    for kind in PluginType::ALL {
        let good = &ex[kind.as_str()];
        let fields = good.as_object().expect("an object");
        assert!(!fields.is_empty(), "{kind}");
        for (field, value) in fields {
            let mut bad = good.clone();
            bad[field.as_str()] = wrong(value);
            assert!(
                !schema.is_valid(&doc(kind, &bad)),
                "{kind}: schema accepts {field}: {}",
                bad[field.as_str()]
            );
            assert!(
                !validate(kind, &bad).is_empty(),
                "{kind}: validate accepts {field}"
            );
        }
        let mut unknown = good.clone();
        unknown["no_such_field"] = json!(1);
        assert!(
            !schema.is_valid(&doc(kind, &unknown)),
            "{kind}: unknown field accepted"
        );
    }
}

#[test]
fn editors_flag_a_word_for_a_number_and_a_misspelt_enum() {
    let schema = validator();
    let cors = json!({"allow_origin": "*", "max_age": "ten"});
    assert!(!schema.is_valid(&doc(PluginType::Cors, &cors)));
    let headers = json!({"response_headers": [{"name": "x-a", "value": "1", "action": "overide"}]});
    assert!(!schema.is_valid(&doc(PluginType::SetRespHeaders, &headers)));
    let fixed = json!({"response_headers": [{"name": "x-a", "value": "1", "action": "override"}]});
    assert!(schema.is_valid(&doc(PluginType::SetRespHeaders, &fixed)));
    // A number may be one ${VAR} reference: it is substituted before it is checked.
    let var = json!({"allow_origin": "*", "max_age": "${CORS_MAX_AGE:-600}"});
    assert!(schema.is_valid(&doc(PluginType::Cors, &var)));
}

/// The YAML language server reads the modeline per document: every document of the
/// examples and of a dump carries one.
#[tokio::test(flavor = "multi_thread")]
async fn every_document_of_the_examples_and_of_a_dump_has_a_modeline_and_validates() {
    let w = World::demo_examples().await;
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    let out = w.scratch("dump");
    let mut args = vec![
        "dump".to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(w.target_flags());
    w.run_raw(args).await.expect_code(0);
    let schema = validator();
    let mut checked = 0;
    for root in [examples_dir(), out] {
        for file in yaml_files(&root) {
            let text = std::fs::read_to_string(&file).expect("read");
            for (i, document) in text.split("\n---\n").enumerate() {
                assert!(
                    document
                        .lines()
                        .any(|l| l.starts_with("# yaml-language-server: $schema=")),
                    "{} document {i} has no modeline",
                    file.display()
                );
                let value: Value = serde_saphyr::from_str(document).expect("YAML");
                let errors: Vec<String> =
                    schema.iter_errors(&value).map(|e| e.to_string()).collect();
                assert!(
                    errors.is_empty(),
                    "{} document {i}: {errors:#?}",
                    file.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} documents");
}

fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
    out
}
