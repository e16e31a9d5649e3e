//! The signer reproduces every official SDK test vector byte for byte, and the
//! verifier accepts each vector and every captured SDK request.

use apigsync::signing::{self, Request};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture exists")).expect("json")
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn query_pairs(case: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for pair in case["query_params"].as_array().into_iter().flatten() {
        let key = scalar(&pair[0]);
        match &pair[1] {
            Value::Array(values) => out.extend(values.iter().map(|v| (key.clone(), scalar(v)))),
            Value::Null => {}
            v => out.push((key, scalar(v))),
        }
    }
    out
}

#[test]
fn every_sdk_vector_is_reproduced_byte_for_byte() {
    let vectors = load("signing-vectors.json");
    let ak = vectors["access_key"].as_str().expect("ak");
    let sk = vectors["secret_key"].as_str().expect("sk");
    let cases = vectors["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 14);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let mut headers: Vec<(String, String)> = case["headers_in"]
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), scalar(v)))
            .collect();
        headers.push(("Host".into(), scalar(&case["host"])));
        headers.extend(signing::unsigned_payload_header(&headers));
        let body = case["body"].as_str().unwrap_or("").as_bytes().to_vec();
        let query = query_pairs(case);
        let req = Request {
            method: case["method"].as_str().expect("method"),
            path: case["resource_path"].as_str().expect("path"),
            query: &query,
            headers: &headers,
            body: &body,
        };
        let signed = signing::signable_headers(&headers);
        let canonical = signing::canonical_request(&req, &signed);
        assert_eq!(
            canonical,
            case["canonical_request"].as_str().expect("cr"),
            "{name}"
        );
        assert_eq!(
            signed.join(";"),
            case["signed_headers"].as_str().expect("sh"),
            "{name}"
        );
        let url = case["url"].as_str().expect("url");
        let sent_query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        assert_eq!(
            signing::canonical_query(&query),
            sent_query,
            "{name}: query sent"
        );
        let auth = signing::sign(&req, ak, sk);
        assert_eq!(
            auth,
            case["authorization"].as_str().expect("auth"),
            "{name}"
        );
        let parsed = signing::parse_authorization(&auth).expect("parses");
        assert!(
            signing::verify(&req, &parsed, sk).is_ok(),
            "{name}: verifies"
        );
        assert!(
            signing::verify(&req, &parsed, "wrong").is_err(),
            "{name}: wrong key"
        );
    }
}

#[test]
fn captured_sdk_requests_verify_as_a_server_receives_them() {
    let capture = load("sdk-wire-capture.json");
    let sk = capture["_meta"]["secret_key"].as_str().expect("sk");
    let requests = capture["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 3);
    for request in requests {
        let line = request["request_line"].as_str().expect("line");
        let mut parts = line.split(' ');
        let method = parts.next().expect("method");
        let target = parts.next().expect("target");
        let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
        let headers: Vec<(String, String)> = request["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| (scalar(&h[0]), scalar(&h[1])))
            .collect();
        let auth_header = &headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .expect("signed")
            .1;
        let auth = signing::parse_authorization(auth_header).expect("parses");
        let query = signing::parse_query(raw_query);
        let body = request["body"].as_str().unwrap_or("").as_bytes().to_vec();
        let req = Request {
            method,
            path,
            query: &query,
            headers: &headers,
            body: &body,
        };
        assert!(signing::verify(&req, &auth, sk).is_ok(), "{line}");
        let mut tampered = query.clone();
        tampered.push(("offset".into(), "1".into()));
        let req = Request {
            query: &tampered,
            ..req
        };
        assert!(
            signing::verify(&req, &auth, sk).is_err(),
            "{line}: altered query"
        );
    }
}
