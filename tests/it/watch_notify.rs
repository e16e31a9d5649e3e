//! `watch --notify`: CloudEvents and Slack messages from the real binary to a receiver in
//! the test. The same drift is sent once however many reconciles see it, and names the
//! plug-in, the field and its values, never a secret.

use serde_json::{Value, json};

use crate::support::cli::{EXAMPLE_SECRET, World};
use crate::support::watch::{eventually, start_watch};
use crate::support::webhook::Webhook;

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_console_edit_over_ten_reconciles_sends_one_drift_event_naming_plugin_and_field() {
    let world = World::demo_examples().await;
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let hook = Webhook::start().await;
    let (ce, slack) = (
        format!("{}/ce", hook.url),
        format!("slack+{}/slack", hook.url),
    );
    let flags = [
        "--interval",
        "1s",
        "--sync",
        "files",
        "--notify",
        &ce,
        "--notify",
        &slack,
    ];
    let watch = start_watch(&world, &world.dir(), &flags);
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    world
        .change_content("cors_public", |c| c["max_age"] = json!(60))
        .await;
    let seen = watch.successes().await;
    eventually("ten more reconciles", async || {
        watch.successes().await >= seen + 10.0
    })
    .await;
    let received = hook.received();
    for r in &received {
        assert!(
            !r.body.contains(EXAMPLE_SECRET.1),
            "a notification holds a secret: {}",
            r.body
        );
    }
    let events: Vec<Value> = received
        .iter()
        .filter(|r| r.path == "/ce")
        .map(|r| {
            assert_eq!(r.content_type, "application/cloudevents+json");
            serde_json::from_str(&r.body).expect("JSON")
        })
        .collect();
    let drift = of_type(&events, "io.apigsync.drift.detected");
    assert_eq!(drift.len(), 1, "one drift event: {events:#?}");
    let event = drift[0];
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["datacontenttype"], "application/json");
    assert!(event["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(
        event["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("/apigsync/watch/"))
    );
    assert!(event["time"].as_str().is_some_and(|t| t.contains('T')));
    assert_eq!(event["subject"], event["data"]["target"]);
    assert_eq!(event["data"]["plugins"], json!(["cors_public"]));
    let change = &event["data"]["changes"][0];
    assert_eq!(change["cause"], "drift");
    assert_eq!(change["operation"], "update plug-in cors_public");
    assert_eq!(
        change["fields"],
        json!([{"path": "/content/max_age", "old": "60", "new": "600"}])
    );
    let slack: Vec<Value> = received
        .iter()
        .filter(|r| r.path == "/slack")
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect();
    let drift_messages: Vec<&Value> = slack
        .iter()
        .filter(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.contains("drift detected"))
        })
        .collect();
    assert_eq!(drift_messages.len(), 1, "{slack:#?}");
    let blocks = drift_messages[0]["blocks"].to_string();
    assert!(
        blocks.contains("cors_public") && blocks.contains("/content/max_age"),
        "{blocks}"
    );
    assert!(
        watch
            .metric("apigsync_notifications_total{result=\"sent\"}")
            .await
            >= 2.0
    );
}
