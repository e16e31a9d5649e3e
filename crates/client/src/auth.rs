//! Refusals that a setting fixes: which credential or target setting an auth answer
//! (SPEC §5: 401/403, APIGW.0301, APIG.1000–1136; 404 APIG.3030) points at. The
//! server's own text is read to tell the cases apart but never repeated: a signature
//! mismatch quotes the canonical request, which holds the signed headers.

use std::fmt;

/// The setting a refused call asks the user to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProblem {
    /// The signature did not verify: the secret key does not belong to the access key.
    SecretKey,
    /// IAM does not know the access key.
    AccessKey,
    /// IAM locked the access key after repeated bad signatures (5 in a row lock it for
    /// 5 minutes, SPEC §5).
    AccessKeyLocked,
    /// `X-Sdk-Date` is more than 15 minutes off the server's clock (SPEC §5, §7.2).
    ClockSkew,
    /// The IAM token (or the STS security token) is missing, expired or invalid.
    Token,
    /// The credentials are valid but lack a permission (IAM policy) for this call.
    Permission,
    /// The project id or instance id names no instance (404 APIG.3030).
    ProjectOrInstance,
    /// Another 401: the credentials as a whole.
    Credentials,
}

impl AuthProblem {
    /// The problem an error answer describes, or `None` when it is not an auth refusal.
    pub(crate) fn classify(status: u16, code: &str, message: &str) -> Option<Self> {
        // Only the server's prose: a quoted canonical request holds header names
        // (x-sdk-date, x-security-token) that would match the words looked for.
        let lower = message.to_ascii_lowercase();
        let text = lower.split("canonicalrequest").next().unwrap_or_default();
        let problem = match (status, code) {
            (404, "APIG.3030") => Self::ProjectOrInstance,
            (_, "APIGW.0301" | "APIG.0301" | "APIGW.0303" | "APIG.0303") => {
                if text.contains("expired") || text.contains("x-sdk-date") {
                    Self::ClockSkew
                } else if text.contains("ak not exist") {
                    Self::AccessKey
                } else if text.contains("reach the limit") {
                    Self::AccessKeyLocked
                } else if text.contains("token") {
                    Self::Token
                } else {
                    Self::SecretKey
                }
            }
            (_, "APIG.1000" | "APIG.1001" | "APIG.1002") => Self::Token,
            (
                401 | 403,
                "APIG.1005" | "APIG.1020" | "APIG.1101" | "APIG.1102" | "APIG.1103" | "APIG.1136",
            ) => Self::Permission,
            (401, _) => Self::Credentials,
            (403, _) => Self::Permission,
            _ => return None,
        };
        Some(problem)
    }

    /// The credential parts whose origin the message names.
    pub(crate) fn parts(self) -> &'static [Part] {
        match self {
            Self::SecretKey | Self::AccessKeyLocked => &[Part::SecretKey, Part::AccessKey],
            Self::AccessKey | Self::Permission => &[Part::AccessKey, Part::AuthToken],
            Self::Token => &[Part::AuthToken, Part::SecurityToken],
            Self::ClockSkew | Self::ProjectOrInstance => &[],
            Self::Credentials => &[
                Part::AccessKey,
                Part::SecretKey,
                Part::SecurityToken,
                Part::AuthToken,
            ],
        }
    }
}

impl fmt::Display for AuthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SecretKey => "the signature does not verify: the secret key does not belong to the access key",
            Self::AccessKey => "the access key is unknown",
            Self::AccessKeyLocked => "the access key is locked for 5 minutes after repeated bad signatures: fix the secret key, then wait",
            Self::ClockSkew => "the request date is more than 15 minutes off the server's clock (clock skew)",
            Self::Token => "the token is missing, expired or invalid",
            Self::Permission => "the credentials lack a permission for this call (check the IAM policy of the user)",
            Self::ProjectOrInstance => "no such instance in this project",
            Self::Credentials => "the credentials were refused",
        })
    }
}

/// One part of the credentials, for naming where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// `HW_ACCESS_KEY`.
    AccessKey,
    /// `HW_SECRET_KEY`.
    SecretKey,
    /// `HW_SECURITY_TOKEN`.
    SecurityToken,
    /// `HW_AUTH_TOKEN`.
    AuthToken,
}

impl Part {
    /// Every part, in the order messages name them.
    pub const ALL: [Part; 4] = [
        Part::AccessKey,
        Part::SecretKey,
        Part::SecurityToken,
        Part::AuthToken,
    ];

    /// The environment variable of this part (without a `credentials_prefix`).
    pub fn var(self) -> &'static str {
        match self {
            Part::AccessKey => "HW_ACCESS_KEY",
            Part::SecretKey => "HW_SECRET_KEY",
            Part::SecurityToken => "HW_SECURITY_TOKEN",
            Part::AuthToken => "HW_AUTH_TOKEN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_the_setting_to_check() {
        let c = AuthProblem::classify;
        let mismatch = "Incorrect IAM authentication information: verify aksk signature fail, canonicalRequest:GET|/v2/||";
        assert_eq!(c(401, "APIGW.0301", mismatch), Some(AuthProblem::SecretKey));
        let with_sts = "verify aksk signature fail, canonicalRequest:GET|/x/||x-security-token:t||";
        assert_eq!(c(401, "APIGW.0301", with_sts), Some(AuthProblem::SecretKey));
        assert_eq!(
            c(401, "APIGW.0301", "decrypt token fail"),
            Some(AuthProblem::Token)
        );
        assert_eq!(
            c(
                401,
                "APIGW.0301",
                "Get secretKey failed,ak:AK1,err:ak not exist"
            ),
            Some(AuthProblem::AccessKey)
        );
        assert_eq!(
            c(
                401,
                "APIGW.0301",
                "signature expired, signature time:20240101T000000Z,server time:20240102T000000Z"
            ),
            Some(AuthProblem::ClockSkew)
        );
        assert_eq!(
            c(
                401,
                "APIG.0301",
                "AK access failed to reach the limit,forbidden"
            ),
            Some(AuthProblem::AccessKeyLocked)
        );
        assert_eq!(
            c(401, "APIG.1002", "Incorrect token"),
            Some(AuthProblem::Token)
        );
        assert_eq!(
            c(403, "APIG.1005", "No permissions"),
            Some(AuthProblem::Permission)
        );
        assert_eq!(
            c(404, "APIG.3030", "The instance does not exist;id:i1"),
            Some(AuthProblem::ProjectOrInstance)
        );
        assert_eq!(c(401, "401", ""), Some(AuthProblem::Credentials));
        assert_eq!(c(404, "APIG.3068", "Plugin x does not exist"), None);
        assert_eq!(c(429, "APIGW.0308", "throttled"), None);
    }
}
