//! Policies on the plan through the binary: the example policies deny a plan (exit 1, the
//! rule and the plug-in named), their results are in every output, `apply` refuses a
//! denied plan before any write (a saved plan too), and asking for policies that evaluate
//! nothing is an error.

use crate::support::cli::{World, writes};

fn policies() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/policies")
        .display()
        .to_string()
}

const DENIAL: &str = "main.deny_wildcard_origin: plug-in cors_public: allow_origin \"*\" lets any \
                      web site call the APIs it is bound to; name the origins";

/// The examples with the CORS plug-in opened to every origin.
async fn wildcard() -> World {
    let w = World::demo_examples().await;
    let cors = std::fs::read_to_string(w.dir().join("cors.yaml"))
        .expect("read")
        .replace(
            "allow_origin: \"https://shop.example.com\"",
            "allow_origin: \"*\"",
        );
    w.write("cors.yaml", &cors);
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_denies_a_plan_and_apply_refuses_it_before_any_write() {
    let w = wildcard().await;
    let dir = policies();
    let saved = w.scratch("plan.json").display().to_string();
    let text = w.run("plan", &["--policy", &dir, "--out", &saved]).await;
    text.expect_code(1);
    assert!(
        text.stdout.contains(&format!("Policies:\n  deny {DENIAL}\n\nPolicies: 3 rule(s) evaluated, 1 denial(s), 0 warning(s).\n")),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr.contains(&format!(
            "error: the plan is refused by policy (1 denial(s)): {DENIAL}"
        )),
        "{}",
        text.stderr
    );

    let md = w
        .run("plan", &["--policy", &dir, "--output", "markdown"])
        .await;
    md.expect_code(1);
    let top = md.stdout.split("<details").next().unwrap_or_default();
    assert!(
        top.contains("> [!CAUTION]\n> **Policies: 3 rule(s) evaluated, 1 denial(s), 0 warning(s).** The plan is refused: apply will not run it.\n>\n> - **deny** `main.deny_wildcard_origin`: plug-in cors_public: allow_origin \"*\""),
        "{}",
        md.stdout
    );
    let json = w.run("plan", &["--policy", &dir, "--output", "json"]).await;
    json.expect_code(1);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        plan["policy"]["findings"][0],
        serde_json::json!({"level": "deny", "rule": "main.deny_wildcard_origin",
            "message": "plug-in cors_public: allow_origin \"*\" lets any web site call the APIs it is bound to; name the origins"})
    );

    // The saved plan carries the denial: apply refuses it, with or without --policy.
    for extra in [vec![], vec!["--policy", dir.as_str()]] {
        let mut args = vec!["--plan", saved.as_str(), "--auto-approve"];
        args.extend(extra);
        let refused = w.run("apply", &args).await;
        refused.expect_code(1);
        assert!(
            refused.stderr.contains(&format!(
                "the plan is refused by policy (1 denial(s)): {DENIAL}; nothing was changed"
            )),
            "{}",
            refused.stderr
        );
    }
    let refused = w.run("apply", &["--policy", &dir, "--auto-approve"]).await;
    refused.expect_code(1);
    assert_eq!(writes(&w.log()), Vec::<&str>::new(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_the_policies_pass_applies_and_a_delete_needs_the_variable() {
    let w = World::demo_examples().await;
    let dir = policies();
    let ok = w.run("plan", &["--policy", &dir]).await;
    ok.expect_code(0);
    assert!(
        ok.stdout
            .ends_with("\nPolicies: 3 rule(s) evaluated, 0 denial(s), 0 warning(s).\n"),
        "{}",
        ok.stdout
    );
    w.run("apply", &["--policy", &dir, "--auto-approve"])
        .await
        .expect_code(0);
    w.remove("shop/response-cache.yaml");
    let denied = w.run("plan", &["--policy", &dir]).await;
    denied.expect_code(1);
    assert!(
        denied.stderr.contains(
            "main.deny_delete: plug-in orders_cache is deleted: set APIGSYNC_POLICY_ALLOW_DELETES=true to allow deletes"
        ),
        "{}",
        denied.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn policies_asked_for_and_none_evaluated_is_an_error() {
    let w = World::demo_examples().await;
    let dir = policies();
    let out = w
        .run("plan", &["--policy", &dir, "--policy-namespace", "gateway"])
        .await;
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "no policy evaluated: the 3 .rego file(s) hold no rule named deny, violation or warn"
        ),
        "{}",
        out.stderr
    );
}
