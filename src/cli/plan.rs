//! `apigsync plan [DIR]`: the difference between the folder and the live gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;

use super::output;
use super::policy::{PolicyArgs, refusal};
use super::session::{self, GatewayArgs, ReconcileArgs, SelectArgs, TargetRead, TargetSelectArgs};
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

--output markdown writes one pull-request comment: removals (with the APIs \
that lose a plug-in, by name), changed secrets and drift (live and desired \
values) above the first collapsed section; at most 65,536 characters, whole \
sections left out (never cut) when it is longer, and a closing line saying \
what was left out and where the full plan is (--full-plan-at).

With --policy DIR, the Rego policies of DIR are evaluated against the plan's \
JSON document (docs/plan-format.md), conftest style: rules named deny, \
violation or warn (or deny_*, violation_*, warn_*) in packages under main (or \
--policy-namespace). Their findings are in every output; a denial exits 1; \
policies asked for and none evaluated is an error.

Exit code: 0 no changes (or changes, without --detailed-exitcode), 2 changes \
with --detailed-exitcode (in any target), 1 error (usage errors included, a \
target that could not be planned, or a plan a policy denies). Anything else is not a result: treat it as a failure.

Examples:
  apigsync plan examples/manifests
  apigsync plan manifests/ --output markdown > plan.md
  apigsync plan manifests/ --output markdown --full-plan-at \"the job summary of $RUN_URL\"
  apigsync plan manifests/ --out plan.json && apigsync apply manifests/ --plan plan.json
  apigsync plan manifests/ --target staging
  apigsync plan manifests/ --policy examples/policies")]
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
    /// With --output markdown: where the full plan is (e.g. the CI job's URL), named in the
    /// comment when parts are left out to keep it within 65,536 characters.
    #[arg(long, value_name = "WHERE")]
    pub full_plan_at: Option<String>,
    /// With --output markdown: the most characters of the comment (leave room for what a
    /// CI script adds around it).
    #[arg(long, value_name = "CHARS", default_value_t = render::COMMENT_LIMIT as u64,
          value_parser = clap::value_parser!(u64).range(4_096..=1_000_000))]
    pub comment_limit: u64,
    /// Also save the markdown whole, without the comment's size budget, to FILE (for a CI
    /// job summary or artifact: the place --full-plan-at names).
    #[arg(long, value_name = "FILE")]
    pub out_markdown: Option<PathBuf>,
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

/// Renders `plan` as asked; `live`, the state it was made from, gives the markdown the old
/// values of deleted and replaced plug-ins.
pub fn render_plan(plan: &Plan, output: PlanOutput, color: bool, live: Option<&Live>) -> String {
    render_with(
        plan,
        output,
        color,
        live,
        &render::CommentOptions::default(),
    )
}

fn render_with(
    plan: &Plan,
    output: PlanOutput,
    color: bool,
    live: Option<&Live>,
    comment: &render::CommentOptions<'_>,
) -> String {
    match output {
        PlanOutput::Text => render::text(plan, color),
        PlanOutput::Json => render::json(plan),
        PlanOutput::Markdown => render::markdown_with(plan, live, comment),
    }
}

/// The comment options of `args`.
fn comment(args: &Args) -> render::CommentOptions<'_> {
    render::CommentOptions {
        // At most 1,000,000 (checked by clap): fits any usize.
        limit: usize::try_from(args.comment_limit).unwrap_or(render::COMMENT_LIMIT),
        full_plan: args.full_plan_at.as_deref(),
    }
}

