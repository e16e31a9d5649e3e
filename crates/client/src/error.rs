//! Client errors, split like Oxide's progenitor: the request did not complete
//! (transport), the service answered with an error (response), or the answer
//! could not be understood (decode). Every message names the operation.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::auth::AuthProblem;

/// An API operation: a stable name for metrics and a phrase for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The SDK-style name, e.g. `create_plugin`; used as a metrics label.
    pub name: &'static str,
    /// What was being done, e.g. `creating plug-in "cors_public"`.
    pub what: String,
}

impl Op {
    /// An operation named `name`, described by `what`.
    pub fn new(name: &'static str, what: impl Into<String>) -> Self {
        Self {
            name,
            what: what.into(),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No complete response: connection refused or lost, timeout, TLS failure.
    #[error("{op}: {}", transport_kind(source))]
    Transport {
        /// The operation.
        op: Op,
        /// The HTTP library's error.
        #[source]
        source: reqwest::Error,
    },
    /// The service answered with an error status.
    #[error("{op}: {status} {code} {message}{}", request_suffix(request_id.as_deref()))]
    Response {
        /// The operation.
        op: Op,
        /// HTTP status.
        status: u16,
        /// `error_code`, e.g. `APIG.3326` (the status as text when the body has none).
        code: String,
        /// `error_msg`, as the service wrote it.
        message: String,
        /// `X-Request-Id` (or the body's `request_id`), for support tickets.
        request_id: Option<String>,
    },
    /// The service answered with a body this client cannot read.
    #[error("{op}: could not decode the {status} response: {body_snippet}")]
    Decode {
        /// The operation.
        op: Op,
        /// HTTP status.
        status: u16,
        /// For a non-JSON body, its first characters; for JSON of the wrong shape,
        /// the decoder's complaint (never the body itself: it may hold plug-in content).
        body_snippet: String,
    },
    /// The service refused the credentials or the target: the message names the setting
    /// to check and where it came from, never the server's text (a signature mismatch
    /// quotes the canonical request) nor any secret.
    #[error("{op}: {status} {code}: {problem}{}{}", check_suffix(check), request_suffix(request_id.as_deref()))]
    Auth {
        /// The operation.
        op: Op,
        /// HTTP status (401, 403, or 404 for an unknown instance).
        status: u16,
        /// `error_code`, e.g. `APIGW.0301`.
        code: String,
        /// What the answer points at.
        problem: AuthProblem,
        /// Where the settings to check came from, e.g. `HW_SECRET_KEY, HW_ACCESS_KEY`
        /// (names of variables, flags or files; never values).
        check: String,
        /// `X-Request-Id` (or the body's `request_id`), for support tickets.
        request_id: Option<String>,
    },
    /// No answer within the per-call timeout ([`crate::ClientOptions::timeout`]).
    #[error("{op}: {call} gave no complete answer within {after:?} (the per-call timeout)")]
    Timeout {
        /// The operation.
        op: Op,
        /// Method and path template, e.g. `GET /plugins/{plugin_id}`.
        call: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The answer's body is larger than [`crate::ClientOptions::max_answer_bytes`]; it was not read whole.
    #[error(
        "{op}: the answer to {call} is larger than {limit} bytes, the most apigsync reads of one answer"
    )]
    TooLarge {
        /// The operation.
        op: Op,
        /// Method and path template.
        call: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A list is longer than apigsync reads ([`crate::MAX_LIST_ITEMS`], [`crate::MAX_LIST_PAGES`]).
    #[error("{op}: {call} {found}, more than apigsync reads of one list ({cap})")]
    TooLong {
        /// The operation.
        op: Op,
        /// Method and path template.
        call: String,
        /// What the server said or sent, e.g. `says total 1000000000`.
        found: String,
        /// The cap that was reached, e.g. `at most 100000 items`.
        cap: String,
    },
    /// A delete refused because the plug-in is still bound (409 APIG.3462) kept being
    /// refused after retrying for the time bindings take to settle (SPEC §11.7).
    #[error("{op}: {status} {code}: the plug-in is still bound to APIs after retrying for {tried:?} ({attempts} attempts; the gateway applies binding changes within 5-10 s){}", request_suffix(request_id.as_deref()))]
    StillBound {
        /// The operation.
        op: Op,
        /// HTTP status (409).
        status: u16,
        /// `APIG.3462`.
        code: String,
        /// How long it was retried.
        tried: Duration,
        /// Attempts made.
        attempts: u32,
        /// `X-Request-Id` of the last answer.
        request_id: Option<String>,
    },
    /// The call was refused before sending, e.g. more than 500 API ids.
    #[error("{op}: {reason}")]
    Invalid {
        /// The operation.
        op: Op,
        /// What is wrong with the request.
        reason: String,
    },
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect to the API"
    } else if e.is_body() || e.is_decode() {
        "the connection was lost while reading the response"
    } else {
        "the request failed"
    }
}

fn check_suffix(check: &str) -> String {
    if check.is_empty() {
        String::new()
    } else {
        format!("; check {check}")
    }
}

fn request_suffix(request_id: Option<&str>) -> String {
    request_id
        .map(|id| format!(" (request {id})"))
        .unwrap_or_default()
}

impl ApiError {
    /// The operation that failed.
    pub fn op(&self) -> &Op {
        match self {
            ApiError::Transport { op, .. }
            | ApiError::Response { op, .. }
            | ApiError::Decode { op, .. }
            | ApiError::Auth { op, .. }
            | ApiError::Timeout { op, .. }
            | ApiError::TooLarge { op, .. }
            | ApiError::TooLong { op, .. }
            | ApiError::StillBound { op, .. }
            | ApiError::Invalid { op, .. } => op,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Response { status, .. }
            | ApiError::Decode { status, .. }
            | ApiError::Auth { status, .. }
            | ApiError::StillBound { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error code, e.g. `APIG.3068`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Response { code, .. }
            | ApiError::Auth { code, .. }
            | ApiError::StillBound { code, .. } => Some(code),
            _ => None,
        }
    }

    /// A 404: the object does not exist (any more). (A 404 APIG.3030, no such instance,
    /// is an [`ApiError::Auth`] and not this.)
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Response { status: 404, .. })
    }

