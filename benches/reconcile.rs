//! `cargo bench --bench reconcile`: the table of issue 9. Each scenario runs the
//! real binary (`apigsync plan|apply`) as a child process against the in-process
//! emulator, so the client's CPU time and peak RSS are the child's (measured by
//! GNU time, `/usr/bin/time`, when it is installed), and the call count is the
//! emulator's. Scenarios, seeds and manifests are generated here. Numbers, not assertions.
//!
//! `APIGSYNC_BENCH_PLUGINS` sets the size of the largest set (default 10,000 plug-ins
//! with 8 bindings each; 0 skips it). `APIGSYNC_BENCH_GROUPS` runs only some groups of
//! scenarios, comma-separated: `latency`, `scale` (1,500 and 3,000 plug-ins, and the
//! largest set), `large` (the largest set alone), `throttled`, `shedding` (an apply against a
//! gateway that answers 429 to 5, 7 and 10% of calls, against the same apply unthrottled),
//! `watch` (a one-plug-in edit under watch on 3,000 plug-ins; a watch under a request budget),
//! `startup` (the time from spawning a plan of 300 plug-ins to the emulator's first request)
//! (default: all). `APIGSYNC_BENCH_BINARY` runs that binary instead of the one just built
//! (to compare a saved build side by side in the same period).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failed setup should stop it loudly"
)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apigsync::api::{ApiError, Client, ClientOptions, Credentials, PluginBody, Secret, Target};
use apigsync::emulator::quirks_service::ServiceQuirks;
use apigsync::emulator::seed::{Named, SeedApi, SeedInstance};
use apigsync::emulator::{self, Credential, EmulatorConfig, EmulatorHandle, Seed};
use apigsync::model::{Flavour, PluginType, Scope};

#[path = "reconcile/startup.rs"]
mod startup;
#[path = "reconcile/watch.rs"]
mod watch;

const INSTANCE: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const PROJECT: &str = "5f1e0a2b3c4d5e6f708192a3b4c5d6e7";
const ENVS: [&str; 2] = ["RELEASE", "TEST"];

/// A generated gateway and folder: `plugins` plug-ins over `apis` APIs, each
/// plug-in bound to `per_env` consecutive APIs in each of the two environments.
/// Plug-in `i` starts at API `⌊i·(apis − per_env)/plugins⌋`, so an API is shared by at
/// most two neighbouring plug-ins, whose types alternate (cors, set_resp_headers).
#[derive(Debug, Clone, Copy)]
struct Set {
    plugins: usize,
    apis: usize,
    per_env: usize,
}

impl Set {
    fn bindings(&self) -> usize {
        self.plugins * self.per_env * ENVS.len()
    }

    fn label(&self) -> String {
        format!(
            "{} plug-ins / {} APIs / {} bindings",
            thousands(self.plugins as u64),
            thousands(self.apis as u64),
            thousands(self.bindings() as u64)
        )
    }

    /// The emulator's seed, built directly (a YAML seed of 20,000 APIs is beyond the parser's node budget).
    fn seed(&self) -> Seed {
        let apis = (0..self.apis)
            .map(|j| SeedApi {
                name: format!("api_{j:05}"),
                id: None,
                group: "bench".into(),
                method: "GET".into(),
                path: format!("/r{j}"),
                backend_type: "HTTP".into(),
                published: ENVS.iter().map(|e| e.to_string()).collect(),
            })
            .collect();
        Seed {
            project_id: PROJECT.into(),
            instances: vec![SeedInstance {
                id: INSTANCE.into(),
                flavour: emulator::model::Flavour::Apig,
                envs: vec![Named::Name("TEST".into())],
                groups: vec![Named::Name("bench".into())],
                apis,
                plugins: Vec::new(),
            }],
        }
    }

    fn plugin_type(i: usize) -> PluginType {
        if i.is_multiple_of(2) {
            PluginType::Cors
        } else {
            PluginType::SetRespHeaders
        }
    }

    fn content(i: usize) -> serde_json::Value {
        match Self::plugin_type(i) {
            PluginType::Cors => serde_json::json!({"allow_origin": "*", "max_age": 600}),
            _ => serde_json::json!({"response_headers": [
                {"name": "X-Bench", "value": format!("v{i}"), "action": "override"}
            ]}),
        }
    }

