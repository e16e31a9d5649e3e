//! What the commands that talk to a gateway share: loading the folder,
//! connecting (a real gateway or the embedded emulator), fetching live state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use tracing::Instrument;

use super::target::{ResolvedTarget, TargetArgs, resolve};
use crate::api::{
    Client, ClientOptions, CredentialSource, Credentials, Override, Part, Secret, Target,
};
use crate::emulator::{self, EmulatorConfig, EmulatorHandle};
use crate::manifest::{self, PROJECT_FILE, TargetDesired};
use crate::model::{Desired, Live, ProjectFile};
use crate::pipeline::{self, Settings};
use crate::plan::{self, Plan};

/// Credential flags (the secret half only ever from a file or the environment).
#[derive(Debug, Clone, Default, Args)]
#[command(
    next_help_heading = "Credentials (default: HW_ACCESS_KEY/HW_SECRET_KEY or HW_AUTH_TOKEN; each may be a file named by its _FILE variable, e.g. HW_SECRET_KEY_FILE, re-read when it changes)"
)]
pub struct CredentialArgs {
    /// Access key id (instead of HW_ACCESS_KEY).
    #[arg(long, value_name = "AK")]
    pub access_key: Option<String>,
    /// File holding the secret access key (instead of HW_SECRET_KEY); re-read when it changes.
    #[arg(long, value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,
}

/// Where and as whom to connect: the target and credential flags of every
/// command that talks to a gateway.
#[derive(Debug, Clone, Default, Args)]
pub struct GatewayArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// How long one call keeps being retried while the gateway throttles (429, APIG.9008) or reports conflicting writes (APIG.3500), e.g. 90s, 10m.
    #[arg(long, value_name = "DURATION", value_parser = super::duration::parse_duration, default_value = "10m")]
    pub retry_budget: std::time::Duration,
    /// Never send more than this many requests per window, e.g. 3/s, 200/5m (the account's API quota, shared with other tools): requests are spaced evenly. Under `watch`, when a full read does not fit one --interval, each interval reads the lists and the bindings of as many plug-ins (or APIs) as fit, least recently read first (a rolling scan: each is re-read within ceil(count ÷ slice) intervals, new ones at once), and re-reads whatever it would change just before changing it; apigsync_oldest_read_seconds is the age of the oldest part of the view.
    #[arg(long, value_name = "REQUESTS/WINDOW")]
    pub max_request_rate: Option<crate::api::RequestRate>,
}

impl GatewayArgs {
    /// Connects to the gateway of `target`: as overridden by these flags when it is the
    /// only target worked on, else with [`TargetArgs::for_one_of_several`].
    pub async fn connect_to(
        &self,
        project: &ProjectFile,
        several: bool,
        dir: &Path,
    ) -> anyhow::Result<Connection> {
        if !several {
            return self.connect(project, Some(dir)).await;
        }
        let flags = self.target.for_one_of_several(&project.target)?;
        connect(
            project,
            &flags,
            &self.credentials,
            self.client_options(),
            Some(dir),
        )
        .await
    }

    /// Connects to the target of `project`, as overridden by these flags.
    pub async fn connect(
        &self,
        project: &ProjectFile,
        dir: Option<&Path>,
    ) -> anyhow::Result<Connection> {
        connect(
            project,
            &self.target,
            &self.credentials,
            self.client_options(),
            dir,
        )
        .await
    }

    fn client_options(&self) -> ClientOptions {
        ClientOptions {
            retry_budget: self.retry_budget,
            max_rate: self.max_request_rate,
            ..ClientOptions::default()
        }
    }
}

/// `--target NAME`: which targets of apigsync.yaml's `targets:` to work on.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetSelectArgs {
    /// Work on this target of apigsync.yaml's targets: only; repeatable [default: every target].
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
}

impl TargetSelectArgs {
    /// Whether the target `name` is worked on (every one when `--target` names none).
    pub fn keeps(&self, name: Option<&str>) -> bool {
        self.targets.is_empty() || name.is_some_and(|n| self.targets.iter().any(|s| s == n))
    }

