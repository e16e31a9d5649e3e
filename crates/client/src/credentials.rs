//! Credentials: AK/SK (optionally with an STS security token) or an IAM token.
//! Secret parts never print: their `Debug` and `Display` show `***`.

use std::fmt;

/// A secret string; prints as `***` and is only readable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value, for signing and for the auth header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How requests are authenticated (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// SDK-HMAC-SHA256 signing with an access key pair.
    AkSk {
        /// The access key id (not secret: it appears in the `Authorization` header).
        access_key: String,
        /// The secret access key.
        secret_key: Secret,
        /// STS security token of temporary credentials, sent as `X-Security-Token`.
        security_token: Option<Secret>,
    },
    /// An IAM token sent as `X-Auth-Token`.
    Token(Secret),
}

impl Credentials {
    /// `text` with every secret of these credentials replaced by `***`. A server
    /// may echo signed headers (the canonical request of a signature mismatch holds
    /// `x-security-token`), so error text from a response goes through here.
    pub fn mask(&self, text: &str) -> String {
        let secrets: Vec<&str> = match self {
            Credentials::Token(token) => vec![token.expose()],
            Credentials::AkSk {
                secret_key,
                security_token,
                ..
            } => std::iter::once(secret_key.expose())
                .chain(security_token.as_ref().map(Secret::expose))
                .collect(),
        };
        secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .fold(text.to_owned(), |acc, s| acc.replace(s, "***"))
    }
}

/// Why no credentials could be read from the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// Neither an AK/SK pair nor a token is set.
    #[error("no credentials: set HW_ACCESS_KEY and HW_SECRET_KEY, or HW_AUTH_TOKEN")]
    Missing,
    /// Only one half of the AK/SK pair is set.
    #[error("{present} is set but {missing} is not")]
    HalfPair {
        /// The variable that is set.
        present: &'static str,
        /// The variable that is missing.
        missing: &'static str,
    },
    /// A credentials file could not be read.
    #[error("cannot read {name} ({}): {reason}", path.display())]
    File {
        /// The variable or flag that names the file, e.g. `HW_SECRET_KEY_FILE`.
        name: String,
        /// The file.
        path: std::path::PathBuf,
        /// Why (the system's message).
        reason: String,
    },
}

impl Credentials {
    /// Reads `HW_ACCESS_KEY` + `HW_SECRET_KEY` (+ `HW_SECURITY_TOKEN`), else `HW_AUTH_TOKEN`,
    /// through `lookup` (e.g. `|k| std::env::var(k).ok()`); empty values count as unset.
    pub fn from_env(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        match (get("HW_ACCESS_KEY"), get("HW_SECRET_KEY")) {
            (Some(access_key), Some(secret_key)) => Ok(Credentials::AkSk {
                access_key,
                secret_key: Secret::new(secret_key),
                security_token: get("HW_SECURITY_TOKEN").map(Secret::new),
            }),
            (Some(_), None) => Err(CredentialsError::HalfPair {
                present: "HW_ACCESS_KEY",
                missing: "HW_SECRET_KEY",
            }),
            (None, Some(_)) => Err(CredentialsError::HalfPair {
                present: "HW_SECRET_KEY",
                missing: "HW_ACCESS_KEY",
            }),
            (None, None) => get("HW_AUTH_TOKEN")
                .map(|t| Credentials::Token(Secret::new(t)))
                .ok_or(CredentialsError::Missing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn aksk_with_security_token_wins_over_a_token() {
        let c = Credentials::from_env(&env(&[
            ("HW_ACCESS_KEY", "AK1"),
            ("HW_SECRET_KEY", "sk-very-secret"),
            ("HW_SECURITY_TOKEN", "sts-secret"),
            ("HW_AUTH_TOKEN", "tok"),
        ]))
        .unwrap();
        let Credentials::AkSk {
            access_key,
            secret_key,
            security_token,
        } = c
        else {
            panic!("expected AK/SK, got {c:?}");
        };
        assert_eq!(access_key, "AK1");
        assert_eq!(secret_key.expose(), "sk-very-secret");
        assert_eq!(security_token.unwrap().expose(), "sts-secret");
    }

    #[test]
    fn token_when_no_key_pair_and_errors_name_the_missing_variable() {
        let c = Credentials::from_env(&env(&[("HW_AUTH_TOKEN", "tok")])).unwrap();
        assert_eq!(c, Credentials::Token(Secret::new("tok")));
        let e = Credentials::from_env(&env(&[("HW_ACCESS_KEY", "AK")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "HW_ACCESS_KEY is set but HW_SECRET_KEY is not"
        );
        let e = Credentials::from_env(&env(&[("HW_SECRET_KEY", "")])).unwrap_err();
        assert_eq!(e, CredentialsError::Missing);
    }

    #[test]
    fn secrets_never_print() {
        let c = Credentials::AkSk {
            access_key: "AK1".into(),
            secret_key: Secret::new("sk-very-secret"),
            security_token: Some(Secret::new("sts-secret")),
        };
        let shown = format!("{c:?} {c:#?} {}", Secret::new("tok-secret"));
        assert!(shown.contains("AK1"));
        for secret in ["sk-very-secret", "sts-secret", "tok-secret"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        let t = format!("{:?}", Credentials::Token(Secret::new("tok-secret")));
        assert_eq!(t, "Token(***)");
    }
}
