//! The API client against small in-test axum servers: what goes on the wire
//! (signature, canonical query, headers), retries, create ambiguity, pagination,
//! error classification and secrecy.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigsync::api::{
    ApiError, Client, ClientOptions, CredentialSource, Credentials, PluginBody, Secret, Target,
};
use apigsync::model::{Flavour, PluginType, Scope};
use apigsync::signing;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

pub(crate) const AK: &str = "AKTESTEXAMPLE0000001";
pub(crate) const SK: &str = "SKtestExampleSecretKey-do-not-leak";
const PREFIX: &str = "/v2/p1/apigw/instances/i1";

/// One request as the server received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    at: tokio::time::Instant,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Verifies the SDK-HMAC-SHA256 signature the way the emulator does.
    fn verify(&self) -> Result<(), String> {
        self.verify_with(SK)
    }

    /// Verifies the signature as made with the secret key `sk`.
    pub(crate) fn verify_with(&self, sk: &str) -> Result<(), String> {
        let auth = self
            .header("authorization")
            .and_then(signing::parse_authorization)
            .ok_or("no SDK-HMAC-SHA256 Authorization header")?;
        let query = signing::parse_query(&self.query);
        let req = signing::Request {
            method: &self.method,
            path: &self.path,
            query: &query,
            headers: &self.headers,
            body: &self.body,
        };
        signing::verify(&req, &auth, sk).map_err(|m| m.canonical_request)
    }
}

type Respond = dyn Fn(&Recorded, usize) -> Response + Send + Sync;

struct Server {
    requests: Mutex<Vec<Recorded>>,
    respond: Box<Respond>,
    delay: Duration,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub(crate) struct Harness {
    server: Arc<Server>,
    pub(crate) endpoint: String,
}

impl Harness {
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.server.requests.lock().unwrap().clone()
    }

    pub(crate) fn client(&self, options: ClientOptions) -> Client {
        let credentials = Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new(SK),
            security_token: None,
        };
        self.client_with(credentials, options)
    }

    pub(crate) fn client_with(
        &self,
        credentials: impl Into<CredentialSource>,
        options: ClientOptions,
    ) -> Client {
        let target = Target {
            flavour: Flavour::Apig,
            endpoint: self.endpoint.parse().unwrap(),
            project_id: "p1".into(),
            instance_id: "i1".into(),
        };
        Client::new(target, credentials, options).unwrap()
    }
}

async fn handle(State(server): State<Arc<Server>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap().to_vec();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect(),
        body,
        at: tokio::time::Instant::now(),
    };
    let index = {
        let mut requests = server.requests.lock().unwrap();
        requests.push(recorded.clone());
        requests.len() - 1
    };
    let now = server.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    server.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if !server.delay.is_zero() {
        tokio::time::sleep(server.delay).await;
    }
    server.in_flight.fetch_sub(1, Ordering::SeqCst);
    (server.respond)(&recorded, index)
}