    /// A 409 APIG.3462: the plug-in is still bound to APIs (SPEC §5); right after a
    /// detach this may be the gateway not having applied it yet (SPEC §11.7).
    pub fn is_still_bound(&self) -> bool {
        matches!(self, ApiError::Response { status: 409, code, .. } if code == "APIG.3462")
    }

    /// The gateway refused for rate: 429 / APIGW.0308, APIG.9008.
    pub fn is_throttled(&self) -> bool {
        match self {
            ApiError::Response { status, code, .. } => {
                *status == 429 || matches!(code.as_str(), "APIGW.0308" | "APIG.0308" | "APIG.9008")
            }
            _ => false,
        }
    }

    /// The gateway said "slow down": throttled, or APIG.3500 (binding writes that
    /// conflict, or its data sync lagging). Retried within a time budget, never fatal
    /// because the gateway is slow.
    pub fn is_slow_down(&self) -> bool {
        self.is_throttled() || self.code() == Some("APIG.3500")
    }

    /// Worth another try: connection errors, slow-down answers and any other 5xx.
    /// (A decode error comes from a 2xx answer, which another try would not change.)
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } | ApiError::Timeout { .. } => true,
            ApiError::Response { status, .. } => *status >= 500 || self.is_slow_down(),
            _ => false,
        }
    }

    /// The service may have done the work although the call failed: a lost
    /// connection, a timeout or a server error (not a slow-down, which is refused up front).
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ApiError::Transport { source, .. } => !source.is_connect(),
            ApiError::Timeout { .. } => true,
            ApiError::Response { status, .. } => *status >= 500 && !self.is_slow_down(),
            _ => false,
        }
    }
}

