//! A Kubernetes API server of `coordination.k8s.io/v1` Leases (and a sink of
//! `events.k8s.io/v1` Events) for the leader-election and Events tests, served on one or more endpoints (one per replica, to cut one
//! replica off) that each answer, hang (accept and never answer) or refuse (503): GET, POST, PUT, PATCH (server-side apply, strategic merge and
//! JSON merge) and DELETE, with resourceVersion checks and the field ownership of
//! server-side apply: an apply that sets a field another manager owns to another value
//! is a 409 Conflict, as on the real API server
//! (https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

/// One stored Lease: the object, and which field manager owns each `spec` field.
#[derive(Debug, Clone)]
struct Stored {
    object: Value,
    owners: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct Leases {
    by_key: HashMap<(String, String), Stored>,
    version: u64,
    /// Every `events.k8s.io/v1` Event posted, with its namespace.
    events: Vec<(String, Value)>,
}

type Shared = Arc<Mutex<Leases>>;

/// How an endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// As the API server does.
    Answer = 0,
    /// Accepts the request and never answers.
    Hang = 1,
    /// 503 Service Unavailable.
    Refuse = 2,
}

/// One listening address of the server.
pub struct Endpoint {
    pub url: String,
    mode: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Endpoint {
    /// From now on, answer as `mode` says.
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Writes a kubeconfig for this endpoint into `dir` as `file` and returns its path.
    pub fn kubeconfig(&self, dir: &Path, file: &str) -> PathBuf {
        kubeconfig_at(&self.url, dir, file)
    }
}

/// Writes a kubeconfig pointing at `url` into `dir` as `file` and returns its path.
pub fn kubeconfig_at(url: &str, dir: &Path, file: &str) -> PathBuf {
    let path = dir.join(file);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}\n\
         contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\n\
         current-context: test\nusers:\n- name: test\n  user:\n    token: test-token\n"
    );
    std::fs::write(&path, text).expect("kubeconfig");
    path
}

/// A running Lease server; its kubeconfig points a kube client at it.
pub struct LeaseServer {
    state: Shared,
    pub url: String,
    first: Endpoint,
}

impl LeaseServer {
    /// Starts the server on 127.0.0.1:0.
    pub async fn start() -> LeaseServer {
        Self::start_on(0).await
    }

    /// Starts the server on 127.0.0.1:`port` (0: any free port).
    pub async fn start_on(port: u16) -> LeaseServer {
        let state: Shared = Arc::default();
        let first = serve(state.clone(), port).await;
        LeaseServer {
            state,
            url: first.url.clone(),
            first,
        }
    }

    /// Another endpoint of the same Leases, on its own port.
    pub async fn endpoint(&self) -> Endpoint {
        serve(self.state.clone(), 0).await
    }

    /// Writes a kubeconfig for this server into `dir` and returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        self.first.kubeconfig(dir, "kubeconfig")
    }

    /// Every Event posted so far: (namespace in the path, body).
    pub fn events(&self) -> Vec<(String, Value)> {
        self.state.lock().expect("lock").events.clone()
    }

    /// The holder of Lease `namespace/name`, if any.
    pub fn holder(&self, namespace: &str, name: &str) -> Option<String> {
        let leases = self.state.lock().expect("lock");
        leases
            .by_key
            .get(&(namespace.to_owned(), name.to_owned()))?
            .object
            .pointer("/spec/holderIdentity")?
            .as_str()
            .map(str::to_owned)
    }
}