async fn serve_with_delay(
    delay: Duration,
    respond: impl Fn(&Recorded, usize) -> Response + Send + Sync + 'static,
) -> Harness {
    let server = Arc::new(Server {
        requests: Mutex::new(Vec::new()),
        respond: Box::new(respond),
        delay,
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let app = Router::new().fallback(handle).with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Harness { server, endpoint }
}

pub(crate) async fn serve(
    respond: impl Fn(&Recorded, usize) -> Response + Send + Sync + 'static,
) -> Harness {
    serve_with_delay(Duration::ZERO, respond).await
}

pub(crate) fn reply(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-request-id", format!("req-{status}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

pub(crate) fn plugin_json(id: &str, name: &str) -> Value {
    json!({
        "plugin_id": id, "plugin_name": name, "plugin_type": "cors", "plugin_scope": "global",
        "plugin_content": "{\"allow_origin\":\"*\"}", "remark": "r",
        "create_time": "2024-01-02T03:04:05.123Z", "update_time": "2024-01-02T03:04:05.123Z"
    })
}

pub(crate) fn page(key: &str, items: Vec<Value>, total: usize) -> Value {
    json!({"total": total, "size": items.len(), key: items})
}

pub(crate) fn fast() -> ClientOptions {
    ClientOptions {
        retry_base_delay: Duration::from_millis(1),
        ..ClientOptions::default()
    }
}

fn body(name: &str) -> PluginBody {
    PluginBody {
        plugin_name: name.into(),
        plugin_type: PluginType::Cors,
        plugin_scope: Scope::Global,
        plugin_content: json!({"allow_origin": "*"}),
        remark: Some("r".into()),
        roma_app_id: None,
    }
}

#[tokio::test]
async fn signature_verifies_and_the_query_sent_is_the_canonical_one() {
    let h = serve(|_, _| {
        reply(
            200,
            page(
                "plugins",
                vec![
                    plugin_json("id1", "插件 a/b x"),
                    plugin_json("id2", "插件 a/b"),
                ],
                2,
            ),
        )
    })
    .await;
    let found = h
        .client(fast())
        .find_plugin_by_name("插件 a/b")
        .await
        .unwrap();
    assert_eq!(found.map(|p| p.id), Some("id2".to_string()));

    let [r] = h.requests().try_into().unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, format!("{PREFIX}/plugins"));
    assert_eq!(
        r.query,
        "limit=500&offset=0&plugin_name=%E6%8F%92%E4%BB%B6%20a%2Fb&precise_search=plugin_name"
    );
    r.verify().unwrap();
    assert_eq!(r.header("x-project-id"), Some("p1"));
    assert_eq!(
        r.header("host"),
        Some(h.endpoint.trim_start_matches("http://"))
    );
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.contains("SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date,"),
        "{auth}"
    );
}

#[tokio::test]
async fn a_create_body_is_signed_and_sent_as_json_with_content_as_text() {
    let h = serve(|r, _| {
        let mut created = plugin_json("new1", "cors_public");
        created["plugin_content"] = r.json()["plugin_content"].clone();
        reply(201, created)
    })
    .await;
    let created = h
        .client(fast())
        .create_plugin(&body("cors_public"))
        .await
        .unwrap();
    assert_eq!(created.id, "new1");
    assert_eq!(created.content, json!({"allow_origin": "*"}));

    let [r] = h.requests().try_into().unwrap();
    r.verify().unwrap();
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=utf-8")
    );
    assert_eq!(
        r.json(),
        json!({"plugin_name": "cors_public", "plugin_type": "cors", "plugin_scope": "global",
               "plugin_content": "{\"allow_origin\":\"*\"}", "remark": "r"})
    );
}

