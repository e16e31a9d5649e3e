//! `--policy DIR` of `plan` and `apply`: reads the Rego files and evaluates them against
//! each plan (`crate::policy`, pure); a denial makes `plan` exit 1 and `apply` refuse
//! before any write.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::plan::Plan;
use crate::policy::{self, PolicySource};

/// The most bytes of one policy file (as a manifest file).
const MAX_POLICY_BYTES: u64 = 2 * 1024 * 1024;

/// The policy flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PolicyArgs {
    /// Evaluate the Rego policies (*.rego, *_test.rego left out) of DIR against the plan,
    /// conftest style: deny/violation rules refuse it, warn rules are shown (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The packages to evaluate (and those below them) [default: main] (repeatable).
    #[arg(long = "policy-namespace", value_name = "PACKAGE", requires = "dirs")]
    pub namespaces: Vec<String>,
}

impl PolicyArgs {
    /// Evaluates the policies against `plan` and records the result in it; nothing when
    /// no `--policy` was given.
    pub fn check(&self, plan: &mut Plan) -> anyhow::Result<()> {
        if self.dirs.is_empty() {
            return Ok(());
        }
        let sources = self.sources()?;
        plan.policy = None;
        let input = serde_json::to_value(&*plan).context("the plan as JSON")?;
        let data = serde_json::json!({"apigsync": {"env": policy_env()}});
        plan.policy = Some(policy::evaluate(&sources, &self.namespaces, &input, &data)?);
        Ok(())
    }

    fn sources(&self) -> anyhow::Result<Vec<PolicySource>> {
        let mut files = Vec::new();
        for dir in &self.dirs {
            rego_files(dir, &mut files)
                .with_context(|| format!("cannot read the policies in {}", dir.display()))?;
        }
        files.sort();
        files.dedup();
        files
            .into_iter()
            .map(|path| {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if size > MAX_POLICY_BYTES {
                    anyhow::bail!(
                        "the policy {} is {size} bytes, more than the {MAX_POLICY_BYTES} a policy file may have",
                        path.display()
                    );
                }
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the policy {}", path.display()))?;
                Ok(PolicySource {
                    path: path.display().to_string(),
                    text,
                })
            })
            .collect()
    }
}

/// The variables a policy may read, as `data.apigsync.env`: those named `APIGSYNC_POLICY_*`
/// (set on purpose, e.g. from a pull-request label), never credentials or secrets.
fn policy_env() -> serde_json::Map<String, serde_json::Value> {
    std::env::vars()
        .filter(|(name, _)| name.starts_with(POLICY_ENV_PREFIX))
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect()
}

/// The prefix of the variables [`policy_env`] passes to policies.
pub const POLICY_ENV_PREFIX: &str = "APIGSYNC_POLICY_";

/// The `.rego` files at or below `path`, tests (`*_test.rego`) left out.
fn rego_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            rego_files(&path, out)?;
        } else if name.ends_with(".rego") && !name.ends_with("_test.rego") {
            out.push(path);
        }
    }
    Ok(())
}

/// The error that refuses plans a policy denied, naming each denial; `None` when none is.
pub fn refusal<'a>(plans: impl IntoIterator<Item = &'a Plan>) -> Option<String> {
    let denials: Vec<String> = plans
        .into_iter()
        .filter_map(|p| p.policy.as_ref().map(|r| (p, r)))
        .flat_map(|(p, r)| {
            r.findings
                .iter()
                .filter(|f| f.level == policy::FindingLevel::Deny)
                .map(move |f| match &p.target.name {
                    Some(target) => format!("target {target}: {}: {}", f.rule, f.message),
                    None => format!("{}: {}", f.rule, f.message),
                })
        })
        .collect();
    (!denials.is_empty()).then(|| {
        format!(
            "the plan is refused by policy ({} denial(s)): {}",
            denials.len(),
            denials.join("; ")
        )
    })
}
