//! Kubernetes Events of `watch` in a cluster: posted to the API server (the in-test one),
//! regarding the Pod the downward API names, naming the drifted plug-in and field.

use serde_json::json;

use crate::support::cli::{EXAMPLE_SECRET, World};
use crate::support::lease::LeaseServer;
use crate::support::watch::{eventually, start_named_watch};

#[tokio::test(flavor = "multi_thread")]
async fn a_console_edit_posts_one_drift_event_regarding_the_pod() {
    let world = World::demo_examples().await;
    world.run("apply", &["--auto-approve"]).await.expect_code(0);
    let api = LeaseServer::start().await;
    let kubeconfig = api.kubeconfig(world.tmp.path());
    let env = [
        ("KUBECONFIG", kubeconfig.to_str().expect("UTF-8 path")),
        ("POD_NAME", "apigsync-5d8f-x2x"),
        ("POD_NAMESPACE", "gateway-ops"),
    ];
    let flags = ["--interval", "1s", "--sync", "files"];
    let watch = start_named_watch(&world, &world.dir(), &flags, "watch", &env);
    eventually("first reconcile", async || watch.successes().await >= 1.0).await;
    world
        .change_content("cors_public", |c| c["max_age"] = json!(60))
        .await;
    let drifted = |events: &[(String, serde_json::Value)]| {
        events
            .iter()
            .filter(|(_, e)| e["reason"] == "DriftDetected")
            .cloned()
            .collect::<Vec<_>>()
    };
    eventually("a drift Event is posted", async || {
        !drifted(&api.events()).is_empty()
    })
    .await;
    let seen = watch.successes().await;
    eventually("three more reconciles", async || {
        watch.successes().await >= seen + 3.0
    })
    .await;
    let events = api.events();
    let drift = drifted(&events);
    assert_eq!(drift.len(), 1, "one drift Event: {events:#?}");
    let (namespace, event) = &drift[0];
    assert_eq!(namespace, "gateway-ops");
    assert_eq!(event["apiVersion"], "events.k8s.io/v1");
    assert_eq!(event["kind"], "Event");
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["action"], "Reconcile");
    assert_eq!(event["reportingController"], "apigsync.io/watch");
    assert_eq!(event["reportingInstance"], "apigsync-5d8f-x2x");
    assert_eq!(event["metadata"]["generateName"], "apigsync-5d8f-x2x.");
    assert_eq!(
        event["regarding"],
        json!({"apiVersion": "v1", "kind": "Pod", "name": "apigsync-5d8f-x2x", "namespace": "gateway-ops"})
    );
    assert!(event["eventTime"].as_str().is_some_and(|t| t.contains('T')));
    let note = event["note"].as_str().expect("note");
    assert!(
        note.contains("drift detected") && note.contains("cors_public /content/max_age: 60 -> 600"),
        "{note}"
    );
    for (_, e) in &events {
        assert!(!e.to_string().contains(EXAMPLE_SECRET.1), "a secret in {e}");
    }
}
