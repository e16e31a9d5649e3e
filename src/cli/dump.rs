//! `apigsync dump [--out DIR]`: the live plug-ins and bindings as a manifest folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::session::{self, GatewayArgs};
use super::target::{ResolvedTarget, TargetArgs, resolve};
use crate::dump::{self, DumpOptions};
use crate::model::{EmulatorTarget, ProjectFile, TargetConfig};

/// Arguments of `dump`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Adopting an existing gateway:
  1. apigsync dump --out gateway/ --region cn-north-4 --project-id ... --instance-id ...
  2. review the files: one plugins/<name>.yaml per plug-in (its bindings follow it),
     apigsync.yaml with the target and options
  3. set the secret variables the dump lists (the gateway never returns secrets, so
     they are written as ${APIGSYNC_...} placeholders), then commit the folder
  4. apigsync plan gateway/ reports \"No changes.\" (plug-ins with secrets that apigsync
     did not create yet show one update: adopting them writes their secret once)

Only reads the gateway (GET calls). Plug-ins apigsync does not manage yet (no ownership \
marker in their remark) are included and options.adopt is set, so plan takes them over; \
--managed-only leaves them out. prune stays off in the written apigsync.yaml.

Examples:
  apigsync dump --out gateway/ --endpoint https://apig.cn-north-4.myhuaweicloud.com \\
      --project-id $HW_PROJECT_ID --instance-id 3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d

  The demo, from the repository root (the apply fills the emulator's state file; the
  example's Kafka secret comes from KAFKA_SASL_PASSWORD: export it first, any value):
  apigsync apply examples/manifests --auto-approve
  apigsync dump --out demo-dump/ --emulator-state examples/manifests/apigsync-demo.state.json")]
pub struct Args {
    /// The folder to write (created; must be empty unless --force).
    // `-o` is `--output` (a format) in plan and apply; here it stays a hidden alias of
    // --out for the scripts that used it.
    #[arg(
        long,
        short_alias = 'o',
        value_name = "DIR",
        default_value = "apigsync-dump"
    )]
    pub out: PathBuf,
    /// Write into a non-empty folder, replacing files of the same name.
    #[arg(long)]
    pub force: bool,
    /// Only plug-ins that carry apigsync's ownership marker.
    #[arg(long)]
    pub managed_only: bool,
    /// Most API calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Runs `dump`.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    check_out_dir(&args.out, args.force)?;
    let project = ProjectFile::default();
    let resolved = resolve(&project.target, &args.gateway.target, None)?;
    let conn = args.gateway.connect(&project, None).await?;
    let live = session::live(&conn, usize::from(args.parallelism)).await;
    let target = conn.client.target().clone();
    conn.close().await;
    let live = live?;
    let opts = DumpOptions {
        target: written_target(&resolved, &args.gateway.target),
        flavour: Some(target.flavour),
        instance_id: target.instance_id.clone(),
        managed_only: args.managed_only,
    };
    let d = dump::dump(&live, &opts);
    write(&args.out, &d)?;
    super::output::stdout(&summary(&d, &args.out))?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses a non-empty folder unless `force`.
fn check_out_dir(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("{} exists and is not a folder", out.display());
    }
    if out.is_dir() && !force {
        let mut entries =
            std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty; choose another --out folder or pass --force to write into it",
                out.display()
            );
        }
    }
    Ok(())
}

/// The target as written to apigsync.yaml: project and region as `${HW_…}` with the given
/// value as default, an explicit endpoint as given.
fn written_target(resolved: &ResolvedTarget, args: &TargetArgs) -> TargetConfig {
    let placeholder = |var: &str, value: &str| format!("${{{var}:-{value}}}");
    match resolved {
        ResolvedTarget::Remote {
            flavour,
            endpoint,
            project_id,
            instance_id,
        } => TargetConfig {
            flavour: Some(*flavour),
            region: args
                .region
                .as_deref()
                .filter(|_| args.endpoint.is_none())
                .map(|r| placeholder("HW_REGION_NAME", r)),
            endpoint: args.endpoint.is_some().then(|| endpoint.clone()),
            project_id: Some(placeholder("HW_PROJECT_ID", project_id)),
            instance_id: Some(instance_id.clone()),
            ..TargetConfig::default()
        },
        ResolvedTarget::Emulator {
            flavour,
            instance_id,
            state,
        } => TargetConfig {
            flavour: Some(*flavour),
            instance_id: instance_id.clone(),
            emulator: Some(EmulatorTarget {
                state: state
                    .as_ref()
                    .map(|s| std::path::absolute(s).unwrap_or_else(|_| s.clone())),
            }),
            ..TargetConfig::default()
        },
    }
}

fn write(out: &Path, d: &dump::Dump) -> anyhow::Result<()> {
    for (rel, text) in &d.files {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// What was written and what to do next.
fn summary(d: &dump::Dump, out: &Path) -> String {
    let mut s = format!(
        "Dumped {} plug-in{} and {} binding{} to {}.\n",
        d.plugins.len(),
        plural(d.plugins.len()),
        d.bindings,
        plural(d.bindings),
        out.display()
    );
    if !d.unmanaged.is_empty() {
        s.push_str(&format!(
            "{} of them {} not managed by apigsync yet (no ownership marker); options.adopt is set so that plan takes them over.\n",
            d.unmanaged.len(),
            if d.unmanaged.len() == 1 { "is" } else { "are" }
        ));
    }
    if !d.secrets.is_empty() {
        s.push_str("\nSet these before plan/apply (secret fields are written as placeholders):\n");
        for v in &d.secrets {
            s.push_str(&format!(
                "  {}  ({} of plug-in {:?})\n",
                v.var,
                v.pointer.trim_start_matches('/'),
                v.plugin
            ));
        }
    }
    if !d.adopted_with_update.is_empty() {
        s.push_str(&format!(
            "\nAdopting {} still needs one update each: the gateway does not return their secrets, so apigsync writes them (and its marker) once.\n",
            d.adopted_with_update
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !d.warnings.is_empty() {
        s.push_str("\nWarnings:\n");
        for w in &d.warnings {
            s.push_str(&format!("  - {w}\n"));
        }
    }
    s.push_str(&format!(
        "\nNext: review the files, commit them, then run `apigsync plan {}`.\n",
        out.display()
    ));
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
