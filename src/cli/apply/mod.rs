//! `apigsync apply [DIR | --plan FILE]`: make the gateway equal to the folder.

mod prepare;

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::bail;
use clap::ValueEnum;
use owo_colors::OwoColorize;
use tokio_util::sync::CancellationToken;

use prepare::{Work, close, prepare};

use super::output;
use super::plan::{PlanOutput, render_plan};
use super::policy::{PolicyArgs, refusal};
use super::progress::Bar;
use super::session::{self, GatewayArgs, ReconcileArgs, SelectArgs, TargetSelectArgs};
use crate::apply::{OperationReport, Report, StepOutcome};
use crate::plan::render;

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
Executes creates and updates, then attaches, then detaches, then deletes, \
then the renames that end replacements (create → attach → detach → delete → \
rename: no API loses a plug-in before its replacement is in place); \
independent operations run in parallel. Each operation is attempted once and \
reported as done, failed or not attempted; running apply again converges.

With --plan FILE, the saved plan is applied exactly, and refused when any \
object it read has changed on the gateway since.

With --policy DIR (as for plan), the policies are evaluated against the plan \
(a saved one too) before anything is written; a denial refuses it, as does a \
denial recorded in a saved plan.

Exit code: 0 every operation done (or nothing to do), 1 otherwise.

Examples:
  apigsync apply examples/manifests --auto-approve
  apigsync apply manifests/ --plan plan.json --auto-approve")]
pub struct Args {
    /// The manifest folder; its apigsync.yaml names the target (or several, under targets:).
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
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub targets: TargetSelectArgs,
    #[command(flatten)]
    pub reconcile: ReconcileArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

fn confirm(work: &[Work]) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to apply without confirmation: stdin is not a terminal; pass --auto-approve"
        );
    }
    let places: Vec<String> = work
        .iter()
        .filter(|w| !w.plan.is_empty())
        .map(|w| {
            let instance = w.plan.target.instance_id.as_deref().unwrap_or("?");
            match &w.target.name {
                Some(name) => format!(
                    "{} to target {name} (instance {instance})",
                    w.plan.operations.len()
                ),
                None => format!(
                    "{} operation(s) to instance {instance}",
                    w.plan.operations.len()
                ),
            }
        })
        .collect();
    eprint!("Apply {}? Only 'yes' will be accepted: ", places.join(", "));
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// Progress output: on a terminal (text logs), a bar counting operations with the elapsed
/// time and an estimate of what is left, logs and messages printed above it, the outcome
/// coloured (unless NO_COLOR); otherwise one stderr message per operation (a JSON object
/// with `--log-format json`), written in batches ([`output::Batch`]) and all of them by the
/// time the last operation is reported.
fn progress(total: usize, bar: bool) -> impl Fn(&OperationReport) + Send + Sync + 'static {
    let bar = bar.then(|| Bar::start(total));
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let lines = output::Batch::new();
    let reported = AtomicUsize::new(0);
    move |op: &OperationReport| {
        let status = match &op.outcome {
            StepOutcome::Done => "done",
            StepOutcome::Failed { .. } => "failed",
            StepOutcome::NotAttempted { .. } => "not attempted",
        };
        match &bar {
            Some(bar) => {
                let shown = if color {
                    match &op.outcome {
                        StepOutcome::Done => status.green().to_string(),
                        StepOutcome::Failed { .. } => status.red().to_string(),
                        StepOutcome::NotAttempted { .. } => status.yellow().to_string(),
                    }
                } else {
                    status.to_owned()
                };
                bar.step(format!("{shown}: {}", op.description));
            }
            None => {
                lines.message_with(
                    output::Level::Info,
                    &format!("{status}: {}", op.description),
                    &[("status", status), ("operation", &op.description)],
                );
                if reported.fetch_add(1, Ordering::Relaxed) + 1 == total {
                    lines.flush();
                }
            }
        }
    }
}

