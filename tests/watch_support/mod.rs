//! Harness of the watch-mode tests: an in-process emulator, the real binary
//! running `watch` against it, and polling helpers for its endpoints.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apigsync::api::{Client, ClientOptions, Credentials, Secret, Target};
use apigsync::emulator::{self, Credential, EmulatorConfig, EmulatorHandle};
use apigsync::model::Flavour;

/// The examples' folder.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/manifests")
}

/// Copies the examples into `dest` (a fresh folder).
pub fn copy_examples(dest: &Path) {
    copy_dir(&examples(), dest);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "apigsync-demo.state.json" {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts the demo emulator on 127.0.0.1:0.
pub async fn start_emulator(latency: Duration) -> EmulatorHandle {
    emulator::spawn(EmulatorConfig {
        latency,
        ..EmulatorConfig::demo()
    })
    .await
    .expect("emulator starts")
}

/// The demo instance of the apig flavour.
pub fn instance(emu: &EmulatorHandle) -> String {
    emu.instance(Flavour::Apig)
        .expect("apig instance")
        .to_string()
}

/// A client of the demo instance, to change things behind apigsync's back.
pub fn client(emu: &EmulatorHandle) -> Client {
    let target = Target::new(
        Flavour::Apig,
        &emu.base_url(),
        emu.project_id(),
        instance(emu),
    )
    .expect("target");
    let demo = Credential::demo();
    let credentials = Credentials::AkSk {
        access_key: demo.access_key,
        secret_key: Secret::new(demo.secret_key),
        security_token: None,
    };
    Client::new(target, credentials, ClientOptions::default()).expect("client")
}

/// A running `apigsync watch`; killed on drop.
pub struct Watch {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `apigsync watch DIR` against `emu` with extra flags.
pub fn start_watch(emu: &EmulatorHandle, dir: &Path, log_dir: &Path, extra: &[&str]) -> Watch {
    let port = free_port();
    let log = log_dir.join("watch.log");
    let log_file = std::fs::File::create(&log).expect("log file");
    let demo = Credential::demo();
    let child = Command::new(env!("CARGO_BIN_EXE_apigsync"))
        .arg("watch")
        .arg(dir)
        .args(["--endpoint", &emu.base_url()])
        .args(["--project-id", &emu.project_id()])
        .args(["--instance-id", &instance(emu)])
        .args(["--flavour", "apig"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("HW_ACCESS_KEY", demo.access_key)
        .env("HW_SECRET_KEY", demo.secret_key)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("watch starts");
    Watch { child, port, log }
}

impl Watch {
    /// GET an endpoint: (status, body); None while the server is not up.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let response = reqwest::get(&url).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// The value of one metric line (`name{labels}` exactly), 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let Some((_, body)) = self.get("/metrics").await else {
            return 0.0;
        };
        body.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Successful reconciles so far.
    pub async fn successes(&self) -> f64 {
        self.metric("apigsync_reconciles_total{result=\"success\"}")
            .await
    }

    /// The readiness status code (0 while the server is not up).
    pub async fn ready_status(&self) -> u16 {
        self.get("/readyz").await.map(|(s, _)| s).unwrap_or(0)
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Polls `cond` every 100 ms for up to 30 s (a bound against hangs, not a speed assertion).
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut cond: F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}
