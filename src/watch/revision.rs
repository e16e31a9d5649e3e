//! The folder's revision: the git commit it was checked out at, read without a git
//! binary. A git-sync link (`current -> .worktrees/<commit>`, or a link named by the
//! commit) names it; a git checkout's `.git/HEAD` points at a ref, read from its file or
//! from `packed-refs`. The nearest of the folder and its parents decides.

use std::path::{Path, PathBuf};

/// The commit `dir` (or the nearest parent) is checked out at, if any can be read.
pub fn of(dir: &Path) -> Option<String> {
    let absolute = std::path::absolute(dir).ok()?;
    for at in absolute.ancestors() {
        if let Some(commit) = link_commit(at) {
            return Some(commit);
        }
        if let Some(git) = git_dir(at) {
            return head_commit(&git);
        }
    }
    None
}

/// A commit: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fn is_commit(s: &str) -> bool {
    matches!(s.len(), 40 | 64)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The commit a git-sync link points at: the last part of its target.
fn link_commit(path: &Path) -> Option<String> {
    let target = std::fs::read_link(path).ok()?;
    let name = target.file_name()?.to_str()?;
    is_commit(name).then(|| name.to_owned())
}

/// `path/.git` as a folder, or the folder a `.git` file (`gitdir: …`) names.
fn git_dir(path: &Path) -> Option<PathBuf> {
    let dot_git = path.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let named = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
    Some(if named.is_absolute() {
        named
    } else {
        path.join(named)
    })
}

/// The commit HEAD of `git` names, directly or through a ref.
fn head_commit(git: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:").map(str::trim) else {
        return is_commit(head).then(|| head.to_owned());
    };
    // A linked worktree keeps its refs in the common folder.
    let common = std::fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.to_path_buf());
    for base in [git, common.as_path()] {
        if let Ok(text) = std::fs::read_to_string(base.join(reference)) {
            let commit = text.trim();
            return is_commit(commit).then(|| commit.to_owned());
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (commit, name) = line.split_once(' ')?;
        (name == reference && is_commit(commit)).then(|| commit.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_git_sync_link_names_the_commit_of_the_folder_below_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let worktree = tmp.path().join(".worktrees").join(COMMIT);
        std::fs::create_dir_all(worktree.join("manifests")).expect("mkdir");
        std::os::unix::fs::symlink(&worktree, tmp.path().join("current")).expect("link");
        let dir = tmp.path().join("current").join("manifests");
        assert_eq!(of(&dir).as_deref(), Some(COMMIT));
    }

    #[test]
    fn a_checkout_names_the_commit_of_its_branch_loose_or_packed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let git = tmp.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).expect("mkdir");
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs with: peeled\n{COMMIT} refs/heads/main\n"),
        )
        .expect("packed");
        assert_eq!(of(tmp.path()).as_deref(), Some(COMMIT));
        let newer = "fedcba9876543210fedcba9876543210fedcba98";
        std::fs::write(git.join("refs/heads/main"), format!("{newer}\n")).expect("ref");
        assert_eq!(of(tmp.path()).as_deref(), Some(newer));
    }

    #[test]
    fn a_detached_head_is_its_commit_and_a_plain_folder_has_none() {
        let tmp = tempfile::tempdir().expect("tmp");
        let plain = tmp.path().join("plain");
        std::fs::create_dir_all(&plain).expect("mkdir");
        assert_eq!(of(&plain), None);
        let git = tmp.path().join(".git");
        std::fs::create_dir_all(&git).expect("mkdir");
        std::fs::write(git.join("HEAD"), format!("{COMMIT}\n")).expect("HEAD");
        assert_eq!(of(&plain).as_deref(), Some(COMMIT));
    }
}
