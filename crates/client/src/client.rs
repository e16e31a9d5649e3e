//! The client and its one send path: wait for a slot of the adaptive limiter,
//! build the canonical URL, sign (or attach the token), send, classify, and retry:
//! slow-down answers (throttling, binding-write conflicts) within a time budget,
//! other transient failures a few times, with jittered backoff (or the server's
//! `Retry-After`, jittered, once the gateway is saturated; before, a refused call
//! retries quickly through the limiter, [`slow_down_delay`]), re-signing every attempt. A call that is not
//! idempotent (create) carries a recovery hook the path asks after an ambiguous failure.
//!
//! Nothing the server sends is trusted for size or time: every attempt has a timeout
//! ([`ClientOptions::timeout`]) and every answer a size limit ([`ClientOptions::max_answer_bytes`]),
//! and their errors name the call (method and path template). A 401 re-reads credential
//! files and, when they changed, sends the call once more; a delete refused with 409
//! APIG.3462 right after a detach is retried while bindings settle ([`SETTLE`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::AuthProblem;
use super::budget::{Budget, RequestRate};
use super::credentials::Credentials;
use super::error::{ApiError, Op, parse_error_body, snippet};
use super::retry::{Backoff, jittered, parse_retry_after, slow_down_delay};
use super::source::CredentialSource;
use super::target::Target;
use super::throttle::{Signal, Throttle};
use apigsync_signing as signing;

/// Page size of every list call (the API's maximum).
pub const PAGE_LIMIT: usize = 500;

/// The default [`ClientOptions::max_answer_bytes`]: 64 MiB. The largest answer apigsync
/// asks for is a page of 500 plug-ins whose `plugin_content` is at the 65 535-character
/// limit (SPEC §4.3): about 31 MiB of content, up to about twice that when the content's
/// JSON text is escaped inside the answer's JSON.
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// How long a delete refused with 409 APIG.3462 (still bound) is retried: bindings
/// take 5–10 s to settle after a detach (SPEC §11.7); three times that, within
/// [`ClientOptions::retry_budget`].
pub const SETTLE: Duration = Duration::from_secs(30);

/// Headers whose values are secret: marked sensitive and never logged.
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-auth-token", "x-security-token"];

/// How the client behaves on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Timeout of one attempt (connect, send, read the body); its error names the call.
    pub timeout: Duration,
    /// Retries after the first attempt of a call that failed for a reason other
    /// than a slow-down (connection lost, a 5xx other than APIG.9008/APIG.3500).
    pub max_retries: u32,
    /// How long a call may keep being retried while the gateway says "slow down"
    /// (429 / APIGW.0308, APIG.9008, APIG.3500): a slow gateway is not a failure.
    pub retry_budget: Duration,
    /// Most requests in flight at once; the adaptive limit never exceeds it
    /// ([`Client::set_max_in_flight`] sets it to `--parallelism`).
    pub max_in_flight: usize,
    /// First backoff delay; it doubles on each retry (with jitter), up to a minute.
    pub retry_base_delay: Duration,
    /// `User-Agent` header (signed).
    pub user_agent: String,
    /// The largest answer body read ([`MAX_ANSWER_BYTES`] by default); a larger one is
    /// an error naming the call, and is not read whole.
    pub max_answer_bytes: u64,
    /// A budget of requests (`watch --max-request-rate`), never exceeded; none by default.
    pub max_rate: Option<RequestRate>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 4,
            retry_budget: Duration::from_secs(600),
            max_in_flight: 8,
            retry_base_delay: Duration::from_millis(500),
            user_agent: format!("apigsync/{}", env!("CARGO_PKG_VERSION")),
            max_answer_bytes: MAX_ANSWER_BYTES,
            max_rate: None,
        }
    }
}

/// Counters since the client was made, for metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientStats {
    /// Attempts per (operation name, HTTP status); status 0 is a transport failure.
    pub calls_by_op_status: BTreeMap<(String, u16), u64>,
    /// Attempts that were retries of an earlier failed attempt.
    pub retries: u64,
    /// Slow-down answers received (429 / APIGW.0308, APIG.9008, APIG.3500).
    pub slow_downs: u64,
    /// The adaptive in-flight limit now.
    pub in_flight_limit: usize,
    /// The paced rate now (requests/s), when the gateway has been throttling.
    pub paced_rate: Option<f64>,
}

impl ClientStats {
    /// All attempts, whatever their outcome.
    pub fn total_calls(&self) -> u64 {
        self.calls_by_op_status.values().sum()
    }
}

