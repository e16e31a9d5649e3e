//! The client and its one send path: build the canonical URL, sign (or attach
//! the token), send, classify, and retry transient failures of idempotent calls
//! with jittered exponential backoff, re-signing every attempt.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::credentials::Credentials;
use super::error::{ApiError, Op, parse_error_body, snippet};
use super::retry::{Backoff, parse_retry_after};
use super::target::Target;
use crate::signing;

/// Page size of every list call (the API's maximum).
pub const PAGE_LIMIT: usize = 500;

/// Headers whose values are secret: marked sensitive and never logged.
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-auth-token", "x-security-token"];

/// How the client behaves on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Whole-request timeout (connect, send, read the body).
    pub timeout: Duration,
    /// Retries after the first attempt of a call that may be retried.
    pub max_retries: u32,
    /// First backoff delay; it doubles on each retry (with jitter), up to a minute.
    pub retry_base_delay: Duration,
    /// `User-Agent` header (signed).
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 4,
            retry_base_delay: Duration::from_millis(500),
            user_agent: format!("apigsync/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Counters since the client was made, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Attempts per (operation name, HTTP status); status 0 is a transport failure.
    pub calls_by_op_status: BTreeMap<(String, u16), u64>,
    /// Attempts that were retries of an earlier failed attempt.
    pub retries: u64,
}

impl ClientStats {
    /// All attempts, whatever their outcome.
    pub fn total_calls(&self) -> u64 {
        self.calls_by_op_status.values().sum()
    }
}

/// Whether a call may be sent again after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// GET, PUT, DELETE, and attach (re-attaching the same set is idempotent in effect).
    Idempotent,
    /// Exactly one attempt.
    Once,
}

/// One request, relative to the instance path.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub op: &'a Op,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl<'a> Call<'a> {
    /// A call without query or body.
    pub fn new(op: &'a Op, method: Method, path: impl Into<String>) -> Self {
        Self {
            op,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Invalid {
            op: self.op.clone(),
            reason: format!("could not encode the request body: {e}"),
        })?;
        self.body = Some(bytes);
        Ok(self)
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A failed attempt, with the server's `Retry-After` when it sent one.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: ApiError,
    pub retry_after: Option<Duration>,
}

