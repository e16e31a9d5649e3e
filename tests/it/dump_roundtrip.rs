//! `dump` end to end through the binary against the in-process emulator: dump a gateway,
//! then `plan` on the dump reports no changes, for a gateway apigsync manages and for one
//! whose plug-ins were created directly through the API ("seeded", no ownership marker).

use std::collections::BTreeMap;
use std::path::Path;

use apigsync::api::{Client, ClientOptions, Credentials, PluginBody, Secret, Target, fetch_live};
use apigsync::emulator::{self, Credential, EmulatorConfig, EmulatorHandle};
use apigsync::model::{ApiRef, Flavour};
use assert_cmd::Command;
use serde_json::Value;

const KAFKA_PASSWORD: &str = "kafka-s3cret";

struct Gateway {
    handle: EmulatorHandle,
    instance: String,
}

impl Gateway {
    async fn start() -> Self {
        let handle = emulator::spawn(EmulatorConfig::demo())
            .await
            .expect("emulator");
        let instance = handle.instance("apig").expect("apig").to_owned();
        Self { handle, instance }
    }

    /// The binary with the target flags and the demo credentials, and nothing from the
    /// caller's environment that could change the target.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("apigsync").expect("binary");
        for var in [
            "HW_REGION_NAME",
            "HW_PROJECT_ID",
            "HW_AUTH_TOKEN",
            "HW_SECURITY_TOKEN",
            "KAFKA_SASL_PASSWORD",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        let demo = Credential::demo();
        cmd.env("HW_ACCESS_KEY", demo.access_key)
            .env("HW_SECRET_KEY", demo.secret_key)
            .env("NO_COLOR", "1")
            .args(args)
            .args([
                "--endpoint",
                &self.handle.base_url(),
                "--project-id",
                &self.handle.project_id(),
                "--instance-id",
                &self.instance,
                "--flavour",
                "apig",
            ]);
        cmd
    }

    fn client(&self) -> Client {
        let demo = Credential::demo();
        let target = Target::new(
            Flavour::Apig,
            &self.handle.base_url(),
            self.handle.project_id(),
            self.instance.clone(),
        )
        .expect("target");
        let credentials = Credentials::AkSk {
            access_key: demo.access_key,
            secret_key: Secret::new(demo.secret_key),
            security_token: None,
        };
        Client::new(target, credentials, ClientOptions::default()).expect("client")
    }

