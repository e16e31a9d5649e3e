//! Errors that name the fix, through the binary: an unknown API is located at its list
//! item and lists the close names that exist, a wrong environment lists the existing ones,
//! and a wrong plug-in type is one error, without follow-on errors.

use crate::support::cli::World;

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_api_is_located_at_its_item_and_names_what_exists() {
    let w = World::demo_examples().await;
    let path = w.dir().join("users/authorizer.yaml");
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace(
            "apis: [users_list, users_get]",
            "apis: [users_list, user_get]",
        )
        .replace("env: TEST", "env: TSET");
    w.write("users/authorizer.yaml", &text);
    let out = w.run("plan", &[]).await;
    out.expect_code(1);
    let file = path.display();
    for line in [
        format!(
            "{file}:29:20: binding of plug-in \"users_authorizer\" names API user_get, which does not exist (did you mean \"users_get\", \"users_list\" or \"orders_get\"?)"
        ),
        format!(
            "{file}:32:1: binding of plug-in \"users_authorizer\" names environment \"TSET\", which does not exist (did you mean \"TEST\"?); the environments are RELEASE, TEST"
        ),
    ] {
        assert!(
            out.stderr.contains(&line),
            "{line}\nnot in:\n{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_plugin_type_is_one_error_without_follow_on_errors() {
    let w = World::demo_examples().await;
    let text = std::fs::read_to_string(w.dir().join("cors.yaml"))
        .expect("read")
        .replace("type: cors ", "type: corz ");
    w.write("cors.yaml", &text);
    let out = w.validate().await;
    out.expect_code(1);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "error: {}:11:7: unknown plug-in type \"corz\", expected one of cors, set_resp_headers, kafka_log, breaker, rate_limit, third_auth, proxy_cache, proxy_mirror, oidc_auth, did you mean \"cors\"?",
            w.dir().join("cors.yaml").display()
        )],
        "{}",
        out.stderr
    );
}
