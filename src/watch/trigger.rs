//! File-change triggers for watch mode.
//!
//! git-sync swaps a symlink (`/manifests/current`) to a new worktree; the
//! manifest folder may be that link or a folder below it. A watch on the link's
//! old target goes silent after the swap, so we watch two things:
//! - the folder holding each symlink on the way to the manifest folder
//!   (non-recursively: it sees the swap but not git's own churn), and
//! - the manifest folder as it resolves now, recursively (edits in place);
//!   [`FileTrigger::refresh`] moves this watch after a swap.
//!
//! The recursive watch does not follow symlinks inside the folder: a hostile
//! link (to `/`, or a loop) must not make the watcher walk the file system. A
//! linked shared folder's edits are then caught by the resync interval. The
//! watcher never opens a file; reading is the loader's, with its limits.
//!
//! Any event means "something changed": the reconcile re-reads the whole tree
//! (level-triggered). Events are debounced, and the channel holds at most one
//! pending trigger, so a burst becomes one reconcile.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer_opt};
use tokio::sync::mpsc;

/// Keeps the file watcher alive; dropping it stops the triggers.
pub struct FileTrigger {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    dir: PathBuf,
    resolved: Option<PathBuf>,
    link_parents: Vec<PathBuf>,
}

impl std::fmt::Debug for FileTrigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTrigger")
            .field("dir", &self.dir)
            .field("resolved", &self.resolved)
            .field("link_parents", &self.link_parents)
            .finish()
    }
}

/// A channel that holds at most one pending trigger: bursts coalesce.
pub fn channel() -> (mpsc::Sender<()>, mpsc::Receiver<()>) {
    mpsc::channel(1)
}

/// Folders holding a symlink on the way from `/` to `dir` (including `dir` itself).
fn symlink_parents(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .filter(|p| p.is_symlink())
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect()
}

/// Watches `dir` (see the module docs) and sends on every one of `txs` (one per
/// target's loop) after each debounced burst.
pub fn watch_folder(
    dir: &Path,
    debounce: Duration,
    txs: Vec<mpsc::Sender<()>>,
) -> Result<FileTrigger, notify::Error> {
    let send = move || {
        for tx in &txs {
            // A full channel already holds a pending trigger: this burst joins it.
            let _ = tx.try_send(());
        }
    };
    let dir = std::path::absolute(dir).map_err(notify::Error::io)?;
    let config = notify::Config::default().with_follow_symlinks(false);
    let handler = move |result: DebounceEventResult| {
        match result {
            Ok(events) => {
                // Reading the files ourselves raises access events: only changes count.
                let changes = events
                    .iter()
                    .filter(|e| {
                        !matches!(
                            e.kind,
                            notify::EventKind::Access(_)
                                | notify::EventKind::Modify(notify::event::ModifyKind::Metadata(
                                    notify::event::MetadataKind::AccessTime
                                ))
                        )
                    })
                    .count();
                if changes == 0 {
                    return;
                }
                tracing::debug!(changes, "manifest folder changed");
                send();
            }
            Err(errors) => {
                tracing::warn!(
                    ?errors,
                    "file watch error; the resync interval still applies"
                );
                send();
            }
        }
    };
    let mut debouncer =
        new_debouncer_opt(debounce, None, handler, RecommendedCache::new(), config)?;
    let link_parents = symlink_parents(&dir);
    for parent in &link_parents {
        debouncer.watch(parent, RecursiveMode::NonRecursive)?;
    }
    let mut trigger = FileTrigger {
        debouncer,
        dir,
        resolved: None,
        link_parents,
    };
    trigger.refresh();
    Ok(trigger)
}

impl FileTrigger {
    /// Moves the recursive watch to where the manifest folder resolves now
    /// (after a symlink swap). Call it after each reconcile; cheap when nothing moved.
    pub fn refresh(&mut self) {
        let now = std::fs::canonicalize(&self.dir).ok();
        if now == self.resolved {
            return;
        }
        if let Some(old) = self.resolved.take() {
            // The old target may be gone already: nothing to unwatch then.
            let _ = self.debouncer.unwatch(&old);
        }
        if let Some(new) = &now {
            match self.debouncer.watch(new, RecursiveMode::Recursive) {
                Ok(()) => tracing::debug!(folder = %new.display(), "watching manifest folder"),
                Err(err) => tracing::warn!(%err, folder = %new.display(), "cannot watch folder"),
            }
        }
        self.resolved = now;
    }

    /// The folders watched, for the start-up log line.
    pub fn watched(&self) -> Vec<PathBuf> {
        self.link_parents
            .iter()
            .cloned()
            .chain(self.resolved.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_folder_of_a_symlink_two_levels_up() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        std::fs::create_dir_all(root.join("wt1/manifests")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("wt1"), root.join("current")).expect("link");
        let parents = symlink_parents(&root.join("current/manifests"));
        assert_eq!(parents, vec![root.to_path_buf()]);
    }
}