/// What a recovery hook found after an ambiguous failure of a call that is not idempotent.
pub(crate) enum Recovery {
    /// The work was done (by the earlier attempt): this is its answer.
    Done(Reply),
    /// The work was not done: the call may be sent again.
    NotDone,
    /// Cannot tell, or someone else's object is in the way: give up with the error.
    Unknown,
}

/// Asks whether an ambiguously failed call did its work (e.g. a create: look the name up).
pub(crate) type RecoverHook<'a> =
    &'a (dyn Fn() -> Pin<Box<dyn Future<Output = Recovery> + Send + 'a>> + Send + Sync);

/// One request, relative to the instance path.
#[derive(Clone)]
pub(crate) struct Call<'a> {
    pub op: &'a Op,
    pub method: Method,
    /// The path as documented, e.g. `/plugins/{plugin_id}`, when `path` holds ids.
    pub template: Option<&'static str>,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// For a call that is not idempotent: how to tell whether an ambiguous failure did the work.
    pub recover: Option<RecoverHook<'a>>,
}

impl<'a> Call<'a> {
    /// A call without query or body.
    pub fn new(op: &'a Op, method: Method, path: impl Into<String>) -> Self {
        Self {
            op,
            method,
            template: None,
            path: path.into(),
            query: Vec::new(),
            body: None,
            recover: None,
        }
    }

    /// Names the documented path of a call whose path holds ids, for messages.
    pub fn template(mut self, template: &'static str) -> Self {
        self.template = Some(template);
        self
    }

