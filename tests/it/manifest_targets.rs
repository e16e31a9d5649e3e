//! Several targets in one folder: `targets:` in apigsync.yaml, each target's `vars`,
//! documents limited with `targets: [names]`, and the errors of each.

use std::collections::BTreeMap;

use apigsync::manifest::{LoadError, TargetDesired, parse_sources, parse_targets};

use crate::support::sources;

fn load(files: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Vec<TargetDesired>, LoadError> {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    parse_targets(&sources(files), &env)
}

fn errors(files: &[(&str, &str)], env: &[(&str, &str)]) -> Vec<String> {
    match load(files, env) {
        Ok(d) => panic!("expected errors, loaded {d:#?}"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

const PROJECT: &str = "\
targets:
  staging:
    flavour: apig
    instance_id: i-staging
    vars: {ORIGIN: https://staging.example.com, MAX_AGE: 60}
  prod:
    flavour: roma
    instance_id: i-prod
    vars: {ORIGIN: https://example.com, MAX_AGE: 600}
";

const CORS: &str = "\
kind: Plugin
name: cors_public
type: cors
content:
  allow_origin: ${ORIGIN}
  max_age: ${MAX_AGE}
";

const PROD_ONLY: &str = "\
kind: Plugin
name: prod_headers
type: set_resp_headers
targets: [prod]
content:
  response_headers:
    - {name: X-Env, value: prod, action: override}
";

#[test]
fn each_target_reads_the_documents_with_its_own_typed_vars() {
    let targets = load(
        &[("apigsync.yaml", PROJECT), ("cors.yaml", CORS)],
        &[("ORIGIN", "from-the-environment")],
    )
    .expect("loads");
    let shown: Vec<(Option<&str>, serde_json::Value)> = targets
        .iter()
        .map(|t| {
            (
                t.target.name.as_deref(),
                t.desired.plugins[0].content.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                Some("staging"),
                serde_json::json!({"allow_origin": "https://staging.example.com", "max_age": 60})
            ),
            (
                Some("prod"),
                serde_json::json!({"allow_origin": "https://example.com", "max_age": 600})
            ),
        ]
    );
    let project = targets[1].desired.project.as_ref().expect("project");
    assert_eq!(project.target.instance_id.as_deref(), Some("i-prod"));
    assert!(project.targets.is_empty(), "narrowed to its target");
}

#[test]
fn a_document_limited_to_one_target_exists_only_there() {
    let targets = load(
        &[
            ("apigsync.yaml", PROJECT),
            ("cors.yaml", CORS),
            ("prod.yaml", PROD_ONLY),
        ],
        &[],
    )
    .expect("loads");
    let names = |i: usize| -> Vec<&str> {
        targets[i]
            .desired
            .plugins
            .iter()
            .map(|p| p.name.as_str())
            .collect()
    };
    assert_eq!(targets[1].target.label(), "prod");
    assert_eq!(names(1), ["cors_public", "prod_headers"]);
    assert_eq!(names(0), ["cors_public"]);
}

#[test]
fn an_unknown_target_in_a_document_is_located_once_with_a_hint() {
    let doc = PROD_ONLY.replace("[prod]", "[prd]");
    assert_eq!(
        errors(&[("apigsync.yaml", PROJECT), ("prod.yaml", &doc)], &[]),
        [
            "m/prod.yaml:4:11: unknown target \"prd\", apigsync.yaml declares staging, prod, did you mean \"prod\"?"
        ]
    );
}

#[test]
fn a_problem_of_one_target_names_it() {
    let project = PROJECT.replace("MAX_AGE: 60}", "MAX_AGE: soon}");
    assert_eq!(
        errors(&[("apigsync.yaml", &project), ("cors.yaml", CORS)], &[]),
        [
            "m/cors.yaml:6:3: max_age in cors content must be an integer, got string \"soon\" (the value comes from a ${VAR} reference) (target staging)"
        ]
    );
}

#[test]
fn a_secret_field_may_not_name_a_var() {
    let project = PROJECT.replace("MAX_AGE: 600}", "MAX_AGE: 600, KAFKA_PASSWORD: hunter2}");
    let kafka = "\
kind: Plugin
name: audit_log
type: kafka_log
content:
  broker_list: [b1:9092]
  topic: audit
  sasl_config:
    security_protocol: SASL_SSL
    sasl_mechanisms: PLAIN
    sasl_username: u
    sasl_password: ${KAFKA_PASSWORD}
";
    let errs = errors(
        &[("apigsync.yaml", &project), ("kafka.yaml", kafka)],
        &[("KAFKA_PASSWORD", "s3cret")],
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("m/kafka.yaml:11:20: secret field sasl_config/sasl_password names ${KAFKA_PASSWORD}, a var of target prod"),
        "{errs:?}"
    );
    assert!(!errs[0].contains("hunter2"), "never shows the value");
}

#[test]
fn target_and_targets_together_are_refused() {
    let project = format!("target:\n  flavour: apig\n{PROJECT}");
    let errs = errors(&[("apigsync.yaml", &project)], &[]);
    assert_eq!(
        errs,
        [
            "m/apigsync.yaml:3:1: the project file holds either target: (one gateway) or targets: (several by name), not both"
        ]
    );
}

#[test]
fn bad_target_names_and_vars_are_located() {
    let project = "\
targets:
  Prod:
    flavour: apig
    vars:
      1X: a
      LIST: [a, b]
";
    assert_eq!(
        errors(&[("apigsync.yaml", project)], &[]),
        [
            "m/apigsync.yaml:2:3: target name \"Prod\" may only hold lowercase letters, digits, '-' and '_', and must start with a letter or digit",
            "m/apigsync.yaml:5:7: var name \"1X\" is not a variable name (letters, digits and '_', not starting with a digit)",
            "m/apigsync.yaml:6:13: var LIST must be text, a number or a boolean, got a list",
        ]
    );
}

#[test]
fn a_document_limited_to_targets_needs_targets_in_the_project() {
    let errs = errors(
        &[
            ("apigsync.yaml", "target:\n  flavour: apig\n"),
            ("prod.yaml", PROD_ONLY),
        ],
        &[],
    );
    assert_eq!(
        errs,
        [
            "m/prod.yaml:4:1: \"targets\" limits a document to some targets, but apigsync.yaml has one target: declare several under targets: there"
        ]
    );
}

#[test]
fn reading_a_folder_of_several_targets_as_one_is_an_error() {
    let err = parse_sources(&sources(&[("apigsync.yaml", PROJECT)]), &BTreeMap::new())
        .expect_err("two targets");
    assert_eq!(
        err.to_string(),
        "m/apigsync.yaml:1:1: the project file declares 2 targets (staging, prod); read them one by one"
    );
}

#[test]
fn one_target_is_read_alone_and_an_undeclared_one_is_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("apigsync.yaml", PROJECT),
        ("cors.yaml", CORS),
        ("prod.yaml", PROD_ONLY),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let env = BTreeMap::new();
    let prod = apigsync::manifest::load_target(dir.path(), &env, Some("prod"))
        .expect("loads")
        .expect("declared");
    assert_eq!(prod.target.label(), "prod");
    assert_eq!(prod.desired.plugins.len(), 2);
    let none = apigsync::manifest::load_target(dir.path(), &env, Some("qa")).expect("loads");
    assert!(none.is_none());
    let single = apigsync::manifest::load_target(dir.path(), &env, None).expect("loads");
    assert!(single.is_none(), "the folder declares targets by name");
}

#[test]
fn a_credentials_prefix_must_start_a_variable_name() {
    let project = "targets:\n  prod:\n    flavour: apig\n    credentials_prefix: 9-PROD\n";
    assert_eq!(
        errors(&[("apigsync.yaml", project)], &[]),
        [
            "m/apigsync.yaml:4:25: credentials_prefix \"9-PROD\" must be the start of a variable name (letters, digits and '_', e.g. PROD)"
        ]
    );
}
