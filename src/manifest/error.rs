//! Load errors: every problem of a load, each located by file, line and column.

use std::fmt;
use std::path::PathBuf;

use crate::model::{Location, Warning};

/// One problem in the manifests: where, and what is wrong (with the offending
/// value, unless it is a secret, and what was expected).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong; lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a manifest folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The manifests are invalid: every diagnostic of the load, sorted by location.
    #[error("{}", render(diagnostics))]
    Invalid {
        /// All problems found, one per offending place.
        diagnostics: Vec<Diagnostic>,
    },
}

impl LoadError {
    /// The diagnostics of an invalid load (empty for an IO error).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Io { .. } => &[],
            LoadError::Invalid { diagnostics } => diagnostics,
        }
    }
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects diagnostics while a load goes on.
#[derive(Debug, Default)]
pub(crate) struct Diags {
    errors: Vec<Diagnostic>,
    warnings: Vec<Warning>,
}

impl Diags {
    /// Records a problem at `location`.
    pub(crate) fn push(&mut self, location: Location, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            location,
            message: message.into(),
        });
    }

    /// Records a warning at `location`: the load still succeeds.
    pub(crate) fn warn(&mut self, location: Location, message: impl Into<String>) {
        self.warnings.push(Warning {
            location,
            message: message.into(),
        });
    }

    /// The warnings recorded so far, sorted, leaving none behind.
    pub(crate) fn take_warnings(&mut self) -> Vec<Warning> {
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.sort();
        warnings.dedup();
        warnings
    }

    /// How many diagnostics were recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }

    /// `Ok(value)` when nothing was recorded, otherwise every diagnostic, sorted.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, LoadError> {
        if self.errors.is_empty() {
            return Ok(value);
        }
        let mut diagnostics = self.errors;
        diagnostics.sort();
        diagnostics.dedup();
        Err(LoadError::Invalid { diagnostics })
    }
}
