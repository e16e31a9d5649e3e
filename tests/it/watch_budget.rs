//! A request budget under `watch` (issue 19): `--max-request-rate 2/s` is never exceeded,
//! in any second, counted at the emulator by arrival time; and the view's staleness is
//! exported, so an operator sees how long a console edit can go unseen.

use crate::support::cli::World;
use std::time::Duration;

use crate::support::watch::{eventually_within, start_watch};

/// The most requests that arrived within any one-second window (half-open).
fn most_in_any_second(mut arrivals: Vec<i64>) -> usize {
    arrivals.sort_unstable();
    let mut most = 0;
    let mut start = 0;
    for end in 0..arrivals.len() {
        while arrivals[end] - arrivals[start] >= 1000 {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[test]
fn the_window_count_is_right() {
    assert_eq!(most_in_any_second(vec![0, 500, 1000, 1500]), 2);
    assert_eq!(most_in_any_second(vec![0, 400, 999, 1000]), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_never_exceeds_its_request_budget_and_exports_its_staleness() {
    let world = World::demo_examples().await;
    let dir = world.dir();
    let watch = start_watch(
        &world,
        &dir,
        &["--interval", "1h", "--max-request-rate", "2/s"],
    );
    // About 55 requests at 2 a second: close to half a minute by design.
    eventually_within(
        "the first reconcile (a full read and apply at 2 requests/s)",
        Duration::from_secs(90),
        async || watch.successes().await >= 1.0,
    )
    .await;
    let arrivals: Vec<i64> = world.log().iter().map(|e| e.arrived_ms).collect();
    assert!(arrivals.len() > 10, "{} requests", arrivals.len());
    let most = most_in_any_second(arrivals);
    assert!(
        most <= 2,
        "{most} requests within one second\n{}",
        watch.log()
    );
    let first = world.log().first().map(|e| e.arrived_ms).unwrap_or(0);
    let last = world.log().last().map(|e| e.arrived_ms).unwrap_or(0);
    let staleness = watch.metric("apigsync_oldest_read_seconds").await;
    assert!(
        staleness * 1000.0 >= (last - first) as f64 * 0.9,
        "the view is reported {staleness} s old, but its reads spanned {} ms",
        last - first
    );
}
