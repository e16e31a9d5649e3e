//! Harness of the watch-mode tests: the real binary running `watch` against the
//! emulator of a [`World`] (see `cli_support`), and polling helpers for its endpoints.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apigsync::emulator;

use crate::support::cli::World;

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
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

/// Starts `apigsync watch DIR` against the world's emulator with extra flags.
pub fn start_watch(world: &World, dir: &Path, extra: &[&str]) -> Watch {
    start_named_watch(world, dir, extra, "watch", &[])
}

/// [`start_watch`] for one of several replicas: its log is `NAME.log` and `env` is
/// added to its environment.
pub fn start_named_watch(
    world: &World,
    dir: &Path,
    extra: &[&str],
    name: &str,
    env: &[(&str, &str)],
) -> Watch {
    spawn_watch(world, dir, extra, name, env, world.target_flags())
}

/// [`start_watch`] without target flags: the targets come from the folder's apigsync.yaml.
pub fn start_watch_of_project(world: &World, dir: &Path, extra: &[&str]) -> Watch {
    spawn_watch(world, dir, extra, "watch", &[], Vec::new())
}

/// [`start_named_watch`] with the given target flags instead of the world's (e.g. another
/// gateway endpoint).
pub fn spawn_watch(
    world: &World,
    dir: &Path,
    extra: &[&str],
    name: &str,
    env: &[(&str, &str)],
    target_flags: Vec<String>,
) -> Watch {
    let port = free_port();
    let log = world.scratch(&format!("{name}.log"));
    let log_file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_apigsync"))
        .arg("watch")
        .arg(dir)
        .args(target_flags)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("HW_ACCESS_KEY", emulator::DEMO_ACCESS_KEY)
        .env("HW_SECRET_KEY", emulator::DEMO_SECRET_KEY)
        .env("NO_COLOR", "1")
        .envs(&world.env)
        .envs(env.iter().copied())
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
        apigsync::api::install_tls_provider();
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

    /// The outcome of every finished reconcile so far, in order: each reconcile logs
    /// exactly one of [`OUTCOMES`] (src/watch/reconcile.rs).
    pub fn reconciles(&self) -> Vec<&'static str> {
        self.log()
            .lines()
            .filter_map(|line| OUTCOMES.into_iter().find(|o| line.contains(o)))
            .collect()
    }
}

/// The messages a reconcile ends with, one per reconcile.
pub const OUTCOMES: [&str; 6] = [
    "reconcile: applied",
    "reconcile: in sync",
    "reconcile: drift reported",
    "reconcile: some operations failed",
    "reconcile: manifests not applied",
    "reconcile failed",
];

/// Polls `cond` every 100 ms for up to 30 s (a bound against hangs, not a speed assertion).
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, cond: F) {
    eventually_within(what, Duration::from_secs(30), cond).await;
}

/// Polls `cond` every 100 ms for up to `bound` (against hangs, not a speed assertion), for
/// what is slow by design.
pub async fn eventually_within<F: AsyncFnMut() -> bool>(what: &str, bound: Duration, mut cond: F) {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Sets `max_age` of the examples' `cors.yaml` in `dir` to `value` (a file edit).
pub fn set_max_age(dir: &Path, value: i64) {
    let path = dir.join("cors.yaml");
    let text = std::fs::read_to_string(&path).expect("cors.yaml");
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("max_age:") {
                format!("  max_age: {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, edited.join("\n") + "\n").expect("write");
}
