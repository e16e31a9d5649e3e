//! The end-to-end harness: an emulator started in the test, a manifest folder in a
//! temporary directory, and the real `apigsync` binary pointed at the emulator with
//! `--endpoint` (which overrides the project file's embedded-emulator target).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use apigsync::api::{Client, ClientOptions, Credentials, Plugin, PluginBody, Secret, Target};
use apigsync::emulator::{self, EmulatorConfig, EmulatorHandle, LogEntry, Stats};
use apigsync::model::Flavour;
use tempfile::TempDir;

/// The demo seed's APIG instance, the one `examples/manifests` targets.
pub const INSTANCE: &str = "3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d";

/// The examples folder of the repository.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/manifests")
}

/// What one run of the binary gave.
#[derive(Debug, Clone)]
pub struct Out {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Copies `from` recursively into `to`, leaving out emulator state files.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".state.json") {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy file");
        }
    }
}

/// An emulator, a manifest folder and the way to run the binary against them.
pub struct World {
    /// The running emulator.
    pub emu: EmulatorHandle,
    /// The temporary folder; the manifests are in `dir()`.
    pub tmp: TempDir,
    /// Extra environment variables for every run.
    pub env: BTreeMap<String, String>,
}

/// The demo emulator with every switch of a real-service behaviour on at once (binding
/// and service quirks, the Kafka log quota, a list lag) and 20% faults seeded by `seed`.
pub fn every_switch_on(seed: u64) -> EmulatorConfig {
    EmulatorConfig {
        fault_rate: 0.2,
        fault_seed: seed,
        binding_quirks: emulator::quirks_binding::BindingQuirks {
            partial_attach: true,
            binding_conflicts: true,
            refuse_create: Vec::new(),
            ..Default::default()
        },
        service: emulator::quirks_service::ServiceQuirks {
            fill_defaults: true,
            vanish_between_reads: Vec::new(),
            kafka_log_quota: Some(apigsync::content::KAFKA_LOG_PER_GATEWAY),
            bind_rules: true,
            list_lag: Some(std::time::Duration::from_millis(20)),
            ..Default::default()
        },
        ..EmulatorConfig::demo()
    }
}

/// The demo emulator with `count` more APIs (`extra_000`…, group shop, published in
/// RELEASE): enough of them make reading bindings per plug-in the cheaper direction.
pub fn demo_with_apis(count: usize) -> EmulatorConfig {
    let mut config = EmulatorConfig::demo();
    config.seed.instances[0]
        .apis
        .extend((0..count).map(|j| emulator::seed::SeedApi {
            name: format!("extra_{j:03}"),
            id: None,
            group: "shop".into(),
            method: "GET".into(),
            path: format!("/extra/{j}"),
            backend_type: "HTTP".into(),
            published: vec!["RELEASE".into()],
        }));
    config
}

/// The variable and value of the examples' one secret (the Kafka log plug-in's SASL
/// password), which comes from the environment.
pub const EXAMPLE_SECRET: (&str, &str) = ("KAFKA_SASL_PASSWORD", "demo-only-password");

impl World {
    /// An emulator with `config` and a copy of the examples.
    pub async fn examples(config: EmulatorConfig) -> World {
        let mut world = World::empty(config).await;
        world
            .env
            .insert(EXAMPLE_SECRET.0.to_owned(), EXAMPLE_SECRET.1.to_owned());
        copy_dir(&examples_dir(), &world.dir());
        world
    }

