//! The `startup` group: the time from spawning `apigsync plan` on 300 plug-ins (3 files) to
//! the arrival of the emulator's first request: the folder load, the runtime, the client
//! (TLS roots among it) and the first connection.

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Row, Set, binary, emulator, to_gateway};

/// Runs of the scenario; the row shows their median.
const RUNS: usize = 7;

/// Milliseconds since the Unix epoch, as the emulator's `arrived_ms` counts them.
fn unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// [`RUNS`] plans spawned directly (no GNU time in between), each against a fresh emulator;
/// the median of their delays (millisecond clock) in the wall column, each in the notes.
pub(super) async fn scenario(rows: &mut Vec<Row>) {
    let set = Set {
        plugins: 300,
        apis: 2000,
        per_env: 10,
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).expect("dir");
    set.write(&dir);
    let d = dir.display().to_string();
    let mut delays = Vec::new();
    for _ in 0..RUNS {
        let emu = emulator(&set, Duration::ZERO, None).await;
        let (url, d) = (emu.base_url(), d.clone());
        let (spawned, status) = tokio::task::spawn_blocking(move || {
            let spawned = unix_ms();
            let mut command = Command::new(binary());
            let status = to_gateway(command.args(["plan", &d, "--parallelism", "8"]), &url)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("the binary runs");
            (spawned, status)
        })
        .await
        .expect("child run");
        assert!(status.success(), "start-up plan: {status}");
        let first = emu
            .log()
            .iter()
            .map(|e| e.arrived_ms)
            .min()
            .expect("a request");
        delays.push(first as f64 - spawned);
    }
    delays.sort_by(f64::total_cmp);
    let median = delays[delays.len() / 2].max(0.0);
    rows.push(Row {
        scenario: format!("start-up to the first request, plan of {}", set.label()),
        wall: Duration::from_secs_f64(median / 1000.0),
        calls: 1,
        bound: None,
        cpu: None,
        rss_mb: None,
        note: format!(
            "median of {RUNS} runs (ms: {})",
            delays
                .iter()
                .map(|d| format!("{d:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
}