/// Makes ring the process's TLS crypto provider. reqwest is built without a default
/// provider (aws-lc-rs needs a C toolchain and cmake); every `reqwest::Client` of the
/// process must be built after this. Idempotent.
pub fn install_tls_provider() {
    // A second install is refused and harmless: the provider is already ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// One async lock per (plug-in id, environment id) that had an attach or detach call.
type BindingLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

/// The APIG client. Cheap to clone: clones share the connection pool, counters and locks.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    target: Target,
    credentials: Credentials,
    options: ClientOptions,
    calls: Mutex<BTreeMap<(&'static str, u16), u64>>,
    retries: AtomicU64,
    binding_locks: Mutex<BindingLocks>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.inner.target)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// The HTTP library could not be set up (e.g. no TLS roots).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the HTTP client")]
pub struct BuildError(#[source] reqwest::Error);

impl Client {
    /// A client for `target`; TLS certificates are always verified.
    pub fn new(
        target: Target,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Self, BuildError> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .gzip(true)
            .build()
            .map_err(BuildError)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                target,
                credentials,
                options,
                calls: Mutex::default(),
                retries: AtomicU64::new(0),
                binding_locks: Mutex::default(),
            }),
        })
    }

    /// The instance this client talks to.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// The network options this client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// A snapshot of the call and retry counters.
    pub fn stats(&self) -> ClientStats {
        let calls = self
            .inner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ClientStats {
            calls_by_op_status: calls
                .iter()
                .map(|((op, status), n)| ((op.to_string(), *status), *n))
                .collect(),
            retries: self.inner.retries.load(Ordering::Relaxed),
        }
    }

    /// Sends `call`, retrying transient failures when `retry` allows it.
    pub(crate) async fn send(&self, call: &Call<'_>, retry: Retry) -> Result<Reply, ApiError> {
        let mut backoff = Backoff::new(self.inner.options.retry_base_delay);
        let mut retries = 0;
        loop {
            let failure = match self.attempt(call).await {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            if retry == Retry::Once {
                return Err(failure.error);
            }
            match self.retry_delay(&failure, &mut backoff, &mut retries) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(failure.error),
            }
        }
    }

    /// How long to wait before retrying `failure`, or `None` when it is final
    /// (not transient, or out of retries). Counts the retry.
    pub(crate) fn retry_delay(
        &self,
        failure: &Failure,
        backoff: &mut Backoff,
        retries: &mut u32,
    ) -> Option<Duration> {
        if !failure.error.is_transient() || *retries >= self.inner.options.max_retries {
            return None;
        }
        *retries += 1;
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
        let delay = failure
            .retry_after
            .or_else(|| backoff.next())
            .unwrap_or(self.inner.options.retry_base_delay);
        tracing::info!(op = failure.error.op().name, retry = *retries, delay_ms = delay.as_millis() as u64, error = %failure.error, "retrying");
        Some(delay)
    }

    /// One attempt: sign with a fresh date, send, classify.
    pub(crate) async fn attempt(&self, call: &Call<'_>) -> Result<Reply, Failure> {
        let op = call.op;
        let fail = |error| Failure {
            error,
            retry_after: None,
        };
        let target = &self.inner.target;
        let path = format!("{}{}", target.instance_path(), call.path);
        let url = target
            .url(&path, &signing::canonical_query(&call.query))
            .map_err(|reason| {
                fail(ApiError::Invalid {
                    op: op.clone(),
                    reason,
                })
            })?;
        let body = call.body.as_deref().unwrap_or_default();
        let headers = self.signed_headers(call, &path, body);
        let header_map = to_header_map(&headers).map_err(|reason| {
            fail(ApiError::Invalid {
                op: op.clone(),
                reason,
            })
        })?;

        let started = Instant::now();
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .headers(header_map);
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        let sent = request.send().await;
        let response = match sent {
            Ok(r) => r,
            Err(source) => {
                self.record(op, 0, call, &path, started, None);
                return Err(fail(ApiError::Transport {
                    op: op.clone(),
                    source,
                }));
            }
        };
        let status = response.status().as_u16();
        let request_id = header_str(response.headers(), "x-request-id");
        let retry_after = header_str(response.headers(), "retry-after")
            .and_then(|v| parse_retry_after(&v, jiff::Timestamp::now()));
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(source) => {
                self.record(op, 0, call, &path, started, request_id.as_deref());
                return Err(fail(ApiError::Transport {
                    op: op.clone(),
                    source,
                }));
            }
        };
        self.record(op, status, call, &path, started, request_id.as_deref());
        if (200..300).contains(&status) {
            return Ok(Reply {
                status,
                body: bytes.to_vec(),
            });
        }
        let (code, message, body_request_id) = parse_error_body(status, &bytes);
        let message = self.inner.credentials.mask(&message);
        Err(Failure {
            error: ApiError::Response {
                op: op.clone(),
                status,
                code,
                message,
                request_id: request_id.or(body_request_id),
            },
            retry_after,
        })
    }

    /// The request headers, signed for AK/SK or carrying the token.
    fn signed_headers(&self, call: &Call<'_>, path: &str, body: &[u8]) -> Vec<(String, String)> {
        let target = &self.inner.target;
        let content_type = if call.body.is_some() {
            "application/json;charset=utf-8"
        } else {
            "application/json"
        };
        let mut headers = vec![
            ("Content-Type".to_string(), content_type.to_string()),
            ("Host".to_string(), target.host_header()),
            (
                "User-Agent".to_string(),
                self.inner.options.user_agent.clone(),
            ),
            ("X-Project-Id".to_string(), target.project_id.clone()),
        ];
        match &self.inner.credentials {
            Credentials::Token(token) => {
                headers.push(("X-Auth-Token".to_string(), token.expose().to_string()));
            }
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                let date = jiff::Timestamp::now()
                    .strftime(signing::DATE_FORMAT)
                    .to_string();
                headers.push((signing::DATE_HEADER.to_string(), date));
                if let Some(token) = security_token {
                    headers.push(("X-Security-Token".to_string(), token.expose().to_string()));
                }
                let authorization = signing::sign(
                    &signing::Request {
                        method: call.method.as_str(),
                        path,
                        query: &call.query,
                        headers: &headers,
                        body,
                    },
                    access_key,
                    secret_key.expose(),
                );
                headers.push(("Authorization".to_string(), authorization));
            }
        }
        headers
    }

    fn record(
        &self,
        op: &Op,
        status: u16,
        call: &Call<'_>,
        path: &str,
        started: Instant,
        request_id: Option<&str>,
    ) {
        *self
            .inner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((op.name, status))
            .or_default() += 1;
        tracing::debug!(
            op = op.name,
            method = %call.method,
            path,
            status,
            duration_ms = started.elapsed().as_millis() as u64,
            request_id,
            body_bytes = call.body.as_ref().map_or(0, Vec::len),
            "api call"
        );
    }

    /// The lock that keeps attach/detach calls of one (plug-in, environment) from overlapping.
    pub(crate) async fn binding_lock(
        &self,
        plugin_id: &str,
        env_id: &str,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .inner
            .binding_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((plugin_id.to_string(), env_id.to_string()))
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// Sends `call` and decodes its JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        retry: Retry,
    ) -> Result<T, ApiError> {
        let reply = self.send(call, retry).await?;
        decode(call.op, &reply)
    }

    /// Every item of a list endpoint: pages of [`PAGE_LIMIT`] at `offset` += items
    /// received, until `offset >= total` (or, without a `total`, a short page) or an empty page.
    pub(crate) async fn paged<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        list_key: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut offset = 0usize;
        loop {
            let page_call = call
                .clone()
                .query("limit", PAGE_LIMIT.to_string())
                .query("offset", offset.to_string());
            let reply = self.send(&page_call, Retry::Idempotent).await?;
            let mut page: serde_json::Map<String, Value> = decode(call.op, &reply)?;
            let total = page.get("total").and_then(Value::as_u64);
            let list = page.remove(list_key).unwrap_or(Value::Array(Vec::new()));
            let page_items: Vec<T> =
                serde_json::from_value(list).map_err(|e| ApiError::Decode {
                    op: call.op.clone(),
                    status: reply.status,
                    body_snippet: format!("unexpected {list_key:?} items: {e}"),
                })?;
            let received = page_items.len();
            items.extend(page_items);
            offset += received;
            let done = match total {
                Some(total) => offset as u64 >= total,
                None => received < PAGE_LIMIT,
            };
            if received == 0 || done {
                return Ok(items);
            }
        }
    }
}

/// Decodes a JSON reply; the error never quotes a JSON body (it may hold plug-in content).
pub(crate) fn decode<T: DeserializeOwned>(op: &Op, reply: &Reply) -> Result<T, ApiError> {
    serde_json::from_slice(&reply.body).map_err(|e| {
        let body_snippet = if serde_json::from_slice::<Value>(&reply.body).is_ok() {
            format!("unexpected JSON: {e}")
        } else {
            format!(
                "not JSON: {}",
                snippet(&String::from_utf8_lossy(&reply.body))
            )
        };
        ApiError::Decode {
            op: op.clone(),
            status: reply.status,
            body_snippet,
        }
    })
}

fn to_header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let mut header_value = HeaderValue::from_str(value)
            .map_err(|_| format!("header {name} holds characters HTTP does not allow"))?;
        if SECRET_HEADERS.contains(&header_name.as_str()) {
            header_value.set_sensitive(true);
        }
        map.insert(header_name, header_value);
    }
    Ok(map)
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