    /// An emulator with `config` and an empty manifest folder.
    pub async fn empty(config: EmulatorConfig) -> World {
        let emu = emulator::spawn(config).await.expect("emulator starts");
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("manifests")).expect("manifest folder");
        World {
            emu,
            tmp,
            env: BTreeMap::new(),
        }
    }

    /// The demo emulator and a copy of the examples.
    pub async fn demo_examples() -> World {
        World::examples(EmulatorConfig::demo()).await
    }

    /// The manifest folder.
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("manifests")
    }

    /// A path in the temporary folder, outside the manifests.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Writes (or replaces) a manifest file, relative to the manifest folder.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(path, text).expect("write manifest");
    }

    /// Removes a manifest file.
    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.dir().join(rel)).expect("remove manifest");
    }

    /// The flags that point a command at the test's emulator.
    pub fn target_flags(&self) -> Vec<String> {
        vec![
            "--endpoint".into(),
            self.emu.base_url(),
            "--project-id".into(),
            self.emu.project_id(),
            "--instance-id".into(),
            INSTANCE.into(),
            "--flavour".into(),
            "apig".into(),
        ]
    }

    /// Runs `apigsync <command> <manifest folder> <extra...> <target flags>`.
    pub async fn run(&self, command: &str, extra: &[&str]) -> Out {
        let mut args = vec![command.to_string(), self.dir().display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(self.target_flags());
        self.run_raw(args).await
    }

    /// Runs `apigsync validate <manifest folder>` (offline: no target flags).
    pub async fn validate(&self) -> Out {
        self.run_raw(vec!["validate".into(), self.dir().display().to_string()])
            .await
    }

    /// Runs the binary with exactly `args` and the test environment.
    pub async fn run_raw(&self, args: Vec<String>) -> Out {
        let env = self.env.clone();
        let cwd = self.tmp.path().to_path_buf();
        run_binary(args, env, cwd).await
    }

    /// A snapshot of the emulator's request counts.
    pub fn stats(&self) -> Stats {
        self.emu.stats()
    }

    /// The emulator's request log so far.
    pub fn log(&self) -> Vec<LogEntry> {
        self.emu.log()
    }

    /// A client of the demo instance, for changes "behind apigsync's back".
    pub fn client(&self) -> Client {
        self.client_of(Flavour::Apig, INSTANCE)
    }

    /// A client of any instance of the emulator.
    pub fn client_of(&self, flavour: Flavour, instance: &str) -> Client {
        let target = Target::new(
            flavour,
            &self.emu.base_url(),
            self.emu.project_id(),
            instance,
        )
        .expect("target");
        let cred = emulator::Credential::demo();
        let credentials = Credentials::AkSk {
            access_key: cred.access_key,
            secret_key: Secret::new(cred.secret_key),
            security_token: None,
        };
        Client::new(target, credentials, ClientOptions::default()).expect("client")
    }

    /// The live plug-in named `name`.
    pub async fn plugin(&self, name: &str) -> Plugin {
        self.client()
            .find_plugin_by_name(name)
            .await
            .expect("list plug-ins")
            .unwrap_or_else(|| panic!("no plug-in {name:?}"))
    }

    /// Every live plug-in.
    pub async fn plugins(&self) -> Vec<Plugin> {
        self.client().list_plugins().await.expect("list plug-ins")
    }

    /// The live bindings of plug-in `name`, as sorted `(env name, api name)` pairs.
    pub async fn bindings(&self, name: &str) -> Vec<(String, String)> {
        let plugin = self.plugin(name).await;
        let mut pairs: Vec<(String, String)> = self
            .client()
            .list_attached_apis(&plugin.id, None)
            .await
            .expect("list bindings")
            .into_iter()
            .map(|a| (a.env_name, a.api_name))
            .collect();
        pairs.sort();
        pairs
    }

    /// The id of environment `name`.
    pub async fn env_id(&self, name: &str) -> String {
        self.client()
            .list_envs()
            .await
            .expect("list envs")
            .into_iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no env {name}"))
            .id
    }

    /// The id of API `name`.
    pub async fn api_id(&self, name: &str) -> String {
        self.client()
            .list_apis(None)
            .await
            .expect("list apis")
            .into_iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no api {name}"))
            .id
    }

    /// A cors plug-in `console_cors` made behind apigsync's back (no ownership marker),
    /// bound to API `api` in RELEASE.
    pub async fn console_cors(&self, api: &str) -> Plugin {
        let client = self.client();
        let body = PluginBody {
            plugin_name: "console_cors".into(),
            plugin_type: apigsync::model::PluginType::Cors,
            plugin_scope: apigsync::model::Scope::Global,
            plugin_content: serde_json::json!({"allow_origin": "*", "allow_methods": "GET"}),
            remark: None,
            roma_app_id: None,
        };
        let created = client.create_plugin(&body).await.expect("create");
        let release = self.env_id("RELEASE").await;
        client
            .attach_apis(&created.id, &release, &[self.api_id(api).await])
            .await
            .expect("attach");
        created
    }

    /// Replaces the content of live plug-in `name` (keeping its remark, so it stays managed).
    pub async fn change_content(&self, name: &str, change: impl FnOnce(&mut serde_json::Value)) {
        let live = self.plugin(name).await;
        change_live_content(&self.client(), &live, change)
            .await
            .expect("update behind apigsync's back");
    }
}

