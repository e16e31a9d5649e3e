//! The first half of `apply`: load the folder (or read a saved plan), connect to every
//! target and make (or check) its plan, before anything is written.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};

use super::Args;
use crate::cli::session;
use crate::manifest::TargetDesired;
use crate::model::{Desired, NamedTarget};
use crate::plan::{self, Plan};

/// One target's share of an apply: its connection, the desired state (when the folder
/// loads), and its plan once made.
pub(super) struct Work {
    pub target: NamedTarget,
    pub conn: session::Connection,
    pub desired: Option<Desired>,
    pub parallelism: usize,
    pub plan: Plan,
}

/// Loads the folder or the saved plan, connects to every target and makes (or checks)
/// its plan. A target that could not be planned is the error, after every connection
/// is closed.
pub(super) async fn prepare(
    args: &Args,
    env: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<Work>> {
    let Some(path) = &args.plan else {
        let reads = session::load_and_read(
            &args.dir,
            env,
            &args.targets,
            &args.gateway,
            &args.reconcile,
        )
        .await?;
        let several = reads.iter().any(|r| r.target.target.name.is_some());
        return plan_every_target(args, reads, several).await;
    };
    let items = saved_items(args, path, env)?;
    let several = items.iter().any(|i| i.target.target.name.is_some());
    let count = items.len();
    let mut work = Vec::new();
    for item in items {
        match check_target(args, &item, count > 1).await {
            Ok(w) => work.push(w),
            Err(e) => {
                close(work).await;
                return Err(not_applied(e, item.target.target.label(), several));
            }
        }
    }
    Ok(work)
}

/// Makes the plan of every target read; the first that cannot be read or planned is
/// the error, and every connection is closed then.
async fn plan_every_target(
    args: &Args,
    reads: Vec<session::TargetRead>,
    several: bool,
) -> anyhow::Result<Vec<Work>> {
    let mut work = Vec::new();
    let mut reads = reads.into_iter();
    while let Some(session::TargetRead { target, read }) = reads.next() {
        let TargetDesired {
            target: named,
            desired,
        } = target;
        let planned = match read {
            Ok((conn, live)) => {
                let plan = session::diff(
                    &desired,
                    &live,
                    &args.reconcile,
                    &args.select,
                    conn.client.target(),
                    named.name.as_deref(),
                );
                match plan {
                    Ok(plan) => Ok(Work {
                        target: named.clone(),
                        parallelism: session::parallelism(
                            &args.reconcile,
                            &desired.project.clone().unwrap_or_default().options,
                        ),
                        desired: Some(desired),
                        conn,
                        plan,
                    }),
                    Err(e) => {
                        conn.close().await;
                        Err(e)
                    }
                }
            }
            Err(e) => Err(e),
        };
        match planned {
            Ok(w) => work.push(w),
            Err(e) => {
                close(work).await;
                session::close_reads(reads.collect()).await;
                return Err(not_applied(e, named.label(), several));
            }
        }
    }
    Ok(work)
}

/// `e`, saying that nothing was applied when several targets were worked on.
fn not_applied(e: anyhow::Error, target: &str, several: bool) -> anyhow::Error {
    if several {
        e.context(format!(
            "target {target}: nothing was applied to any target"
        ))
    } else {
        e
    }
}

/// A target of a saved plan: its desired state (`loaded` when the folder loaded;
/// otherwise only its project, and secrets come from the environment alone) and its plan.
struct Item {
    target: TargetDesired,
    loaded: bool,
    saved: Plan,
}

/// The targets of a saved plan file, each with its plan.
fn saved_items(
    args: &Args,
    path: &PathBuf,
    env: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<Item>> {
    let plans = read_plans(path)?;
    let project = session::load_project(&args.dir, env)?;
    let loaded = crate::manifest::load_targets(&args.dir, env).ok();
    let declared = project.named_targets();
    let mut items = Vec::new();
    for plan in plans {
        let name = plan.target.name.clone();
        if !args.targets.keeps(name.as_deref()) {
            continue;
        }
        let Some(target) = declared.iter().find(|t| t.name == name) else {
            bail!(
                "the saved plan is for {}, which {} does not declare",
                name.map_or("a folder with one target".to_owned(), |n| format!(
                    "target {n}"
                )),
                args.dir.join(crate::manifest::PROJECT_FILE).display()
            );
        };
        let found = loaded
            .as_ref()
            .and_then(|all| all.iter().find(|t| t.target.name == name));
        items.push(Item {
            target: TargetDesired {
                target: target.clone(),
                desired: Desired {
                    project: Some(project.for_target(target)),
                    ..found.map(|t| t.desired.clone()).unwrap_or_default()
                },
            },
            loaded: found.is_some(),
            saved: plan,
        });
    }
    Ok(items)
}

/// Connects to one target of a saved plan and checks the plan against its gateway.
async fn check_target(args: &Args, item: &Item, several: bool) -> anyhow::Result<Work> {
    let target = &item.target;
    let project = target.desired.project.clone().unwrap_or_default();
    let conn = args
        .gateway
        .connect_to(&project, several, &args.dir)
        .await?;
    let parallelism = session::parallelism(&args.reconcile, &project.options);
    let checked = match session::live(&conn, parallelism).await {
        Ok(live) => check_saved(&item.saved, &conn, &live),
        Err(e) => Err(e),
    };
    match checked {
        Ok(()) => Ok(Work {
            target: target.target.clone(),
            desired: item.loaded.then(|| target.desired.clone()),
            conn,
            parallelism,
            plan: item.saved.clone(),
        }),
        Err(e) => {
            conn.close().await;
            Err(e)
        }
    }
}

fn read_plans(path: &PathBuf) -> anyhow::Result<Vec<Plan>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    plan::parse_plans(&text).with_context(|| format!("{} is not a usable plan", path.display()))
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

/// Closes every connection (stops embedded emulators, so their state files are final).
pub(super) async fn close(work: Vec<Work>) {
    for w in work {
        w.conn.close().await;
    }
}
