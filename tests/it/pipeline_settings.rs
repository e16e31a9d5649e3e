//! plan, apply and watch run one pipeline with the same client settings: the parallelism
//! a user asks for is the number of requests the gateway sees at once, whichever
//! command reads it (watch used to keep the client's default of 8).

use std::time::Duration;

use crate::support::cli::{World, demo_with_apis};
use crate::support::watch::{eventually, start_watch};
use apigsync::emulator::EmulatorConfig;

/// `count` set_resp_headers plug-ins without bindings: reading them costs one binding
/// read each, all of which can be in flight at once.
fn many_plugins(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "kind: Plugin\nname: headers_{i:03}\ntype: set_resp_headers\ncontent:\n  response_headers:\n    - {{name: X-N, value: \"{i}\", action: override}}\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// 48 plug-ins on a gateway of more APIs than that, so watch reads their bindings per
/// plug-in too (the cheaper direction).
async fn world_with_plugins() -> World {
    let world = World::empty(EmulatorConfig {
        latency: Duration::from_millis(100),
        ..demo_with_apis(50)
    })
    .await;
    world.write("plugins.yaml", &many_plugins(48));
    world
        .run("apply", &["--auto-approve", "--parallelism", "4"])
        .await
        .expect_code(0);
    let most = world.stats().max_concurrent;
    assert!(
        (2..=4).contains(&most),
        "apply --parallelism 4 had {most} requests in flight at most"
    );
    world
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_parallelism_32_runs_more_than_the_default_8_requests_at_once() {
    let world = world_with_plugins().await;
    let dir = world.dir();
    let watch = start_watch(&world, &dir, &["--interval", "1h", "--parallelism", "32"]);
    eventually("one reconcile", async || watch.successes().await >= 1.0).await;
    let most = world.stats().max_concurrent;
    assert!(
        (9..=32).contains(&most),
        "watch --parallelism 32 had {most} requests in flight at most\n{}",
        watch.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_parallelism_32_runs_more_than_the_default_8_requests_at_once() {
    let world = world_with_plugins().await;
    world
        .run("plan", &["--parallelism", "32"])
        .await
        .expect_code(0);
    let most = world.stats().max_concurrent;
    assert!(
        (9..=32).contains(&most),
        "plan --parallelism 32 had {most} requests in flight at most"
    );
}