    /// Method and path template, e.g. `DELETE /plugins/{plugin_id}`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}",
            self.method,
            self.template.unwrap_or(self.path.as_str())
        )
    }

    /// Marks the call as not idempotent: after an ambiguous failure (and after any
    /// later failure) the send path asks `hook` before sending it again.
    pub fn recover_with(mut self, hook: RecoverHook<'a>) -> Self {
        self.recover = Some(hook);
        self
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
    credentials: CredentialSource,
    options: ClientOptions,
    calls: Mutex<BTreeMap<(&'static str, u16), u64>>,
    retries: AtomicU64,
    throttle: Throttle,
    budget: Option<Budget>,
    binding_locks: Mutex<BindingLocks>,
    on_call: std::sync::OnceLock<CallObserver>,
}

/// Told of every attempt: the operation name, the HTTP status (0: no answer) and how
/// long it took (e.g. a latency histogram of watch mode).
pub type CallObserver = Arc<dyn Fn(&'static str, u16, Duration) + Send + Sync>;

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
    /// A client for `target` (credentials given, or a [`CredentialSource`] that re-reads
    /// files); TLS certificates are always verified.
    pub fn new(
        target: Target,
        credentials: impl Into<CredentialSource>,
        options: ClientOptions,
    ) -> Result<Self, BuildError> {
        install_tls_provider();
        let credentials = credentials.into();
        let http = reqwest::Client::builder()
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .gzip(true)
            .build()
            .map_err(BuildError)?;
        let throttle = Throttle::new(options.max_in_flight);
        let budget = options.max_rate.map(Budget::new);
        Ok(Self {
            inner: Arc::new(Inner {
                throttle,
                budget,
                http,
                target,
                credentials,
                options,
                calls: Mutex::default(),
                retries: AtomicU64::new(0),
                binding_locks: Mutex::default(),
                on_call: std::sync::OnceLock::new(),
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

    /// Sets the most requests in flight at once (`--parallelism`): the ceiling of the adaptive limit.
    pub fn set_max_in_flight(&self, n: usize) {
        self.inner.throttle.set_ceiling(n);
    }

    /// Tells `observer` of every attempt from now on (once per client: a second is ignored).
    pub fn observe_calls(&self, observer: CallObserver) {
        let _ = self.inner.on_call.set(observer);
    }

    /// A snapshot of the call and retry counters.
    pub fn stats(&self) -> ClientStats {
        let throttle = self.inner.throttle.snapshot();
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
            slow_downs: throttle.signals,
            in_flight_limit: throttle.limit,
            paced_rate: throttle.rate,
        }
    }

    /// Sends `call` (the one send path), retrying as the module documentation says.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Reply, ApiError> {
        let started = tokio::time::Instant::now();
        let mut backoff = Backoff::new(self.inner.options.retry_base_delay);
        let mut retries = 0;
        let mut slow_downs = 0;
        let mut attempts = 0;
        let mut ambiguous_before = false;
        let mut reread = false;
        loop {
            attempts += 1;
            let failure = match self.paced_attempt(call).await {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            let error = &failure.error;
            slow_downs = if error.is_slow_down() {
                slow_downs + 1
            } else {
                0
            };
            // A 401 may be credentials rotated under us: read the files again and, when
            // they changed, send once more. Not when they did not: each bad signature
            // counts towards IAM's lock of the access key (SPEC §5).
            if error.status() == Some(401) && !reread && self.inner.credentials.reload() {
                reread = true;
                continue;
            }
            if call.method == Method::DELETE && error.is_still_bound() {
                match self.settle_delay(&mut backoff, started.elapsed()) {
                    Some(delay) => {
                        tracing::debug!(op = call.op.name, %error, "still bound right after a detach? retrying while bindings settle");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => return Err(still_bound(failure.error, started.elapsed(), attempts)),
                }
            }
            if let Some(recover) = call.recover
                && (error.is_ambiguous() || (ambiguous_before && !error.is_slow_down()))
            {
                ambiguous_before = true;
                match recover().await {
                    Recovery::Done(reply) => {
                        tracing::info!(op = call.op.name, %error, "the call failed ambiguously but its work is done; using it");
                        return Ok(reply);
                    }
                    // A refusal after an ambiguous attempt (e.g. "name exists") whose work
                    // the look-up cannot see yet: the list lags behind writes. Look again
                    // after a pause, within the retry count.
                    Recovery::NotDone
                        if !error.is_ambiguous() && retries < self.inner.options.max_retries =>
                    {
                        retries += 1;
                        let delay = backoff
                            .next()
                            .unwrap_or(self.inner.options.retry_base_delay);
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    Recovery::NotDone => {}
                    Recovery::Unknown => return Err(failure.error),
                }
            }
            let elapsed = started.elapsed();
            match self.retry_delay(&failure, &mut backoff, &mut retries, slow_downs, elapsed) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(failure.error),
            }
        }
    }

    /// One attempt in a slot of the adaptive limiter, telling it what the gateway answered.
    async fn paced_attempt(&self, call: &Call<'_>) -> Result<Reply, Failure> {
        let slot = self.inner.throttle.acquire().await;
        if let Some(budget) = &self.inner.budget {
            budget.acquire().await;
        }
        let result = self.attempt(call).await;
        match &result {
            Ok(_) => slot.finish(Signal::Accepted),
            Err(f) if f.error.is_throttled() => slot.finish(Signal::Throttled),
            Err(f) if f.error.is_slow_down() => slot.finish(Signal::Conflict),
            Err(f) if f.error.status().is_some_and(|s| s < 500) => slot.finish(Signal::Accepted),
            Err(_) => drop(slot),
        }
        result
    }

    /// How long to wait before sending a delete refused as still bound again, or `None`
    /// when bindings had [`SETTLE`] (at most the retry budget) to settle. Counts the retry.
    fn settle_delay(&self, backoff: &mut Backoff, elapsed: Duration) -> Option<Duration> {
        let window = SETTLE.min(self.inner.options.retry_budget);
        let delay = backoff
            .next()
            .unwrap_or(self.inner.options.retry_base_delay);
        (elapsed + delay <= window).then(|| {
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            delay
        })
    }

    /// How long to wait before retrying `failure`, or `None` when it is final: not
    /// transient, a slow-down past the time budget, or out of retries. `slow_downs`
    /// counts the slow-down answers in a row, this one included ([`slow_down_delay`]).
    /// Counts the retry.
    fn retry_delay(
        &self,
        failure: &Failure,
        backoff: &mut Backoff,
        retries: &mut u32,
        slow_downs: u32,
        elapsed: Duration,
    ) -> Option<Duration> {
        let error = &failure.error;
        if !error.is_transient() {
            return None;
        }
        let delay = if error.is_slow_down() {
            let saturated = self.inner.throttle.saturated();
            slow_down_delay(slow_downs, failure.retry_after, saturated, backoff)
        } else {
            failure
                .retry_after
                .map(jittered)
                .or_else(|| backoff.next())
                .unwrap_or(self.inner.options.retry_base_delay)
        };
        let budget = self.inner.options.retry_budget;
        if error.is_slow_down() {
            if elapsed + delay > budget {
                tracing::warn!(op = error.op().name, budget_s = budget.as_secs(), %error, "still told to slow down after the retry budget; giving up");
                return None;
            }
        } else if *retries >= self.inner.options.max_retries {
            return None;
        } else {
            *retries += 1;
        }
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(op = error.op().name, delay_ms = delay.as_millis() as u64, %error, "retrying");
        Some(delay)
    }

    /// One attempt: sign with a fresh date, send, classify.
    async fn attempt(&self, call: &Call<'_>) -> Result<Reply, Failure> {
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
        let limit = self.inner.options.timeout;
        let answer = match tokio::time::timeout(limit, self.exchange(call, request)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => {
                self.record(op, 0, call, &path, started, None);
                return Err(fail(error));
            }
            Err(_) => {
                self.record(op, 0, call, &path, started, None);
                let error = ApiError::Timeout {
                    op: op.clone(),
                    call: call.describe(),
                    after: limit,
                };
                tracing::warn!(%error, "a call timed out");
                return Err(fail(error));
            }
        };
        let Answer {
            status,
            request_id,
            retry_after,
            body,
        } = answer;
        self.record(op, status, call, &path, started, request_id.as_deref());
        if (200..300).contains(&status) {
            return Ok(Reply { status, body });
        }
        let (code, message, body_request_id) = parse_error_body(status, &body);
        let request_id = request_id.or(body_request_id);
        let error = match AuthProblem::classify(status, &code, &message) {
            Some(problem) => ApiError::Auth {
                op: op.clone(),
                status,
                code,
                problem,
                check: self.settings_to_check(problem),
                request_id,
            },
            None => ApiError::Response {
                op: op.clone(),
                status,
                code,
                message: self.inner.credentials.current().mask(&message),
                request_id,
            },
        };
        Err(Failure { error, retry_after })
    }

    /// Sends `request` and reads the answer, at most [`ClientOptions::max_answer_bytes`] of it.
    async fn exchange(
        &self,
        call: &Call<'_>,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, ApiError> {
        let transport = |source| ApiError::Transport {
            op: call.op.clone(),
            source,
        };
        let mut response = request.send().await.map_err(transport)?;
        let limit = self.inner.options.max_answer_bytes;
        let too_large = || ApiError::TooLarge {
            op: call.op.clone(),
            call: call.describe(),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let status = response.status().as_u16();
        let request_id = header_str(response.headers(), "x-request-id");
        let retry_after = header_str(response.headers(), "retry-after")
            .and_then(|v| parse_retry_after(&v, jiff::Timestamp::now()));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body,
        })
    }

    /// Where the settings an auth refusal points at came from, for its message.
    fn settings_to_check(&self, problem: AuthProblem) -> String {
        let target = &self.inner.target;
        match problem {
            AuthProblem::ProjectOrInstance => format!(
                "the target's project id {:?} and instance id {:?}",
                target.project_id, target.instance_id
            ),
            AuthProblem::ClockSkew => "this machine's clock".to_string(),
            _ => self.inner.credentials.describe(problem.parts()),
        }
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
        match &*self.inner.credentials.current() {
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
        if let Some(observe) = self.inner.on_call.get() {
            observe(op.name, status, started.elapsed());
        }
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
    ) -> Result<T, ApiError> {
        let reply = self.send(call).await?;
        decode(call.op, &reply)
    }
}

/// What the server answered: status, the headers apigsync reads, and the body.
struct Answer {
    status: u16,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// The error of a delete still refused with APIG.3462 after retrying for `tried`.
fn still_bound(error: ApiError, tried: Duration, attempts: u32) -> ApiError {
    match error {
        ApiError::Response {
            op,
            status,
            code,
            request_id,
            ..
        } => ApiError::StillBound {
            op,
            status,
            code,
            tried,
            attempts,
            request_id,
        },
        other => other,
    }
}

/// Decodes a JSON reply; the error never quotes a JSON body (it may hold plug-in content).
pub(crate) fn decode<T: DeserializeOwned>(op: &Op, reply: &Reply) -> Result<T, ApiError> {
    serde_json::from_slice(&reply.body).map_err(|e| {
        let is_json = serde_json::from_slice::<Value>(&reply.body).is_ok();
        decode_error(op, reply, is_json.then(|| format!("unexpected JSON: {e}")))
    })
}

/// The error of a reply that did not decode: what was `unexpected` in its JSON, else the
/// start of a body that is not JSON.
pub(crate) fn decode_error(op: &Op, reply: &Reply, unexpected: Option<String>) -> ApiError {
    let body_snippet = unexpected.unwrap_or_else(|| {
        format!(
            "not JSON: {}",
            snippet(&String::from_utf8_lossy(&reply.body))
        )
    });
    ApiError::Decode {
        op: op.clone(),
        status: reply.status,
        body_snippet,
    }
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
