//! Each validation error of the loader: the message, and the file and line it names.

use std::collections::BTreeMap;
use std::path::PathBuf;

use apigsync::manifest::{LoadError, MAX_USER_REMARK, Source, parse_project, parse_sources};
use apigsync::model::{ApiRef, Desired, Scope};

use crate::support::sources;

fn load_env(files: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Desired, LoadError> {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    parse_sources(&sources(files), &env)
}

fn load(files: &[(&str, &str)]) -> Result<Desired, LoadError> {
    load_env(files, &[])
}

/// The diagnostics of an invalid load, one `file:line:col: message` per item.
fn errors(files: &[(&str, &str)]) -> Vec<String> {
    match load(files) {
        Ok(d) => panic!("expected errors, loaded {d:#?}"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

const CORS: &str = "kind: Plugin\nname: cors_public\ntype: cors\ncontent:\n  allow_origin: \"*\"\n";

#[test]
fn a_valid_plugin_and_binding_load() {
    let d = load(&[(
        "a.yaml",
        "kind: Plugin\nname: cors_public\ntype: cors\nremark: r\ncontent:\n  allow_origin: \"*\"\n  max_age: 600\n---\nkind: Binding\nplugin: cors_public\nenv: RELEASE\napis: [a, {id: x}, {group: g, name: b}]\n",
    )])
    .unwrap();
    let p = &d.plugins[0];
    assert_eq!(
        (p.name.as_str(), p.scope, p.remark.as_deref()),
        ("cors_public", Scope::Global, Some("r"))
    );
    assert_eq!(
        p.content,
        serde_json::json!({"allow_origin": "*", "max_age": 600})
    );
    assert_eq!(p.location.to_string(), "m/a.yaml:1:1");
    let b = &d.bindings[0];
    assert_eq!(b.location.to_string(), "m/a.yaml:9:1");
    assert_eq!(
        b.apis,
        [
            ApiRef::Name("a".into()),
            ApiRef::Id { id: "x".into() },
            ApiRef::GroupName {
                group: "g".into(),
                name: "b".into()
            }
        ]
    );
}

#[test]
fn unknown_content_field_names_file_line_and_hint() {
    let e = errors(&[(
        "cors.yaml",
        "kind: Plugin\nname: cors_public\ntype: cors\ncontent:\n  alow_origin: \"*\"\n",
    )]);
    assert_eq!(
        e,
        [
            "m/cors.yaml:4:1: allow_origin in cors content is required",
            r#"m/cors.yaml:5:3: unknown field "alow_origin" in cors content, did you mean "allow_origin"?"#,
        ]
    );
}

#[test]
fn content_type_error_points_at_the_nested_field() {
    let e = errors(&[(
        "k.yaml",
        "kind: Plugin\nname: logs\ntype: kafka_log\ncontent:\n  broker_list: [\"k:9092\"]\n  topic: t\n  sasl_config:\n    security_protocol: SASL\n",
    )]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with(
            "m/k.yaml:8:5: sasl_config/security_protocol in kafka_log content must be one of"
        ),
        "{}",
        e[0]
    );
}

#[test]
fn unknown_document_field_has_a_hint() {
    let e = errors(&[(
        "a.yaml",
        "kind: Plugin\nnmae: abc\ntype: cors\ncontent: {allow_origin: x}\n",
    )]);
    assert_eq!(
        e,
        [
            "m/a.yaml:1:1: missing field \"name\" in Plugin document",
            r#"m/a.yaml:2:1: unknown field "nmae" in Plugin document, did you mean "name"?"#,
        ]
    );
}

#[test]
fn unknown_and_missing_kind_list_the_valid_kinds() {
    let e = errors(&[("a.yaml", "kind: Plugn\nname: abc\n---\nname: abc\n")]);
    assert_eq!(
        e,
        [
            r#"m/a.yaml:1:7: unknown kind "Plugn", expected one of Plugin, Binding, did you mean "Plugin"?"#,
            r#"m/a.yaml:4:1: missing field "kind", expected one of Plugin, Binding"#,
        ]
    );
}

#[test]
fn unknown_plugin_type_lists_the_types() {
    let e = errors(&[(
        "a.yaml",
        "kind: Plugin\nname: abc\ntype: corss\ncontent: {}\n",
    )]);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "m/a.yaml:3:7: unknown plug-in type \"corss\", expected one of cors, set_resp_headers"
        ),
        "{}",
        e[0]
    );
    assert!(e[0].ends_with(r#"did you mean "cors"?"#), "{}", e[0]);
}

#[test]
fn unset_variable_without_default_names_the_variable_and_place() {
    let e = errors(&[(
        "a.yaml",
        "kind: Plugin\nname: abc\ntype: cors\ncontent:\n  allow_origin: \"${ORIGIN}\"\n",
    )]);
    assert_eq!(
        e,
        [
            r#"m/a.yaml:5:17: cannot substitute: variable "ORIGIN" is not set (set it, or write ${ORIGIN:-default})"#
        ]
    );
    let d = load_env(
        &[("a.yaml", "kind: Plugin\nname: abc\ntype: cors\ncontent:\n  allow_origin: \"${ORIGIN}\"\n  allow_headers: $${literal}\n")],
        &[("ORIGIN", "https://a.example")],
    )
    .unwrap();
    assert_eq!(d.plugins[0].content["allow_origin"], "https://a.example");
    assert_eq!(d.plugins[0].content["allow_headers"], "${literal}");
}

const KAFKA_HEAD: &str = "kind: Plugin\nname: logs\ntype: kafka_log\ncontent:\n  broker_list: [\"k:9092\"]\n  topic: t\n  sasl_config:\n    security_protocol: SASL_PLAINTEXT\n    sasl_username: u\n";

#[test]
fn literal_secret_is_an_error_that_does_not_show_the_secret() {
    let text = format!("{KAFKA_HEAD}    sasl_password: hunter2\n");
    let e = errors(&[("k.yaml", &text)]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].starts_with("m/k.yaml:10:20: secret field sasl_config/sasl_password in kafka_log content is written as a literal"), "{}", e[0]);
    assert!(!e[0].contains("hunter2"));
}

#[test]
fn literal_secret_is_allowed_by_the_project_option_and_recorded_as_literal() {
    let text = format!("{KAFKA_HEAD}    sasl_password: hunter2\n");
    let d = load(&[
        ("apigsync.yaml", "options:\n  allow_literal_secrets: true\n"),
        ("k.yaml", &text),
    ])
    .unwrap();
    let s = &d.plugins[0].secrets["/sasl_config/sasl_password"];
    assert!(s.literal);
    assert_eq!(s.template, "hunter2");
}

#[test]
fn secret_from_a_variable_records_its_template() {
    let text = format!("{KAFKA_HEAD}    sasl_password: ${{KAFKA_PW}}\n");
    let d = load_env(&[("k.yaml", &text)], &[("KAFKA_PW", "s3cret")]).unwrap();
    let p = &d.plugins[0];
    assert_eq!(p.content["sasl_config"]["sasl_password"], "s3cret");
    assert_eq!(
        p.secrets["/sasl_config/sasl_password"].template,
        "${KAFKA_PW}"
    );
    assert!(!p.secrets["/sasl_config/sasl_password"].literal);
}

#[test]
fn empty_secret_string_is_fine() {
    let d = load(&[(
        "k.yaml",
        "kind: Plugin\nname: logs\ntype: kafka_log\ncontent:\n  broker_list: [\"k:9092\"]\n  topic: t\n  sasl_config: {security_protocol: PLAINTEXT, sasl_password: \"\"}\n",
    )])
    .unwrap();
    assert!(d.plugins[0].secrets["/sasl_config/sasl_password"].literal);
}

#[test]
fn plugin_name_rule() {
    let doc = |name: &str| {
        format!("kind: Plugin\nname: \"{name}\"\ntype: cors\ncontent: {{allow_origin: x}}\n")
    };
    let e = errors(&[("a.yaml", &doc("CORS plug-in."))]);
    assert_eq!(
        e,
        [
            r#"m/a.yaml:2:7: plug-in name "CORS plug-in." may only hold letters, digits, '_', '-' and Chinese characters"#
        ]
    );
    let e = errors(&[("a.yaml", &doc("1abc"))]);
    assert!(e[0].contains("must start with a letter"), "{}", e[0]);
    let e = errors(&[("a.yaml", &doc("ab"))]);
    assert!(e[0].contains("3 to 255 characters"), "{}", e[0]);
    assert!(load(&[("a.yaml", &doc("插件_cors-1"))]).is_ok());
}

#[test]
fn remark_leaves_room_for_the_ownership_marker() {
    let doc = |n: usize| {
        format!(
            "kind: Plugin\nname: abc\ntype: cors\nremark: {}\ncontent: {{allow_origin: x}}\n",
            "r".repeat(n)
        )
    };
    assert!(load(&[("a.yaml", &doc(MAX_USER_REMARK))]).is_ok());
    let e = errors(&[("a.yaml", &doc(MAX_USER_REMARK + 1))]);
    assert_eq!(e.len(), 1);
    let expected = format!(
        "m/a.yaml:4:9: remark is {} characters long, at most {MAX_USER_REMARK}",
        MAX_USER_REMARK + 1
    );
    assert!(e[0].starts_with(&expected), "{}", e[0]);
}

#[test]
fn duplicate_plugin_names_name_both_places() {
    let e = errors(&[("a.yaml", CORS), ("b/c.yaml", CORS)]);
    assert_eq!(
        e,
        [r#"m/b/c.yaml:1:1: plug-in "cors_public" is declared twice: here and at m/a.yaml:1:1"#]
    );
}

#[test]
fn binding_to_an_undeclared_plugin_suggests_a_name() {
    let e = errors(&[
        ("a.yaml", CORS),
        (
            "b.yaml",
            "kind: Binding\nplugin: cors_publik\nenv: RELEASE\napis: [a]\n",
        ),
    ]);
    assert_eq!(
        e,
        [
            r#"m/b.yaml:2:9: binding refers to unknown plug-in "cors_publik" (no kind: Plugin document declares it), did you mean "cors_public"?"#
        ]
    );
}

#[test]
fn two_plugins_of_one_type_on_one_api_and_env_conflict() {
    let other = CORS.replace("cors_public", "cors_other");
    let bind =
        |p: &str, env: &str| format!("kind: Binding\nplugin: {p}\nenv: {env}\napis: [x, orders]\n");
    let e = errors(&[
        ("a.yaml", CORS),
        ("b.yaml", &other),
        ("c.yaml", &bind("cors_public", "RELEASE")),
        (
            "d.yaml",
            &bind("cors_other", "DEFAULT_ENVIRONMENT_RELEASE_ID"),
        ),
    ]);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e[0].starts_with(r#"m/d.yaml:4:8: API "x" in environment DEFAULT_ENVIRONMENT_RELEASE_ID would get two cors plug-ins, "cors_other" and "cors_public" (bound at m/c.yaml:4:8)"#), "{}", e[0]);
    // Another environment is fine.
    assert!(
        load(&[
            ("a.yaml", CORS),
            ("b.yaml", &other),
            ("c.yaml", &bind("cors_public", "RELEASE")),
            ("d.yaml", &bind("cors_other", "TEST")),
        ])
        .is_ok()
    );
}

#[test]
fn duplicate_api_in_one_binding_is_an_error() {
    let e = errors(&[
        ("a.yaml", CORS),
        (
            "b.yaml",
            "kind: Binding\nplugin: cors_public\nenv: TEST\napis:\n  - x\n  - y\n  - x\n",
        ),
    ]);
    assert_eq!(
        e,
        [r#"m/b.yaml:7:5: API "x" is listed twice in this binding (first at line 5)"#]
    );
}

#[test]
fn malformed_api_entries_are_reported() {
    let e = errors(&[
        ("a.yaml", CORS),
        (
            "b.yaml",
            "kind: Binding\nplugin: cors_public\nenv: TEST\napis:\n  - {idd: x}\n  - [5]\n",
        ),
    ]);
    assert_eq!(
        e,
        [
            r#"m/b.yaml:5:5: API entry with fields idd must be an API name, {id: …} or {group: …, name: …}, did you mean "id"?"#,
            "m/b.yaml:6:5: API entry must be an API name, {id: …} or {group: …, name: …}, got a list",
        ]
    );
}

#[test]
fn app_scope_needs_roma_app_id() {
    let e = errors(&[(
        "a.yaml",
        "kind: Plugin\nname: abc\ntype: cors\nscope: app\ncontent: {allow_origin: x}\n",
    )]);
    assert_eq!(
        e,
        ["m/a.yaml:4:8: scope app needs roma_app_id (the ROMA integration application id)"]
    );
}

#[test]
fn flavour_limits_scopes_and_types() {
    let app = "kind: Plugin\nname: abc\ntype: cors\nscope: app\nroma_app_id: r1\ncontent: {allow_origin: x}\n";
    let e = errors(&[
        ("apigsync.yaml", "target:\n  flavour: apig\n"),
        ("a.yaml", app),
    ]);
    assert_eq!(
        e,
        [
            "m/a.yaml:4:8: scope app exists only on flavour roma, the target is apig; use scope global"
        ]
    );
    assert!(
        load(&[
            ("apigsync.yaml", "target:\n  flavour: roma\n"),
            ("a.yaml", app)
        ])
        .is_ok()
    );
    let mirror =
        "kind: Plugin\nname: abc\ntype: proxy_mirror\ncontent: {protocol: http, host: h}\n";
    let e = errors(&[
        ("apigsync.yaml", "target:\n  flavour: otc\n"),
        ("a.yaml", mirror),
    ]);
    assert_eq!(
        e,
        [
            "m/a.yaml:3:7: plug-in type proxy_mirror is not offered by flavour otc (target.flavour in apigsync.yaml)"
        ]
    );
}

#[test]
fn yaml_syntax_and_duplicate_keys_are_located() {
    let e = errors(&[
        ("a.yaml", "kind: Plugin\nkind: Binding\n"),
        ("b.yaml", "kind: Plugin\n name: [\n"),
    ]);
    assert_eq!(e[0], "m/a.yaml:2:1: duplicate mapping key: kind");
    assert!(e[1].starts_with("m/b.yaml:2:"), "{}", e[1]);
}

#[test]
fn all_problems_of_all_files_are_reported_together_in_order() {
    let e = errors(&[
        (
            "a.yaml",
            "kind: Plugin\nname: a\ntype: cors\ncontent: {allow_origin: x}\n",
        ),
        (
            "b.yaml",
            "kind: Binding\nplugin: nope\nenv: RELEASE\napis: [x]\n",
        ),
        ("c.yaml", "kind: Widget\n"),
    ]);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e[0].starts_with("m/a.yaml:2:7:"));
    assert!(e[1].starts_with("m/b.yaml:2:9:"));
    assert!(e[2].starts_with("m/c.yaml:1:7:"));
}

#[test]
fn the_error_display_is_one_diagnostic_per_line() {
    let err = load(&[("c.yaml", "kind: Widget\n---\nkind: Gadget\n")]).unwrap_err();
    let text = err.to_string();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().all(|l| l.starts_with("m/c.yaml:")));
}

#[test]
fn project_file_unknown_field_and_substitution() {
    let e = errors(&[("apigsync.yaml", "target:\n  flavor: apig\n")]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with(
            r#"m/apigsync.yaml:2:3: unknown field "flavor" in target of the project file"#
        ),
        "{}",
        e[0]
    );
    assert!(e[0].ends_with(r#"did you mean "flavour"?"#), "{}", e[0]);

    let src = Source {
        path: PathBuf::from("apigsync.yaml"),
        text: "target:\n  project_id: ${HW_PROJECT_ID}\n".to_owned(),
    };
    let env = BTreeMap::from([("HW_PROJECT_ID".to_owned(), "0123abcd".to_owned())]);
    let p = parse_project(&src, &env).unwrap();
    assert_eq!(p.target.project_id.as_deref(), Some("0123abcd"));
}

#[test]
fn project_file_wrong_type_is_reported() {
    let e = errors(&[("apigsync.yaml", "options:\n  parallelism: many\n")]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with("m/apigsync.yaml:1:1: invalid project file:"),
        "{}",
        e[0]
    );
}

#[test]
fn plugins_are_sorted_by_name_and_bindings_keep_file_order() {
    let d = load(&[
        ("a.yaml", &CORS.replace("cors_public", "zeta")),
        ("b.yaml", &CORS.replace("cors_public", "alpha")),
        ("c.yaml", "kind: Binding\nplugin: zeta\nenv: TEST\napis: [x]\n---\nkind: Binding\nplugin: alpha\nenv: TEST\napis: [y]\n"),
    ])
    .unwrap();
    let names: Vec<&str> = d.plugins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    let bound: Vec<&str> = d.bindings.iter().map(|b| b.plugin.as_str()).collect();
    assert_eq!(bound, ["zeta", "alpha"]);
}

#[test]
fn a_malformed_reference_in_a_secret_does_not_quote_it() {
    let text = format!("{KAFKA_HEAD}    sasl_password: \"pa${{#ss}}word\"\n");
    let e = errors(&[("k.yaml", &text)]);
    assert_eq!(
        e,
        [
            "m/k.yaml:10:20: cannot substitute: a ${…} reference in a secret field is not a variable name",
            "m/k.yaml:10:20: secret field sasl_config/sasl_password in kafka_log content is written as a literal (a ${VAR:-default} default counts as one); use ${VAR} (or set options.allow_literal_secrets: true in apigsync.yaml)"
        ]
    );
    // Outside secrets the offending text helps.
    let e = errors(&[(
        "a.yaml",
        "kind: Plugin\nname: abc\ntype: cors\ncontent:\n  allow_origin: \"${#x}\"\n",
    )]);
    assert!(
        e[0].contains(r##""#x" is not a variable name"##),
        "{}",
        e[0]
    );
}

#[test]
fn empty_required_strings_are_reported() {
    let e = errors(&[
        ("a.yaml", CORS),
        (
            "b.yaml",
            "kind: Binding\nplugin: cors_public\nenv: \"\"\napis: [x]\n",
        ),
    ]);
    assert_eq!(e, [r#"m/b.yaml:3:6: "env" must not be empty"#]);
}

#[test]
fn third_auth_identities_query_loads_with_a_warning_at_its_line() {
    let third_auth = "kind: Plugin\nname: authorizer\ntype: third_auth\ncontent:\n  auth_request:\n    method: GET\n    protocol: HTTPS\n    url_domain: auth.example.com\n    path: /check\n    vpc_channel_enabled: false\n  identities:\n    query:\n      - name: token\n";
    let desired = load(&[("auth.yaml", third_auth)]).expect("the gateway accepts it");
    let warnings: Vec<String> = desired.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("m/auth.yaml:12:"), "{warnings:?}");
    assert!(
        warnings[0].contains("write identities.queries"),
        "{warnings:?}"
    );
}

#[test]
fn a_secret_with_literal_text_around_a_reference_is_a_literal() {
    let kafka = "kind: Plugin\nname: logs\ntype: kafka_log\ncontent:\n  broker_list: [\"k:9092\"]\n  topic: t\n  sasl_config:\n    security_protocol: SASL_PLAINTEXT\n    sasl_username: u\n    sasl_password: \"hunter2${X:-}\"\n";
    let e = errors(&[("k.yaml", kafka)]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("m/k.yaml:10:20: secret field sasl_config/sasl_password"),
        "{e:?}"
    );
    assert!(!e[0].contains("hunter2"), "{e:?}");
}
