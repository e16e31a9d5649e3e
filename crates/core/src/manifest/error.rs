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
    /// A folder entry was refused before it was read (see [`Refusal`]).
    #[error("{}: {why}", path.display())]
    Refused {
        /// The entry.
        path: PathBuf,
        /// Why it is not read.
        why: Refusal,
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
            LoadError::Io { .. } | LoadError::Refused { .. } => &[],
            LoadError::Invalid { diagnostics } => diagnostics,
        }
    }
}

/// Why a folder entry is not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A FIFO, socket or device where a manifest file was expected.
    #[error("is {kind}; only regular files and folders (or symlinks to them) are read")]
    NotAFile {
        /// What it is.
        kind: &'static str,
    },
    /// A symlink loop: the folder leads back to itself.
    #[error("is a symlink loop (it leads back to a folder above it); remove the link")]
    Loop,
    /// Folders nested deeper than the loader follows.
    #[error("is nested more than {max} folders deep")]
    TooDeep {
        /// The deepest nesting followed.
        max: usize,
    },
    /// A file over the size limit.
    #[error(
        "is {size} bytes, more than the {} bytes allowed for one manifest file; split it",
        super::MAX_FILE_BYTES
    )]
    FileTooLarge {
        /// Its size (as far as it was read).
        size: u64,
    },
    /// The manifest files together are over the size limit.
    #[error(
        "takes the manifest files over the {} bytes allowed for one folder",
        super::MAX_FOLDER_BYTES
    )]
    FolderTooLarge,
    /// A folder tree with too many entries (often the wrong folder: a repository root).
    #[error("holds more than {max} entries; point apigsync at the folder that holds apigsync.yaml")]
    TooManyEntries {
        /// The most entries visited.
        max: usize,
    },
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
    notes: Vec<Warning>,
    /// Plug-ins whose document is invalid: a binding of one is not a second error.
    invalid_plugins: Vec<String>,
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

    /// Records a note at `location`: something a later command needs (an offline load).
    pub(crate) fn note(&mut self, location: Location, message: impl Into<String>) {
        self.notes.push(Warning {
            location,
            message: message.into(),
        });
    }

    /// Records that the Plugin document of `name` is invalid (its errors are recorded).
    pub(crate) fn invalid_plugin(&mut self, name: String) {
        self.invalid_plugins.push(name);
    }

    /// Whether the Plugin document of `name` was invalid.
    pub(crate) fn is_invalid_plugin(&self, name: &str) -> bool {
        self.invalid_plugins.iter().any(|n| n == name)
    }

    /// The notes recorded so far, leaving none behind.
    pub(crate) fn take_notes(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.notes)
    }

    /// The warnings recorded so far, sorted, leaving none behind.
    pub(crate) fn take_warnings(&mut self) -> Vec<Warning> {
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.sort();
        warnings.dedup();
        warnings
    }

    /// The problems recorded (warnings dropped: take them first).
    pub(crate) fn into_errors(self) -> Vec<Diagnostic> {
        self.errors
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
