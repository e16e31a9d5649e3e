//! A gateway that throttles is slow, not broken: apply converges in one run with
//! no failed operation, whether the throttle answer is 429 APIGW.0308 with
//! `Retry-After` or 500 APIG.9008 without it, and APIG.3500 is retried past the
//! retry count of other failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apigsync::api::{Client, ClientOptions, Credentials, Secret, Target};
use apigsync::emulator::{EmulatorConfig, ThrottleAnswer};
use apigsync::model::Flavour;
use axum::Router;
use axum::response::IntoResponse;
use serde_json::json;

use crate::support::cli::*;

/// Responses with `status` across all operations.
fn count_status(w: &World, status: &str) -> u64 {
    w.stats()
        .operations
        .values()
        .filter_map(|by| by.get(status))
        .sum()
}

/// Applies the examples once against `config`; asserts that it succeeded with no
/// failed operation, that the gateway did throttle (`status` answers), and that
/// the plan after it has no changes.
async fn apply_once_under(config: EmulatorConfig, status: &str) {
    let w = World::examples(config).await;
    let apply = w.run("apply", &["--auto-approve"]).await;
    eprintln!("{}", apply.stderr);
    apply.expect_code(0);
    assert!(
        apply.stdout.contains(" 0 failed, 0 not attempted."),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stderr.contains("the gateway is throttling"),
        "the user is told: {}",
        apply.stderr
    );
    let throttled = count_status(&w, status);
    assert!(throttled > 0, "the gateway never throttled");
    w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_at_2_requests_per_second_converges_in_one_run_with_no_failed_operation() {
    let config = EmulatorConfig {
        rate_limit: Some(2.0),
        ..EmulatorConfig::demo()
    };
    apply_once_under(config, "429").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_9008_without_retry_after_is_retried_not_fatal() {
    let config = EmulatorConfig {
        rate_limit: Some(4.0),
        throttle_answer: ThrottleAnswer::Apig9008,
        omit_retry_after: true,
        ..EmulatorConfig::demo()
    };
    apply_once_under(config, "500").await;
}

/// A server that answers 500 APIG.3500 `conflicts` times, then a plug-in.
async fn conflicting_server(conflicts: usize) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = Router::new().fallback(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < conflicts {
                let body = json!({"error_code": "APIG.3500", "error_msg": "Failed to synchronize data to etcd"});
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
            } else {
                axum::Json(json!({
                    "plugin_id": "id1", "plugin_name": "cors_public", "plugin_type": "cors",
                    "plugin_scope": "global", "plugin_content": "{}", "remark": "r"
                }))
                .into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, calls)
}

#[tokio::test]
async fn apig_3500_is_retried() {
    // More conflicts than the retries allowed for other failures: a conflict is
    // retried within the time budget, not a count.
    let options = ClientOptions {
        max_retries: 2,
        retry_base_delay: std::time::Duration::from_millis(1),
        ..ClientOptions::default()
    };
    let conflicts = 6;
    let (endpoint, calls) = conflicting_server(conflicts).await;
    let target = Target::new(Flavour::Apig, &endpoint, "p1", "i1").expect("target");
    let client =
        Client::new(target, Credentials::Token(Secret::new("t")), options).expect("client");
    let plugin = client
        .show_plugin("id1")
        .await
        .expect("retried until it succeeds");
    assert_eq!(plugin.name, "cors_public");
    assert_eq!(calls.load(Ordering::SeqCst), conflicts + 1);
    assert_eq!(client.stats().slow_downs, conflicts as u64);
}
