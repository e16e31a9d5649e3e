//! Generated manifests (a seeded generator over the recorded contents): validate, apply,
//! then every plug-in reads back as the service's recorded responses show, plan reports no
//! changes and a second apply writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::support::cli::*;
use crate::support::plan::bindable;
use crate::support::recorded;
use apigsync::model::PluginType;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// Generated cases by default; each runs the binary five times against its own emulator.
/// `E2E_RANDOM_CASES=N` runs N (a longer search for bugs).
const CASES: u64 = 12;

/// The published APIs of the demo instance: env → (name, method).
fn published() -> BTreeMap<&'static str, Vec<(&'static str, &'static str)>> {
    let shop = [
        ("orders_list", "GET"),
        ("orders_get", "GET"),
        ("orders_create", "POST"),
        ("users_get", "GET"),
        ("health", "GET"),
    ];
    let mut release = shop.to_vec();
    release.push(("users_list", "GET"));
    BTreeMap::from([("RELEASE", release), ("TEST", shop.to_vec())])
}

/// APIs of one group with the same path (GET and POST /orders of group shop): one CORS
/// plug-in between them in an environment (the plan refuses two).
const SAME_PATH: [&str; 2] = ["orders_list", "orders_create"];

/// The demo seed's API with a Mock backend, where no proxy_mirror binds.
const MOCK_BACKEND: &str = "health";

/// Whether a plug-in of `kind` may bind `api`, beyond [`bindable`]'s method rules.
fn backend_allows(kind: PluginType, api: &str) -> bool {
    !(kind == PluginType::ProxyMirror && api == MOCK_BACKEND)
}

/// Request contents per type: every recorded one (so the read after apply has a record).
fn contents() -> BTreeMap<PluginType, Vec<Value>> {
    let mut out: BTreeMap<PluginType, Vec<Value>> = BTreeMap::new();
    for trip in recorded::round_trips() {
        out.entry(trip.kind).or_default().push(trip.request.clone());
    }
    out
}

/// One generated folder: files (relative path → text) and the variables its secrets need.
struct Generated {
    files: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    /// Plug-in name → type and content as sent (secrets resolved).
    sent: BTreeMap<String, (PluginType, Value)>,
    bindings: usize,
}

/// Replaces each non-empty secret of `content` by a `${VAR}` reference (literal secrets are
/// refused), with a value unique to `tag` in `env`; returns the content as it will be sent.
fn secrets_as_references(
    kind: PluginType,
    content: &mut Value,
    tag: &str,
    env: &mut BTreeMap<String, String>,
) -> Value {
    let mut resolved = content.clone();
    for pointer in recorded::secrets(kind).into_keys() {
        if let Some(v) = content.pointer_mut(&pointer)
            && v.as_str().is_some_and(|s| !s.is_empty())
        {
            let var = format!("E2E_SECRET_{tag}{}", pointer.replace('/', "_"));
            let value = format!("s3cret-{tag}");
            *resolved.pointer_mut(&pointer).expect("same shape") = Value::from(value.clone());
            env.insert(var.clone(), value);
            *v = Value::String(format!("${{{var}}}"));
        }
    }
    resolved
}