    fn apis_of(&self, i: usize) -> Vec<String> {
        let start = i * (self.apis - self.per_env) / self.plugins;
        (0..self.per_env)
            .map(|k| format!("api_{:05}", start + k))
            .collect()
    }

    /// Writes the manifests, 100 plug-ins per file.
    fn write(&self, dir: &Path) {
        for chunk in 0..self.plugins.div_ceil(100) {
            let mut text = String::new();
            for i in chunk * 100..((chunk + 1) * 100).min(self.plugins) {
                let _ = write!(
                    text,
                    "---\nkind: Plugin\nname: p_{i:05}\ntype: {}\ncontent: {}\n",
                    Self::plugin_type(i).as_str(),
                    Self::content(i)
                );
                for env in ENVS {
                    let _ = write!(
                        text,
                        "---\nkind: Binding\nplugin: p_{i:05}\nenv: {env}\napis: [{}]\n",
                        self.apis_of(i).join(", ")
                    );
                }
            }
            std::fs::write(dir.join(format!("plugins_{chunk:03}.yaml")), text).expect("write");
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line of the table.
struct Row {
    scenario: String,
    wall: Duration,
    calls: u64,
    /// The least wall time the calls could take, when there is one.
    bound: Option<Duration>,
    cpu: Option<Duration>,
    rss_mb: Option<f64>,
    note: String,
}

/// `(1 + ⌈(calls − 1) / parallelism⌉) × latency`: the first list returns before the reads that depend on it.
fn latency_bound(calls: u64, parallelism: u64, latency: Duration) -> Duration {
    let rounds = 1 + calls.saturating_sub(1).div_ceil(parallelism);
    latency * u32::try_from(rounds).unwrap_or(u32::MAX)
}

/// What one run of the binary cost.
struct ChildRun {
    code: i32,
    wall: Duration,
    /// CPU time and peak RSS (MB), when GNU time is there to measure them.
    usage: Option<(Duration, f64)>,
    stderr_tail: String,
}

/// GNU time measures the child it forks itself: a child of this (large) bench process
/// would report this process's RSS as its own peak (`fork` copies it, `exec` keeps the mark).
const GNU_TIME: &str = "/usr/bin/time";
const USAGE_MARK: &str = "BENCH-USAGE";

/// The binary to run: `APIGSYNC_BENCH_BINARY`, or the one cargo built with the bench.
fn binary() -> String {
    std::env::var("APIGSYNC_BENCH_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_apigsync").to_string())
}

/// `command` (the binary with its arguments) aimed at the emulator at `emu_url`, as the
/// demo credentials, without a terminal.
fn to_gateway<'a>(command: &'a mut Command, emu_url: &str) -> &'a mut Command {
    command
        .args([
            "--endpoint",
            emu_url,
            "--project-id",
            PROJECT,
            "--instance-id",
            INSTANCE,
            "--flavour",
            "apig",
        ])
        .env("HW_ACCESS_KEY", emulator::DEMO_ACCESS_KEY)
        .env("HW_SECRET_KEY", emulator::DEMO_SECRET_KEY)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
}

/// Runs `apigsync <args> <target flags>` and measures it.
fn run_binary(emu_url: &str, args: &[&str], scratch: &Path) -> ChildRun {
    let stderr_path = scratch.join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let binary = binary();
    let timed = Path::new(GNU_TIME).is_file();
    let mut command = if timed {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", &format!("{USAGE_MARK} %U %S %M"), &binary]);
        c
    } else {
        Command::new(&binary)
    };
    let started = Instant::now();
    let status = to_gateway(command.args(args), emu_url)
        .stdout(Stdio::null())
        .stderr(stderr)
        .status()
        .expect("the binary runs");
    let wall = started.elapsed();
    let text = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let usage = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(USAGE_MARK))
        .and_then(|rest| {
            let n: Vec<f64> = rest
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            match n.as_slice() {
                [user, system, max_kb] => {
                    Some((Duration::from_secs_f64(user + system), max_kb / 1024.0))
                }
                _ => None,
            }
        });
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("done:") && !l.starts_with(USAGE_MARK))
        .collect();
    ChildRun {
        code: status.code().unwrap_or(-1),
        wall,
        usage,
        stderr_tail: lines[lines.len().saturating_sub(6)..].join("\n"),
    }
}

