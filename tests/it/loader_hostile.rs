//! Hostile folder entries a pull request can add: each is refused by `validate`
//! with exit 1 and a message naming the entry, and the binary finishes. Every
//! run is killed after [`HANG_GUARD`]: a guard against a hang, not a timing
//! assertion (the closing note of the change reports measured times and memory).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apigsync::manifest::MAX_FILE_BYTES;

/// How long a run may take before the test calls it a hang.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// A 534-byte YAML file of merge keys over aliases: ten to the eighth keys if expanded.
fn merge_key_bomb() -> String {
    let mut text = String::from("a0: &a0 {");
    text.push_str(
        &(0..10)
            .map(|i| format!("k{i}: {i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("}\n");
    for level in 1..8 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} {{<<: [{refs}]}}\n"));
    }
    text
}

/// `validate DIR`: exit code and stderr; panics when the run outlives the guard.
fn validate(dir: &Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apigsync"))
        .arg("validate")
        .arg(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "validate {} hung (killed after {HANG_GUARD:?})",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (status.code().unwrap_or(-1), stderr)
}

/// A folder with a valid plug-in beside the hostile entry, so only the entry can fail it.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("cors.yaml"),
        "kind: Plugin\nname: cors_ok\ntype: cors\ncontent: {allow_origin: \"*\"}\n",
    )
    .expect("write");
    dir
}

#[track_caller]
fn assert_refused(dir: &Path, expected: &str) {
    let (code, stderr) = validate(dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
}

#[test]
fn a_fifo_named_like_a_manifest_is_refused_without_opening_it() {
    let dir = folder();
    let fifo = dir.path().join("x.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    assert_refused(
        dir.path(),
        &format!("{}: is a named pipe (FIFO)", fifo.display()),
    );
}

#[test]
fn a_symlink_to_dev_zero_is_refused_as_a_device() {
    let dir = folder();
    let link = dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    assert_refused(
        dir.path(),
        &format!("{}: is a character device", link.display()),
    );
}

#[test]
fn two_symlinks_to_the_folder_itself_are_a_loop() {
    let dir = folder();
    std::os::unix::fs::symlink(".", dir.path().join("a")).expect("symlink");
    std::os::unix::fs::symlink(".", dir.path().join("b")).expect("symlink");
    assert_refused(
        dir.path(),
        &format!("{}: is a symlink loop", dir.path().join("a").display()),
    );
}

#[test]
fn a_symlink_to_a_shared_folder_is_followed() {
    let dir = folder();
    let shared = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        shared.path().join("shared.yaml"),
        "kind: Plugin\nname: cors_shared\ntype: cors\ncontent: {allow_origin: \"*\"}\n",
    )
    .expect("write");
    std::os::unix::fs::symlink(shared.path(), dir.path().join("shared")).expect("symlink");
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_merge_key_bomb_is_refused_at_its_line() {
    let dir = folder();
    let bomb = merge_key_bomb();
    assert!(bomb.len() < 700, "{}", bomb.len());
    std::fs::write(dir.path().join("bomb.yaml"), bomb).expect("write");
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, 1, "{stderr}");
    let at = format!("{}:", dir.path().join("bomb.yaml").display());
    assert!(
        stderr.contains(&at) && stderr.contains("merge keys (<<) expand to too much YAML"),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_named_with_the_line_of_the_bad_byte() {
    let dir = folder();
    let mut bytes = b"kind: Plugin\nname: latin1\nremark: caf".to_vec();
    bytes.push(0xe9);
    bytes.extend_from_slice(b"\ntype: cors\n");
    std::fs::write(dir.path().join("latin1.yaml"), bytes).expect("write");
    assert_refused(
        dir.path(),
        &format!(
            "{}:3:12: the file is not UTF-8 text: byte 37 (0xe9)",
            dir.path().join("latin1.yaml").display()
        ),
    );
}

/// A valid manifest of exactly `size` bytes: one plug-in, then a comment up to the size.
fn manifest_of_size(name: &str, size: usize) -> String {
    let mut text =
        format!("kind: Plugin\nname: {name}\ntype: cors\ncontent: {{allow_origin: \"*\"}}\n");
    let padding = size - text.len() - 2;
    text.push('#');
    text.push_str(&"x".repeat(padding));
    text.push('\n');
    assert_eq!(text.len(), size);
    text
}

#[test]
fn a_file_of_2_mib_is_read_and_one_byte_more_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.yaml");
    std::fs::write(&file, manifest_of_size("big", 2_097_152)).expect("write");
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, 0, "2,097,152 bytes is within the limit:\n{stderr}");
    std::fs::write(&file, manifest_of_size("big", 2_097_153)).expect("write");
    assert_refused(
        dir.path(),
        &format!(
            "{}: is 2097153 bytes, more than the 2097152 bytes allowed for one manifest file",
            file.display()
        ),
    );
}

#[test]
fn a_folder_of_16_mib_is_read_and_one_byte_more_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..8 {
        let name = format!("part{i}");
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            manifest_of_size(&name, 2_097_152),
        )
        .expect("write");
    }
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, 0, "16,777,216 bytes is within the limit:\n{stderr}");
    std::fs::write(dir.path().join("zz.yaml"), "\n").expect("write");
    assert_refused(
        dir.path(),
        &format!(
            "{}: takes the manifest files over the 16777216 bytes allowed for one folder",
            dir.path().join("zz.yaml").display()
        ),
    );
}

#[test]
fn an_oversize_file_is_refused_by_its_size() {
    let dir = folder();
    let big = dir.path().join("big.yaml");
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(MAX_FILE_BYTES + 1).expect("sparse file");
    assert_refused(
        dir.path(),
        &format!(
            "{}: is {} bytes, more than the {MAX_FILE_BYTES} bytes allowed for one manifest file",
            big.display(),
            MAX_FILE_BYTES + 1
        ),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_refuses_a_fifo_and_keeps_running_not_ready() {
    let world = crate::support::cli::World::demo_examples().await;
    let fifo = world.dir().join("x.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let watch = crate::support::watch::start_watch(&world, &world.dir(), &["--interval", "1h"]);
    crate::support::watch::eventually("an invalid_source reconcile", async || {
        watch
            .metric("apigsync_reconciles_total{result=\"invalid_source\"}")
            .await
            >= 1.0
    })
    .await;
    assert_eq!(watch.ready_status().await, 503);
    assert!(
        watch.log().contains("is a named pipe (FIFO)"),
        "{}",
        watch.log()
    );
    assert!(world.plugins().await.is_empty(), "nothing applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_refuse_a_symlink_loop_and_change_nothing() {
    let world = crate::support::cli::World::demo_examples().await;
    std::os::unix::fs::symlink(".", world.dir().join("again")).expect("symlink");
    for (command, extra) in [("plan", vec![]), ("apply", vec!["--auto-approve"])] {
        let out = world.run(command, &extra).await;
        out.expect_code(1);
        assert!(
            out.stderr.contains("again: is a symlink loop"),
            "{}",
            out.stderr
        );
    }
    assert!(world.plugins().await.is_empty(), "nothing applied");
}