/// Runs `apply`: plans every target first (nothing is applied unless all could be
/// planned), asks once, then applies the targets in order, stopping after one fails.
pub async fn run(args: &Args, color: bool) -> anyhow::Result<ExitCode> {
    let env = session::process_env();
    let json = args.output == ApplyOutput::Json;
    let mut work = prepare(args, &env).await?;
    let checked = work
        .iter_mut()
        .try_for_each(|w| args.policy.check(&mut w.plan));
    if let Err(e) = checked {
        close(work).await;
        return Err(e);
    }
    let several = work.iter().any(|w| w.target.name.is_some());
    if !json {
        let shown = if several {
            let sections: Vec<render::TargetSection<'_>> = work
                .iter()
                .map(|w| render::TargetSection {
                    name: w.target.label(),
                    result: Ok((&w.plan, None)),
                })
                .collect();
            render::text_set(&sections, color)
        } else {
            work.iter()
                .map(|w| render_plan(&w.plan, PlanOutput::Text, color, None))
                .collect()
        };
        output::stdout(&shown)?;
    }
    // A plan a policy denies (now, or when it was saved) is never applied.
    if let Some(refused) = refusal(work.iter().map(|w| &w.plan)) {
        close(work).await;
        bail!("{refused}; nothing was changed");
    }
    let total: usize = work.iter().map(|w| w.plan.operations.len()).sum();
    if total > 0 && !args.auto_approve && !confirm(&work)? {
        close(work).await;
        bail!("apply cancelled: nothing was changed");
    }
    let mut reports = Vec::new();
    let mut stopped_by: Option<String> = None;
    for w in &work {
        if w.plan.is_empty() || stopped_by.is_some() {
            reports.push(None);
            continue;
        }
        let report = execute(w, &env).await;
        if !report.as_ref().is_ok_and(Report::is_success) {
            stopped_by = Some(w.target.label().to_owned());
        }
        reports.push(Some(report));
    }
    let calls: u64 = work
        .iter()
        .map(|w| w.conn.client.stats().total_calls())
        .sum();
    tracing::info!(api_calls = calls, "apply finished");
    let outcome = summarise(&work, reports, several, json, stopped_by.as_deref());
    close(work).await;
    outcome
}

/// Executes one target's plan, Ctrl-C finishing the operations in flight.
async fn execute(w: &Work, env: &BTreeMap<String, String>) -> anyhow::Result<Report> {
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
    let report = crate::pipeline::execute(
        &w.plan,
        &w.conn.client,
        env,
        w.desired.as_ref(),
        w.parallelism,
        &shutdown,
        None,
        progress(w.plan.operations.len(), output::stderr_is_text_terminal()),
    )
    .await;
    signal_task.abort();
    Ok(report?)
}

/// Prints the outcome of every target and decides the exit code: 0 only when every
/// operation of every target was done.
fn summarise(
    work: &[Work],
    reports: Vec<Option<anyhow::Result<Report>>>,
    several: bool,
    json: bool,
    stopped_by: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut success = true;
    let mut entries = Vec::new();
    let mut text = String::new();
    for (w, report) in work.iter().zip(reports) {
        let (report, note) = match report {
            Some(Ok(report)) => (report, None),
            Some(Err(e)) => {
                success = false;
                output::message(
                    output::Level::Error,
                    &format!("target {}: {e:#}", w.target.label()),
                );
                (Report::default(), Some(format!("failed: {e:#}")))
            }
            None if !w.plan.is_empty() => {
                success = false;
                let why = format!(
                    "not applied: target {} failed first",
                    stopped_by.unwrap_or("?")
                );
                (Report::default(), Some(why))
            }
            None => (Report::default(), None),
        };
        success &= report.is_success();
        if several {
            let line = match &note {
                Some(note) => format!("{note}\n"),
                None if w.plan.is_empty() => "No changes.\n".to_owned(),
                None => report.text(),
            };
            if text.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("Target {}: {line}", w.target.label()));
        } else if !w.plan.is_empty() {
            text.push_str(&report.text());
        }
        if json {
            entries.push(serde_json::json!({
                "target": w.target.name,
                "plan": w.plan,
                "report": report,
                "note": note,
            }));
        }
    }
    if json {
        let out = if several {
            serde_json::json!({ "targets": entries })
        } else {
            let mut one = entries.pop().unwrap_or_default();
            serde_json::json!({ "plan": one["plan"].take(), "report": one["report"].take() })
        };
        output::stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else {
        output::stdout(&text)?;
    }
    Ok(if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_ERROR)
    })
}