/// An emulator of `set`'s APIs with a round-trip latency and, optionally, a rate limit.
async fn emulator(set: &Set, latency: Duration, rate_limit: Option<f64>) -> EmulatorHandle {
    emulator::spawn(EmulatorConfig {
        seed: set.seed(),
        latency,
        rate_limit,
        // A gateway whose plug-in quota was raised for the set (the default is 500).
        service: ServiceQuirks {
            plugin_quota: Some(2 * set.plugins.max(500)),
            ..ServiceQuirks::default()
        },
        ..EmulatorConfig::demo()
    })
    .await
    .expect("emulator")
}

/// Throttled answers so far.
fn throttled(emu: &EmulatorHandle) -> u64 {
    emu.stats()
        .operations
        .values()
        .map(|by| by.get("429").copied().unwrap_or(0) + by.get("500").copied().unwrap_or(0))
        .sum()
}

/// Runs the binary with `args` and makes a row of it.
async fn measure(
    emu: &EmulatorHandle,
    scenario: String,
    args: Vec<String>,
    bound: impl Fn(u64) -> Option<Duration>,
    scratch: &Path,
) -> Row {
    let before = emu.stats().total;
    let throttled_before = throttled(emu);
    let (url, scratch_dir) = (emu.base_url(), scratch.to_path_buf());
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_binary(&url, &args, &scratch_dir)
    })
    .await
    .expect("child run");
    let calls = emu.stats().total - before;
    let refused = throttled(emu) - throttled_before;
    let mut note = format!("exit {}", run.code);
    if refused > 0 {
        let _ = write!(note, ", {refused} throttled answers");
    }
    if run.code != 0 && run.code != 2 {
        eprintln!("{scenario}: exit {}\n{}", run.code, run.stderr_tail);
    }
    Row {
        scenario,
        wall: run.wall,
        calls,
        bound: bound(calls - refused),
        cpu: run.usage.map(|u| u.0),
        rss_mb: run.usage.map(|u| u.1),
        note,
    }
}

fn client(emu: &EmulatorHandle) -> Client {
    let target = Target::new(Flavour::Apig, &emu.base_url(), PROJECT, INSTANCE).expect("target");
    let demo = Credential::demo();
    let credentials = Credentials::AkSk {
        access_key: demo.access_key,
        secret_key: Secret::new(demo.secret_key),
        security_token: None,
    };
    Client::new(target, credentials, ClientOptions::default()).expect("client")
}

/// What a team writes without apigsync: for each plug-in, one call at a time
/// through the client, create (or, when the name exists, look it up and update)
/// then attach in each environment. No diff.
async fn sequential_script(emu: &EmulatorHandle, set: &Set) -> Result<(), ApiError> {
    let client = client(emu);
    let envs = client.list_envs().await?;
    let apis = client.list_apis(None).await?;
    let api_id = |name: &str| {
        apis.iter()
            .find(|a| a.name == name)
            .map(|a| a.id.clone())
            .unwrap_or_default()
    };
    for i in 0..set.plugins {
        let body = PluginBody {
            plugin_name: format!("p_{i:05}"),
            plugin_type: Set::plugin_type(i),
            plugin_scope: Scope::Global,
            plugin_content: Set::content(i),
            remark: None,
            roma_app_id: None,
        };
        let id = match client.create_plugin(&body).await {
            Ok(p) => p.id,
            Err(e) if e.code() == Some("APIG.3326") => {
                let found = client.find_plugin_by_name(&body.plugin_name).await?;
                let id = found.map(|p| p.id).unwrap_or_default();
                client.update_plugin(&id, &body).await?;
                id
            }
            Err(e) => return Err(e),
        };
        let ids: Vec<String> = set.apis_of(i).iter().map(|n| api_id(n)).collect();
        for env in &envs {
            client.attach_apis(&id, &env.id, &ids).await?;
        }
    }
    Ok(())
}