/// `(code, message, request_id)` from an error body, falling back like the SDK:
/// `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, then the first
/// nested object that has one of those pairs; the status as code when nothing matches.
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> (String, String, Option<String>) {
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let found = value.as_ref().and_then(find_code_and_message);
    let request_id = value
        .as_ref()
        .and_then(|v| v.get("request_id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match found {
        Some((code, message)) => (code, message, request_id),
        None => {
            let text = String::from_utf8_lossy(body);
            let message = if value.is_some() {
                String::new()
            } else {
                snippet(&text)
            };
            (status.to_string(), message, request_id)
        }
    }
}

const PAIRS: [(&str, &str); 3] = [
    ("error_code", "error_msg"),
    ("errorCode", "errorMsg"),
    ("code", "message"),
];

fn find_code_and_message(v: &Value) -> Option<(String, String)> {
    let obj = v.as_object()?;
    for (code_key, msg_key) in PAIRS {
        if let Some(code) = obj.get(code_key).and_then(scalar) {
            let message = obj.get(msg_key).and_then(scalar).unwrap_or_default();
            return Some((code, message));
        }
    }
    obj.values()
        .filter(|v| v.is_object())
        .find_map(find_code_and_message)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first 200 characters of a body, on one line.
pub(crate) fn snippet(text: &str) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    one_line
}

/// An error and its causes on one line, `outer: cause: root cause`: for reports
/// and log lines, where "the request failed" alone does not tell DNS from TLS.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_fall_back_like_the_sdk() {
        let p = |b: &str| parse_error_body(400, b.as_bytes());
        assert_eq!(
            p(r#"{"error_code":"APIG.3326","error_msg":"The plugin name already exists"}"#),
            (
                "APIG.3326".into(),
                "The plugin name already exists".into(),
                None
            )
        );
        assert_eq!(
            p(r#"{"errorCode":"E1","errorMsg":"m","request_id":"r1"}"#),
            ("E1".into(), "m".into(), Some("r1".into()))
        );
        assert_eq!(
            p(r#"{"code":"C","message":"m2"}"#),
            ("C".into(), "m2".into(), None)
        );
        assert_eq!(
            p(r#"{"error":{"code":"APIGW.0301","message":"verify aksk signature fail"}}"#),
            (
                "APIGW.0301".into(),
                "verify aksk signature fail".into(),
                None
            )
        );
        assert_eq!(
            p("<html>bad gateway</html>"),
            ("400".into(), "<html>bad gateway</html>".into(), None)
        );
    }

    #[test]
    fn response_error_message_names_operation_code_and_request() {
        let e = ApiError::Response {
            op: Op::new("create_plugin", r#"creating plug-in "cors_public""#),
            status: 400,
            code: "APIG.3326".into(),
            message: "The plugin name already exists".into(),
            request_id: Some("0b1c2d".into()),
        };
        assert_eq!(
            e.to_string(),
            r#"creating plug-in "cors_public": 400 APIG.3326 The plugin name already exists (request 0b1c2d)"#
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn transient_codes() {
        let r = |status, code: &str| ApiError::Response {
            op: Op::new("x", "x"),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        assert!(r(429, "APIGW.0308").is_transient());
        assert!(r(500, "APIG.3500").is_transient());
        assert!(r(500, "APIG.9008").is_transient());
        assert!(r(503, "503").is_transient());
        assert!(!r(409, "APIG.3462").is_transient());
        assert!(!r(500, "APIG.9008").is_ambiguous());
        assert!(!r(500, "APIG.3500").is_ambiguous());
        assert!(r(500, "APIG.3500").is_slow_down() && !r(500, "APIG.3500").is_throttled());
        assert!(r(500, "APIG.9008").is_throttled());
        assert!(r(500, "APIG.9999").is_ambiguous());
        assert!(!r(429, "APIGW.0308").is_ambiguous());
    }
}
