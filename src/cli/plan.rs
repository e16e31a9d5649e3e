//! `apigsync plan [DIR]`: the difference between the folder and the live gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;

use super::output;
use super::session::{self, GatewayArgs, ReconcileArgs, SelectArgs};
use crate::model::Live;
use crate::plan::{Plan, render};

/// How to render a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    /// For a terminal: a summary and the changed fields, old → new.
    Text,
    /// The plan value itself (a versioned JSON format; see docs/plan-format.md).
    Json,
    /// For a pull-request comment: summary, table, collapsible field changes.
    Markdown,
}

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Only reads the gateway (GET calls). Secrets are never shown: a changed secret \
appears as \"(sensitive value changed)\".

Exit code: 0 no changes (or changes, without --detailed-exitcode), 2 changes \
with --detailed-exitcode, 1 error (usage errors included). Anything else is not \
a result: treat it as a failure.

Examples:
  apigsync plan examples/manifests
  apigsync plan manifests/ --output markdown > plan.md
  apigsync plan manifests/ --out plan.json && apigsync apply manifests/ --plan plan.json")]
pub struct Args {
    /// The manifest folder; its apigsync.yaml names the target.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,
    /// Also save the plan (JSON) to FILE, for `apply --plan FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0 when none).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub reconcile: ReconcileArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Renders `plan` as asked; `live`, the state it was made from, gives the markdown the old
/// values of deleted and replaced plug-ins.
pub fn render_plan(plan: &Plan, output: PlanOutput, color: bool, live: Option<&Live>) -> String {
    match output {
        PlanOutput::Text => render::text(plan, color),
        PlanOutput::Json => render::json(plan),
        PlanOutput::Markdown => render::markdown(plan, live),
    }
}

/// Runs `plan`.
pub async fn run(args: &Args, color: bool) -> anyhow::Result<ExitCode> {
    let env = session::process_env();
    let desired = session::load(&args.dir, &env)?;
    let project = desired.project.clone().unwrap_or_default();
    let conn = args.gateway.connect(&project, Some(&args.dir)).await?;
    let parallelism = session::parallelism(&args.reconcile, &project.options);
    let live = session::live(&conn, parallelism).await;
    let calls = conn.client.stats().total_calls();
    let target = conn.client.target().clone();
    conn.close().await;
    let live = live?;
    let plan = session::diff(&desired, &live, &args.reconcile, &args.select, &target)?;
    tracing::info!(
        api_calls = calls,
        operations = plan.operations.len(),
        "plan made"
    );
    if let Some(path) = &args.out {
        std::fs::write(path, render::json(&plan))
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        output::message(
            output::Level::Info,
            &format!("Saved the plan to {}.", path.display()),
        );
    }
    output::stdout(&render_plan(&plan, args.output, color, Some(&live)))?;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        ExitCode::from(super::EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}
