//! `cargo bench --bench reconcile`: prints how long planning and applying take,
//! and how many API calls they make, against the in-process emulator with a
//! realistic round-trip latency. Numbers, not assertions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failed setup should stop it loudly"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use apigsync::api::{Client, ClientOptions, Credentials, Secret, Target, fetch_live};
use apigsync::apply::{self, ApplyOptions};
use apigsync::emulator::{self, Credential, EmulatorConfig, EmulatorHandle, Seed};
use apigsync::manifest::{self, Source};
use apigsync::model::{Desired, Flavour, Options};
use apigsync::plan::{self, DiffOptions};
use tokio_util::sync::CancellationToken;

const INSTANCE: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// A seed with `apis` published APIs in RELEASE and TEST.
fn seed(apis: usize) -> Seed {
    let mut yaml = format!(
        "project_id: 5f1e0a2b3c4d5e6f708192a3b4c5d6e7\ninstances:\n  - id: {INSTANCE}\n    flavour: apig\n    envs: [TEST]\n    groups: [bench]\n    apis:\n"
    );
    for i in 0..apis {
        let _ = writeln!(
            yaml,
            "      - {{name: api_{i:04}, group: bench, method: GET, path: /r{i}, published: [RELEASE, TEST]}}"
        );
    }
    Seed::from_yaml(&yaml, "bench").expect("bench seed")
}

/// `plugins` plug-ins (cors, rate_limit, set_resp_headers in turn), each bound to
/// its own API in both environments.
fn desired(plugins: usize) -> Desired {
    let mut text = String::new();
    for i in 0..plugins {
        let content = match i % 3 {
            0 => "  allow_origin: \"*\"\n  max_age: 600\n".to_string(),
            1 => "  api_limit: 1000\n  user_limit: 100\n".to_string(),
            _ => "  response_headers:\n    - {name: X-Bench, value: v, action: override}\n"
                .to_string(),
        };
        let kind = ["cors", "rate_limit", "set_resp_headers"][i % 3];
        let _ = write!(
            text,
            "---\nkind: Plugin\nname: p_{i:04}\ntype: {kind}\ncontent:\n{content}---\nkind: Binding\nplugin: p_{i:04}\nenv: RELEASE\napis: [api_{i:04}]\n---\nkind: Binding\nplugin: p_{i:04}\nenv: TEST\napis: [api_{i:04}]\n"
        );
    }
    let sources = [Source {
        path: "bench/plugins.yaml".into(),
        text,
    }];
    manifest::parse_sources(&sources, &BTreeMap::new()).expect("bench manifests are valid")
}

async fn emulator(apis: usize, latency: Duration) -> EmulatorHandle {
    emulator::spawn(EmulatorConfig {
        seed: seed(apis),
        latency,
        ..EmulatorConfig::demo()
    })
    .await
    .expect("emulator")
}

fn client(emu: &EmulatorHandle) -> Client {
    let target =
        Target::new(Flavour::Apig, &emu.base_url(), emu.project_id(), INSTANCE).expect("target");
    let demo = Credential::demo();
    let credentials = Credentials::AkSk {
        access_key: demo.access_key,
        secret_key: Secret::new(demo.secret_key),
        security_token: None,
    };
    Client::new(target, credentials, ClientOptions::default()).expect("client")
}

fn diff_options() -> DiffOptions {
    DiffOptions::new(&Options::default(), plan::Target::default())
}

/// Pure core: the differ alone, against a gateway that already matches.
async fn bench_diff(plugins: usize) {
    let emu = emulator(plugins, Duration::ZERO).await;
    let client = client(&emu);
    let desired = desired(plugins);
    let live = fetch_live(&client, 8).await.expect("live");
    let first = plan::diff(&desired, &live, &diff_options()).expect("plan");
    apply::execute(
        &first,
        &client,
        &BTreeMap::new(),
        Some(&desired),
        &ApplyOptions { parallelism: 8 },
        &CancellationToken::new(),
        |_| {},
    )
    .await
    .expect("apply");
    let live = fetch_live(&client, 8).await.expect("live");
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        let p = plan::diff(&desired, &live, &diff_options()).expect("plan");
        assert!(p.is_empty());
    }
    let per = started.elapsed() / rounds;
    println!(
        "diff (pure), {plugins} plug-ins, {} bindings, no changes: {per:.2?} per diff",
        plugins * 2
    );
}

/// Apply from scratch, then a no-op plan, with a round-trip latency.
async fn bench_apply(plugins: usize, latency: Duration, parallelism: usize) {
    let emu = emulator(plugins, latency).await;
    let client = client(&emu);
    let desired = desired(plugins);
    let started = Instant::now();
    let live = fetch_live(&client, parallelism).await.expect("live");
    let p = plan::diff(&desired, &live, &diff_options()).expect("plan");
    let report = apply::execute(
        &p,
        &client,
        &BTreeMap::new(),
        Some(&desired),
        &ApplyOptions { parallelism },
        &CancellationToken::new(),
        |_| {},
    )
    .await
    .expect("apply");
    assert!(report.is_success(), "{}", report.text());
    let apply_time = started.elapsed();
    let calls_apply = emu.stats().total;

    let started = Instant::now();
    let live = fetch_live(&client, parallelism).await.expect("live");
    let noop = plan::diff(&desired, &live, &diff_options()).expect("plan");
    let plan_time = started.elapsed();
    assert!(noop.is_empty());
    let calls_plan = emu.stats().total - calls_apply;
    println!(
        "{plugins:>4} plug-ins, latency {latency:?}, parallelism {parallelism:>2}: apply {:>4} ops in {apply_time:>9.2?} ({calls_apply} calls); no-op plan in {plan_time:>8.2?} ({calls_plan} calls)",
        p.operations.len()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("apigsync benchmarks (in-process emulator on loopback)\n");
        bench_diff(300).await;
        bench_diff(1000).await;
        println!();
        for parallelism in [1, 8] {
            bench_apply(100, Duration::from_millis(30), parallelism).await;
        }
        bench_apply(300, Duration::from_millis(30), 8).await;
    });
}
