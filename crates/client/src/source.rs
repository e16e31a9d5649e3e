//! Where the credentials come from, and reading them again when they change: each part
//! (access key, secret key, security token, IAM token) from a variable (`HW_SECRET_KEY`),
//! a file a variable names (`HW_SECRET_KEY_FILE`, the Kubernetes/Docker secrets
//! convention), a flag (`--secret-key-file`), or given in code. Files are checked for a
//! change (modification time and length) at most once per [`CHECK_EVERY`] before a request,
//! and always after a 401; a file that cannot be read then keeps the credentials read last.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::auth::Part;
use super::credentials::{Credentials, CredentialsError, Secret};

/// How often the credential files are checked for a change before a request.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Where one part of the credentials comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A value read once, from the variable or flag `name`.
    Value { name: String, value: Secret },
    /// The contents of `path` (trimmed), named by the variable or flag `name`.
    File { name: String, path: PathBuf },
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Origin::Value { name, .. } => name.clone(),
            Origin::File { name, path } => format!("{name} ({})", path.display()),
        }
    }
}

/// A file's modification time and length when it was read.
type Stamp = Option<(SystemTime, u64)>;

/// The credentials read last, and when.
#[derive(Debug)]
struct Loaded {
    credentials: Arc<Credentials>,
    stamps: Vec<Stamp>,
    checked: Instant,
}

/// The credentials of a client and where each part came from; cheap to ask before every request.
pub struct CredentialSource {
    origins: Vec<(Part, Origin)>,
    loaded: Mutex<Loaded>,
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSource")
            .field("from", &self.describe(&Part::ALL))
            .finish_non_exhaustive()
    }
}

impl From<Credentials> for CredentialSource {
    /// Credentials given in code: never re-read.
    fn from(credentials: Credentials) -> Self {
        Self {
            origins: Vec::new(),
            loaded: Mutex::new(Loaded {
                credentials: Arc::new(credentials),
                stamps: Vec::new(),
                checked: Instant::now(),
            }),
        }
    }
}

