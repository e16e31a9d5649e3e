//! The `watch` group: what `apigsync watch` costs once it runs. A one-plug-in edit on
//! 3,000 plug-ins (calls, and time from the file write to the update done), and a watch
//! under a request budget (calls per minute at the emulator, and the staleness the
//! metric reports), each bounded in time.

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Row, Set, admin, binary, emulator, run_binary, to_gateway};

/// A running `apigsync watch`, killed when dropped.
struct Watching {
    child: Child,
    metrics: String,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `apigsync watch DIR` with `extra` flags against the emulator at `emu_url`.
fn start(emu_url: &str, dir: &Path, extra: &[&str], scratch: &Path) -> Watching {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let stderr = File::create(scratch.join("watch.txt")).expect("stderr file");
    let mut command = Command::new(binary());
    command
        .arg("watch")
        .arg(dir)
        .args(["--listen", &listen])
        .args(extra);
    let child = to_gateway(&mut command, emu_url)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("watch starts");
    Watching {
        child,
        metrics: format!("http://{listen}/metrics"),
    }
}

impl Watching {
    /// The sum of the samples of `series` whose labels hold `labels` (0 before the
    /// endpoint answers).
    async fn metric(&self, series: &str, labels: &str) -> f64 {
        let Ok(answer) = admin().get(&self.metrics).send().await else {
            return 0.0;
        };
        let text = answer.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| {
                l.strip_prefix(series)
                    .is_some_and(|rest| rest.starts_with([' ', '{']) && rest.contains(labels))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Waits until `series` (with `labels`) reaches `at_least`, at most `bound`.
    async fn wait_for(&self, series: &str, labels: &str, at_least: f64, bound: Duration) {
        let started = Instant::now();
        while self.metric(series, labels).await < at_least {
            assert!(
                started.elapsed() < bound,
                "{series}{{{labels}}} below {at_least} after {bound:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Writes `set` and applies it with the binary (no budget), so the watch starts converged.
async fn converged(emu_url: &str, set: &Set, scratch: &Path) -> String {
    let dir = scratch.join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    set.write(&dir);
    let d = dir.display().to_string();
    let (url, scratch_dir, args) = (
        emu_url.to_owned(),
        scratch.to_path_buf(),
        ["apply", d.as_str(), "--auto-approve", "--parallelism", "32"].map(str::to_owned),
    );
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_binary(&url, &args, &scratch_dir)
    })
    .await
    .expect("apply");
    assert_eq!(run.code, 0, "apply failed:\n{}", run.stderr_tail);
    d
}

const SUCCESSES: (&str, &str) = ("apigsync_reconciles_total", "result=\"success\"");

/// A one-plug-in edit under watch on 3,000 plug-ins (8 bindings each).
pub async fn edit_scenario(rows: &mut Vec<Row>) {
    let set = Set {
        plugins: 3_000,
        apis: 3_000 * 2 + 4,
        per_env: 4,
    };
    let emu = emulator(&set, Duration::ZERO, None).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = converged(&emu.base_url(), &set, tmp.path()).await;
    let before_start = emu.stats().total;
    let watch = start(
        &emu.base_url(),
        Path::new(&dir),
        &[
            "--interval",
            "1h",
            "--debounce",
            "50ms",
            "--parallelism",
            "32",
        ],
        tmp.path(),
    );
    watch
        .wait_for(SUCCESSES.0, SUCCESSES.1, 1.0, Duration::from_secs(300))
        .await;
    let whole = emu.stats().total - before_start;

    // p_01235 (a set_resp_headers plug-in) is in plugins_012.yaml.
    let file = Path::new(&dir).join("plugins_012.yaml");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("\"v1235\""), "p_01235's value is in {file:?}");
    let before = emu.stats().total;
    let started = Instant::now();
    std::fs::write(&file, text.replace("\"v1235\"", "\"edited\"")).expect("write");
    watch
        .wait_for(
            "apigsync_operations_total",
            "result=\"done\"",
            1.0,
            Duration::from_secs(120),
        )
        .await;
    let wall = started.elapsed();
    rows.push(Row {
        scenario: format!(
            "one-plug-in edit under watch, {}, no latency, parallelism 32",
            set.label()
        ),
        wall,
        calls: emu.stats().total - before,
        bound: None,
        cpu: None,
        rss_mb: None,
        note: format!(
            "from the file write to the update done (debounce 50 ms); the first whole read cost {whole} calls"
        ),
    });
}

/// How long the budget scenario watches.
const WATCHED: Duration = Duration::from_secs(90);

/// A watch under 200/5m, run five times faster (200/1m, interval 6 s for 30 s) so its
/// steady state shows within [`WATCHED`].
pub async fn budget_scenario(rows: &mut Vec<Row>) {
    let set = Set {
        plugins: 30,
        apis: 64,
        per_env: 1,
    };
    let emu = emulator(&set, Duration::ZERO, None).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = converged(&emu.base_url(), &set, tmp.path()).await;
    let before = emu.stats().total;
    let started = Instant::now();
    let watch = start(
        &emu.base_url(),
        Path::new(&dir),
        &["--interval", "6s", "--max-request-rate", "200/1m"],
        tmp.path(),
    );
    let mut staleness: f64 = 0.0;
    while started.elapsed() < WATCHED {
        staleness = staleness.max(watch.metric("apigsync_oldest_read_seconds", "").await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let calls = emu.stats().total - before;
    let wall = started.elapsed();
    let reconciles = watch.metric(SUCCESSES.0, SUCCESSES.1).await;
    let per_minute = calls as f64 / wall.as_secs_f64() * 60.0;
    rows.push(Row {
        scenario: format!(
            "watch under --max-request-rate 200/1m (200/5m five times faster), interval 6 s, {}",
            set.label()
        ),
        wall,
        calls,
        bound: None,
        cpu: None,
        rss_mb: None,
        note: format!(
            "{per_minute:.0} calls/min (budget 200; at 200/5m: {:.0}/min of 40); staleness reported at most {staleness:.1} s (at 200/5m: {:.0} s); {reconciles} reconciles",
            per_minute / 5.0,
            staleness * 5.0
        ),
    });
}
