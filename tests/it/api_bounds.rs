//! The client does not trust the server's sizes or timing: lists stop at a short page or
//! at apigsync's caps whatever `total` says, answers are read up to a size limit, a call
//! that never answers times out naming itself, a delete right after a detach waits for
//! the binding to settle, and rotated credential files are read again after a 401.

use std::time::Duration;

use apigsync::api::{
    ApiError, ClientOptions, CredentialSource, ErrorKind, MAX_LIST_PAGES, Override, Part,
};
use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::{Value, json};

use crate::api_client::{AK, Recorded, fast, page, plugin_json, reply, serve};

/// The `offset` of a page request.
fn offset(r: &Recorded) -> usize {
    apigsync::signing::parse_query(&r.query)
        .into_iter()
        .find(|(k, _)| k == "offset")
        .map_or(0, |(_, v)| v.parse().unwrap())
}

fn plugins(from: usize, n: usize) -> Vec<Value> {
    (from..from + n)
        .map(|i| plugin_json(&format!("id{i}"), &format!("p{i:05}")))
        .collect()
}

#[tokio::test]
async fn a_total_of_a_billion_is_refused_after_one_request_naming_the_call_and_cap() {
    let h = serve(|r, _| reply(200, page("plugins", plugins(offset(r), 1), 1_000_000_000))).await;
    let err = h.client(fast()).list_plugins().await.unwrap_err();
    assert!(matches!(err, ApiError::TooLong { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "listing plug-ins: GET /plugins says total 1000000000, more than apigsync reads of one list (at most 100000 items)"
    );
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(h.requests().len(), 1);
}

#[tokio::test]
async fn a_server_paging_in_ones_without_total_stops_at_the_page_cap() {
    let h = serve(|r, _| reply(200, json!({"plugins": plugins(offset(r), 1)}))).await;
    let err = h.client(fast()).list_plugins().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "listing plug-ins: GET /plugins sent 1000 items in 1000 pages and more, more than apigsync reads of one list (at most 1000 pages)"
    );
    assert_eq!(h.requests().len(), MAX_LIST_PAGES);
}

#[tokio::test]
async fn without_total_three_full_pages_and_a_short_one_are_all_read() {
    let h = serve(|r, _| {
        let from = offset(r);
        let n = if from < 1500 { 500 } else { 7 };
        reply(200, json!({"size": n, "plugins": plugins(from, n)}))
    })
    .await;
    let listed = h.client(fast()).list_plugins().await.unwrap();
    assert_eq!(listed.len(), 1507);
    assert_eq!(listed[1506].name, "p01506");
    let offsets: Vec<usize> = h.requests().iter().map(offset).collect();
    assert_eq!(offsets, [0, 500, 1000, 1500]);
}

#[tokio::test]
async fn a_short_page_ends_the_list_even_when_total_says_more() {
    let h = serve(|r, _| {
        let from = offset(r);
        let n = if from == 0 { 500 } else { 3 };
        reply(200, page("plugins", plugins(from, n), 5000))
    })
    .await;
    let listed = h.client(fast()).list_plugins().await.unwrap();
    assert_eq!(listed.len(), 503);
    assert!(h.requests().len() <= 5, "{} requests", h.requests().len());
}

/// Options with a small answer limit.
fn limited(max_answer_bytes: u64) -> ClientOptions {
    ClientOptions {
        max_answer_bytes,
        max_retries: 0,
        ..fast()
    }
}

#[tokio::test]
async fn an_answer_streamed_past_the_limit_is_refused_without_reading_it_whole() {
    // 64 KiB chunks without end and without a length: only the limit stops the read.
    let h = serve(|_, _| {
        let chunk = Bytes::from(vec![b' '; 64 * 1024]);
        let endless = futures_util::StreamExt::map(futures_util::stream::repeat(chunk), |c| {
            Ok::<_, std::io::Error>(c)
        });
        Response::builder()
            .status(200)
            .body(Body::from_stream(endless))
            .unwrap()
    })
    .await;
    let err = h
        .client(limited(1024 * 1024))
        .show_plugin("id1")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "reading plug-in id1: the answer to GET /plugins/{plugin_id} is larger than 1048576 bytes, the most apigsync reads of one answer"
    );
}

#[tokio::test]
async fn an_answer_of_exactly_the_limit_is_read() {
    let limit = 4096;
    let h = serve(move |_, _| {
        let mut plugin = plugin_json("id1", "p1");
        plugin["remark"] = json!("");
        let padding = limit - plugin.to_string().len();
        plugin["remark"] = json!("x".repeat(padding));
        let text = plugin.to_string();
        assert_eq!(text.len(), limit);
        Response::builder()
            .status(200)
            .body(Body::from(text))
            .unwrap()
    })
    .await;
    let client = h.client(limited(limit as u64));
    assert_eq!(client.show_plugin("id1").await.unwrap().name, "p1");
    let over = h.client(limited(limit as u64 - 1));
    assert!(matches!(
        over.show_plugin("id1").await.unwrap_err(),
        ApiError::TooLarge { limit: 4095, .. }
    ));
}