    /// Creates the example plug-ins (those `keep` accepts) directly through the API, as
    /// a console user would: no ownership marker. Binds them as the examples do.
    async fn seed(&self, keep: impl Fn(&str) -> bool) {
        let env = BTreeMap::from([("KAFKA_SASL_PASSWORD".to_owned(), KAFKA_PASSWORD.to_owned())]);
        let desired =
            apigsync::manifest::load_dir(Path::new("examples/manifests"), &env).expect("examples");
        let client = self.client();
        let live = fetch_live(&client, 4).await.expect("live");
        for p in desired.plugins.iter().filter(|p| keep(&p.name)) {
            let created = client
                .create_plugin(&PluginBody {
                    plugin_name: p.name.clone(),
                    plugin_type: p.plugin_type,
                    plugin_scope: p.scope,
                    plugin_content: p.content.clone(),
                    remark: p.remark.clone(),
                    roma_app_id: p.roma_app_id.clone(),
                })
                .await
                .expect("create");
            for b in desired.bindings.iter().filter(|b| b.plugin == p.name) {
                let env_id = &live.envs.iter().find(|e| e.name == b.env).expect("env").id;
                let ids: Vec<String> = b
                    .apis
                    .iter()
                    .map(|a| match a {
                        ApiRef::Name(n) => live
                            .apis
                            .iter()
                            .find(|x| &x.name == n)
                            .expect("api")
                            .id
                            .clone(),
                        ApiRef::GroupName { group, name } => live
                            .apis
                            .iter()
                            .find(|x| &x.name == name && &x.group_name == group)
                            .expect("api")
                            .id
                            .clone(),
                        ApiRef::Id { id } => id.clone(),
                    })
                    .collect();
                client
                    .attach_apis(&created.id, env_id, &ids)
                    .await
                    .expect("attach");
            }
        }
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// `plan --output json` on `dir` with `vars` set: the ids of the planned operations.
fn planned(gw: &Gateway, dir: &Path, vars: &[(&str, &str)]) -> (Vec<String>, String) {
    let mut cmd = gw.cmd(&["plan", dir.to_str().expect("utf-8"), "--output", "json"]);
    cmd.envs(vars.iter().copied());
    let json: Value = serde_json::from_str(&run_ok(&mut cmd)).expect("plan json");
    let ids = json["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect();
    let mut text = gw.cmd(&["plan", dir.to_str().expect("utf-8")]);
    text.envs(vars.iter().copied());
    (ids, run_ok(&mut text))
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_gateway_dumps_to_a_folder_that_plans_no_changes() {
    let gw = Gateway::start().await;
    run_ok(
        gw.cmd(&["apply", "examples/manifests", "--auto-approve"])
            .env("KAFKA_SASL_PASSWORD", KAFKA_PASSWORD),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("dump");
    let summary = run_ok(&mut gw.cmd(&["dump", "--out", out_dir.to_str().unwrap()]));
    assert!(summary.contains("Dumped 7 plug-ins"), "{summary}");
    assert!(
        summary.contains("APIGSYNC_SHOP_ACCESS_LOG_SASL_PASSWORD"),
        "{summary}"
    );
    assert!(!summary.contains("not managed"), "{summary}");
    let project = std::fs::read_to_string(out_dir.join("apigsync.yaml")).unwrap();
    assert!(!project.contains("adopt"), "{project}");
    assert!(
        !std::fs::read_to_string(out_dir.join("plugins/shop_access_log.yaml"))
            .unwrap()
            .contains(KAFKA_PASSWORD)
    );

    let (ids, text) = planned(
        &gw,
        &out_dir,
        &[("APIGSYNC_SHOP_ACCESS_LOG_SASL_PASSWORD", KAFKA_PASSWORD)],
    );
    assert!(ids.is_empty(), "{ids:?}\n{text}");
    assert!(text.contains("No changes."), "{text}");

    // The wrong secret is a change, shown without its value.
    let (ids, text) = planned(
        &gw,
        &out_dir,
        &[("APIGSYNC_SHOP_ACCESS_LOG_SASL_PASSWORD", "wrong")],
    );
    assert_eq!(ids, ["update/shop_access_log"], "{text}");
    assert!(!text.contains("wrong"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_gateway_without_secrets_dumps_to_no_changes() {
    let gw = Gateway::start().await;
    gw.seed(|name| name != "shop_access_log").await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("dump");
    let summary = run_ok(&mut gw.cmd(&["dump", "--out", out_dir.to_str().unwrap()]));
    assert!(summary.contains("Dumped 6 plug-ins"), "{summary}");
    assert!(summary.contains("6 of them are not managed"), "{summary}");
    assert!(!summary.contains("Set these"), "{summary}");
    let project = std::fs::read_to_string(out_dir.join("apigsync.yaml")).unwrap();
    assert!(project.contains("adopt: true"), "{project}");

    let (ids, text) = planned(&gw, &out_dir, &[]);
    assert!(ids.is_empty(), "{ids:?}\n{text}");
    assert!(text.contains("No changes."), "{text}");
    assert!(text.contains("adopted as is"), "{text}");

    // --managed-only finds nothing to dump on a seeded gateway.
    let only = tmp.path().join("managed");
    let summary = run_ok(&mut gw.cmd(&["dump", "--managed-only", "--out", only.to_str().unwrap()]));
    assert!(summary.contains("Dumped 0 plug-ins"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_gateway_with_a_secret_plans_only_that_plugins_update() {
    let gw = Gateway::start().await;
    gw.seed(|_| true).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("dump");
    let summary = run_ok(&mut gw.cmd(&["dump", "--out", out_dir.to_str().unwrap()]));
    assert!(summary.contains("Dumped 7 plug-ins"), "{summary}");
    assert!(
        summary.contains("Adopting \"shop_access_log\" still needs one update"),
        "{summary}"
    );
    let vars = [("APIGSYNC_SHOP_ACCESS_LOG_SASL_PASSWORD", KAFKA_PASSWORD)];
    let (ids, text) = planned(&gw, &out_dir, &vars);
    assert_eq!(ids, ["update/shop_access_log"], "{text}");
    assert!(!text.contains(KAFKA_PASSWORD), "{text}");

    // Applying it writes the marker; then the dump's folder plans no changes.
    let mut apply = gw.cmd(&["apply", out_dir.to_str().unwrap(), "--auto-approve"]);
    apply.envs(vars);
    run_ok(&mut apply);
    let (ids, text) = planned(&gw, &out_dir, &vars);
    assert!(ids.is_empty(), "{ids:?}\n{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dump_refuses_a_non_empty_folder_unless_forced() {
    let gw = Gateway::start().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("keep.txt"), "x").unwrap();
    let dir = tmp.path().to_str().unwrap();
    let out = gw.cmd(&["dump", "--out", dir]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not empty") && err.contains("--force"),
        "{err}"
    );
    run_ok(&mut gw.cmd(&["dump", "--out", dir, "--force"]));
    assert!(tmp.path().join("apigsync.yaml").is_file());
    assert!(tmp.path().join("keep.txt").is_file());
}