    /// The items of `all` (one per target, named by `name_of`) that `--target` keeps,
    /// refusing `--target` for a folder with one target and names it does not declare.
    fn pick<T>(
        &self,
        all: Vec<T>,
        name_of: impl Fn(&T) -> Option<&str>,
        dir: &Path,
    ) -> anyhow::Result<Vec<T>> {
        let names: Vec<&str> = all.iter().filter_map(&name_of).collect();
        if !self.targets.is_empty() && names.is_empty() {
            bail!(
                "--target picks among the targets: of {PROJECT_FILE}, but {} names one target",
                dir.join(PROJECT_FILE).display()
            );
        }
        if let Some(unknown) = self.targets.iter().find(|n| !names.contains(&n.as_str())) {
            bail!(
                "--target {unknown}: {} declares no such target (it declares {})",
                dir.join(PROJECT_FILE).display(),
                names.join(", ")
            );
        }
        Ok(all.into_iter().filter(|t| self.keeps(name_of(t))).collect())
    }
}

/// Flags that decide what the differ may do; each overrides `options` of apigsync.yaml.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Reconcile options (override apigsync.yaml)")]
pub struct ReconcileArgs {
    /// Delete managed plug-ins that are absent from the files.
    #[arg(long)]
    pub prune: bool,
    /// Take over live plug-ins with a desired name that apigsync does not manage yet.
    #[arg(long)]
    pub adopt: bool,
    /// Let --prune delete every managed plug-in when the files declare none.
    #[arg(long)]
    pub allow_empty: bool,
    /// Most API calls in flight at once [default: options.parallelism, or 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: Option<u16>,
}

/// The process environment as the pure core takes it.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars().collect()
}

/// Loads and validates the manifest folder once per target (`targets:` of apigsync.yaml,
/// else its one target), keeping the targets `select` names, in file order. Warnings are
/// printed once.
pub fn load_targets(
    dir: &Path,
    env: &BTreeMap<String, String>,
    select: &TargetSelectArgs,
) -> anyhow::Result<Vec<TargetDesired>> {
    check_dir(dir)?;
    let targets = manifest::load_targets(dir, env)
        .with_context(|| format!("invalid manifests in {}", dir.display()))?;
    print_warnings(&targets);
    select.pick(targets, |t| t.target.name.as_deref(), dir)
}

/// The span of a named target's work (its log lines read `target{target=NAME}: …`); none
/// for the single `target:`.
pub fn target_span(name: Option<&str>) -> tracing::Span {
    match name {
        Some(name) => tracing::info_span!("target", target = %name),
        None => tracing::Span::none(),
    }
}

/// One target read: its desired state, and its connection with the live state (or why
/// the gateway could not be reached or read).
pub struct TargetRead {
    /// The target and what the folder says it should hold.
    pub target: TargetDesired,
    /// The connection and the live state, or the error of either.
    pub read: anyhow::Result<(Connection, Live)>,
}

/// Loads the folder, then reads the gateway of every selected target, the targets at the
/// same time. A folder that does not load is the error, and no gateway is called then
/// (guarded by `cli_behaviour::plan_with_an_unset_variable_names_the_file_and_line`); a
/// target that cannot be reached or read is its own [`TargetRead::read`] error.
pub async fn load_and_read(
    dir: &Path,
    env: &BTreeMap<String, String>,
    select: &TargetSelectArgs,
    gateway: &GatewayArgs,
    reconcile: &ReconcileArgs,
) -> anyhow::Result<Vec<TargetRead>> {
    let targets = load_targets(dir, env, select)?;
    let several = targets.len() > 1;
    let mut pending = Vec::new();
    for target in targets {
        let project = target.desired.project.clone().unwrap_or_default();
        let parallelism = parallelism(reconcile, &project.options);
        let read = match gateway
            .connect_to(&project, several, dir)
            .instrument(target_span(target.target.name.as_deref()))
            .await
        {
            Ok(conn) => {
                let client = conn.client.clone();
                let fetch = tokio::spawn(async move { read_live(&client, parallelism).await });
                Ok((conn, fetch))
            }
            Err(e) => Err(e),
        };
        pending.push((target, read));
    }
    let mut reads = Vec::new();
    for (target, read) in pending {
        let read = match read {
            Ok((conn, fetch)) => match fetch.await {
                Ok(Ok(live)) => Ok((conn, live)),
                Ok(Err(e)) => {
                    conn.close().await;
                    Err(e)
                }
                Err(e) => {
                    conn.close().await;
                    Err(anyhow::Error::new(e).context("reading the gateway stopped"))
                }
            },
            Err(e) => Err(e),
        };
        reads.push(TargetRead { target, read });
    }
    Ok(reads)
}