impl CredentialSource {
    /// Reads each part from `{prefix}_HW_…_FILE` (a file) or else `{prefix}_HW_…` (the
    /// value) through `lookup`; `prefix` is a target's `credentials_prefix` (none: `HW_…`).
    /// `overrides` are flags that win over the variables: `(part, flag name, value or file)`.
    pub fn from_env(
        lookup: &impl Fn(&str) -> Option<String>,
        prefix: Option<&str>,
        overrides: &[(Part, &str, Override)],
    ) -> Result<Self, CredentialsError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut origins = Vec::new();
        for part in Part::ALL {
            let var = match prefix {
                Some(prefix) => format!("{prefix}_{}", part.var()),
                None => part.var().to_string(),
            };
            let file_var = format!("{var}_FILE");
            let flag = overrides.iter().find(|(p, _, _)| *p == part);
            let origin = if let Some((_, flag, value)) = flag {
                Some(match value {
                    Override::Value(v) => Origin::Value {
                        name: flag.to_string(),
                        value: Secret::new(v.clone()),
                    },
                    Override::File(path) => Origin::File {
                        name: flag.to_string(),
                        path: path.clone(),
                    },
                })
            } else if let Some(path) = get(&file_var) {
                Some(Origin::File {
                    name: file_var,
                    path: PathBuf::from(path),
                })
            } else {
                get(&var).map(|value| Origin::Value {
                    name: var,
                    value: Secret::new(value),
                })
            };
            origins.extend(origin.map(|o| (part, o)));
        }
        let (credentials, stamps) = read(&origins)?;
        Ok(Self {
            origins,
            loaded: Mutex::new(Loaded {
                credentials: Arc::new(credentials),
                stamps,
                checked: Instant::now(),
            }),
        })
    }

    /// The credentials to sign the next request with, read again when a file changed
    /// (checked at most once per [`CHECK_EVERY`]).
    pub fn current(&self) -> Arc<Credentials> {
        self.refresh(false);
        self.lock().credentials.clone()
    }

    /// Checks the files now (after a 401); true when the credentials changed.
    pub fn reload(&self) -> bool {
        self.refresh(true)
    }

    /// Where `parts` came from, e.g. `HW_SECRET_KEY_FILE (/run/secrets/sk), HW_ACCESS_KEY`:
    /// the parts that are set, in that order (credentials given in code: none).
    pub fn describe(&self, parts: &[Part]) -> String {
        parts
            .iter()
            .filter_map(|part| {
                self.origins
                    .iter()
                    .find(|(p, _)| p == part)
                    .map(|(_, o)| o.describe())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn has_files(&self) -> bool {
        self.origins
            .iter()
            .any(|(_, o)| matches!(o, Origin::File { .. }))
    }

    fn refresh(&self, force: bool) -> bool {
        if !self.has_files() {
            return false;
        }
        let mut loaded = self.lock();
        if !force && loaded.checked.elapsed() < CHECK_EVERY {
            return false;
        }
        loaded.checked = Instant::now();
        if stamps(&self.origins) == loaded.stamps {
            return false;
        }
        match read(&self.origins) {
            Ok((credentials, stamps)) => {
                loaded.stamps = stamps;
                let changed = *loaded.credentials != credentials;
                if changed {
                    tracing::info!(from = %self.describe(&Part::ALL), "credentials changed; using the new ones");
                    loaded.credentials = Arc::new(credentials);
                }
                changed
            }
            Err(error) => {
                tracing::warn!(%error, "could not read the credentials again; keeping the ones read last");
                false
            }
        }
    }
}

/// A flag's value for one part: the value itself, or a file holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    /// The value (e.g. `--access-key`).
    Value(String),
    /// A file holding the value (e.g. `--secret-key-file`).
    File(PathBuf),
}

fn stamps(origins: &[(Part, Origin)]) -> Vec<Stamp> {
    origins
        .iter()
        .filter_map(|(_, o)| match o {
            Origin::File { path, .. } => Some(
                std::fs::metadata(path)
                    .ok()
                    .and_then(|m| Some((m.modified().ok()?, m.len()))),
            ),
            Origin::Value { .. } => None,
        })
        .collect()
}

/// Reads every part (files now), then pairs them as [`Credentials::from_env`] does.
fn read(origins: &[(Part, Origin)]) -> Result<(Credentials, Vec<Stamp>), CredentialsError> {
    let before = stamps(origins);
    let mut values = Vec::new();
    for (part, origin) in origins {
        let value = match origin {
            Origin::Value { value, .. } => value.expose().to_string(),
            Origin::File { name, path } => std::fs::read_to_string(path)
                .map_err(|e| CredentialsError::File {
                    name: name.clone(),
                    path: path.clone(),
                    reason: e.to_string(),
                })?
                .trim()
                .to_string(),
        };
        values.push((part.var(), value));
    }
    let lookup = |name: &str| {
        values
            .iter()
            .find(|(var, _)| *var == name)
            .map(|(_, v)| v.clone())
    };
    Ok((Credentials::from_env(&lookup)?, before))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: Vec<(String, String)>) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn secret_of(c: &Credentials) -> String {
        match c {
            Credentials::AkSk { secret_key, .. } => secret_key.expose().to_string(),
            Credentials::Token(t) => t.expose().to_string(),
        }
    }

    #[test]
    fn a_file_variable_wins_and_is_read_again_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("apigsync-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sk");
        std::fs::write(&file, "first-secret\n").unwrap();
        let lookup = env(vec![
            ("PROD_HW_ACCESS_KEY".into(), "AK1".into()),
            ("PROD_HW_SECRET_KEY".into(), "ignored".into()),
            ("PROD_HW_SECRET_KEY_FILE".into(), file.display().to_string()),
        ]);
        let source = CredentialSource::from_env(&lookup, Some("PROD"), &[]).unwrap();
        assert_eq!(secret_of(&source.current()), "first-secret");
        assert_eq!(
            source.describe(&[Part::SecretKey, Part::AccessKey]),
            format!(
                "PROD_HW_SECRET_KEY_FILE ({}), PROD_HW_ACCESS_KEY",
                file.display()
            )
        );
        // A longer value: the length changes even when the modification time's resolution is coarse.
        std::fs::write(&file, "second-secret-rotated").unwrap();
        assert!(source.reload());
        assert_eq!(secret_of(&source.current()), "second-secret-rotated");
        assert!(!source.reload(), "unchanged: nothing to re-read");
        std::fs::remove_file(&file).unwrap();
        assert!(!source.reload());
        assert_eq!(secret_of(&source.current()), "second-secret-rotated");
        let shown = format!("{source:?}");
        assert!(!shown.contains("secret-rotated"), "{shown}");
    }

    #[test]
    fn a_flag_overrides_and_a_missing_file_is_named() {
        let lookup = env(vec![("HW_ACCESS_KEY".into(), "AK1".into())]);
        let missing = PathBuf::from("/nonexistent/apigsync/sk");
        let e = CredentialSource::from_env(
            &lookup,
            None,
            &[(
                Part::SecretKey,
                "--secret-key-file",
                Override::File(missing.clone()),
            )],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read --secret-key-file (/nonexistent/apigsync/sk): "),
            "{e}"
        );
        let token = env(vec![("HW_AUTH_TOKEN".into(), "tok".into())]);
        let source = CredentialSource::from_env(&token, None, &[]).unwrap();
        assert_eq!(*source.current(), Credentials::Token(Secret::new("tok")));
        assert_eq!(source.describe(&Part::ALL), "HW_AUTH_TOKEN");
    }
}