/// Serves the Lease routes of `state` on 127.0.0.1:`port`.
async fn serve(state: Shared, port: u16) -> Endpoint {
    let mode = Arc::new(AtomicU8::new(Mode::Answer as u8));
    let gate = mode.clone();
    let app = Router::new()
        .route(
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
            post(create),
        )
        .route(
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}",
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route(
            "/apis/events.k8s.io/v1/namespaces/{ns}/events",
            post(create_event),
        )
        .layer(axum::middleware::from_fn(move |req, next: Next| {
            let mode = gate.load(Ordering::SeqCst);
            async move {
                match mode {
                    m if m == Mode::Hang as u8 => std::future::pending().await,
                    m if m == Mode::Refuse as u8 => status(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        "the test refuses".into(),
                    ),
                    _ => next.run(req).await,
                }
            }
        }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("lease server");
    });
    Endpoint { url, mode, task }
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

fn ok(code: StatusCode, object: &Value) -> Response {
    (code, axum::Json(object.clone())).into_response()
}

/// Sets metadata (name, namespace, a new resourceVersion) on a stored object.
fn stamp(object: &mut Value, leases: &mut Leases, ns: &str, name: &str) {
    leases.version += 1;
    let meta = object
        .as_object_mut()
        .expect("object")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    meta["name"] = json!(name);
    meta["namespace"] = json!(ns);
    meta["resourceVersion"] = json!(leases.version.to_string());
    meta["uid"] = json!(format!("uid-{ns}-{name}"));
    object["apiVersion"] = json!("coordination.k8s.io/v1");
    object["kind"] = json!("Lease");
}

fn spec_of(body: &Value) -> Map<String, Value> {
    body.get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn manager(query: &HashMap<String, String>) -> String {
    query
        .get("fieldManager")
        .cloned()
        .unwrap_or_else(|| "unknown".into())
}

fn rv_mismatch(body: &Value, stored: &Value) -> bool {
    let sent = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    let have = stored
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    sent.is_some_and(|s| Some(s) != have)
}

async fn create_event(
    State(state): State<Shared>,
    UrlPath(ns): UrlPath<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    state.lock().expect("lock").events.push((ns, body.clone()));
    ok(StatusCode::CREATED, &body)
}

async fn read(
    State(state): State<Shared>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    let leases = state.lock().expect("lock");
    match leases.by_key.get(&(ns, name.clone())) {
        Some(stored) => ok(StatusCode::OK, &stored.object),
        None => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("leases {name:?} not found"),
        ),
    }
}

async fn create(
    State(state): State<Shared>,
    UrlPath(ns): UrlPath<String>,
    Query(query): Query<HashMap<String, String>>,
    axum::Json(mut body): axum::Json<Value>,
) -> Response {
    let name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut leases = state.lock().expect("lock");
    let key = (ns.clone(), name.clone());
    if leases.by_key.contains_key(&key) {
        return status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("leases {name:?} already exists"),
        );
    }
    stamp(&mut body, &mut leases, &ns, &name);
    let who = manager(&query);
    let owners = spec_of(&body)
        .keys()
        .map(|k| (k.clone(), who.clone()))
        .collect();
    leases.by_key.insert(
        key,
        Stored {
            object: body.clone(),
            owners,
        },
    );
    ok(StatusCode::CREATED, &body)
}

async fn replace(
    State(state): State<Shared>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    axum::Json(mut body): axum::Json<Value>,
) -> Response {
    let mut leases = state.lock().expect("lock");
    let Some(stored) = leases.by_key.get(&(ns.clone(), name.clone())).cloned() else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("leases {name:?} not found"),
        );
    };
    if rv_mismatch(&body, &stored.object) {
        return status(
            StatusCode::CONFLICT,
            "Conflict",
            "the object has been modified".into(),
        );
    }
    let who = manager(&query);
    let mut owners = stored.owners.clone();
    let old = spec_of(&stored.object);
    for (field, value) in spec_of(&body) {
        if old.get(&field) != Some(&value) {
            owners.insert(field, who.clone());
        }
    }
    stamp(&mut body, &mut leases, &ns, &name);
    leases.by_key.insert(
        (ns, name),
        Stored {
            object: body.clone(),
            owners,
        },
    );
    ok(StatusCode::OK, &body)
}

async fn patch(
    State(state): State<Shared>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the patch is not JSON".into(),
        );
    };
    let apply = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/apply-patch"));
    let force = query.get("force").is_some_and(|f| f == "true");
    let who = manager(&query);
    let mut leases = state.lock().expect("lock");
    let key = (ns.clone(), name.clone());
    let mut stored = match leases.by_key.get(&key).cloned() {
        Some(stored) => stored,
        None if apply => Stored {
            object: json!({"spec": {}}),
            owners: HashMap::new(),
        },
        None => {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("leases {name:?} not found"),
            );
        }
    };
    if rv_mismatch(&body, &stored.object) {
        return status(
            StatusCode::CONFLICT,
            "Conflict",
            "the object has been modified".into(),
        );
    }
    let mut spec = spec_of(&stored.object);
    for (field, value) in spec_of(&body) {
        let owner = stored.owners.get(&field);
        let differs = spec.get(&field) != Some(&value);
        if apply && !force && differs && owner.is_some_and(|o| *o != who) {
            return status(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Apply failed with 1 conflict: conflict with {:?}: .spec.{field}",
                    owner.cloned().unwrap_or_default()
                ),
            );
        }
        if value.is_null() {
            spec.remove(&field);
            stored.owners.remove(&field);
        } else {
            if differs || apply {
                stored.owners.insert(field.clone(), who.clone());
            }
            spec.insert(field, value);
        }
    }
    stored.object["spec"] = Value::Object(spec);
    stamp(&mut stored.object, &mut leases, &ns, &name);
    let object = stored.object.clone();
    leases.by_key.insert(key, stored);
    ok(StatusCode::OK, &object)
}

async fn remove(
    State(state): State<Shared>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    let mut leases = state.lock().expect("lock");
    match leases.by_key.remove(&(ns, name.clone())) {
        Some(_) => ok(
            StatusCode::OK,
            &json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
        ),
        None => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("leases {name:?} not found"),
        ),
    }
}
