//! What `watch` changes on the gateway: everything, only what the files changed, or
//! nothing (Argo CD's automated sync with and without self-heal, and no automated sync).

use clap::ValueEnum;

use crate::plan::{self, Plan, Restriction};

/// What a reconcile applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SyncMode {
    /// Apply the files and undo changes made on the gateway (drift): the gateway always
    /// equals the files.
    #[default]
    All,
    /// Apply what the files changed (a new commit); only report what changed on the
    /// gateway (drift), without undoing it. An operation whose cause is both runs.
    Files,
    /// Change nothing; only report every difference.
    None,
}

impl SyncMode {
    /// How the mode is spelled on the command line and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::All => "all",
            SyncMode::Files => "files",
            SyncMode::None => "none",
        }
    }

    /// The part of `plan` this mode applies (`plan::restrict`, so an operation that
    /// depends on one left out is left out too); `None` when it applies nothing.
    pub fn to_apply(self, plan: Plan) -> Option<Plan> {
        let plan = match self {
            SyncMode::All => plan,
            SyncMode::Files => plan::restrict(
                plan,
                &Restriction {
                    no_drift: true,
                    ..Restriction::default()
                },
            ),
            SyncMode::None => return Option::None,
        };
        (!plan.operations.is_empty()).then_some(plan)
    }
}

/// `--drift`, the older spelling of `--sync`: heal is `all`, report is `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftPolicy {
    /// Apply the plan: undo console edits, apply new commits (`--sync all`).
    Heal,
    /// Only log and count the difference; change nothing (`--sync none`).
    Report,
}

impl From<DriftPolicy> for SyncMode {
    fn from(policy: DriftPolicy) -> Self {
        match policy {
            DriftPolicy::Heal => SyncMode::All,
            DriftPolicy::Report => SyncMode::None,
        }
    }
}

impl std::fmt::Display for SyncMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