#[tokio::test]
async fn token_auth_sends_the_token_and_no_signature() {
    let h = serve(|_, _| reply(200, page("envs", vec![], 0))).await;
    let client = h.client_with(Credentials::Token(Secret::new("iam-token-secret")), fast());
    client.list_envs().await.unwrap();
    let [r] = h.requests().try_into().unwrap();
    assert_eq!(r.header("x-auth-token"), Some("iam-token-secret"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("x-sdk-date"), None);
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_quickly_until_the_answers_show_saturation_then_after_retry_after() {
    let h = serve(|_, i| {
        if i < 8 {
            let mut r = reply(
                429,
                json!({"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached", "request_id": "rq"}),
            );
            r.headers_mut().insert("retry-after", "30".parse().unwrap());
            r
        } else {
            reply(200, page("envs", vec![json!({"id": "e1", "name": "RELEASE"})], 1))
        }
    })
    .await;
    let options = ClientOptions {
        // Paused time jumps to the next timer when idle: keep the request timeout out of the way.
        timeout: Duration::from_secs(86_400),
        retry_base_delay: Duration::from_millis(1),
        ..ClientOptions::default()
    };
    let client = h.client(options);
    let envs = client.list_envs().await.unwrap();
    assert_eq!(envs.len(), 1);

    // A few refusals are shedding: the call goes back through the limiter after
    // 100 ms, 200 ms, … (doubling). Eight refused answers of eight are a rate limit:
    // from then on the Retry-After is honoured.
    let at: Vec<_> = h.requests().iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 9);
    for (n, pair) in at.windows(2).take(7).enumerate() {
        let most = Duration::from_millis(100 * 2u64.pow(n as u32));
        assert!(
            pair[1] - pair[0] <= most,
            "retry {n}: {:?}",
            pair[1] - pair[0]
        );
    }
    assert!(at[8] - at[7] >= Duration::from_secs(30));
    let stats = client.stats();
    assert_eq!(stats.retries, 8);
    assert_eq!(
        stats.calls_by_op_status[&("list_environments_v2".to_string(), 429)],
        8
    );
    assert_eq!(
        stats.calls_by_op_status[&("list_environments_v2".to_string(), 200)],
        1
    );
}

#[tokio::test]
async fn every_retry_is_signed_afresh() {
    let h = serve(|_, i| {
        if i == 0 {
            // A transient error other than a slow-down waits its Retry-After, so the
            // retry's X-Sdk-Date (whole seconds) is another.
            let mut r = reply(
                503,
                json!({"error_code": "APIG.9999", "error_msg": "System error"}),
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            r
        } else {
            reply(200, plugin_json("id1", "cors_public"))
        }
    })
    .await;
    h.client(fast()).show_plugin("id1").await.unwrap();
    let [first, second] = h.requests().try_into().unwrap();
    first.verify().unwrap();
    second.verify().unwrap();
    assert_ne!(first.header("x-sdk-date"), second.header("x-sdk-date"));
    assert_ne!(
        first.header("authorization"),
        second.header("authorization")
    );
}

#[tokio::test]
async fn transient_server_errors_on_reads_are_retried_until_success() {
    let h = serve(|_, i| match i {
        0 => reply(
            500,
            json!({"error_code": "APIG.9008", "error_msg": "Too many requests"}),
        ),
        1 => Response::builder()
            .status(502)
            .body(Body::from("<html>bad gateway</html>"))
            .unwrap(),
        _ => reply(200, plugin_json("id1", "cors_public")),
    })
    .await;
    let client = h.client(fast());
    let p = client.show_plugin("id1").await.unwrap();
    assert_eq!(p.name, "cors_public");
    assert_eq!(h.requests().len(), 3);
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn retries_stop_after_max_retries_with_the_last_error() {
    let h = serve(|_, _| {
        reply(
            503,
            json!({"error_code": "APIG.9999", "error_msg": "System error"}),
        )
    })
    .await;
    let options = ClientOptions {
        max_retries: 2,
        ..fast()
    };
    let err = h.client(options).show_plugin("id1").await.unwrap_err();
    assert_eq!(h.requests().len(), 3);
    assert_eq!(err.code(), Some("APIG.9999"));
    assert_eq!(
        err.to_string(),
        "reading plug-in id1: 503 APIG.9999 System error (request req-503)"
    );
}

#[tokio::test]
async fn a_400_is_final_and_reported_with_code_message_and_request_id() {
    let h = serve(|_, _| {
        reply(
            400,
            json!({"error_code": "APIG.3326", "error_msg": "The plugin name already exists"}),
        )
    })
    .await;
    let client = h.client(fast());
    let err = client
        .create_plugin(&body("cors_public"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"creating plug-in "cors_public": 400 APIG.3326 The plugin name already exists (request req-400)"#
    );
    assert!(matches!(err, ApiError::Response { status: 400, .. }));
    assert_eq!(h.requests().len(), 1);
    assert_eq!(client.stats().retries, 0);
}

/// A fake plug-in store for the create-ambiguity tests.
#[derive(Default)]
struct Store {
    plugins: Mutex<Vec<Value>>,
    posts: AtomicUsize,
}

#[tokio::test]
async fn a_create_that_committed_before_the_connection_dropped_is_found_not_duplicated() {
    let store = Arc::new(Store::default());
    let s = store.clone();
    let h = serve(move |r, _| {
        if r.method == "POST" {
            s.posts.fetch_add(1, Ordering::SeqCst);
            s.plugins
                .lock()
                .unwrap()
                .push(plugin_json("committed1", "cors_public"));
            // The server commits, then its connection task dies before answering.
            panic!("simulated crash after commit (expected in this test)");
        }
        let plugins = s.plugins.lock().unwrap().clone();
        let total = plugins.len();
        reply(200, page("plugins", plugins, total))
    })
    .await;
    let created = h
        .client(fast())
        .create_plugin(&body("cors_public"))
        .await
        .unwrap();
    assert_eq!(created.id, "committed1");
    assert_eq!(store.posts.load(Ordering::SeqCst), 1);
    assert_eq!(store.plugins.lock().unwrap().len(), 1);
    let methods: Vec<String> = h.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET"]);
}

#[tokio::test]
async fn a_create_that_failed_without_committing_is_sent_again() {
    let store = Arc::new(Store::default());
    let s = store.clone();
    let h = serve(move |r, _| {
        if r.method == "POST" {
            if s.posts.fetch_add(1, Ordering::SeqCst) == 0 {
                return reply(
                    500,
                    json!({"error_code": "APIG.9999", "error_msg": "System error"}),
                );
            }
            s.plugins
                .lock()
                .unwrap()
                .push(plugin_json("second1", "cors_public"));
            return reply(201, plugin_json("second1", "cors_public"));
        }
        let plugins = s.plugins.lock().unwrap().clone();
        let total = plugins.len();
        reply(200, page("plugins", plugins, total))
    })
    .await;
    let created = h
        .client(fast())
        .create_plugin(&body("cors_public"))
        .await
        .unwrap();
    assert_eq!(created.id, "second1");
    let methods: Vec<String> = h.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET", "POST"]);
    assert_eq!(store.plugins.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn name_exists_after_an_ambiguous_create_resolves_to_the_committed_plugin() {
    // The first create commits but answers 500, and the list lags behind: the first
    // three look-ups miss it, each retry gets "name exists", the fourth look-up finds it.
    let store = Arc::new(Store::default());
    let lists = AtomicUsize::new(0);
    let s = store.clone();
    let h = serve(move |r, _| match r.method.as_str() {
        "POST" if s.posts.fetch_add(1, Ordering::SeqCst) == 0 => reply(
            500,
            json!({"error_code": "APIG.9999", "error_msg": "System error"}),
        ),
        "POST" => reply(
            400,
            json!({"error_code": "APIG.3326", "error_msg": "The plugin name already exists"}),
        ),
        _ => {
            let visible = if lists.fetch_add(1, Ordering::SeqCst) < 3 {
                vec![]
            } else {
                vec![plugin_json("late1", "cors_public")]
            };
            let total = visible.len();
            reply(200, page("plugins", visible, total))
        }
    })
    .await;
    let created = h
        .client(fast())
        .create_plugin(&body("cors_public"))
        .await
        .unwrap();
    assert_eq!(created.id, "late1");
    let methods: Vec<String> = h.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(
        methods,
        ["POST", "GET", "POST", "GET", "POST", "GET", "POST", "GET"]
    );
}

/// Serves `n` plug-ins honouring `offset` and `limit`, with `limit` clamped to `max_limit`.
fn paging_server(n: usize, max_limit: usize) -> impl Fn(&Recorded, usize) -> Response {
    move |r, _| {
        let q = signing::parse_query(&r.query);
        let get = |k: &str| {
            q.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.parse::<usize>().unwrap())
        };
        let offset = get("offset").unwrap_or(0);
        let limit = get("limit").unwrap_or(20).min(max_limit);
        let items = (offset..n.min(offset + limit))
            .map(|i| plugin_json(&format!("id{i}"), &format!("p{i:04}")))
            .collect();
        reply(200, page("plugins", items, n))
    }
}

#[tokio::test]
async fn pagination_walks_every_page_of_500() {
    let h = serve(paging_server(1203, 500)).await;
    let plugins = h.client(fast()).list_plugins().await.unwrap();
    assert_eq!(plugins.len(), 1203);
    assert_eq!(plugins[1202].name, "p1202");
    let mut queries: Vec<String> = h.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        queries[0], "limit=500&offset=0",
        "the first page comes first"
    );
    queries.sort();
    assert_eq!(
        queries,
        [
            "limit=500&offset=0",
            "limit=500&offset=1000",
            "limit=500&offset=500"
        ]
    );
}

#[tokio::test]
async fn pages_after_the_first_are_fetched_in_parallel_and_kept_in_order() {
    let h = serve_with_delay(Duration::from_millis(200), paging_server(2100, 500)).await;
    let plugins = h.client(fast()).list_plugins().await.unwrap();
    let names: Vec<String> = plugins.iter().map(|p| p.name.clone()).collect();
    let expected: Vec<String> = (0..2100).map(|i| format!("p{i:04}")).collect();
    assert_eq!(names, expected);
    assert_eq!(h.requests().len(), 5);
    // The four pages after the first overlap (one by one, this would be 1).
    let overlap = h.server.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&overlap), "{overlap} in flight");
}

#[tokio::test]
async fn pagination_follows_total_when_the_server_pages_smaller() {
    let h = serve(paging_server(250, 100)).await;
    let plugins = h.client(fast()).list_plugins().await.unwrap();
    assert_eq!(plugins.len(), 250);
    assert_eq!(h.requests().len(), 3);
}

#[tokio::test]
async fn errors_are_classified_as_response_decode_or_transport() {
    let h = serve(|r, _| {
        if r.path.ends_with("/gone") {
            reply(
                404,
                json!({"error_code": "APIG.3068", "error_msg": "Plugin gone does not exist"}),
            )
        } else {
            Response::builder()
                .status(200)
                .body(Body::from("<html>maintenance</html>"))
                .unwrap()
        }
    })
    .await;
    let client = h.client(fast());

    let not_found = client.show_plugin("gone").await.unwrap_err();
    assert!(not_found.is_not_found());
    assert!(matches!(not_found, ApiError::Response { .. }));
    client.delete_plugin("gone").await.unwrap();

    let undecodable = client.show_plugin("x").await.unwrap_err();
    assert!(matches!(undecodable, ApiError::Decode { status: 200, .. }));
    assert_eq!(
        undecodable.to_string(),
        "reading plug-in x: could not decode the 200 response: not JSON: <html>maintenance</html>"
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let unreachable = Harness {
        server: h.server.clone(),
        endpoint: closed,
    }
    .client(ClientOptions {
        max_retries: 1,
        ..fast()
    });
    let err = unreachable.list_envs().await.unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }));
    assert_eq!(
        err.to_string(),
        "listing environments: could not connect to the API"
    );
    assert_eq!(
        unreachable.stats().calls_by_op_status[&("list_environments_v2".to_string(), 0)],
        2
    );
}

