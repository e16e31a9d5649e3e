//! SDK-HMAC-SHA256 request signing (SPEC §7.2), exactly as the official Huawei
//! SDK signer does it. The client signs with it and the emulator verifies with
//! it, so both sides share one canonicalisation. Pure: no clock, no IO.

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// The algorithm name that starts the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header that carries the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "X-Sdk-Date";
/// The format of [`DATE_HEADER`] for `jiff::fmt::strtime`.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// SHA-256 of the empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A request as the signer sees it: the bytes that go on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// Resource path as requested (percent-encoded or not).
    pub path: &'a str,
    /// Query parameters, unencoded; one pair per value.
    pub query: &'a [(String, String)],
    /// Headers; must include `Host` and `X-Sdk-Date` before signing.
    pub headers: &'a [(String, String)],
    /// The exact body bytes (empty when there is none).
    pub body: &'a [u8],
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key.
    pub access_key: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature.
    pub signature: String,
}

/// Percent-encodes one path segment, query key or query value (UTF-8, uppercase hex).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The canonical URI: each decoded segment re-encoded, always ending in `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = String::with_capacity(decoded.len() + 1);
    for (i, segment) in decoded.split('/').enumerate() {
        if i > 0 {
            uri.push('/');
        }
        uri.extend(utf8_percent_encode(segment, ENCODE));
    }
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical query string: pairs sorted by key then value, encoded, joined with `&`.
///
/// The SDK sends exactly this string as the URL query, so a client should too.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(utf8_percent_encode(k, ENCODE));
        out.push('=');
        out.extend(utf8_percent_encode(v, ENCODE));
    }
    out
}

/// Splits a raw URL query into unencoded pairs (`+` stays `+`: the signer encodes spaces as `%20`).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Lower-case names of the headers the SDK signs: all whose name has no `_`, sorted.
pub fn signable_headers(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| !n.contains('_'))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` header the SDK adds before signing
/// when `Content-Type` is set and is neither JSON nor BSON; `None` otherwise.
pub fn unsigned_payload_header(headers: &[(String, String)]) -> Option<(String, String)> {
    let content_type = header(headers, "Content-Type")?;
    let json_like = content_type.starts_with("application/json")
        || content_type.starts_with("application/bson");
    let present = header(headers, "X-Sdk-Content-Sha256").is_some();
    (!json_like && !present).then(|| {
        (
            "X-Sdk-Content-Sha256".to_string(),
            "UNSIGNED-PAYLOAD".to_string(),
        )
    })
}

/// The payload hash: empty body → hash of nothing; `X-Sdk-Content-Sha256` verbatim; else SHA-256 hex.
pub fn payload_hash(headers: &[(String, String)], body: &[u8]) -> String {
    if body.is_empty() {
        return EMPTY_BODY_SHA256.to_string();
    }
    if let Some(v) = header(headers, "X-Sdk-Content-Sha256") {
        return v.to_string();
    }
    hex::encode(Sha256::digest(body))
}

/// The canonical request over the given signed header names (lower-case).
pub fn canonical_request(req: &Request<'_>, signed_headers: &[String]) -> String {
    let mut out = String::new();
    out.push_str(&req.method.to_ascii_uppercase());
    out.push('\n');
    out.push_str(&canonical_uri(req.path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in signed_headers {
        let value = header(req.headers, name).unwrap_or("").trim();
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(&payload_hash(req.headers, req.body));
    out
}

/// The string to sign for a canonical request made at `sdk_date`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Lower-case hex HMAC-SHA256 of `string_to_sign` keyed with the secret key.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    #[allow(
        clippy::expect_used,
        reason = "HMAC-SHA256 accepts keys of any length: new_from_slice cannot fail"
    )]
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Signs `req` and returns the `Authorization` header value.
///
/// `req.headers` must already hold `Host`, `X-Sdk-Date` and, where it applies,
/// [`unsigned_payload_header`]; every header without `_` in its name is signed.
pub fn sign(req: &Request<'_>, access_key: &str, secret_key: &str) -> String {
    let signed = signable_headers(req.headers);
    let date = header(req.headers, DATE_HEADER).unwrap_or("");
    let sts = string_to_sign(date, &canonical_request(req, &signed));
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
        signed.join(";"),
        signature(secret_key, &sts)
    )
}

/// Parses an `Authorization` header; `None` when it is not SDK-HMAC-SHA256 or malformed.
pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.strip_prefix(ALGORITHM)?.trim_start();
    let (mut access_key, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => access_key = Some(v.to_string()),
            "SignedHeaders" => {
                signed_headers = Some(v.split(';').map(str::to_ascii_lowercase).collect())
            }
            "Signature" => signature = Some(v.to_ascii_lowercase()),
            _ => return None,
        }
    }
    Some(Authorization {
        access_key: access_key?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// Why a signature did not verify; carries the server's canonical request for the error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The canonical request the verifier computed.
    pub canonical_request: String,
}

/// Verifies `auth` against `req` with `secret_key`, using only the headers `auth` names.
pub fn verify(req: &Request<'_>, auth: &Authorization, secret_key: &str) -> Result<(), Mismatch> {
    let date = header(req.headers, DATE_HEADER).unwrap_or("");
    let canonical = canonical_request(req, &auth.signed_headers);
    let expected = signature(secret_key, &string_to_sign(date, &canonical));
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(Mismatch {
            canonical_request: canonical,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uri_appends_one_slash() {
        assert_eq!(canonical_uri("/v2/p/plugins"), "/v2/p/plugins/");
        assert_eq!(canonical_uri("/v2/p/plugins/"), "/v2/p/plugins/");
    }

    #[test]
    fn query_encoding_keeps_tilde_and_encodes_reserved() {
        let q = vec![("a".to_string(), "x y/+&=~é".to_string())];
        assert_eq!(canonical_query(&q), "a=x%20y%2F%2B%26%3D~%C3%A9");
        assert_eq!(parse_query(&canonical_query(&q)), q);
    }

    #[test]
    fn authorization_round_trips() {
        let v = "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=ab12";
        let a = parse_authorization(v).expect("parses");
        assert_eq!(a.access_key, "AK");
        assert_eq!(a.signed_headers, vec!["host", "x-sdk-date"]);
        assert!(parse_authorization("Bearer x").is_none());
    }
}