/// Closes the connections of `reads`.
pub async fn close_reads(reads: Vec<TargetRead>) {
    for r in reads {
        if let Ok((conn, _)) = r.read {
            conn.close().await;
        }
    }
}

/// The targets of `project` that `select` names (every one when it names none), in file order.
pub fn select_targets(
    project: &ProjectFile,
    select: &TargetSelectArgs,
    dir: &Path,
) -> anyhow::Result<Vec<crate::model::NamedTarget>> {
    select.pick(project.named_targets(), |t| t.name.as_deref(), dir)
}

/// An error naming `dir` unless it is a folder.
fn check_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!(
            "manifest folder {} does not exist or is not a folder",
            dir.display()
        );
    }
    Ok(())
}

/// Prints the warnings of every target's load to stderr, each once; returns how many.
pub fn print_warnings(targets: &[TargetDesired]) -> usize {
    let mut warnings: Vec<&crate::model::Warning> =
        targets.iter().flat_map(|t| &t.desired.warnings).collect();
    warnings.sort();
    warnings.dedup();
    for warning in &warnings {
        super::output::message(super::output::Level::Warn, &warning.to_string());
    }
    warnings.len()
}

/// Reads only the project file of `dir`, if it has one (with the loader's limits).
pub fn load_project(dir: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<ProjectFile> {
    Ok(manifest::load_project(dir, env)?.unwrap_or_default())
}

/// A client, and the embedded emulator it talks to when the target is the emulator.
pub struct Connection {
    /// The client for the target instance.
    pub client: Client,
    /// Kept alive for the duration of the command.
    pub emulator: Option<EmulatorHandle>,
}

impl Connection {
    /// Stops the embedded emulator, if any, so its state file is final.
    pub async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// The credentials of a target: with `target.credentials_prefix: P`, from `P_HW_ACCESS_KEY`,
/// `P_HW_SECRET_KEY` (`P_HW_SECURITY_TOKEN`) or `P_HW_AUTH_TOKEN` alone; otherwise from the
/// flags and the `HW_*` variables. Each variable `V` may instead be `V_FILE`, naming a file
/// the client re-reads when it changes (and `--secret-key-file` is re-read the same way).
fn credentials(args: &CredentialArgs, prefix: Option<&str>) -> anyhow::Result<CredentialSource> {
    let lookup = |name: &str| std::env::var(name).ok();
    if let Some(prefix) = prefix {
        return CredentialSource::from_env(&lookup, Some(prefix), &[]).with_context(|| {
            format!(
                "this target reads its credentials from {prefix}_HW_ACCESS_KEY and \
                 {prefix}_HW_SECRET_KEY, or {prefix}_HW_AUTH_TOKEN, each or its _FILE variant \
                 (target.credentials_prefix)"
            )
        });
    }
    let mut flags = Vec::new();
    if let Some(ak) = &args.access_key {
        flags.push((Part::AccessKey, "--access-key", Override::Value(ak.clone())));
    }
    if let Some(path) = &args.secret_key_file {
        flags.push((
            Part::SecretKey,
            "--secret-key-file",
            Override::File(path.clone()),
        ));
    }
    Ok(CredentialSource::from_env(&lookup, None, &flags)?)
}

/// Connects to the target of `project`, as overridden by the flags.
async fn connect(
    project: &ProjectFile,
    target_args: &TargetArgs,
    credential_args: &CredentialArgs,
    options: ClientOptions,
    dir: Option<&Path>,
) -> anyhow::Result<Connection> {
    let resolved = resolve(&project.target, target_args, dir).map_err(|e| match dir {
        Some(d) if !d.join(PROJECT_FILE).exists() => anyhow::Error::new(e).context(format!(
            "{} has no {PROJECT_FILE}: the project file names the target gateway \
             (see examples/manifests/{PROJECT_FILE}), or give the target as flags",
            d.display()
        )),
        _ => e.into(),
    })?;
    match resolved {
        ResolvedTarget::Remote {
            flavour,
            endpoint,
            project_id,
            instance_id,
        } => {
            let target = Target::new(flavour, &endpoint, project_id, instance_id)?;
            let prefix = project.target.credentials_prefix.as_deref();
            let client = Client::new(target, credentials(credential_args, prefix)?, options)?;
            Ok(Connection {
                client,
                emulator: None,
            })
        }
        ResolvedTarget::Emulator {
            flavour,
            instance_id,
            state,
        } => {
            let config = EmulatorConfig {
                state_file: state,
                ..EmulatorConfig::demo()
            };
            let handle = emulator::spawn(config)
                .await
                .context("cannot start the embedded emulator")?;
            let instance_id = match instance_id {
                Some(id) => id,
                None => handle
                    .instance(flavour.as_str())
                    .with_context(|| format!("the demo seed has no {flavour} instance"))?
                    .to_string(),
            };
            let target = Target::new(
                flavour,
                &handle.base_url(),
                handle.project_id(),
                instance_id,
            )?;
            let credential = emulator::Credential::demo();
            let credentials = Credentials::AkSk {
                access_key: credential.access_key,
                secret_key: Secret::new(credential.secret_key),
                security_token: None,
            };
            tracing::info!(url = %handle.base_url(), "embedded emulator started");
            Ok(Connection {
                client: Client::new(target, credentials, options)?,
                emulator: Some(handle),
            })
        }
    }
}

/// Which part of the plan to make: `--select` and `--no-delete` of plan and apply.
#[derive(Debug, Clone, clap::Args)]
pub struct SelectArgs {
    /// Plan only the plug-ins whose name matches this glob (`*`, `?`, `[...]`), with
    /// their bindings; repeatable. An operation that needs one left out is left out too.
    #[arg(long, value_name = "NAME_GLOB", value_parser = parse_glob)]
    pub select: Vec<glob::Pattern>,
    /// Create, update and attach, but detach and delete nothing (nor what depends on it).
    #[arg(long)]
    pub no_delete: bool,
}

fn parse_glob(s: &str) -> Result<glob::Pattern, String> {
    glob::Pattern::new(s).map_err(|e| format!("invalid glob {s:?}: {e}"))
}

impl SelectArgs {
    /// The restriction these flags ask for.
    pub fn restriction(&self) -> plan::Restriction {
        plan::Restriction {
            select: self.select.clone(),
            no_delete: self.no_delete,
            no_drift: false,
        }
    }
}

/// Fetches the live state of the connected instance.
pub async fn live(conn: &Connection, parallelism: usize) -> anyhow::Result<Live> {
    read_live(&conn.client, parallelism).await
}

/// Fetches the live state of `client`'s instance, `parallelism` calls at once.
async fn read_live(client: &Client, parallelism: usize) -> anyhow::Result<Live> {
    Ok(pipeline::read(client, parallelism).await?)
}

impl ReconcileArgs {
    /// The flags that change the project file's options.
    pub fn flags(&self) -> crate::model::OptionFlags {
        crate::model::OptionFlags {
            prune: self.prune,
            adopt: self.adopt,
            allow_empty: self.allow_empty,
            parallelism: self.parallelism.map(usize::from),
        }
    }
}

/// The effective parallelism: flag, else the project's option.
pub fn parallelism(args: &ReconcileArgs, desired_options: &crate::model::Options) -> usize {
    desired_options.with_flags(&args.flags()).parallelism
}

/// Diffs `desired` against `live` with the options of the project file and flags;
/// `name` is the target's name under `targets:`, recorded in the plan.
pub fn diff(
    desired: &Desired,
    live: &Live,
    args: &ReconcileArgs,
    select: &SelectArgs,
    target: &Target,
    name: Option<&str>,
) -> anyhow::Result<Plan> {
    let settings = Settings::new(desired, &args.flags(), target, name, &process_env());
    Ok(pipeline::plan(
        desired,
        live,
        &settings,
        &select.restriction(),
    )?)
}