#[tokio::test]
async fn attach_refuses_more_than_500_ids_without_a_call() {
    let h = serve(|_, _| reply(201, json!({"attached_plugins": []}))).await;
    let ids: Vec<String> = (0..501).map(|i| format!("api{i}")).collect();
    let err = h
        .client(fast())
        .attach_apis("p", "e", &ids)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Invalid { .. }));
    assert!(err.to_string().contains("501 API ids given"), "{err}");
    assert!(h.requests().is_empty());
}

#[tokio::test]
async fn attach_and_detach_of_one_plugin_and_env_never_overlap() {
    let h = serve_with_delay(Duration::from_millis(20), |r, _| {
        if r.method == "POST" {
            let api = r.json()["api_ids"][0].clone();
            reply(
                201,
                json!({"attached_plugins": [{"plugin_id": "p1", "env_id": "e1", "api_id": api}]}),
            )
        } else {
            Response::builder().status(204).body(Body::empty()).unwrap()
        }
    })
    .await;
    let client = h.client(fast());
    let ids: Vec<Vec<String>> = (1..=4).map(|i| vec![format!("a{i}")]).collect();
    let (a, b, c, d) = tokio::join!(
        client.attach_apis("p1", "e1", &ids[0]),
        client.detach_apis("p1", "e1", &ids[1]),
        client.attach_apis("p1", "e1", &ids[2]),
        client.detach_apis("p1", "e1", &ids[3]),
    );
    assert_eq!(a.unwrap()[0].api_id, "a1");
    b.unwrap();
    c.unwrap();
    d.unwrap();
    assert_eq!(h.requests().len(), 4);
    assert_eq!(h.server.max_in_flight.load(Ordering::SeqCst), 1);
    for r in h.requests() {
        r.verify().unwrap();
        assert_eq!(r.json()["env_id"], "e1");
    }
}

