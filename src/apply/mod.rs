//! The executor: runs a plan's operations against the API in dependency order,
//! independent ones in parallel, and makes one attempt at each. It reports every
//! operation as done, failed or not attempted; a re-run (a fresh plan) converges.

pub mod dag;
mod report;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, Client, PluginBody, error_chain};
use crate::model::Desired;
use crate::plan::{BindingOp, OpKind, Operation, Plan, PluginSpec, ResolveError, resolve_secrets};

pub use dag::StepOutcome;
pub use report::{OperationReport, Report};

/// How to execute.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Most operations in flight at once.
    pub parallelism: usize,
}

/// Why a plan could not be started (nothing was sent).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Secret values could not be put back into plug-in bodies.
    #[error("cannot apply: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Secrets(Vec<ResolveError>),
    /// An operation depends on one the plan does not hold (an edited plan file).
    #[error("cannot apply: operation {operation} depends on {missing}, which is not in the plan")]
    UnknownDependency {
        /// The operation.
        operation: String,
        /// The id it names.
        missing: String,
    },
}

/// A one-line description of an operation, for reports and progress.
pub fn describe(op: &Operation) -> String {
    let binding = |verb: &str, prep: &str, b: &BindingOp| {
        let names: Vec<&str> = b.apis.iter().map(|a| a.label()).collect();
        format!(
            "{verb} {} {prep} {} API(s) in {}: {}",
            b.plugin,
            b.apis.len(),
            b.env_name,
            names.join(", ")
        )
    };
    match &op.kind {
        OpKind::CreatePlugin { spec } => {
            format!("create plug-in {} ({})", spec.name, spec.plugin_type)
        }
        OpKind::UpdatePlugin { spec, .. } => format!("update plug-in {}", spec.name),
        OpKind::DeletePlugin { name, .. } => format!("delete plug-in {name}"),
        OpKind::Attach(b) => binding("attach", "to", b),
        OpKind::Detach(b) => binding("detach", "from", b),
    }
}

fn body(spec: &PluginSpec, content: serde_json::Value) -> PluginBody {
    PluginBody {
        plugin_name: spec.name.clone(),
        plugin_type: spec.plugin_type,
        plugin_scope: spec.scope,
        plugin_content: content,
        remark: Some(spec.remark.clone()),
        roma_app_id: spec.roma_app_id.clone(),
    }
}

/// Resolves every secret of every create/update up front, so a missing variable
/// stops the apply before any call is made.
fn plugin_bodies(
    plan: &Plan,
    env: &BTreeMap<String, String>,
    desired: Option<&Desired>,
) -> Result<HashMap<String, PluginBody>, ApplyError> {
    let mut bodies = HashMap::new();
    let mut errors = Vec::new();
    for op in &plan.operations {
        let spec = match &op.kind {
            OpKind::CreatePlugin { spec } | OpKind::UpdatePlugin { spec, .. } => spec,
            _ => continue,
        };
        match resolve_secrets(spec, env, desired) {
            Ok(content) => {
                bodies.insert(op.id.clone(), body(spec, content));
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(bodies)
    } else {
        Err(ApplyError::Secrets(errors))
    }
}

/// Executes `plan` with `client`. Secrets are taken from `env` (and, for secrets
/// written as literals, from `desired`). `progress` is called as each operation ends.
pub async fn execute(
    plan: &Plan,
    client: &Client,
    env: &BTreeMap<String, String>,
    desired: Option<&Desired>,
    opts: &ApplyOptions,
    shutdown: &CancellationToken,
    progress: impl Fn(&OperationReport) + Send + Sync + 'static,
) -> Result<Report, ApplyError> {
    let bodies = Arc::new(plugin_bodies(plan, env, desired)?);
    let index: HashMap<&str, usize> = plan
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| (op.id.as_str(), i))
        .collect();
    let deps =
        plan.operations
            .iter()
            .map(|op| {
                op.depends_on
                    .iter()
                    .map(|d| {
                        index.get(d.as_str()).copied().ok_or_else(|| {
                            ApplyError::UnknownDependency {
                                operation: op.id.clone(),
                                missing: d.clone(),
                            }
                        })
                    })
                    .collect::<Result<Vec<usize>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
    let created: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let progress = Arc::new(progress);
    let op_id = |i: usize| plan.operations[i].id.to_string();
    let outcomes = dag::run(&deps, opts.parallelism, shutdown, op_id, |i| {
        let op = plan.operations[i].clone();
        let client = client.clone();
        let bodies = bodies.clone();
        let created = created.clone();
        let progress = progress.clone();
        async move {
            let result = run_one(&op, &client, &bodies, &created).await;
            let outcome = match &result {
                Ok(()) => StepOutcome::Done,
                Err(error) => StepOutcome::Failed {
                    error: error.clone(),
                },
            };
            progress(&OperationReport::new(&op, outcome));
            result
        }
    })
    .await;
    let operations: Vec<OperationReport> = plan
        .operations
        .iter()
        .zip(outcomes)
        .map(|(op, outcome)| OperationReport::new(op, outcome))
        .collect();
    for skipped in operations
        .iter()
        .filter(|o| matches!(o.outcome, StepOutcome::NotAttempted { .. }))
    {
        progress(skipped);
    }
    Ok(Report { operations })
}

fn chain(e: ApiError) -> String {
    error_chain(&e)
}

async fn run_one(
    op: &Operation,
    client: &Client,
    bodies: &HashMap<String, PluginBody>,
    created: &Mutex<HashMap<String, String>>,
) -> Result<(), String> {
    // A poisoned map only means a panicking sibling step; its data is intact.
    let created_map = || created.lock().unwrap_or_else(|e| e.into_inner());
    let body = || {
        bodies
            .get(&op.id)
            .ok_or_else(|| format!("no plug-in body was prepared for {}", op.id))
    };
    match &op.kind {
        OpKind::CreatePlugin { .. } => {
            let plugin = client.create_plugin(body()?).await.map_err(chain)?;
            created_map().insert(plugin.name, plugin.id);
            Ok(())
        }
        OpKind::UpdatePlugin { plugin_id, .. } => client
            .update_plugin(plugin_id, body()?)
            .await
            .map(drop)
            .map_err(chain),
        OpKind::DeletePlugin { plugin_id, .. } => {
            client.delete_plugin(plugin_id).await.map_err(chain)
        }
        OpKind::Attach(b) | OpKind::Detach(b) => {
            let plugin_id = match &b.plugin_id {
                Some(id) => id.clone(),
                None => created_map().get(&b.plugin).cloned().ok_or_else(|| {
                    format!(
                        "plug-in {} has no id: it is neither live nor created by this plan",
                        b.plugin
                    )
                })?,
            };
            let api_ids: Vec<String> = b.apis.iter().map(|a| a.id.clone()).collect();
            if matches!(op.kind, OpKind::Attach(_)) {
                client
                    .attach_apis(&plugin_id, &b.env_id, &api_ids)
                    .await
                    .map(drop)
                    .map_err(chain)
            } else {
                client
                    .detach_apis(&plugin_id, &b.env_id, &api_ids)
                    .await
                    .map_err(chain)
            }
        }
    }
}
