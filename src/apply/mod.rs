//! The executor: runs a plan's operations against the API in dependency order,
//! independent ones in parallel, and makes one attempt at each (the client retries
//! transient failures underneath; an attach or detach re-sends what the service's answer
//! shows missing, see `binding`). It reports every operation as done, failed or not
//! attempted, and for an apply that did not complete, where each affected API was left;
//! a re-run (a fresh plan) converges.

mod binding;
mod confirm;
pub mod dag;
mod report;
mod state;
mod stored;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::api::{ApiError, Client, ErrorKind, PluginBody, error_chain};
use crate::model::Desired;
use crate::plan::{BindingOp, OpKind, Operation, Plan, PluginSpec, ResolveError, resolve_secrets};
use binding::Partial;

pub use crate::plan::render::describe;
pub use dag::{StepError, StepOutcome};
pub use report::{OperationReport, Report};
pub use state::ApiState;

/// How to execute.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Most operations in flight at once.
    pub parallelism: usize,
    /// Cancelled when this process may no longer write (watch's leader election: its
    /// renewal is older than the renew deadline). An operation still waiting for its
    /// answer is dropped then (its request may not have been sent) and fails, so no
    /// request of this process can reach the gateway once another replica may lead.
    pub fence: Option<CancellationToken>,
}

/// Why a fenced operation failed.
const FENCED: &str = "stopped: this replica may no longer write (leadership lost); a later reconcile sees where it was left";

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

fn body(spec: &PluginSpec, name: &str, content: serde_json::Value) -> PluginBody {
    PluginBody {
        plugin_name: name.to_owned(),
        plugin_type: spec.plugin_type,
        plugin_scope: spec.scope,
        plugin_content: content,
        remark: Some(spec.remark.clone()),
        roma_app_id: spec.roma_app_id.clone(),
    }
}

