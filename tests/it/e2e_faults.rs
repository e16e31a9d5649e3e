//! Injected faults (500s, 429s, closed connections, writes whose response is lost):
//! repeated `apply` of the examples converges, with no duplicate plug-in and no
//! lost binding.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::cli::*;
use apigsync::emulator::EmulatorConfig;

/// The bindings the examples declare: plug-in → sorted `(env, api)` pairs.
fn example_bindings() -> BTreeMap<&'static str, Vec<(String, String)>> {
    let pairs = |env: &str, apis: &[&str]| -> Vec<(String, String)> {
        apis.iter()
            .map(|a| (env.to_string(), a.to_string()))
            .collect()
    };
    let join = |mut a: Vec<(String, String)>, b: Vec<(String, String)>| {
        a.extend(b);
        a.sort();
        a
    };
    let shop = ["orders_list", "orders_get", "orders_create"];
    BTreeMap::from([
        (
            "cors_public",
            join(
                pairs(
                    "RELEASE",
                    &[&shop[..], &["users_list", "users_get"]].concat(),
                ),
                pairs("TEST", &[&shop[..], &["users_get"]].concat()),
            ),
        ),
        ("orders_cache", join(pairs("RELEASE", &shop[..2]), vec![])),
        (
            "security_headers",
            join(
                pairs(
                    "RELEASE",
                    &[&shop[..], &["users_list", "users_get", "health"]].concat(),
                ),
                pairs("TEST", &[&shop[..], &["users_get", "health"]].concat()),
            ),
        ),
        ("shop_access_log", join(pairs("RELEASE", &shop), vec![])),
        ("shop_throttle", join(pairs("RELEASE", &shop), vec![])),
        (
            "test_throttle",
            join(pairs("TEST", &[&shop[..], &["users_get"]].concat()), vec![]),
        ),
        (
            "users_authorizer",
            join(
                pairs("RELEASE", &["users_list", "users_get"]),
                pairs("TEST", &["users_get"]),
            ),
        ),
    ])
}

/// Applies until a plan reports no changes; returns the number of applies.
async fn converge(w: &World, limit: usize) -> Option<usize> {
    for run in 1..=limit {
        let apply = w.run("apply", &["--auto-approve"]).await;
        eprintln!(
            "apply #{run}: exit {}\n{}",
            apply.code,
            apply
                .stderr
                .lines()
                .filter(|l| !l.starts_with("done:"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let plan = w.run("plan", &["--detailed-exitcode"]).await;
        if plan.code == 0 {
            return Some(run);
        }
        eprintln!(
            "plan after apply #{run}: exit {}\n{}",
            plan.code, plan.stderr
        );
    }
    None
}

async fn faults_off(w: &World) {
    apigsync::api::install_tls_provider();
    let resp = reqwest::Client::new()
        .put(format!("{}/_emulator/faults", w.emu.base_url()))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("admin call");
    assert!(resp.status().is_success());
}

async fn assert_converged_state(w: &World) {
    let plugins = w.plugins().await;
    let mut seen = BTreeSet::new();
    for p in &plugins {
        assert!(
            seen.insert(p.name.clone()),
            "duplicate plug-in {:?}",
            p.name
        );
    }
    for (name, expected) in example_bindings() {
        assert_eq!(w.bindings(name).await, expected, "bindings of {name}");
    }
    assert_eq!(seen.len(), example_bindings().len(), "{seen:?}");
}

/// Answers with `status` across all operations.
fn count_status(stats: &apigsync::emulator::Stats, status: &str) -> u64 {
    stats
        .operations
        .values()
        .filter_map(|by| by.get(status))
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_apply_converges_under_a_fault_rate_of_0_2() {
    let mut fired = [0; 3];
    for seed in [7, 42, 2024] {
        let w = World::examples(EmulatorConfig {
            fault_rate: 0.2,
            fault_seed: seed,
            ..EmulatorConfig::demo()
        })
        .await;
        let runs = converge(&w, 10).await;
        let stats = w.stats();
        let (closed, errors, throttled) = (
            count_status(&stats, "closed"),
            count_status(&stats, "500"),
            count_status(&stats, "429"),
        );
        eprintln!(
            "MEASURE fault seed {seed}: converged after {runs:?} apply run(s); {} calls, {closed} closed, {errors} x 500, {throttled} x 429",
            stats.total,
        );
        // The oracle: faults fired, and still everything converged.
        assert!(
            closed + errors + throttled > 0,
            "seed {seed}: no fault fired"
        );
        for (count, n) in fired.iter_mut().zip([closed, errors, throttled]) {
            *count += n;
        }
        assert!(runs.is_some(), "seed {seed}: no convergence in 10 applies");
        faults_off(&w).await;
        assert_converged_state(&w).await;
        w.run("plan", &["--detailed-exitcode"]).await.expect_code(0);
    }
    let [closed, errors, throttled] = fired;
    assert!(closed > 0, "no connection was closed");
    assert!(errors > 0, "no 500 was injected");
    assert!(throttled > 0, "no 429 was injected");
}
