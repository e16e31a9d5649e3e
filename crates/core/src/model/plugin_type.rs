//! The closed sets of the API: deployment flavours, plug-in types and scopes.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which deployment of the plug-in API a target is (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Huawei Cloud APIG (dedicated gateway), `apigw` paths.
    Apig,
    /// Huawei Cloud ROMA Connect, `apic` paths.
    Roma,
    /// Open Telekom Cloud APIG, `apigw` paths.
    Otc,
}

impl Flavour {
    /// All flavours, in a stable order.
    pub const ALL: [Flavour; 3] = [Flavour::Apig, Flavour::Roma, Flavour::Otc];

    /// The path segment after the project id: `apigw` or `apic`.
    pub fn path_segment(self) -> &'static str {
        match self {
            Flavour::Apig | Flavour::Otc => "apigw",
            Flavour::Roma => "apic",
        }
    }

    /// Whether plug-ins of this flavour may have `app` scope (ROMA only).
    pub fn supports_app_scope(self) -> bool {
        matches!(self, Flavour::Roma)
    }

    /// Whether this flavour offers plug-ins of `kind` (SPEC §4.2).
    pub fn supports(self, kind: PluginType) -> bool {
        match self {
            Flavour::Apig | Flavour::Roma => true,
            Flavour::Otc => !matches!(
                kind,
                PluginType::ProxyCache | PluginType::ProxyMirror | PluginType::OidcAuth
            ),
        }
    }

    /// The lowercase name used in files and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Apig => "apig",
            Flavour::Roma => "roma",
            Flavour::Otc => "otc",
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flavour {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Flavour::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown flavour {s:?}, expected one of apig, roma, otc"))
    }
}

/// The nine plug-in types of SPEC §6.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PluginType {
    /// CORS.
    Cors,
    /// HTTP response header management.
    SetRespHeaders,
    /// Kafka log push.
    KafkaLog,
    /// Circuit breaker.
    Breaker,
    /// Request throttling 2.0.
    RateLimit,
    /// Third-party authorizer.
    ThirdAuth,
    /// Response cache.
    ProxyCache,
    /// Request mirroring.
    ProxyMirror,
    /// OIDC authentication.
    OidcAuth,
}

impl PluginType {
    /// All types, in SPEC order.
    pub const ALL: [PluginType; 9] = [
        PluginType::Cors,
        PluginType::SetRespHeaders,
        PluginType::KafkaLog,
        PluginType::Breaker,
        PluginType::RateLimit,
        PluginType::ThirdAuth,
        PluginType::ProxyCache,
        PluginType::ProxyMirror,
        PluginType::OidcAuth,
    ];

    /// The wire name, e.g. `set_resp_headers`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginType::Cors => "cors",
            PluginType::SetRespHeaders => "set_resp_headers",
            PluginType::KafkaLog => "kafka_log",
            PluginType::Breaker => "breaker",
            PluginType::RateLimit => "rate_limit",
            PluginType::ThirdAuth => "third_auth",
            PluginType::ProxyCache => "proxy_cache",
            PluginType::ProxyMirror => "proxy_mirror",
            PluginType::OidcAuth => "oidc_auth",
        }
    }
}

impl fmt::Display for PluginType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PluginType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PluginType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown plug-in type {s:?}"))
    }
}

/// Who a plug-in is visible to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Visible to the whole gateway (the only scope on APIG and OTC).
    #[default]
    Global,
    /// Visible to one ROMA integration application (`roma_app_id`).
    App,
}

impl Scope {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::App => "app",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "global" => Ok(Scope::Global),
            "app" => Ok(Scope::App),
            _ => Err(format!(
                "unknown plug-in scope {s:?}, expected global or app"
            )),
        }
    }
}
