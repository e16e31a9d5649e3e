//! The install story through the binary and the repository: `--version` names the commit
//! and build date, the man pages and completions come from the binary, the licence is
//! there, and the container image's build context holds what the build reads.

use std::path::Path;
use std::process::Command;

use crate::support::cli::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread")]
async fn version_names_the_commit_and_the_build_date() {
    let out = run_offline(&["--version"]).await;
    out.expect_code(0);
    let line = out.stdout.trim();
    let rest = line
        .strip_prefix(&format!("apigsync {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let (commit, date) = rest
        .trim_end_matches(')')
        .split_once(", built ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(!commit.is_empty(), "{line}");
    let parts: Vec<&str> = date.split('-').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())),
        "not a date: {line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn man_prints_a_page_and_writes_one_per_command() {
    let out = run_offline(&["man"]).await;
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(".ie"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
    assert!(out.stdout.contains(".TH apigsync 1"), "no title header");
    for section in [".SH ENVIRONMENT", ".SH \"EXIT STATUS\"", ".SH NOTES"] {
        assert!(out.stdout.contains(section), "{section} missing");
    }
    for variable in [
        "APIGSYNC_MARKER_KEY",
        "HW_SECURITY_TOKEN",
        "HW_AUTH_TOKEN_FILE",
        "KUBECONFIG",
        "NO_COLOR",
    ] {
        assert!(out.stdout.contains(variable), "{variable} missing");
    }
    assert!(!out.stdout.contains("EXTRA"), "after-help under EXTRA");
    let dir = tempfile::tempdir().expect("temp dir");
    let pages = dir.path().join("man1");
    let out = run_offline(&["man", "--dir", &pages.display().to_string()]).await;
    out.expect_code(0);
    for page in [
        "apigsync.1",
        "apigsync-plan.1",
        "apigsync-apply.1",
        "apigsync-man.1",
    ] {
        assert!(pages.join(page).is_file(), "{page} missing");
    }
    // A command's examples are a section of their own, not prose.
    let plan = std::fs::read_to_string(pages.join("apigsync-plan.1")).expect("plan page");
    let examples = plan.find(".SH EXAMPLES").expect("an EXAMPLES section");
    let example = plan
        .find("apigsync plan examples/manifests")
        .expect("an example");
    assert!(examples < example && example < plan.find(".SH ENVIRONMENT").expect("ENVIRONMENT"));
    assert!(plan.contains(".SH \"EXIT STATUS\""), "EXIT STATUS missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_come_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run_offline(&["completions", shell]).await;
        out.expect_code(0);
        assert!(out.stdout.contains("apigsync"), "{shell}: {}", out.stdout);
    }
}

#[test]
fn the_licence_is_the_apache_2_0_text_cargo_toml_names() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("license = \"Apache-2.0\""));
    let licence = std::fs::read_to_string(repo().join("LICENSE")).expect("LICENSE");
    assert!(licence.contains("Apache License") && licence.contains("Version 2.0, January 2004"));
    assert!(licence.contains("END OF TERMS AND CONDITIONS"));
}

/// The quick form of the context check: the files the Dockerfile copies, as the
/// .dockerignore admits them, hold every target Cargo.toml declares and every file an
/// `include_str!` reads. (`.ci/run` runs the full form, which builds there.)
#[test]
fn the_docker_build_context_holds_what_the_build_reads() {
    let out = Command::new("bash")
        .arg(repo().join("deploy/check-image-context.sh"))
        .arg("--quick")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