/// `PUT` of `body` to an admin endpoint of `emu` (switches, tokens, credentials); its
/// JSON answer. Panics unless it answers 200.
pub async fn admin_put(
    emu: &EmulatorHandle,
    path: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    apigsync::api::install_tls_provider();
    let resp = reqwest::Client::new()
        .put(format!("{}{path}", emu.base_url()))
        .json(body)
        .send()
        .await
        .expect("admin call");
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.expect("admin JSON")
}

/// Replaces the content of plug-in `live` through `client`, keeping its remark.
pub async fn change_live_content(
    client: &Client,
    live: &Plugin,
    change: impl FnOnce(&mut serde_json::Value),
) -> Result<(), apigsync::api::ApiError> {
    let mut content = live.content.clone();
    change(&mut content);
    let body = PluginBody {
        plugin_name: live.name.clone(),
        plugin_type: live.plugin_type.parse().expect("known type"),
        plugin_scope: live.scope.parse().expect("known scope"),
        plugin_content: content,
        remark: live.remark.clone(),
        roma_app_id: None,
    };
    client.update_plugin(&live.id, &body).await.map(drop)
}

/// `GET` of an admin endpoint of `emu`, as JSON.
pub async fn admin_get(emu: &EmulatorHandle, path: &str) -> serde_json::Value {
    apigsync::api::install_tls_provider();
    reqwest::get(format!("{}{path}", emu.base_url()))
        .await
        .expect("admin call")
        .json()
        .await
        .expect("admin JSON")
}

/// `POST` of JSON to an admin endpoint of `emu`; panics unless it succeeds.
pub async fn admin_post(emu: &EmulatorHandle, path: &str, body: &serde_json::Value) {
    apigsync::api::install_tls_provider();
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", emu.base_url()))
        .json(body)
        .send()
        .await
        .expect("admin call");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
}

/// Runs the binary off the async runtime, with a clean environment: the demo
/// credentials, NO_COLOR, and `env`; no HW_* or RUST_LOG from the outside.
pub async fn run_binary(args: Vec<String>, env: BTreeMap<String, String>, cwd: PathBuf) -> Out {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigsync"));
        cmd.args(&args).current_dir(cwd);
        for (name, _) in std::env::vars() {
            if name.starts_with("HW_")
                || name.starts_with("APIGSYNC_")
                || name == "RUST_LOG"
                || name == "KAFKA_SASL_PASSWORD"
            {
                cmd.env_remove(name);
            }
        }
        cmd.env("HW_ACCESS_KEY", emulator::DEMO_ACCESS_KEY)
            .env("HW_SECRET_KEY", emulator::DEMO_SECRET_KEY)
            .env("NO_COLOR", "1")
            .envs(&env)
            .stdin(std::process::Stdio::null());
        let out = cmd.output().expect("the binary runs");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("the blocking task finishes")
}

/// Runs the binary with `args` in the temporary folder, with no emulator and only the
/// examples' secret in the environment (offline commands: help, validate, schema, ...).
pub async fn run_offline(args: &[&str]) -> Out {
    let env = [(EXAMPLE_SECRET.0.to_owned(), EXAMPLE_SECRET.1.to_owned())].into();
    run_binary(
        args.iter().map(|s| s.to_string()).collect(),
        env,
        std::env::temp_dir(),
    )
    .await
}

/// Operation names of the write calls in `log`, in order.
pub fn writes(log: &[LogEntry]) -> Vec<&str> {
    log.iter()
        .filter(|e| e.write)
        .map(|e| e.operation.as_str())
        .collect()
}

/// Whether a write call in `log` named `id` in its path.
pub fn wrote_to(log: &[LogEntry], id: &str) -> bool {
    log.iter().any(|e| e.write && e.path.contains(id))
}
