//! File-change triggers for watch mode.
//!
//! git-sync swaps a symlink to a new worktree; a watch on the link's target goes
//! silent after the swap. So we watch the *parent* of the manifest folder,
//! recursively, and treat any event as "something changed": the reconcile
//! re-reads the whole tree anyway (level-triggered). Events are debounced, and
//! the channel holds at most one pending trigger, so a burst becomes one reconcile.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;

/// Keeps the file watcher alive; dropping it stops the triggers.
pub struct FileTrigger {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    watched: PathBuf,
}

impl std::fmt::Debug for FileTrigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTrigger")
            .field("watched", &self.watched)
            .finish()
    }
}

impl FileTrigger {
    /// The folder being watched (the parent of the manifest folder).
    pub fn watched(&self) -> &Path {
        &self.watched
    }
}

/// A channel that holds at most one pending trigger: bursts coalesce.
pub fn channel() -> (mpsc::Sender<()>, mpsc::Receiver<()>) {
    mpsc::channel(1)
}

/// Watches the parent of `dir` and sends on `tx` after each debounced burst of events.
pub fn watch_folder(
    dir: &Path,
    debounce: Duration,
    tx: mpsc::Sender<()>,
) -> Result<FileTrigger, notify::Error> {
    let absolute = std::path::absolute(dir).map_err(notify::Error::io)?;
    let watched = absolute
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| absolute.clone());
    let mut debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
        match result {
            Ok(events) if events.is_empty() => {}
            Ok(events) => {
                tracing::debug!(events = events.len(), "manifest folder changed");
                // A full channel already holds a pending trigger: this burst joins it.
                let _ = tx.try_send(());
            }
            Err(errors) => {
                tracing::warn!(
                    ?errors,
                    "file watch error; the resync interval still applies"
                );
                let _ = tx.try_send(());
            }
        }
    })?;
    debouncer.watch(&watched, RecursiveMode::Recursive)?;
    Ok(FileTrigger {
        _debouncer: debouncer,
        watched,
    })
}