/// A `MakeWriter` into a shared buffer, to read what the client logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_appear_in_no_debug_output_log_line_or_error() {
    let h = serve(|r, _| {
        if r.method == "POST" {
            reply(
                400,
                json!({"error_code": "APIG.2012", "error_msg": "Invalid parameter value"}),
            )
        } else {
            reply(200, page("plugins", vec![plugin_json("id1", "p1")], 1))
        }
    })
    .await;
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sts = "sts-token-do-not-leak";
    let client = h.client_with(
        Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new(SK),
            security_token: Some(Secret::new(sts)),
        },
        fast(),
    );
    client.list_plugins().await.unwrap();
    let mut secret_body = body("kafka");
    secret_body.plugin_content =
        json!({"sasl_config": {"sasl_password": "kafka-pass-do-not-leak"}});
    let err = client.create_plugin(&secret_body).await.unwrap_err();

    let [get, post] = h.requests().try_into().unwrap();
    get.verify().unwrap();
    assert_eq!(post.header("x-security-token"), Some(sts));
    let signature = get
        .header("authorization")
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("api call"), "{logged}");
    let shown = format!("{client:?}\n{err}\n{err:?}\n{logged}");
    for secret in [SK, sts, "kafka-pass-do-not-leak", signature.as_str()] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
}

