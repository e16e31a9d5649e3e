//! Credentials that change while the emulator runs: IAM tokens that expire
//! (`token_expiry`, a switch of [`super::Faults`] and an `apigsync emulator` flag), and
//! admin endpoints that replace the accepted tokens and AK/SK pairs (rotation).
//!
//! | switch or endpoint | behaviour | source |
//! |---|---|---|
//! | `token_expiry_ms` | a token is accepted for this long after it was issued (at start, at reset, or by `PUT /_emulator/tokens`); later: 401 APIG.1002 "Incorrect token or token resolution failed: the token has expired" | SPEC §7.1 (tokens are valid 24 h; 401 APIG.1002 for a token that does not resolve); the message suffix is chosen (SPEC §5 also lists APIG.1001 "Session expired") |
//! | `PUT /_emulator/tokens` `{"tokens": ["t1", …]}` | replaces the accepted tokens, each issued now; answers `{"tokens": <count>}` | chosen |
//! | `PUT /_emulator/credentials` `{"credentials": [{"access_key", "secret_key"}, …]}` | replaces the accepted AK/SK pairs (an AK left out now answers 401 APIGW.0301 "ak not exist"); answers `{"credentials": <count>}` | chosen (SPEC §7.2 for the error) |

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::config::Credential;
use super::quirks_service::opt_millis;
use super::shared::{Shared, lock};

/// The switch; off by default (tokens never expire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthQuirks {
    /// How long a token is accepted after it was issued; `None`: for ever.
    #[serde(
        default,
        with = "opt_millis",
        rename = "token_expiry_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_expiry: Option<Duration>,
}

/// The accepted AK/SK pairs and tokens (with when each token was issued).
#[derive(Debug, Clone)]
pub struct Accepted {
    /// AK/SK pairs.
    pub credentials: Vec<Credential>,
    /// Tokens and their issue time.
    pub tokens: Vec<(String, Instant)>,
}

impl Accepted {
    /// These pairs and tokens, the tokens issued now.
    pub fn new(credentials: Vec<Credential>, tokens: &[String]) -> Self {
        let now = Instant::now();
        Self {
            credentials,
            tokens: tokens.iter().map(|t| (t.clone(), now)).collect(),
        }
    }

    /// The tokens still valid and those expired under `expiry`.
    pub fn tokens_by_validity(&self, expiry: Option<Duration>) -> (Vec<String>, Vec<String>) {
        let now = Instant::now();
        let (live, expired): (Vec<_>, Vec<_>) = self
            .tokens
            .iter()
            .partition(|(_, at)| expiry.is_none_or(|e| now.duration_since(*at) < e));
        let names = |v: Vec<&(String, Instant)>| v.into_iter().map(|(t, _)| t.clone()).collect();
        (names(live), names(expired))
    }
}

/// `PUT /_emulator/tokens` and `PUT /_emulator/credentials`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/tokens", put(put_tokens))
        .route("/_emulator/credentials", put(put_credentials))
}

#[derive(Debug, Deserialize)]
struct Tokens {
    tokens: Vec<String>,
}

async fn put_tokens(State(s): State<Arc<Shared>>, Json(t): Json<Tokens>) -> Response {
    let mut accepted = lock(&s.accepted);
    let now = Instant::now();
    accepted.tokens = t.tokens.into_iter().map(|t| (t, now)).collect();
    Json(json!({"tokens": accepted.tokens.len()})).into_response()
}

#[derive(Debug, Deserialize)]
struct Pair {
    access_key: String,
    secret_key: String,
}

#[derive(Debug, Deserialize)]
struct Credentials {
    credentials: Vec<Pair>,
}

async fn put_credentials(State(s): State<Arc<Shared>>, Json(c): Json<Credentials>) -> Response {
    let mut accepted = lock(&s.accepted);
    accepted.credentials = c
        .credentials
        .into_iter()
        .map(|p| Credential::new(p.access_key, p.secret_key))
        .collect();
    Json(json!({"credentials": accepted.credentials.len()})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_only_with_an_expiry() {
        let mut a = Accepted::new(Vec::new(), &["new".to_owned()]);
        let long_ago = Instant::now()
            .checked_sub(Duration::from_secs(60))
            .unwrap_or_else(Instant::now);
        a.tokens.push(("old".to_owned(), long_ago));
        assert_eq!(
            a.tokens_by_validity(Some(Duration::from_secs(30))),
            (vec!["new".to_owned()], vec!["old".to_owned()])
        );
        assert_eq!(a.tokens_by_validity(None).1, Vec::<String>::new());
    }
}
