//! The emulator's own names for the closed sets of the API: flavours, plug-in types and
//! scopes (SPEC §1, §4.2), and the built-in RELEASE environment (SPEC §3.10). Written from
//! SPEC, independently of the client's model, so the emulator can disagree with it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::facts::facts;

/// Which deployment an instance is (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Huawei Cloud APIG, `apigw` paths.
    Apig,
    /// Huawei Cloud ROMA Connect, `apic` paths.
    Roma,
    /// Open Telekom Cloud APIG, `apigw` paths.
    Otc,
}

impl Flavour {
    /// The lowercase name used in seeds (`apig`, `roma`, `otc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Apig => "apig",
            Flavour::Roma => "roma",
            Flavour::Otc => "otc",
        }
    }

    /// The path segment after the project id (SPEC §1): `apigw` or `apic`.
    pub fn path_segment(self) -> &'static str {
        match self {
            Flavour::Apig | Flavour::Otc => "apigw",
            Flavour::Roma => "apic",
        }
    }

    /// Whether plug-ins may have `app` scope (SPEC §4.2: apic only).
    pub fn supports_app_scope(self) -> bool {
        self == Flavour::Roma
    }

    /// Whether the API creates plug-ins of `kind` here (SPEC §4.2, `offered_types` of the facts).
    pub fn offers(self, kind: &PluginType) -> bool {
        facts()
            .offered_types
            .by_flavour
            .get(self.as_str())
            .is_some_and(|types| types.iter().any(|t| t == kind.as_str()))
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plug-in type as the service names it on the wire (SPEC §4.2). Types the emulator has
/// no model for (e.g. `lua_script`, SPEC §11.3) are kept by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum PluginType {
    /// `cors` (SPEC §6.1).
    Cors,
    /// `set_resp_headers` (SPEC §6.2).
    SetRespHeaders,
    /// `kafka_log` (SPEC §6.3).
    KafkaLog,
    /// `breaker` (SPEC §6.4).
    Breaker,
    /// `rate_limit` (SPEC §6.5).
    RateLimit,
    /// `third_auth` (SPEC §6.6).
    ThirdAuth,
    /// `proxy_cache` (SPEC §6.7).
    ProxyCache,
    /// `proxy_mirror` (SPEC §6.8).
    ProxyMirror,
    /// `oidc_auth` (SPEC §6.9).
    OidcAuth,
    /// `jwt_auth` (SPEC §4.2: APIG SDK `JWTAuthContent`, not researched).
    JwtAuth,
    /// Any other name.
    Other(String),
}

const NAMED: [(PluginType, &str); 10] = [
    (PluginType::Cors, "cors"),
    (PluginType::SetRespHeaders, "set_resp_headers"),
    (PluginType::KafkaLog, "kafka_log"),
    (PluginType::Breaker, "breaker"),
    (PluginType::RateLimit, "rate_limit"),
    (PluginType::ThirdAuth, "third_auth"),
    (PluginType::ProxyCache, "proxy_cache"),
    (PluginType::ProxyMirror, "proxy_mirror"),
    (PluginType::OidcAuth, "oidc_auth"),
    (PluginType::JwtAuth, "jwt_auth"),
];

impl PluginType {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            PluginType::Other(name) => name,
            known => NAMED
                .iter()
                .find(|(t, _)| t == known)
                .map_or("", |(_, name)| name),
        }
    }
}

impl From<String> for PluginType {
    fn from(s: String) -> Self {
        NAMED
            .iter()
            .find(|(_, name)| *name == s)
            .map_or(PluginType::Other(s), |(t, _)| t.clone())
    }
}

impl From<&str> for PluginType {
    fn from(s: &str) -> Self {
        PluginType::from(s.to_owned())
    }
}

impl From<PluginType> for String {
    fn from(t: PluginType) -> Self {
        t.as_str().to_owned()
    }
}

impl fmt::Display for PluginType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `plugin_scope` (SPEC §3.3, §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `global`.
    Global,
    /// `app` (apic only, with `roma_app_id`).
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

impl FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "global" => Ok(Scope::Global),
            "app" => Ok(Scope::App),
            _ => Err(()),
        }
    }
}

/// The id of the built-in RELEASE environment (SPEC §3.10).
pub fn release_env_id() -> &'static str {
    &facts().release_env.id
}

/// The name of the built-in RELEASE environment (SPEC §3.10).
pub fn release_env_name() -> &'static str {
    &facts().release_env.name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip_and_unknown_names_are_kept() {
        assert_eq!(
            PluginType::from("set_resp_headers"),
            PluginType::SetRespHeaders
        );
        assert_eq!(PluginType::from("jwt_auth").as_str(), "jwt_auth");
        assert_eq!(
            PluginType::from("lua_script"),
            PluginType::Other("lua_script".into())
        );
    }

    #[test]
    fn otc_offers_only_the_six_original_types() {
        assert!(Flavour::Otc.offers(&PluginType::Breaker));
        assert!(!Flavour::Otc.offers(&PluginType::ProxyMirror));
        assert!(Flavour::Roma.offers(&PluginType::OidcAuth));
        assert!(!Flavour::Apig.offers(&PluginType::JwtAuth));
        assert_eq!(
            (release_env_id(), release_env_name()),
            ("DEFAULT_ENVIRONMENT_RELEASE_ID", "RELEASE")
        );
    }
}