#[tokio::test]
async fn an_https_endpoint_speaks_tls_and_a_failed_handshake_is_a_transport_error() {
    // A plain-text server on an https:// endpoint: the TLS handshake must fail.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
        }
    });
    let target = Target::new(Flavour::Apig, &endpoint, "p1", "i1").unwrap();
    let credentials = Credentials::Token(Secret::new("t"));
    let options = ClientOptions {
        max_retries: 0,
        ..fast()
    };
    let err = Client::new(target, credentials, options)
        .unwrap()
        .list_envs()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn a_server_echoing_the_security_token_in_an_error_does_not_leak_it() {
    // A signature mismatch shows the server's canonical request, which holds
    // every signed header, the STS security token among them.
    let sts = "sts-token-echoed-by-the-server";
    let h = serve(move |_, _| {
        reply(
            401,
            json!({"error_code": "APIGW.0301", "error_msg": format!("verify aksk signature fail, canonicalRequest:GET|/x/||x-security-token:{sts}||x-security-token|e3b0")}),
        )
    })
    .await;
    let client = h.client_with(
        Credentials::AkSk {
            access_key: AK.into(),
            secret_key: Secret::new(SK),
            security_token: Some(Secret::new(sts)),
        },
        fast(),
    );
    let err = client.list_plugins().await.unwrap_err();
    let shown = format!("{err}\n{err:?}");
    assert!(!shown.contains(sts), "{shown}");
    // The server's text is not repeated at all: the error names the setting instead.
    assert!(!shown.contains("canonicalRequest"), "{shown}");
    assert!(shown.contains("the secret key does not belong"), "{shown}");
}

#[tokio::test]
async fn an_ambiguous_create_never_takes_over_a_plugin_someone_else_made() {
    // The POST fails ambiguously; the name exists, but with another remark (no
    // marker of ours): the create must fail, not adopt the stranger.
    let h = serve(|r, _| {
        if r.method == "POST" {
            reply(
                500,
                json!({"error_code": "APIG.9999", "error_msg": "System error"}),
            )
        } else {
            let mut stranger = plugin_json("id9", "cors_public");
            stranger["remark"] = json!("made in the console");
            reply(200, page("plugins", vec![stranger], 1))
        }
    })
    .await;
    let client = h.client(fast());
    let err = client
        .create_plugin(&body("cors_public"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("APIG.9999"), "{err}");
}