fn generate(seed: u64) -> Generated {
    let mut rng = StdRng::seed_from_u64(seed);
    let contents = contents();
    let published = published();
    let mut env = BTreeMap::new();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut used: BTreeSet<(PluginType, &str, &str)> = BTreeSet::new();
    let mut sent = BTreeMap::new();
    let count = rng.random_range(1..=9);
    let mut bindings = 0;
    for i in 0..count {
        let kind = *PluginType::ALL.choose(&mut rng).expect("types");
        let mut content = contents[&kind].choose(&mut rng).expect("content").clone();
        let resolved = secrets_as_references(
            kind,
            &mut content,
            &format!("{seed}_{i}_{}", rng.random::<u32>()),
            &mut env,
        );
        let name = format!("plugin{i}");
        sent.insert(name.clone(), (kind, resolved));
        let mut doc = format!("kind: Plugin\nname: {name}\ntype: {}\n", kind.as_str());
        if rng.random_bool(0.5) {
            writeln!(doc, "remark: generated plug-in {i} of case {seed}").expect("write");
        }
        let mut docs = vec![doc];
        let mut first_bound: Option<&str> = None;
        for (env_name, apis) in &published {
            // oidc_auth's redirect API must be bound wherever the plug-in is: one env only.
            let one_env_only = kind == PluginType::OidcAuth && *env_name != "RELEASE";
            if !rng.random_bool(0.6) || one_env_only {
                continue;
            }
            let mut candidates: Vec<&str> = apis
                .iter()
                .filter(|(api, method)| {
                    bindable(kind, &content, method)
                        && backend_allows(kind, api)
                        && !used.contains(&(kind, *env_name, *api))
                })
                .map(|(api, _)| *api)
                .collect();
            candidates.shuffle(&mut rng);
            let take = rng.random_range(0..=candidates.len());
            let chosen = &candidates[..take];
            if chosen.is_empty() {
                continue;
            }
            for api in chosen {
                used.insert((kind, env_name, api));
                if kind == PluginType::Cors && SAME_PATH.contains(api) {
                    used.extend(SAME_PATH.map(|other| (kind, *env_name, other)));
                }
            }
            first_bound = first_bound.or(chosen.first().copied());
            bindings += chosen.len();
            docs.push(format!(
                "kind: Binding\nplugin: {name}\nenv: {env_name}\napis: [{}]\n",
                chosen.join(", ")
            ));
        }
        // oidc_auth names its redirect and logout APIs among the APIs bound to it.
        if kind == PluginType::OidcAuth {
            let api = match first_bound {
                Some(api) => api,
                None => {
                    let api = published["RELEASE"]
                        .iter()
                        .map(|(api, _)| *api)
                        .find(|api| !used.contains(&(kind, "RELEASE", *api)))
                        .expect("an API left for oidc_auth");
                    used.insert((kind, "RELEASE", api));
                    bindings += 1;
                    docs.push(format!(
                        "kind: Binding\nplugin: {name}\nenv: RELEASE\napis: [{api}]\n"
                    ));
                    api
                }
            };
            for field in ["redirect_api_id", "logout_api_id"] {
                if content.get(field).is_some() {
                    content[field] = Value::from(api);
                    if let Some((_, request)) = sent.get_mut(&name) {
                        request[field] = Value::from(api);
                    }
                }
            }
        }
        writeln!(docs[0], "content: {content}").expect("write");
        // Sometimes one file per plug-in with its bindings, sometimes bindings apart.
        if rng.random_bool(0.5) {
            files.insert(format!("plugins/{name}.yaml"), docs.join("---\n"));
        } else {
            files.insert(format!("plugins/{name}.yml"), docs[0].clone());
            if docs.len() > 1 {
                files.insert(format!("bindings/{name}.yaml"), docs[1..].join("---\n"));
            }
        }
    }
    Generated {
        files,
        env,
        sent,
        bindings,
    }
}

