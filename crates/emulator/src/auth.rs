//! Authentication as the front door does it (SPEC §7): `X-Auth-Token`, or an
//! SDK-HMAC-SHA256 signature over the raw path, raw query, the headers it names
//! (Host as received) and the exact body bytes; X-Sdk-Date within ±15 minutes.

use axum::http::{HeaderMap, Method, StatusCode, Uri};

use super::config::Credential;
use super::error::ServiceError;
use apigsync_signing::{self as signing, Request};

/// Largest accepted difference between X-Sdk-Date and the server clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// Who made a request: the access key or the token (the rate limiter's key).
pub type Principal = String;

fn fail(code: &'static str, message: String, request_id: &str) -> ServiceError {
    ServiceError::gateway(StatusCode::UNAUTHORIZED, code, message, request_id)
}

fn iam(detail: &str, request_id: &str) -> ServiceError {
    fail(
        "APIGW.0301",
        format!("Incorrect IAM authentication information: {detail}"),
        request_id,
    )
}

/// The parts of a request that authentication looks at.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Method.
    pub method: &'a Method,
    /// URI as received (raw path and query).
    pub uri: &'a Uri,
    /// Headers as received.
    pub headers: &'a HeaderMap,
    /// Exact body bytes.
    pub body: &'a [u8],
}

/// Authenticates a request; `tokens` are the valid and the expired tokens; `now` is the
/// server clock.
pub fn authenticate(
    req: Incoming<'_>,
    credentials: &[Credential],
    (tokens, expired): (&[String], &[String]),
    now: jiff::Timestamp,
    request_id: &str,
) -> Result<Principal, ServiceError> {
    if let Some(token) = req.headers.get("x-auth-token") {
        let token = token.to_str().unwrap_or("");
        return if tokens.iter().any(|t| t == token) {
            Ok(format!("token:{}", short(token)))
        } else if expired.iter().any(|t| t == token) {
            Err(fail(
                "APIG.1002",
                "Incorrect token or token resolution failed: the token has expired".to_string(),
                request_id,
            ))
        } else {
            Err(fail(
                "APIG.1002",
                "Incorrect token or token resolution failed".to_string(),
                request_id,
            ))
        };
    }
    let Some(value) = req.headers.get("authorization") else {
        return Err(fail("APIG.1000", "Token missing".to_string(), request_id));
    };
    let auth = value
        .to_str()
        .ok()
        .and_then(signing::parse_authorization)
        .ok_or_else(|| iam("Authorization header is malformed", request_id))?;
    let credential = credentials
        .iter()
        .find(|c| c.access_key == auth.access_key)
        .ok_or_else(|| {
            iam(
                &format!(
                    "Get secretKey failed,ak:{},err:ak not exist",
                    auth.access_key
                ),
                request_id,
            )
        })?;
    let date = req
        .headers
        .get(signing::DATE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed_at = jiff::fmt::strtime::parse(signing::DATE_FORMAT, date)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .map_err(|_| iam(&format!("x-sdk-date is invalid:{date:?}"), request_id))?;
    if (now.as_second() - signed_at.as_second()).abs() > MAX_SKEW_SECS {
        return Err(iam(
            &format!(
                "signature expired, signature time:{date},server time:{}",
                jiff::fmt::strtime::format(signing::DATE_FORMAT, now).unwrap_or_default()
            ),
            request_id,
        ));
    }
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = req
        .uri
        .query()
        .map(signing::parse_query)
        .unwrap_or_default();
    let request = Request {
        method: req.method.as_str(),
        path: req.uri.path(),
        query: &query,
        headers: &headers,
        body: req.body,
    };
    signing::verify(&request, &auth, &credential.secret_key).map_err(|mismatch| {
        iam(
            &format!(
                "verify aksk signature fail, canonicalRequest:{}",
                mismatch.canonical_request.replace('\n', "|")
            ),
            request_id,
        )
    })?;
    Ok(format!("ak:{}", credential.access_key))
}

/// A stable key for a token that does not reveal it.
fn short(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(token.as_bytes())[..8])
}
