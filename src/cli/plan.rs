//! `apigsync plan [DIR]`: the difference between the folder and the live gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;

use super::output;
use super::session::{self, GatewayArgs, ReconcileArgs, SelectArgs, TargetSelectArgs};
use crate::manifest::TargetDesired;
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

With targets: in apigsync.yaml, every target is planned (or those --target \
names), each under its own heading; --out saves them all in one file, and \
--output markdown makes one comment for all.

Exit code: 0 no changes (or changes, without --detailed-exitcode), 2 changes \
with --detailed-exitcode (in any target), 1 error (usage errors included, or a \
target that could not be planned). Anything else is not a result: treat it as a failure.

Examples:
  apigsync plan examples/manifests
  apigsync plan manifests/ --output markdown > plan.md
  apigsync plan manifests/ --out plan.json && apigsync apply manifests/ --plan plan.json
  apigsync plan manifests/ --target staging")]
pub struct Args {
    /// The manifest folder; its apigsync.yaml names the target (or several, under targets:).
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
    pub targets: TargetSelectArgs,
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

/// Runs `plan`: for each target of the folder (or those `--target` names).
pub async fn run(args: &Args, color: bool) -> anyhow::Result<ExitCode> {
    let env = session::process_env();
    let targets = session::load_targets(&args.dir, &env, &args.targets)?;
    let several = targets.iter().any(|t| t.target.name.is_some());
    if !several {
        let Some(one) = targets.first() else {
            anyhow::bail!("no target to plan");
        };
        let (plan, live) = plan_target(args, one, false).await?;
        save(args, &render::json(&plan))?;
        output::stdout(&render_plan(&plan, args.output, color, Some(&live)))?;
        return Ok(exit_code(args, [&plan], false));
    }
    let mut results = Vec::new();
    for t in &targets {
        let result = plan_target(args, t, targets.len() > 1).await.map_err(|e| {
            let why = format!("{e:#}");
            output::message(
                output::Level::Error,
                &format!("target {}: {why}", t.target.label()),
            );
            why
        });
        results.push((t.target.label(), result));
    }
    let plans: Vec<&Plan> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(|(p, _)| p))
        .collect();
    let failed = plans.len() < results.len();
    let json = render::json_set(&plans);
    if failed && args.out.is_some() {
        output::message(
            output::Level::Error,
            "the plan was not saved: a target could not be planned, and a saved plan must cover every target it names",
        );
    } else {
        save(args, &json)?;
    }
    let sections: Vec<render::TargetSection<'_>> = results
        .iter()
        .map(|(name, r)| render::TargetSection {
            name,
            result: r
                .as_ref()
                .map(|(plan, live)| (plan, Some(live)))
                .map_err(String::as_str),
        })
        .collect();
    let shown = match args.output {
        PlanOutput::Text => render::text_set(&sections, color),
        PlanOutput::Json => json,
        PlanOutput::Markdown => render::markdown_set(&sections),
    };
    output::stdout(&shown)?;
    Ok(exit_code(args, plans, failed))
}

/// Reads one target's gateway and diffs the folder against it.
async fn plan_target(
    args: &Args,
    target: &TargetDesired,
    several: bool,
) -> anyhow::Result<(Plan, Live)> {
    let desired = &target.desired;
    let project = desired.project.clone().unwrap_or_default();
    let conn = args
        .gateway
        .connect_to(&project, several, &args.dir)
        .await?;
    let parallelism = session::parallelism(&args.reconcile, &project.options);
    let live = session::live(&conn, parallelism).await;
    let calls = conn.client.stats().total_calls();
    let api_target = conn.client.target().clone();
    conn.close().await;
    let live = live?;
    let plan = session::diff(
        desired,
        &live,
        &args.reconcile,
        &args.select,
        &api_target,
        target.target.name.as_deref(),
    )?;
    tracing::info!(
        target = target.target.label(),
        api_calls = calls,
        operations = plan.operations.len(),
        "plan made"
    );
    Ok((plan, live))
}

/// Writes the saved plan to `--out`, if asked.
fn save(args: &Args, json: &str) -> anyhow::Result<()> {
    if let Some(path) = &args.out {
        std::fs::write(path, json)
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        output::message(
            output::Level::Info,
            &format!("Saved the plan to {}.", path.display()),
        );
    }
    Ok(())
}

/// 1 when a target could not be planned, else 2 with `--detailed-exitcode` when any
/// target has changes, else 0.
fn exit_code<'a>(args: &Args, plans: impl IntoIterator<Item = &'a Plan>, failed: bool) -> ExitCode {
    if failed {
        return ExitCode::from(super::EXIT_ERROR);
    }
    let changes = plans.into_iter().any(|p| !p.is_empty());
    if args.detailed_exitcode && changes {
        ExitCode::from(super::EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}