/// Runs `plan`: for each target of the folder (or those `--target` names).
pub async fn run(args: &Args, color: bool) -> anyhow::Result<ExitCode> {
    let env = session::process_env();
    let reads = session::load_and_read(
        &args.dir,
        &env,
        &args.targets,
        &args.gateway,
        &args.reconcile,
    )
    .await?;
    let several = reads.iter().any(|r| r.target.target.name.is_some());
    let mut results = Vec::new();
    for read in reads {
        let label = read.target.target.label().to_owned();
        let result = plan_target(args, read).await;
        if several && let Err(e) = &result {
            output::message(output::Level::Error, &format!("target {label}: {e:#}"));
        }
        results.push((label, result));
    }
    if !several {
        let Some((_, result)) = results.pop() else {
            anyhow::bail!("no target to plan");
        };
        let (plan, live) = result?;
        save(args, || render::json(&plan))?;
        save_markdown(args, || {
            render::markdown_with(&plan, Some(&live), &render::CommentOptions::whole())
        })?;
        output::stdout(&render_with(
            &plan,
            args.output,
            color,
            Some(&live),
            &comment(args),
        ))?;
        return Ok(exit_code(args, [&plan], false));
    }
    let results: Vec<(String, Planned)> = results
        .into_iter()
        .map(|(label, r)| (label, r.map_err(|e| format!("{e:#}"))))
        .collect();
    let plans: Vec<&Plan> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(|(p, _)| p))
        .collect();
    let failed = plans.len() < results.len();
    if failed && args.out.is_some() {
        output::message(
            output::Level::Error,
            "the plan was not saved: a target could not be planned, and a saved plan must cover every target it names",
        );
    } else {
        save(args, || render::json_set(&plans))?;
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
    save_markdown(args, || {
        render::markdown_set_with(&sections, &render::CommentOptions::whole())
    })?;
    let shown = match args.output {
        PlanOutput::Text => render::text_set(&sections, color),
        PlanOutput::Json => render::json_set(&plans),
        PlanOutput::Markdown => render::markdown_set_with(&sections, &comment(args)),
    };
    output::stdout(&shown)?;
    Ok(exit_code(args, plans, failed))
}

/// One target's plan and the live state it was made from, or why there is none.
type Planned = Result<(Plan, Live), String>;

/// Diffs one target's folder against its gateway (read by [`session::load_and_read`]).
async fn plan_target(args: &Args, read: TargetRead) -> anyhow::Result<(Plan, Live)> {
    let TargetRead { target, read } = read;
    let (conn, live) = read?;
    let calls = conn.client.stats().total_calls();
    let api_target = conn.client.target().clone();
    conn.close().await;
    let mut plan = session::diff(
        &target.desired,
        &live,
        &args.reconcile,
        &args.select,
        &api_target,
        target.target.name.as_deref(),
    )?;
    args.policy.check(&mut plan)?;
    tracing::info!(
        target = target.target.label(),
        api_calls = calls,
        operations = plan.operations.len(),
        "plan made"
    );
    Ok((plan, live))
}

/// Writes the saved plan (rendered by `json`, only when asked) to `--out`.
fn save(args: &Args, json: impl FnOnce() -> String) -> anyhow::Result<()> {
    if let Some(path) = &args.out {
        std::fs::write(path, json())
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        output::message(
            output::Level::Info,
            &format!("Saved the plan to {}.", path.display()),
        );
    }
    Ok(())
}

/// Writes the whole markdown (rendered by `markdown`, only when asked) to `--out-markdown`.
fn save_markdown(args: &Args, markdown: impl FnOnce() -> String) -> anyhow::Result<()> {
    if let Some(path) = &args.out_markdown {
        std::fs::write(path, markdown())
            .with_context(|| format!("cannot write the markdown plan to {}", path.display()))?;
    }
    Ok(())
}

/// 1 when a target could not be planned or a policy denies a plan, else 2 with `--detailed-exitcode` when any
/// target has changes, else 0.
fn exit_code<'a>(
    args: &Args,
    plans: impl IntoIterator<Item = &'a Plan> + Clone,
    failed: bool,
) -> ExitCode {
    if failed {
        return ExitCode::from(super::EXIT_ERROR);
    }
    if let Some(refused) = refusal(plans.clone()) {
        output::message(output::Level::Error, &refused);
        return ExitCode::from(super::EXIT_ERROR);
    }
    let changes = plans.into_iter().any(|p| !p.is_empty());
    if args.detailed_exitcode && changes {
        ExitCode::from(super::EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}
