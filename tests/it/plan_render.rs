//! Renderings of a plan with every operation kind (insta snapshots), and the guarantee that
//! no rendering contains a secret value.

use crate::support::plan::*;
use apigsync::model::{DesiredBinding, Flavour, Live, PluginType, RELEASE_ENV_ID};
use apigsync::plan::{DiffOptions, Plan, PlanTarget, diff, render};
use serde_json::json;

const OLD_KAFKA_PASSWORD: &str = "Old-Kafka-S3cret-4711";
const NEW_KAFKA_PASSWORD: &str = "New-Kafka-S3cret-0815";
const OIDC_SECRET: &str = "Oidc-Client-S3cret-42";

fn oidc(name: &str) -> apigsync::model::DesiredPlugin {
    let mut p = plugin(
        name,
        PluginType::OidcAuth,
        json!({
            "client_id": "shop-web",
            "client_secret": OIDC_SECRET,
            "discovery": "https://idp.example.com/realms/shop/.well-known/openid-configuration",
            "scope": "openid email"
        }),
    );
    p.secrets.insert(
        "/client_secret".to_owned(),
        apigsync::model::SecretSource {
            template: "${OIDC_CLIENT_SECRET}".into(),
            literal: false,
        },
    );
    p
}

/// Live: kafka_orders (old password, short remark), edge (cors), old_cors (pruned),
/// rate_default (bound to two APIs), and an unmanaged console_cors on users_list.
/// Desired: a new cors_public and oidc_shop, kafka_orders updated, edge replaced by a
/// set_resp_headers, rate_default losing one API, old_cors gone.
fn every_kind() -> (Live, Plan) {
    let mut old_kafka = kafka("kafka_orders", OLD_KAFKA_PASSWORD);
    old_kafka.remark = Some("access logs".into());
    let rate = plugin(
        "rate_default",
        PluginType::RateLimit,
        json!({"scope": "basic", "api_limit": 100}),
    );
    let before = desired(
        vec![old_kafka, cors("edge"), cors("old_cors"), rate.clone()],
        vec![
            binding("edge", "RELEASE", &["orders_list", "health"]),
            binding("old_cors", "TEST", &["health"]),
            binding("rate_default", "RELEASE", &["orders_list", "orders_get"]),
        ],
    );
    let mut live = applied(&before, &world());
    // A server that echoes a secret (as it does with ssl_ca_content): the renderings
    // must still never show it.
    if let Some(kafka) = live.plugins.iter_mut().find(|p| p.name == "kafka_orders") {
        kafka.content["sasl_config"]["sasl_password"] = json!(OLD_KAFKA_PASSWORD);
    }
    live.plugins.push(unmanaged(
        "console_cors",
        "cors",
        vec![bound(RELEASE_ENV_ID, "api-users-list")],
    ));

    let mut new_kafka = kafka("kafka_orders", NEW_KAFKA_PASSWORD);
    new_kafka.content["topic"] = json!("apig-access-logs");
    new_kafka.remark = Some(
        "Access logs of the shop APIs, pushed to the central Kafka cluster of the platform team.\nOwner: team-shop"
            .into(),
    );
    let edge = plugin(
        "edge",
        PluginType::SetRespHeaders,
        json!({"response_headers": [{"name": "x-frame-options", "value": "DENY", "value_type": "custom_value", "action": "override"}]}),
    );
    let after = desired(
        vec![
            cors("cors_public"),
            new_kafka,
            edge,
            rate,
            oidc("oidc_shop"),
        ],
        vec![
            DesiredBinding {
                displace: true,
                ..binding(
                    "cors_public",
                    "RELEASE",
                    &["orders_list", "orders_get", "users_list"],
                )
            },
            binding("edge", "RELEASE", &["orders_list", "health"]),
            binding("rate_default", "RELEASE", &["orders_list"]),
        ],
    );
    let opts = DiffOptions {
        prune: true,
        target: PlanTarget {
            flavour: Some(Flavour::Apig),
            instance_id: Some("3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d".into()),
            name: None,
        },
        ..DiffOptions::default()
    };
    let plan = diff(&after, &live, &opts).unwrap();
    (live, plan)
}

#[test]
fn text_rendering_of_every_operation_kind() {
    let (_, plan) = every_kind();
    insta::assert_snapshot!(render::text(&plan, false));
}

#[test]
fn markdown_rendering_of_every_operation_kind() {
    let (live, plan) = every_kind();
    insta::assert_snapshot!(render::markdown(&plan, Some(&live)));
}