/// Asserts that the gateway holds exactly the generated plug-ins, each read back as recorded.
async fn assert_reads_as_recorded(w: &World, seed: u64, generated: &Generated) {
    assert_eq!(w.plugins().await.len(), generated.sent.len(), "case {seed}");
    for (name, (kind, request)) in &generated.sent {
        let what = format!("case {seed}: {name}");
        // The manifests name oidc_auth's redirect and logout APIs; the gateway keeps ids.
        let mut request = request.clone();
        for field in ["redirect_api_id", "logout_api_id"] {
            if let Some(api) = request
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
            {
                request[field] = Value::from(w.api_id(&api).await);
            }
        }
        recorded::assert_read_back(*kind, &what, &request, &w.plugin(name).await.content);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_manifests_apply_then_plan_no_changes_and_a_second_apply_writes_nothing() {
    let cases = std::env::var("E2E_RANDOM_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    for seed in 0..cases {
        let generated = generate(seed);
        let mut w = World::empty(apigsync::emulator::EmulatorConfig::demo()).await;
        w.env = generated.env.clone();
        for (path, text) in &generated.files {
            w.write(path, text);
        }
        let describe = || {
            generated
                .files
                .iter()
                .map(|(p, t)| format!("# {p}\n{t}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let validate = w
            .run_raw(vec!["validate".into(), w.dir().display().to_string()])
            .await;
        assert_eq!(
            validate.code,
            0,
            "case {seed}: {}\n{}",
            validate.stderr,
            describe()
        );

        let apply = w.run("apply", &["--auto-approve"]).await;
        assert_eq!(
            apply.code,
            0,
            "case {seed}: apply failed\n{}\n{}\n{}",
            apply.stdout,
            apply.stderr,
            describe()
        );
        let plan = w.run("plan", &["--detailed-exitcode"]).await;
        assert_eq!(
            (plan.code, plan.stdout.trim()),
            (0, "No changes."),
            "case {seed}: plan after apply\n{}\n{}",
            plan.stderr,
            describe()
        );
        let before = w.stats();
        w.run("apply", &["--auto-approve"]).await.expect_code(0);
        assert_eq!(
            w.stats().writes,
            before.writes,
            "case {seed}: the second apply wrote\n{}",
            describe()
        );
        assert_reads_as_recorded(&w, seed, &generated).await;
        eprintln!(
            "case {seed}: {} plug-in(s), {} binding(s): converged",
            generated.sent.len(),
            generated.bindings
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_generated_folder_replaced_by_another_converges_with_prune() {
    // Names are plugin{i}: the second folder updates some plug-ins in place (same type),
    // replaces others (another type), deletes or creates the rest; bindings move.
    let cases = std::env::var("E2E_RANDOM_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES / 2);
    for seed in 0..cases {
        let (first, second) = (generate(seed), generate(seed + 10_000));
        let mut w = World::empty(apigsync::emulator::EmulatorConfig::demo()).await;
        w.env = first.env.clone();
        w.env.extend(second.env.clone());
        for (path, text) in &first.files {
            w.write(path, text);
        }
        w.run("apply", &["--auto-approve"]).await.expect_code(0);
        std::fs::remove_dir_all(w.dir()).expect("clear folder");
        for (path, text) in &second.files {
            w.write(path, text);
        }
        let describe = second
            .files
            .iter()
            .map(|(p, t)| format!("# {p}\n{t}"))
            .collect::<Vec<_>>()
            .join("\n");
        let apply = w.run("apply", &["--auto-approve", "--prune"]).await;
        assert_eq!(
            apply.code, 0,
            "case {seed}: second apply failed\n{}\n{}\n{describe}",
            apply.stdout, apply.stderr
        );
        let plan = w.run("plan", &["--prune", "--detailed-exitcode"]).await;
        assert_eq!(
            (plan.code, plan.stdout.trim()),
            (0, "No changes."),
            "case {seed}: plan after the second apply\n{}\n{describe}",
            plan.stderr
        );
        assert_reads_as_recorded(&w, seed, &second).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_recorded_content_applies_reads_back_as_recorded_and_plans_no_changes() {
    let mut w = World::empty(apigsync::emulator::EmulatorConfig::demo()).await;
    let mut sent = Vec::new();
    let redirect = w.api_id("orders_list").await;
    for (i, trip) in recorded::round_trips().iter().enumerate() {
        let mut content = trip.request.clone();
        let name = format!("recorded{i}_{}", trip.kind);
        let mut binding = String::new();
        if trip.kind == PluginType::OidcAuth {
            // Its redirect and logout APIs must be APIs bound to it (SPEC §6.9).
            for field in ["redirect_api_id", "logout_api_id"] {
                if content.get(field).is_some() {
                    content[field] = Value::from(redirect.clone());
                }
            }
            binding =
                format!("---\nkind: Binding\nplugin: {name}\nenv: RELEASE\napis: [orders_list]\n");
        }
        let resolved = secrets_as_references(trip.kind, &mut content, &i.to_string(), &mut w.env);
        w.write(
            &format!("{name}.yaml"),
            &format!(
                "kind: Plugin\nname: {name}\ntype: {}\ncontent: {content}\n{binding}",
                trip.kind
            ),
        );
        sent.push((name, trip, resolved));
    }
    w.run("apply", &["--auto-approve"]).await.expect_code(0);
    for (name, trip, resolved) in &sent {
        let live = w.plugin(name).await;
        recorded::assert_read_back(trip.kind, &trip.source, resolved, &live.content);
    }
    let plan = w.run("plan", &["--detailed-exitcode"]).await;
    assert_eq!(
        (plan.code, plan.stdout.trim()),
        (0, "No changes."),
        "{}",
        plan.stderr
    );
}

/// Applies until an apply succeeds (faults may fail a run; each re-run plans from
/// scratch), at most `runs` times; returns how many it took.
async fn converge(w: &World, extra: &[&str], runs: usize, what: &str) -> usize {
    let mut args = vec!["--auto-approve"];
    args.extend_from_slice(extra);
    for run in 1..=runs {
        let out = w.run("apply", &args).await;
        if out.code == 0 {
            return run;
        }
    }
    panic!("{what}: no apply succeeded in {runs} runs");
}

/// The randomized campaign of issue 8: generated folders, one replaced by another, against
/// an emulator with every real-service switch on and 20% faults. Each converges within a
/// few runs and holds no duplicate and no lost binding (a final plan of no changes). (The safety of each step in between is sampled by
/// `e2e_safety::replacements_and_moves_converge_with_every_switch_on_and_20_percent_faults`.)
#[tokio::test(flavor = "multi_thread")]
async fn generated_folders_converge_with_every_switch_on_and_20_percent_faults() {
    for seed in 0..3 {
        let (first, second) = (generate(seed + 500), generate(seed + 20_500));
        let mut w = World::empty(every_switch_on(seed)).await;
        w.env = first.env.clone();
        w.env.extend(second.env.clone());
        for (path, text) in &first.files {
            w.write(path, text);
        }
        let runs_first = converge(&w, &[], 8, &format!("case {seed}, first folder")).await;
        std::fs::remove_dir_all(w.dir()).expect("clear folder");
        for (path, text) in &second.files {
            w.write(path, text);
        }
        let runs_second =
            converge(&w, &["--prune"], 8, &format!("case {seed}, second folder")).await;
        let stats = w.stats();
        let faulted: u64 = stats
            .operations
            .values()
            .flat_map(|by_status| by_status.iter())
            .filter(|(status, _)| !status.starts_with('2'))
            .map(|(_, n)| n)
            .sum();
        assert!(faulted > 0, "case {seed}: no fault fired");
        let plan = w.run("plan", &["--prune", "--detailed-exitcode"]).await;
        assert_eq!(
            (plan.code, plan.stdout.trim()),
            (0, "No changes."),
            "case {seed}: plan after convergence\n{}",
            plan.stderr
        );
        let live = w.plugins().await;
        let names: std::collections::BTreeSet<&str> =
            live.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), live.len(), "case {seed}: a duplicate plug-in");
        assert_eq!(names.len(), second.sent.len(), "case {seed}: {names:?}");
        // No read-back check against the recordings: fill_defaults makes the server add
        // the documented defaults, which the plan of no changes above already accepts.
        eprintln!(
            "MEASURE case {seed}: converged in {runs_first} + {runs_second} run(s), {} calls, {faulted} faulted",
            stats.total
        );
    }
}
