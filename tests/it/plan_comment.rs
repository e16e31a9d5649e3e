//! The markdown pull-request comment as a reviewer reads it: what matters above the first
//! collapsible section (removals with the APIs by name, moves, changed secrets, drift with
//! live and desired values), and one comment at most, its markup balanced, however big the
//! plan.

use crate::support::plan::*;
use apigsync::model::{Flavour, Live, PluginType};
use apigsync::plan::{Cause, DiffOptions, Plan, PlanTarget, diff, render};
use serde_json::json;

fn options() -> DiffOptions {
    DiffOptions {
        prune: true,
        target: PlanTarget {
            flavour: Some(Flavour::Apig),
            instance_id: Some("3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d".into()),
            name: None,
        },
        ..DiffOptions::default()
    }
}

fn throttle() -> apigsync::model::DesiredPlugin {
    plugin(
        "throttle",
        PluginType::RateLimit,
        json!({"scope": "basic", "api_limit": 100}),
    )
}

fn rate_default() -> apigsync::model::DesiredPlugin {
    plugin(
        "rate_default",
        PluginType::RateLimit,
        json!({"scope": "basic", "api_limit": 300}),
    )
}

/// A rotated Kafka password, a rate limit changed to 50 in the console (drift), `edge`
/// replaced (cors → set_resp_headers), `old_cors` deleted, `rate_default` unbound from
/// `orders_get`, and `orders_get` moved from `cors_a` to a new `cors_b`.
fn review_set() -> (Live, Plan) {
    let before = desired(
        vec![
            kafka("kafka_orders", "Old-Kafka-S3cret-4711"),
            throttle(),
            cors("edge"),
            cors("old_cors"),
            cors("cors_a"),
            rate_default(),
        ],
        vec![
            binding("edge", "RELEASE", &["health"]),
            binding("old_cors", "TEST", &["health"]),
            binding("cors_a", "RELEASE", &["orders_get", "users_get"]),
            binding("rate_default", "RELEASE", &["orders_list", "orders_get"]),
        ],
    );
    let mut live = applied(&before, &world());
    let console = live
        .plugins
        .iter_mut()
        .find(|p| p.name == "throttle")
        .expect("throttle");
    console.content["api_limit"] = json!(50);
    let after = desired(
        vec![
            kafka("kafka_orders", "New-Kafka-S3cret-0815"),
            throttle(),
            plugin(
                "edge",
                PluginType::SetRespHeaders,
                json!({"response_headers": [{"name": "x-frame-options", "value": "DENY", "value_type": "custom_value", "action": "override"}]}),
            ),
            cors("cors_a"),
            cors("cors_b"),
            rate_default(),
        ],
        vec![
            binding("edge", "RELEASE", &["health"]),
            binding("cors_a", "RELEASE", &["users_get"]),
            binding("cors_b", "RELEASE", &["orders_get"]),
            binding("rate_default", "RELEASE", &["orders_list"]),
        ],
    );
    let mut plan = diff(&after, &live, &options()).expect("plan");
    // The differ tells drift from the marker's record of the last apply (`e2e_cause`); the
    // renderer is given it here.
    for op in &mut plan.operations {
        if op.kind.plugin_name() == "throttle" {
            op.cause = Cause::Drift;
        }
    }
    (live, plan)
}

/// The part of the comment a reviewer sees without opening anything.
fn above_the_fold(md: &str) -> &str {
    md.split("<details").next().unwrap_or(md)
}

#[test]
fn markdown_of_a_review_set() {
    let (live, plan) = review_set();
    insta::assert_snapshot!(render::markdown(&plan, Some(&live)));
}

#[test]
fn what_a_reviewer_must_see_is_above_the_first_section() {
    let (live, plan) = review_set();
    let md = render::markdown(&plan, Some(&live));
    let top = above_the_fold(&md);
    for line in [
        "> - **delete** `old_cors` (cors): the plug-in is removed from the gateway; APIs that lose it: TEST: `health`",
        "> - **detach** `rate_default` (rate_limit): APIs that lose it: RELEASE: `orders_get`",
        "> - **detach** `cors_a` (cors): moves to `cors_b` in RELEASE: `orders_get`",
        "> - `kafka_orders` (kafka_log): `content.sasl_config.sasl_password` (sensitive value changed)",
        "> - `throttle` `content.api_limit`: live `50`, desired `100`",
        "| `kafka_orders` | kafka_log | update, 1 field(s) (sensitive value changed) |  |",
        "| `cors_b` | cors | create | RELEASE: 1 moved in |",
        "| `edge` | cors → set_resp_headers | **replace** | RELEASE: 1 re-bound |",
    ] {
        assert!(top.contains(line), "{line:?} is not above the fold:\n{top}");
    }
    assert!(!md.contains("(sensitive) | (sensitive)"), "{md}");
    // The replacement's steps are folded inside its section.
    assert!(
        md.contains(
            "<details><summary>5 steps (if one fails, the old plug-in keeps its bindings)</summary>"
        ),
        "{md}"
    );
}