#[test]
fn json_rendering_of_every_operation_kind() {
    let (_, plan) = every_kind();
    insta::assert_snapshot!(render::json(&plan));
}

#[test]
fn summary_counts_every_kind_once() {
    let (_, plan) = every_kind();
    assert!(render::text(&plan, false).ends_with(
        "Plan: 2 to create, 1 to update, 1 to replace, 1 to delete; 3 to attach, 2 to detach.\n"
    ));
}

#[test]
fn no_rendering_contains_a_secret_value() {
    let (live, plan) = every_kind();
    // The fake server echoes the old secret: make sure the test would notice a leak.
    assert!(
        serde_json::to_string(&live)
            .unwrap()
            .contains(OLD_KAFKA_PASSWORD)
    );
    let renderings = [
        render::text(&plan, false),
        render::text(&plan, true),
        render::markdown(&plan, Some(&live)),
        render::markdown(&plan, None),
        render::json(&plan),
        serde_json::to_string(&plan).unwrap(),
        format!("{plan:?}"),
    ];
    for rendering in &renderings {
        for secret in [OLD_KAFKA_PASSWORD, NEW_KAFKA_PASSWORD, OIDC_SECRET] {
            assert!(
                !rendering.contains(secret),
                "{secret} leaked into:\n{rendering}"
            );
        }
    }
    assert!(renderings[0].contains("(sensitive value changed)"));
}

#[test]
fn colour_only_when_asked() {
    let (_, plan) = every_kind();
    assert!(!render::text(&plan, false).contains('\u{1b}'));
    assert!(render::text(&plan, true).contains('\u{1b}'));
}

#[test]
fn empty_plan_renders_no_changes() {
    let d = desired(vec![cors("c")], vec![binding("c", "RELEASE", &["health"])]);
    let plan = diff(&d, &applied(&d, &world()), &DiffOptions::default()).unwrap();
    assert_eq!(render::text(&plan, false), "No changes.\n");
    assert_eq!(
        render::markdown(&plan, None),
        "### apigsync plan\n\n**No changes.**\n\n"
    );
}

#[test]
fn markdown_table_cells_survive_pipes_backticks_and_newlines() {
    let p = plugin(
        "c",
        PluginType::Cors,
        json!({"allow_headers": "a|b`c", "expose_headers": "x\ny"}),
    );
    let plan = diff(&desired(vec![p], vec![]), &world(), &DiffOptions::default()).unwrap();
    let md = render::markdown(&plan, None);
    let row = md
        .lines()
        .find(|l| l.contains("content.allow_headers"))
        .unwrap();
    // Backticks survive in a longer code span; the pipe is escaped for the table.
    assert_eq!(row, "| `content.allow_headers` | `` \"a\\|b`c\" `` |");
    assert!(
        md.contains("```diff\n--- live\n+++ desired\n@@ -0,0 +1,2 @@\n+x\n+y\n```"),
        "{md}"
    );
}

#[test]
fn markdown_calls_out_destructive_changes_first_with_old_values() {
    let (live, plan) = every_kind();
    let md = render::markdown(&plan, Some(&live));
    assert_eq!(md.matches("### ").count(), 1, "one heading:\n{md}");
    let caution = md.find("> [!CAUTION]").expect("a caution callout");
    let table = md.find("| plug-in | type |").expect("an overview table");
    assert!(caution < table, "{md}");
    for line in [
        "> - **delete** `old_cors` (cors)",
        "> - **replace** `edge` (cors → set_resp_headers)",
        "> - **detach** `rate_default` (rate_limit): APIs that lose it: RELEASE: `orders_get`",
    ] {
        assert!(md.contains(line), "{line:?} missing:\n{md}");
    }
    // One section per plug-in, destructive ones before the rest.
    let section = |name: &str| {
        md.find(&format!("<code>{name}</code> ("))
            .unwrap_or_else(|| panic!("no section of {name}"))
    };
    assert_eq!(md.matches("<code>edge</code> (").count(), 1);
    assert!(section("old_cors") < section("cors_public"));
    // Old values of a deleted plug-in; a changed secret says so, its values never shown.
    assert!(md.contains("| field | old value |\n|---|---|\n| `content.allow_origin` | `\"*\"` |"));
    assert!(md.contains(
        "| `content.sasl_config.sasl_password` | (sensitive) | **(sensitive value changed)** |"
    ));
}
