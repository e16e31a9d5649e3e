//! The emulator's configuration: one value shared by `apigsync emulator` and [`super::spawn`].

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::quirks_auth::AuthQuirks;
use super::quirks_binding::BindingQuirks;
use super::quirks_service::ServiceQuirks;
use super::seed::Seed;

/// The demo access key, accepted when no credential or token is configured.
pub const DEMO_ACCESS_KEY: &str = "APIGSYNCDEMOAK000001";
/// The demo secret key (public on purpose: it only opens the local emulator).
pub const DEMO_SECRET_KEY: &str = "apigsync-demo-secret-key-not-for-production";
/// The demo `X-Auth-Token`, accepted when no credential or token is configured.
pub const DEMO_TOKEN: &str = "apigsync-demo-token";
/// The default `--listen` address of the CLI.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8780";

/// An accepted AK/SK pair. `Debug` never shows the secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// Access key id.
    pub access_key: String,
    /// Secret key.
    pub secret_key: String,
}

impl Credential {
    /// A pair from its two halves.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        }
    }

    /// The documented demo pair.
    pub fn demo() -> Self {
        Self::new(DEMO_ACCESS_KEY, DEMO_SECRET_KEY)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .finish()
    }
}

impl std::str::FromStr for Credential {
    type Err = String;
    /// Parses `AK:SK` (the secret key may itself contain `:`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some((ak, sk)) if !ak.is_empty() && !sk.is_empty() => Ok(Self::new(ak, sk)),
            _ => Err("expected AK:SK".to_string()),
        }
    }
}

/// Fault injection and load settings; `PUT /_emulator/faults` changes them at run time.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Faults {
    /// Added to every response.
    #[serde(with = "millis", rename = "latency_ms", default)]
    pub latency: Duration,
    /// Share of requests (0.0–1.0) that get an injected fault.
    #[serde(default)]
    pub fault_rate: f64,
    /// Requests per second per credential; beyond: 429. `None`: unlimited.
    #[serde(default)]
    pub rate_limit: Option<f64>,
    /// Share of requests (0.0–1.0) answered as throttled (`throttle_answer`) and nothing
    /// else: a gateway that sheds a steady part of the load. Set at run time only.
    #[serde(default, skip_serializing_if = "is_unset")]
    pub throttle_rate: f64,
    /// Binding and create behaviours of the real service (`partial_attach`, `binding_conflicts`, `refuse_create`).
    #[serde(flatten)]
    pub binding: BindingQuirks,
    /// Service behaviours the default emulator hides (flattened into the same JSON object).
    #[serde(flatten)]
    pub service: ServiceQuirks,
    /// Tokens that expire (`token_expiry_ms`).
    #[serde(flatten)]
    pub auth: AuthQuirks,
    /// How a throttled request (rate limit or injected) is answered.
    #[serde(default)]
    pub throttle_answer: ThrottleAnswer,
    /// Throttled answers carry no `Retry-After` (the real service may not send one).
    #[serde(default)]
    pub omit_retry_after: bool,
}

/// A share of 0: not shown in `GET /_emulator/faults`.
fn is_unset(rate: &f64) -> bool {
    *rate <= 0.0
}

/// The answer to a throttled request. SPEC §5 (error table) lists both: the
/// front door's 429 APIGW.0308 "The throttling threshold has been reached" (gateway
/// error table, FAQ) and the management API's 500 APIG.9008 "Too many requests.
/// Try again later" (OTC table); SPEC §10 item 9 says which one a client meets is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ThrottleAnswer {
    /// 429 APIGW.0308.
    #[default]
    #[serde(rename = "APIGW.0308")]
    Apigw0308,
    /// 500 APIG.9008.
    #[serde(rename = "APIG.9008")]
    Apig9008,
}

impl std::str::FromStr for ThrottleAnswer {
    type Err = String;
    /// Parses `APIGW.0308` (or `429`) and `APIG.9008` (or `9008`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "APIGW.0308" | "429" => Ok(Self::Apigw0308),
            "APIG.9008" | "9008" => Ok(Self::Apig9008),
            _ => Err(format!("expected APIGW.0308 or APIG.9008, not {s:?}")),
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Everything [`super::spawn`] needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The world to start with (and to go back to on reset).
    pub seed: Seed,
    /// Persist the whole state here as JSON (atomically after every change); loaded at start when it exists.
    pub state_file: Option<PathBuf>,
    /// Accepted AK/SK pairs.
    pub credentials: Vec<Credential>,
    /// Accepted `X-Auth-Token` values.
    pub tokens: Vec<String>,
    /// Added to every response.
    pub latency: Duration,
    /// Share of requests (0.0–1.0) that get an injected fault.
    pub fault_rate: f64,
    /// Seed of the fault sequence.
    pub fault_seed: u64,
    /// Requests per second per credential; beyond: 429 APIGW.0308 (or as `throttle_answer` says).
    pub rate_limit: Option<f64>,
    /// Binding and create behaviours of the real service, off by default.
    pub binding_quirks: BindingQuirks,
    /// Service behaviours the default emulator hides.
    pub service: ServiceQuirks,
    /// Tokens that expire.
    pub auth: AuthQuirks,
    /// How a throttled request is answered.
    pub throttle_answer: ThrottleAnswer,
    /// Throttled answers carry no `Retry-After`.
    pub omit_retry_after: bool,
}

impl EmulatorConfig {
    /// The demo world on `127.0.0.1:0`: built-in seed, demo credential and token, no faults, no state file.
    pub fn demo() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: Seed::demo(),
            state_file: None,
            credentials: vec![Credential::demo()],
            tokens: vec![DEMO_TOKEN.to_string()],
            latency: Duration::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            rate_limit: None,
            binding_quirks: BindingQuirks::default(),
            service: ServiceQuirks::default(),
            auth: AuthQuirks::default(),
            throttle_answer: ThrottleAnswer::default(),
            omit_retry_after: false,
        }
    }

    /// The fault settings part of the configuration.
    pub fn faults(&self) -> Faults {
        Faults {
            latency: self.latency,
            fault_rate: self.fault_rate,
            rate_limit: self.rate_limit,
            throttle_rate: 0.0,
            binding: self.binding_quirks.clone(),
            service: self.service.clone(),
            auth: self.auth.clone(),
            throttle_answer: self.throttle_answer,
            omit_retry_after: self.omit_retry_after,
        }
    }
}
