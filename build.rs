//! Build metadata for `apigsync --version`: the git commit and the build date.
//!
//! Never fails: outside a git checkout (a crates tarball, the Docker build context) the
//! commit is `APIGSYNC_BUILD_COMMIT` when set (the Dockerfile passes its REVISION), else
//! "unknown". The date is `SOURCE_DATE_EPOCH` when set (reproducible builds), else today.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=APIGSYNC_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = std::env::var("APIGSYNC_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    watch_git_head();
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    println!("cargo:rustc-env=APIGSYNC_COMMIT={commit}");
    println!("cargo:rustc-env=APIGSYNC_BUILD_DATE={}", date(epoch));
}

/// `git` output for `args` in the package folder, or `None` outside a checkout.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The short commit of HEAD.
fn git_commit() -> Option<String> {
    git(&["rev-parse", "--short=12", "HEAD"])
}

/// Re-runs this script when HEAD moves (a commit, a checkout), in a worktree too.
fn watch_git_head() {
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"])
            .and_then(|r| git(&["rev-parse", "--git-path", r.as_str()])),
    ]
    .into_iter()
    .flatten()
    {
        println!("cargo:rerun-if-changed={path}");
    }
    // Without a checkout, only the source files decide (cargo's default would be every file).
    println!("cargo:rerun-if-changed=build.rs");
}

/// `YYYY-MM-DD` (UTC) of a Unix time (Howard Hinnant's days-to-civil algorithm).
fn date(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
