//! `apigsync apply [DIR | --plan FILE]`: make the gateway equal to the folder.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::output;
use super::plan::{PlanOutput, render_plan};
use super::session::{self, GatewayArgs, ReconcileArgs, SelectArgs};
use crate::apply::{self, ApplyOptions, OperationReport, Report, StepOutcome};
use crate::plan::{self, Plan};

/// How to print the outcome of an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyOutput {
    /// The plan, progress, then failures and a summary line.
    Text,
    /// One JSON object: the plan and the outcome of every operation.
    Json,
}

/// Arguments of `apply`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Executes creates and updates, then detaches, then attaches, then deletes; \
independent operations run in parallel. Each operation is attempted once and \
reported as done, failed or not attempted; running apply again converges.

With --plan FILE, the saved plan is applied exactly, and refused when any \
object it read has changed on the gateway since.

Exit code: 0 every operation done (or nothing to do), 1 otherwise.

Examples:
  apigsync apply examples/manifests --auto-approve
  apigsync apply manifests/ --plan plan.json --auto-approve")]
pub struct Args {
    /// The manifest folder; its apigsync.yaml names the target.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Apply this saved plan (from `plan --out FILE`) instead of planning now.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["select", "no_delete"])]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = ApplyOutput::Text)]
    pub output: ApplyOutput,
    #[command(flatten)]
    pub reconcile: ReconcileArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

fn read_plan(path: &PathBuf) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    plan::parse_plan(&text).with_context(|| format!("{} is not a usable plan", path.display()))
}

fn confirm(plan: &Plan) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to apply without confirmation: stdin is not a terminal; pass --auto-approve"
        );
    }
    eprint!(
        "Apply {} operation(s) to instance {}? Only 'yes' will be accepted: ",
        plan.operations.len(),
        plan.target.instance_id.as_deref().unwrap_or("?")
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// Progress output: a bar on a terminal (text logs), one stderr message per operation
/// otherwise (a JSON object with `--log-format json`).
fn progress(total: usize, bar: bool) -> impl Fn(&OperationReport) + Send + Sync + 'static {
    let bar = bar.then(|| {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    move |op: &OperationReport| {
        let status = match &op.outcome {
            StepOutcome::Done => "done",
            StepOutcome::Failed { .. } => "failed",
            StepOutcome::NotAttempted { .. } => "not attempted",
        };
        match &bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{status}: {}", op.description));
                if bar.position() == bar.length().unwrap_or(0) {
                    bar.finish_and_clear();
                }
            }
            None => output::message_with(
                output::Level::Info,
                &format!("{status}: {}", op.description),
                &[("status", status), ("operation", &op.description)],
            ),
        }
    }
}

/// Runs `apply`.
pub async fn run(args: &Args, color: bool) -> anyhow::Result<ExitCode> {
    let env = session::process_env();
    let json = args.output == ApplyOutput::Json;
    let (plan, desired, project) = match &args.plan {
        None => {
            let desired = session::load(&args.dir, &env)?;
            let project = desired.project.clone().unwrap_or_default();
            (None, Some(desired), project)
        }
        Some(path) => {
            let plan = read_plan(path)?;
            let desired = crate::manifest::load_dir(&args.dir, &env).ok();
            (Some(plan), desired, session::load_project(&args.dir, &env)?)
        }
    };
    let conn = args.gateway.connect(&project, Some(&args.dir)).await?;
    let result = apply_on(&conn, args, plan, desired.as_ref(), &project, &env, color).await;
    let calls = conn.client.stats().total_calls();
    conn.close().await;
    tracing::info!(api_calls = calls, "apply finished");
    let (plan, report) = result?;
    if json {
        let out = serde_json::json!({ "plan": plan, "report": report });
        output::stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else if !plan.is_empty() {
        output::stdout(&report.text())?;
    }
    Ok(if report.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_ERROR)
    })
}

async fn apply_on(
    conn: &session::Connection,
    args: &Args,
    saved: Option<Plan>,
    desired: Option<&crate::model::Desired>,
    project: &crate::model::ProjectFile,
    env: &std::collections::BTreeMap<String, String>,
    color: bool,
) -> anyhow::Result<(Plan, Report)> {
    let json = args.output == ApplyOutput::Json;
    let parallelism = session::parallelism(&args.reconcile, &project.options);
    let live = session::live(conn, parallelism).await?;
    let plan = match saved {
        Some(plan) => {
            check_saved(&plan, conn, &live)?;
            plan
        }
        None => {
            let desired = desired.context("no manifests loaded")?;
            session::diff(
                desired,
                &live,
                &args.reconcile,
                &args.select,
                conn.client.target(),
            )?
        }
    };
    if !json {
        output::stdout(&render_plan(&plan, PlanOutput::Text, color, None))?;
    }
    if plan.is_empty() {
        return Ok((plan, Report::default()));
    }
    if !args.auto_approve && !confirm(&plan)? {
        bail!("apply cancelled: nothing was changed");
    }
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    let signal_task = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            output::message(
                output::Level::Warn,
                "interrupted: finishing the operations in flight, starting no new ones (Ctrl-C again to stop at once)",
            );
            on_signal.cancel();
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
    let report = apply::execute(
        &plan,
        &conn.client,
        env,
        desired,
        &ApplyOptions { parallelism },
        &shutdown,
        progress(plan.operations.len(), output::stderr_is_text_terminal()),
    )
    .await;
    signal_task.abort();
    Ok((plan, report?))
}

fn check_saved(
    plan: &Plan,
    conn: &session::Connection,
    live: &crate::model::Live,
) -> anyhow::Result<()> {
    let instance = &conn.client.target().instance_id;
    if let Some(planned) = &plan.target.instance_id
        && planned != instance
    {
        bail!("the saved plan was made for instance {planned}, not {instance}");
    }
    let drifts = plan::check_stale(plan, live);
    if drifts.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = drifts.iter().map(|d| format!("  - {d}")).collect();
    bail!(
        "the saved plan is stale: {} object(s) changed on the gateway since it was made:\n{}\nmake a new plan",
        drifts.len(),
        list.join("\n")
    )
}