#[tokio::test]
async fn a_call_that_never_answers_times_out_naming_the_call() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = ClientOptions {
        timeout: Duration::from_millis(200),
        max_retries: 0,
        ..fast()
    };
    let client = apigsync::api::Client::new(
        apigsync::api::Target::new(apigsync::model::Flavour::Apig, &endpoint, "p1", "i1").unwrap(),
        apigsync::api::Credentials::Token(apigsync::api::Secret::new("t")),
        options,
    )
    .unwrap();
    let err = client.delete_plugin("id7").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "deleting plug-in id7: DELETE /plugins/{plugin_id} gave no complete answer within 200ms (the per-call timeout)"
    );
    assert_eq!(err.kind(), ErrorKind::Transient);
}

fn still_bound() -> Response {
    reply(
        409,
        json!({"error_code": "APIG.3462", "error_msg": "The plugin has been attached to the APIs"}),
    )
}

#[tokio::test]
async fn a_delete_still_bound_right_after_a_detach_is_retried_until_it_settles() {
    let h = serve(|_, i| {
        if i < 2 {
            still_bound()
        } else {
            Response::builder().status(204).body(Body::empty()).unwrap()
        }
    })
    .await;
    h.client(fast()).delete_plugin("id1").await.unwrap();
    assert_eq!(h.requests().len(), 3);
}

#[tokio::test]
async fn a_delete_still_bound_after_the_budget_says_how_long_it_tried() {
    let h = serve(|_, _| still_bound()).await;
    let options = ClientOptions {
        retry_budget: Duration::from_millis(30),
        ..fast()
    };
    let err = h.client(options).delete_plugin("id1").await.unwrap_err();
    let ApiError::StillBound { attempts, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(*attempts >= 2, "retried: {err}");
    let text = err.to_string();
    assert!(
        text.starts_with("deleting plug-in id1: 409 APIG.3462: the plug-in is still bound to APIs after retrying for "),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(h.requests().len() as u32, *attempts);
}

const OLD_SK: &str = "old-secret";
const NEW_SK: &str = "new-secret-rotated";

/// A server that accepts only signatures made with [`NEW_SK`].
fn new_key_only(r: &Recorded, _: usize) -> Response {
    match r.verify_with(NEW_SK) {
        Ok(()) => reply(200, plugin_json("id1", "p1")),
        Err(_) => reply(
            401,
            json!({"error_code": "APIGW.0301", "error_msg": "verify aksk signature fail, canonicalRequest:GET|/v2/p1|"}),
        ),
    }
}

fn file_source(file: &std::path::Path) -> CredentialSource {
    let lookup = |name: &str| (name == "HW_ACCESS_KEY").then(|| AK.to_string());
    let flags = [(
        Part::SecretKey,
        "HW_SECRET_KEY_FILE",
        Override::File(file.to_path_buf()),
    )];
    CredentialSource::from_env(&lookup, None, &flags).unwrap()
}

#[tokio::test]
async fn a_401_reads_a_rotated_secret_key_file_and_sends_once_more() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sk");
    std::fs::write(&file, OLD_SK).unwrap();
    let h = serve(new_key_only).await;
    let client = h.client_with(file_source(&file), fast());
    // Rotated after the client read it (and within its check interval).
    std::fs::write(&file, NEW_SK).unwrap();
    assert_eq!(client.show_plugin("id1").await.unwrap().name, "p1");
    assert_eq!(h.requests().len(), 2);
}

#[tokio::test]
async fn a_401_with_unchanged_files_names_where_the_key_came_from_and_is_not_resent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sk");
    std::fs::write(&file, OLD_SK).unwrap();
    let h = serve(new_key_only).await;
    let err = h
        .client_with(file_source(&file), fast())
        .show_plugin("id1")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "reading plug-in id1: 401 APIGW.0301: the signature does not verify: the secret key does not belong to the access key; check HW_SECRET_KEY_FILE ({}), HW_ACCESS_KEY (request req-401)",
            file.display()
        )
    );
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(
        h.requests().len(),
        1,
        "a futile resend counts towards IAM's lock"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_key_names_hw_secret_key_and_never_the_canonical_request() {
    let mut world = crate::support::cli::World::demo_examples().await;
    world
        .env
        .insert("HW_SECRET_KEY".into(), "not-the-demo-secret".into());
    let out = world.run("plan", &[]).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("check HW_SECRET_KEY, HW_ACCESS_KEY"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("the secret key does not belong to the access key"),
        "{}",
        out.stderr
    );
    let lower = out.stderr.to_lowercase();
    assert!(!lower.contains("canonical"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("not-the-demo-secret"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_project_id_names_the_project_id() {
    let world = crate::support::cli::World::demo_examples().await;
    let mut args = vec!["plan".to_string(), world.dir().display().to_string()];
    let mut flags = world.target_flags();
    let at = flags.iter().position(|f| f == "--project-id").unwrap();
    flags[at + 1] = "0000000000000000000000000000dead".into();
    args.extend(flags);
    let out = world.run_raw(args).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "404 APIG.3030: no such instance in this project; check the target's project id \"0000000000000000000000000000dead\" and instance id"
        ),
        "{}",
        out.stderr
    );
}