async fn baseline(emu: &EmulatorHandle, set: &Set, latency: Duration) -> Row {
    let before = emu.stats().total;
    let started = Instant::now();
    let result = sequential_script(emu, set).await;
    let wall = started.elapsed();
    let calls = emu.stats().total - before;
    Row {
        scenario: format!(
            "sequential script (no apigsync), converged gateway, {}, {} ms",
            set.label(),
            latency.as_millis()
        ),
        wall,
        calls,
        bound: Some(latency * u32::try_from(calls).unwrap_or(u32::MAX)),
        cpu: None,
        rss_mb: None,
        note: match result {
            Ok(()) => "one call at a time".into(),
            Err(e) => format!("failed: {e}"),
        },
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Apply from empty, then a no-op plan, at each parallelism; rows for each.
async fn latency_scenarios(rows: &mut Vec<Row>) {
    let set = Set {
        plugins: 300,
        apis: 2000,
        per_env: 10,
    };
    let latency = Duration::from_millis(30);
    let emu = emulator(&set, latency, None).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    set.write(&dir);
    let d = dir.display().to_string();
    let bound = |p: u64| move |calls| Some(latency_bound(calls, p, latency));
    rows.push(
        measure(
            &emu,
            format!("apply from empty, {}, 30 ms, parallelism 8", set.label()),
            strs(&["apply", &d, "--auto-approve", "--parallelism", "8"]),
            bound(8),
            tmp.path(),
        )
        .await,
    );
    for p in [8u64, 32] {
        rows.push(
            measure(
                &emu,
                format!("no-op plan, {}, 30 ms, parallelism {p}", set.label()),
                strs(&[
                    "plan",
                    &d,
                    "--detailed-exitcode",
                    "--parallelism",
                    &p.to_string(),
                ]),
                bound(p),
                tmp.path(),
            )
            .await,
        );
    }
    rows.push(baseline(&emu, &set, latency).await);
}

/// Apply from empty and a no-op plan of `plugins` plug-ins with 8 bindings each, no latency.
async fn scale_scenario(rows: &mut Vec<Row>, plugins: usize, with_plan: bool) {
    let set = Set {
        plugins,
        apis: plugins * 2 + 4,
        per_env: 4,
    };
    let emu = emulator(&set, Duration::ZERO, None).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    set.write(&dir);
    let d = dir.display().to_string();
    rows.push(
        measure(
            &emu,
            format!(
                "apply from empty, {}, no latency, parallelism 8",
                set.label()
            ),
            strs(&["apply", &d, "--auto-approve", "--parallelism", "8"]),
            |_| None,
            tmp.path(),
        )
        .await,
    );
    if with_plan {
        rows.push(
            measure(
                &emu,
                format!("no-op plan, {}, no latency, parallelism 8", set.label()),
                strs(&["plan", &d, "--detailed-exitcode", "--parallelism", "8"]),
                |_| None,
                tmp.path(),
            )
            .await,
        );
    }
}

/// Apply from empty against a gateway that accepts `rps` requests/s, default parallelism; then a plan.
async fn throttled_scenario(rows: &mut Vec<Row>, plugins: usize, rps: f64) {
    let set = Set {
        plugins,
        apis: plugins * 2 + 4,
        per_env: 4,
    };
    let emu = emulator(&set, Duration::ZERO, Some(rps)).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    set.write(&dir);
    let d = dir.display().to_string();
    let bound = move |calls: u64| Some(Duration::from_secs_f64(calls as f64 / rps));
    rows.push(
        measure(
            &emu,
            format!(
                "apply from empty at {rps} req/s, {}, parallelism 8",
                set.label()
            ),
            strs(&["apply", &d, "--auto-approve"]),
            bound,
            tmp.path(),
        )
        .await,
    );
    rows.push(
        measure(
            &emu,
            format!("plan after it at {rps} req/s"),
            strs(&["plan", &d, "--detailed-exitcode"]),
            bound,
            tmp.path(),
        )
        .await,
    );
}

/// Share of calls the shedding gateway answers 429 (APIGW.0308, `Retry-After: 1`).
const SHED_RATES: [f64; 3] = [0.05, 0.07, 0.10];

/// A plain HTTP client for the emulator's admin paths.
fn admin() -> reqwest::Client {
    apigsync::api::install_tls_provider();
    reqwest::Client::new()
}

/// Sets the emulator's `throttle_rate` (`PUT /_emulator/faults`; the other switches stay off).
async fn shed(emu: &EmulatorHandle, rate: f64) {
    let url = format!("{}/_emulator/faults", emu.base_url());
    let resp = admin()
        .put(url)
        .json(&serde_json::json!({"latency_ms": 30, "throttle_rate": rate}))
        .send()
        .await
        .expect("faults");
    assert!(resp.status().is_success(), "faults: {}", resp.status());
}

/// Apply from empty of 47 plug-ins (141 operations), 30 ms, parallelism 8: unthrottled, then
/// from empty again (the emulator reset) while the gateway answers 429 to each of [`SHED_RATES`] of
/// calls. The shedding row's bound is the unthrottled apply's wall time: its ratio is the
/// slow-down that light throttling costs.
async fn shedding_scenario(rows: &mut Vec<Row>) {
    let set = Set {
        plugins: 47,
        apis: 400,
        per_env: 4,
    };
    let emu = emulator(&set, Duration::from_millis(30), None).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    set.write(&dir);
    let d = dir.display().to_string();
    let args = strs(&["apply", &d, "--auto-approve", "--parallelism", "8"]);
    let label = |what: &str| format!("apply from empty, {}, 30 ms, {what}", set.label());
    let clear = measure(
        &emu,
        label("unthrottled"),
        args.clone(),
        |_| None,
        tmp.path(),
    )
    .await;
    let unthrottled = clear.wall;
    rows.push(clear);
    for rate in SHED_RATES {
        let reset = format!("{}/_emulator/reset", emu.base_url());
        let resp = admin().post(reset).send().await.expect("reset");
        assert!(resp.status().is_success(), "reset: {}", resp.status());
        shed(&emu, rate).await;
        let mut row = measure(
            &emu,
            label(&format!("{:.0}% of calls answered 429", rate * 100.0)),
            args.clone(),
            |_| Some(unthrottled),
            tmp.path(),
        )
        .await;
        row.note.push_str("; lower bound: the unthrottled apply");
        rows.push(row);
    }
}

const HEADER: &str = "| scenario | wall | calls | lower bound | ratio | client CPU | peak RSS | notes |\n|---|---|---|---|---|---|---|---|";

fn line(r: &Row) -> String {
    let (bound, ratio) = match r.bound {
        Some(b) if !b.is_zero() => (
            format!("{:.2} s", b.as_secs_f64()),
            format!("{:.2}×", r.wall.as_secs_f64() / b.as_secs_f64()),
        ),
        _ => ("—".into(), "—".into()),
    };
    format!(
        "| {} | {:.2} s | {} | {bound} | {ratio} | {} | {} | {} |",
        r.scenario,
        r.wall.as_secs_f64(),
        thousands(r.calls),
        r.cpu
            .map_or("—".into(), |c| format!("{:.2} s", c.as_secs_f64())),
        r.rss_mb.map_or("—".into(), |m| format!("{m:.0} MB")),
        r.note
    )
}

/// Shows the rows not shown yet on stderr, as they come.
fn progress(rows: &[Row], shown: &mut usize) {
    for r in &rows[*shown..] {
        eprintln!("{}", line(r));
    }
    *shown = rows.len();
}

fn main() {
    let large: usize = std::env::var("APIGSYNC_BENCH_PLUGINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let groups = std::env::var("APIGSYNC_BENCH_GROUPS").unwrap_or_default();
    let runs = |group: &str| groups.is_empty() || groups.split(',').any(|g| g.trim() == group);
    let started = Instant::now();
    let rows = runtime.block_on(async {
        let (mut rows, mut shown) = (Vec::new(), 0);
        if runs("latency") {
            latency_scenarios(&mut rows).await;
            progress(&rows, &mut shown);
        }
        if runs("scale") {
            for plugins in [1500, 3000] {
                scale_scenario(&mut rows, plugins, false).await;
                progress(&rows, &mut shown);
            }
        }
        if (runs("scale") || runs("large")) && large > 0 {
            scale_scenario(&mut rows, large, true).await;
            progress(&rows, &mut shown);
        }
        if runs("throttled") {
            for (plugins, rps) in [(25, 2.0), (100, 5.0), (100, 2.0)] {
                throttled_scenario(&mut rows, plugins, rps).await;
                progress(&rows, &mut shown);
            }
        }
        if runs("shedding") {
            shedding_scenario(&mut rows).await;
            progress(&rows, &mut shown);
        }
        if runs("watch") {
            watch::edit_scenario(&mut rows).await;
            progress(&rows, &mut shown);
            watch::budget_scenario(&mut rows).await;
            progress(&rows, &mut shown);
        }
        if runs("startup") {
            startup::scenario(&mut rows).await;
            progress(&rows, &mut shown);
        }
        rows
    });
    println!(
        "apigsync benchmarks: the binary against the in-process emulator on loopback ({:.0} s in all)\n",
        started.elapsed().as_secs_f64()
    );
    println!("{HEADER}");
    for r in &rows {
        println!("{}", line(r));
    }
}