/// Every `<details>` closed, code fences paired, and each table's rows as wide as its head.
fn assert_balanced(md: &str) {
    assert_eq!(
        md.matches("<details").count(),
        md.matches("</details>").count(),
        "unbalanced <details>"
    );
    assert_eq!(
        md.matches("<summary>").count(),
        md.matches("</summary>").count()
    );
    let fences = md.lines().filter(|l| l.starts_with("```")).count();
    assert_eq!(fences % 2, 0, "an unclosed code fence");
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut table: Option<usize> = None;
    for line in md.lines() {
        match (line.starts_with('|'), table) {
            (true, None) => table = Some(cells(line)),
            (true, Some(width)) => assert_eq!(cells(line), width, "a torn table row: {line}"),
            (false, _) => table = None,
        }
    }
}

#[test]
fn a_plan_of_2000_plugins_fits_one_comment_with_balanced_markup() {
    let olds: Vec<_> = (0..1000).map(|i| cors(&format!("old_{i:04}"))).collect();
    let news: Vec<_> = (0..1000).map(|i| cors(&format!("new_{i:04}"))).collect();
    let old_bindings = vec![binding("old_0000", "TEST", &["health"])];
    let live = applied(&desired(olds, old_bindings), &world());
    let plan = diff(&desired(news, vec![]), &live, &options()).expect("plan");
    assert_eq!(plan.summary().delete + plan.summary().create, 2000);
    let md = render::markdown_with(
        &plan,
        Some(&live),
        &render::CommentOptions {
            full_plan: Some("in the summary of https://ci.example/run/7"),
            ..render::CommentOptions::default()
        },
    );
    assert!(
        md.chars().count() <= 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(md.len() > 60_000, "the budget is used: {} bytes", md.len());
    assert_balanced(&md);
    assert!(md.starts_with("### apigsync plan\n\n"), "{md}");
    assert!(
        md.contains("> - **delete** `old_0000` (cors): the plug-in is removed from the gateway; APIs that lose it: TEST: `health`"),
        "the first removal is shown"
    );
    assert!(md.contains("> - … "), "the cut callout says so");
    let last = md.lines().last().expect("a last line");
    assert!(
        last.starts_with("**Left out to fit one comment (65,536 characters):** ")
            && last.contains(" removal line(s)")
            && last.contains(" plug-in section(s)")
            && last.ends_with(". The full plan is in the summary of https://ci.example/run/7."),
        "{last}"
    );
    // Several targets share one budget.
    let sections = [
        render::TargetSection {
            name: "staging",
            result: Ok((&plan, Some(&live))),
        },
        render::TargetSection {
            name: "prod",
            result: Ok((&plan, Some(&live))),
        },
    ];
    let set = render::markdown_set(&sections);
    assert!(set.chars().count() <= 65_536);
    assert_balanced(&set);
}

#[test]
fn a_small_plan_is_whole_and_says_nothing_is_left_out() {
    let (live, plan) = review_set();
    let md = render::markdown(&plan, Some(&live));
    assert!(!md.contains("Left out"), "{md}");
    assert_balanced(&md);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_keeps_the_comment_within_its_limit_and_saves_the_whole_plan() {
    let w = crate::support::cli::World::demo_examples().await;
    let full = w.scratch("plan-full.md");
    let full_arg = full.to_string_lossy().into_owned();
    let out = w
        .run(
            "plan",
            &[
                "--output",
                "markdown",
                "--comment-limit",
                "4096",
                "--full-plan-at",
                "in plan-full.md",
                "--out-markdown",
                &full_arg,
            ],
        )
        .await;
    out.expect_code(0);
    assert!(out.stdout.len() <= 4096, "{} bytes", out.stdout.len());
    assert_balanced(&out.stdout);
    assert!(
        out.stdout
            .trim_end()
            .ends_with(". The full plan is in plan-full.md."),
        "{}",
        out.stdout
    );
    let whole = std::fs::read_to_string(&full).expect("the whole plan is saved");
    assert!(whole.len() > 4096, "{} bytes", whole.len());
    assert!(!whole.contains("Left out"), "{whole}");
    let too_small = w.run("plan", &["--comment-limit", "100"]).await;
    too_small.expect_code(1);
}
