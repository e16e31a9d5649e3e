//! Generated manifests (a seeded generator over the documented content examples):
//! validate, apply, then plan reports no changes and a second apply writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::support::cli::*;
use apigsync::content::secret_pointers;
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

/// Request contents per type: the primary example and the documented request variants.
fn contents() -> BTreeMap<PluginType, Vec<Value>> {
    let primary: Value =
        serde_json::from_str(include_str!("../fixtures/plugin-content-examples.json"))
            .expect("JSON");
    let variants: Value =
        serde_json::from_str(include_str!("../fixtures/plugin-content-variants.json"))
            .expect("JSON");
    PluginType::ALL
        .iter()
        .map(|&kind| {
            let mut all = vec![primary[kind.as_str()].clone()];
            for section in ["seed_examples", "other_examples"] {
                for e in variants[kind.as_str()][section]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if e["kind"].as_str().unwrap_or("request") == "request" {
                        all.push(e["content"].clone());
                    }
                }
            }
            (kind, all)
        })
        .collect()
}

/// Whether a plug-in with `content` may be bound to an API with `method`.
fn bindable(kind: PluginType, content: &Value, method: &str) -> bool {
    match kind {
        PluginType::ProxyCache => matches!(method, "GET" | "HEAD"),
        PluginType::Cors => content["allow_methods"]
            .as_str()
            .is_none_or(|m| m.split(',').any(|x| x.trim() == method)),
        _ => true,
    }
}

/// One generated folder: files (relative path → text) and the variables its secrets need.
struct Generated {
    files: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    plugins: usize,
    bindings: usize,
}

fn generate(seed: u64) -> Generated {
    let mut rng = StdRng::seed_from_u64(seed);
    let contents = contents();
    let published = published();
    let mut env = BTreeMap::new();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut used: BTreeSet<(PluginType, &str, &str)> = BTreeSet::new();
    let count = rng.random_range(1..=9);
    let mut bindings = 0;
    for i in 0..count {
        let kind = *PluginType::ALL.choose(&mut rng).expect("types");
        let mut content = contents[&kind].choose(&mut rng).expect("content").clone();
        for pointer in secret_pointers(kind) {
            if let Some(v) = content.pointer_mut(pointer)
                && v.as_str().is_some_and(|s| !s.is_empty())
            {
                let var = format!("E2E_SECRET_{seed}_{i}_{}", pointer.replace('/', "_"));
                env.insert(
                    var.clone(),
                    format!("s3cret-{seed}-{i}-{}", rng.random::<u32>()),
                );
                *v = Value::String(format!("${{{var}}}"));
            }
        }
        let name = format!("plugin{i}");
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
                    bindable(kind, &content, method) && !used.contains(&(kind, *env_name, *api))
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
        plugins: count,
        bindings,
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
        let live = w.plugins().await;
        assert_eq!(live.len(), generated.plugins, "case {seed}");
        eprintln!(
            "case {seed}: {} plug-in(s), {} binding(s): converged",
            generated.plugins, generated.bindings
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
        assert_eq!(w.plugins().await.len(), second.plugins, "case {seed}");
    }
}