/// The dependencies of each operation of `plan`, as positions in `plan.operations`: the
/// graph the executor runs (`dag::run`), in plan order.
pub fn dependencies(plan: &Plan) -> Result<Vec<Vec<usize>>, ApplyError> {
    let index: HashMap<&str, usize> = plan
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| (op.id.as_str(), i))
        .collect();
    plan.operations
        .iter()
        .map(|op| {
            op.depends_on
                .iter()
                .map(|d| {
                    index
                        .get(d.as_str())
                        .copied()
                        .ok_or_else(|| ApplyError::UnknownDependency {
                            operation: op.id.clone(),
                            missing: d.clone(),
                        })
                })
                .collect()
        })
        .collect()
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
        let (spec, name) = match &op.kind {
            OpKind::CreatePlugin { spec, temp_name } => {
                (spec, temp_name.as_deref().unwrap_or(&spec.name))
            }
            OpKind::UpdatePlugin { spec, .. } | OpKind::RenamePlugin { spec, .. } => {
                (spec, spec.name.as_str())
            }
            _ => continue,
        };
        match resolve_secrets(spec, env, desired) {
            Ok(content) => {
                bodies.insert(op.id.clone(), body(spec, name, content));
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
    let deps = dependencies(plan)?;
    let by_id = plan.index();
    let created: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let partial: Arc<Mutex<HashMap<String, Partial>>> = Arc::default();
    let progress = Arc::new(progress);
    let op_id = |i: usize| plan.operations[i].id.to_string();
    let fence = opts.fence.clone().unwrap_or_default();
    let outcomes = dag::run(&deps, opts.parallelism, shutdown, op_id, |i| {
        let op = plan.operations[i].clone();
        let replacements = replacements_of(&by_id, &op);
        let client = client.clone();
        let bodies = bodies.clone();
        let created = created.clone();
        let partial = partial.clone();
        let progress = progress.clone();
        let fence = fence.clone();
        async move {
            let step = Step {
                client: &client,
                bodies: &bodies,
                created: &created,
                partial: &partial,
                replacements: &replacements,
            };
            let result = tokio::select! {
                biased;
                () = fence.cancelled() => Err(StepError::new(ErrorKind::Cancelled, FENCED)),
                result = step.run(&op) => result,
            };
            let outcome = match &result {
                Ok(()) => StepOutcome::Done,
                Err(error) => StepOutcome::Failed {
                    error: error.message.clone(),
                    kind: error.kind,
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
    let outcomes: Vec<StepOutcome> = operations.iter().map(|o| o.outcome.clone()).collect();
    let apis = state::api_states(plan, &outcomes, &lock(&partial));
    Ok(Report { operations, apis })
}

/// A poisoned map only means a panicking sibling step; its data is intact.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// When `op` is a detach that runs after attaches of other plug-ins in its environment
/// (rule 4 of `plan::order`: the old plug-in of a move or a type change), those attaches:
/// they may already have displaced it from some of its APIs, and it must not be detached
/// from an API they are not confirmed on.
fn replacements_of(by_id: &HashMap<&str, &Operation>, op: &Operation) -> Vec<BindingOp> {
    let OpKind::Detach(d) = &op.kind else {
        return Vec::new();
    };
    op.depends_on
        .iter()
        .filter_map(|dep| match &by_id.get(dep.as_str())?.kind {
            OpKind::Attach(a) if a.plugin != d.plugin && a.env_id == d.env_id => Some(a.clone()),
            _ => None,
        })
        .collect()
}

/// A failed call as a step's error: its message chain and its kind.
fn chain(e: ApiError) -> StepError {
    StepError::new(e.kind(), error_chain(&e))
}

/// What one step needs.
struct Step<'a> {
    client: &'a Client,
    bodies: &'a HashMap<String, PluginBody>,
    created: &'a Mutex<HashMap<String, String>>,
    partial: &'a Mutex<HashMap<String, Partial>>,
    /// For a detach: the attaches of other plug-ins it runs after (see [`replacements_of`]).
    replacements: &'a [BindingOp],
}

impl Step<'_> {
    fn body(&self, op: &Operation) -> Result<&PluginBody, StepError> {
        self.bodies.get(&op.id).ok_or_else(|| {
            StepError::new(
                ErrorKind::InvalidInput,
                format!("no plug-in body was prepared for {}", op.id),
            )
        })
    }

    /// Fails detach `b` (before anything is sent) when a replacement it runs after is not
    /// confirmed, by a read-back, on an API the detach would leave without a plug-in.
    async fn confirm_replacements(&self, op: &Operation, b: &BindingOp) -> Result<(), StepError> {
        let mut replacements = Vec::new();
        for r in self.replacements {
            replacements.push(confirm::Replacement {
                binding: r,
                plugin_id: self.plugin_id(r.plugin_id.as_ref(), &r.plugin)?,
            });
        }
        let missing = confirm::unconfirmed(self.client, b, &replacements).await?;
        if missing.is_empty() {
            return Ok(());
        }
        lock(self.partial).insert(
            op.id.clone(),
            Partial {
                done: Default::default(),
                known: true,
            },
        );
        Err(confirm::refused(b, &missing))
    }

    /// The id of a plug-in: `id` when live, else the one this apply created as `name`.
    fn plugin_id(&self, id: Option<&String>, name: &str) -> Result<String, StepError> {
        match id {
            Some(id) => Ok(id.clone()),
            None => lock(self.created).get(name).cloned().ok_or_else(|| {
                StepError::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "plug-in {name} has no id: it is neither live nor created by this plan"
                    ),
                )
            }),
        }
    }

    async fn run(&self, op: &Operation) -> Result<(), StepError> {
        let client = self.client;
        match &op.kind {
            OpKind::CreatePlugin { .. } => {
                let body = self.body(op)?;
                let plugin = client.create_plugin(body).await.map_err(chain)?;
                lock(self.created).insert(plugin.name.clone(), plugin.id.clone());
                stored::record(client, body, &plugin).await
            }
            OpKind::UpdatePlugin { plugin_id, .. } => {
                let body = self.body(op)?;
                let plugin = client.update_plugin(plugin_id, body).await.map_err(chain)?;
                stored::record(client, body, &plugin).await
            }
            OpKind::RenamePlugin {
                plugin_id, from, ..
            } => {
                let id = self.plugin_id(plugin_id.as_ref(), from)?;
                let body = self.body(op)?;
                let plugin = client.update_plugin(&id, body).await.map_err(chain)?;
                stored::record(client, body, &plugin).await
            }
            OpKind::DeletePlugin { plugin_id, .. } => {
                client.delete_plugin(plugin_id).await.map_err(chain)
            }
            OpKind::Attach(b) | OpKind::Detach(b) => {
                let plugin_id = self.plugin_id(b.plugin_id.as_ref(), &b.plugin)?;
                let result = if matches!(op.kind, OpKind::Attach(_)) {
                    binding::attach(client, &plugin_id, b).await
                } else {
                    self.confirm_replacements(op, b).await?;
                    let check_first = !self.replacements.is_empty();
                    binding::detach(client, &plugin_id, b, check_first).await
                };
                result.map_err(|(error, partial)| {
                    lock(self.partial).insert(op.id.clone(), partial);
                    StepError::new(ErrorKind::Unconfirmed, error)
                })
            }
        }
    }
}
