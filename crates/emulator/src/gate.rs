//! The front door every APIG request passes: request id, latency, authentication,
//! rate limit, injected faults, then statistics and the request log.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::{self, Incoming};
use super::config::{Faults, ThrottleAnswer};
use super::error::ServiceError;
use super::faults::{Fault, LogEntry};
use super::shared::{Shared, lock};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Prefix of every APIG route template.
pub const PREFIX: &str = "/v2/{project_id}/{segment}/instances/{instance_id}";

/// The request id of a request, set by [`request_id`].
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub struct CloseConnection;

/// An operation of the API, named as the SDK names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// SDK operation name, e.g. `create_plugin`.
    pub name: &'static str,
    /// Whether it changes state.
    pub write: bool,
    /// Whether it changes bindings (these apply their latency while holding the in-flight marker).
    pub binds: bool,
}

const fn op(name: &'static str, write: bool, binds: bool) -> Operation {
    Operation { name, write, binds }
}

/// The operation of a matched route template.
pub fn operation(method: &Method, template: &str) -> Option<Operation> {
    let suffix = template.strip_prefix(PREFIX)?;
    Some(match (method.as_str(), suffix) {
        ("POST", "/plugins") => op("create_plugin", true, false),
        ("GET", "/plugins") => op("list_plugins", false, false),
        ("GET", "/plugins/{plugin_id}") => op("show_plugin", false, false),
        ("PUT", "/plugins/{plugin_id}") => op("update_plugin", true, false),
        ("DELETE", "/plugins/{plugin_id}") => op("delete_plugin", true, false),
        ("POST", "/plugins/{plugin_id}/attach") => op("attach_api_to_plugin", true, true),
        ("PUT", "/plugins/{plugin_id}/detach") => op("detach_api_from_plugin", true, true),
        ("POST", "/apis/{api_id}/plugins/attach") => op("attach_plugin_to_api", true, true),
        ("PUT", "/apis/{api_id}/plugins/detach") => op("detach_plugin_from_api", true, true),
        ("GET", "/plugins/{plugin_id}/attached-apis") => {
            op("list_plugin_attached_apis", false, false)
        }
        ("GET", "/apis/{api_id}/attached-plugins") => op("list_api_attached_plugins", false, false),
        ("GET", "/plugins/{plugin_id}/attachable-apis") => {
            op("list_plugin_attachable_apis", false, false)
        }
        ("GET", "/apis/{api_id}/attachable-plugins") => {
            op("list_api_attachable_plugins", false, false)
        }
        ("GET", "/apis") => op("list_apis_v2", false, false),
        ("GET", "/apis/{api_id}") => op("show_details_of_api_v2", false, false),
        ("GET", "/apis/publish/{api_id}") => op("list_api_versions_v2", false, false),
        ("GET", "/envs") => op("list_environments_v2", false, false),
        ("GET", "/api-groups") => op("list_api_groups_v2", false, false),
        ("POST", "/apis/action") => op("create_or_delete_publish_record_for_api_v2", true, false),
        // The name Huawei's generated code gives it (`ListProjectCofigsV2`, sic; Terraform
        // `data_source_huaweicloud_apig_instance_quotas.go`).
        ("GET", "/project/configs") => op("list_project_cofigs_v2", false, false),
        _ => return None,
    })
}

/// Outermost layer: gives every request an id and every response an `X-Request-Id`.
pub async fn request_id(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = shared.next_request_id();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    tracing::debug!(%method, %path, status = resp.status().as_u16(), request_id = %id, "request");
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", value);
    }
    resp
}

/// The answer to a throttled request: 429 APIGW.0308 or 500 APIG.9008 (SPEC §5),
/// with `Retry-After: 1` unless told to omit it.
fn throttled(faults: &Faults, request_id: &str) -> Response {
    let error = match faults.throttle_answer {
        ThrottleAnswer::Apigw0308 => ServiceError::gateway(
            StatusCode::TOO_MANY_REQUESTS,
            "APIGW.0308",
            "The throttling threshold has been reached",
            request_id,
        ),
        ThrottleAnswer::Apig9008 => ServiceError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "APIG.9008",
            "Too many requests. Try again later",
        ),
    };
    let mut resp = error.into_response();
    if !faults.omit_retry_after {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    resp
}

fn closed() -> Response {
    let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    resp.extensions_mut().insert(CloseConnection);
    resp
}

/// The front door of the APIG routes.
pub async fn gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let operation = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| operation(req.method(), m.as_str()));
    let path = req.uri().path().to_string();
    let arrived_ms = jiff::Timestamp::now().as_millisecond();
    let Some(operation) = operation else {
        let resp = next.run(req).await;
        record(
            &shared,
            "unknown",
            false,
            resp.status().as_str(),
            (path, arrived_ms),
        );
        return resp;
    };
    let concurrent = Concurrent::enter(&shared);
    let resp = guarded(&shared, operation, &request_id, req, next).await;
    drop(concurrent);
    let status = if resp.extensions().get::<CloseConnection>().is_some() {
        "closed".to_string()
    } else {
        resp.status().as_str().to_string()
    };
    record(
        &shared,
        operation.name,
        operation.write,
        &status,
        (path, arrived_ms),
    );
    resp
}

/// One APIG request being served: counted in `Stats::max_concurrent` while it lives.
struct Concurrent<'a>(&'a Shared);

impl<'a> Concurrent<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.concurrent.fetch_add(1, Ordering::SeqCst) + 1;
        let mut stats = lock(&shared.stats);
        stats.max_concurrent = stats.max_concurrent.max(now);
        Self(shared)
    }
}

impl Drop for Concurrent<'_> {
    fn drop(&mut self) {
        self.0.concurrent.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a finished request in the statistics and appends it to the request log.
fn record(
    shared: &Shared,
    operation: &str,
    write: bool,
    status: &str,
    (path, arrived_ms): (String, i64),
) {
    lock(&shared.stats).record(operation, write, status);
    lock(&shared.log).push(LogEntry {
        operation: operation.to_string(),
        write,
        status: status.to_string(),
        path,
        arrived_ms,
    });
}

async fn guarded(
    shared: &Arc<Shared>,
    operation: Operation,
    request_id: &str,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ServiceError::invalid("body", "The request body is too large").into_response();
    };
    let faults = lock(&shared.faults).clone();
    if !operation.binds && !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let incoming = Incoming {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &bytes,
    };
    let (credentials, (tokens, expired)) = {
        let accepted = lock(&shared.accepted);
        (
            accepted.credentials.clone(),
            accepted.tokens_by_validity(faults.auth.token_expiry),
        )
    };
    let principal = match auth::authenticate(
        incoming,
        &credentials,
        (&tokens, &expired),
        jiff::Timestamp::now(),
        request_id,
    ) {
        Ok(p) => p,
        Err(err) => return err.into_response(),
    };
    if let Some(rps) = faults.rate_limit
        && !lock(&shared.limiter).allow(&principal, rps, tokio::time::Instant::now())
    {
        return throttled(&faults, request_id);
    }
    if lock(&shared.dice).throttle(faults.throttle_rate) {
        return throttled(&faults, request_id);
    }
    let fault = lock(&shared.dice).roll(faults.fault_rate, operation.write);
    match fault {
        Some(Fault::SystemError) => return ServiceError::system().into_response(),
        Some(Fault::Throttled) => return throttled(&faults, request_id),
        Some(Fault::ConnectionClosed) => return closed(),
        Some(Fault::ResponseLost) | None => {}
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if fault == Some(Fault::ResponseLost) {
        return closed();
    }
    resp
}
