//! Cost proportional to the change (issue 19): under `watch`, a file change plans against
//! the view of the last read and re-reads only what its plan touches; the interval scan
//! still reads everything and heals what changed on the console.

use std::time::Duration;

use crate::support::cli::World;
use crate::support::watch::{eventually, start_watch};
use apigsync::emulator::EmulatorConfig;
use apigsync::emulator::quirks_service::ServiceQuirks;

const PLUGINS: usize = 3_000;

fn headers(i: usize, value: &str) -> String {
    format!(
        "kind: Plugin\nname: headers_{i:04}\ntype: set_resp_headers\ncontent:\n  response_headers:\n    - {{name: X-N, value: \"{value}\", action: override}}\n"
    )
}

fn write_all(world: &World) {
    let text = (0..PLUGINS)
        .map(|i| headers(i, &i.to_string()))
        .collect::<Vec<_>>()
        .join("---\n");
    world.write("plugins.yaml", &text);
}

async fn header_value(world: &World, name: &str) -> String {
    let plugin = world.plugin(name).await;
    plugin.content["response_headers"][0]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_plugin_edit_under_watch_costs_a_few_calls_and_the_interval_still_heals() {
    // A gateway whose plug-in quota was raised above the default 500 for these 3,000.
    let world = World::empty(EmulatorConfig {
        service: ServiceQuirks {
            plugin_quota: Some(2 * PLUGINS),
            ..ServiceQuirks::default()
        },
        ..EmulatorConfig::demo()
    })
    .await;
    write_all(&world);
    world
        .run("apply", &["--auto-approve", "--parallelism", "32"])
        .await
        .expect_code(0);
    let dir = world.dir();
    let watch = start_watch(
        &world,
        &dir,
        &[
            "--interval",
            "25s",
            "--debounce",
            "200ms",
            "--parallelism",
            "32",
        ],
    );
    eventually("the first (full) reconcile", async || {
        !watch.reconciles().is_empty()
    })
    .await;
    let full_scan = world.stats().total;

    // One plug-in edited in the files: applied with a handful of calls.
    let before = world.stats().total;
    let seen = watch.reconciles().len();
    let mut text = std::fs::read_to_string(dir.join("plugins.yaml")).unwrap();
    text = text.replace("value: \"1234\"", "value: \"edited\"");
    std::fs::write(dir.join("plugins.yaml"), text).unwrap();
    eventually("the edit is applied", async || {
        watch.reconciles()[seen..].contains(&"reconcile: applied")
    })
    .await;
    let calls = world.stats().total - before;
    assert!(
        calls <= 30,
        "a one-plug-in edit cost {calls} calls (a full scan cost {full_scan})\n{}",
        watch.log()
    );
    assert_eq!(header_value(&world, "headers_1234").await, "edited");

    // A console edit of another plug-in: no file changes, so the next interval heals it.
    world
        .change_content("headers_0007", |c| {
            c["response_headers"][0]["value"] = "console".into();
        })
        .await;
    let healed_by = watch.reconciles().len();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if header_value(&world, "headers_0007").await == "7" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the console edit was not healed\n{}", watch.log()));
    assert!(watch.reconciles().len() > healed_by);
}
