//! The one reconcile pipeline that `plan`, `apply` and `watch` all run:
//! load → connect → read → plan → execute. Each step takes the same [`Settings`], so
//! the three commands use the same options and the same client settings (the in-flight
//! limit is set where the gateway is read, whoever reads it).
//!
//! Loading and connecting live with their callers' flags (`cli::session`); this
//! module holds what follows, and the typed [`ReconcileError`] every step returns.

mod action;
mod error;

use std::collections::BTreeMap;

use tokio_util::sync::CancellationToken;

use crate::api::refresh::Targets;
use crate::api::rolling::{self, View};
use crate::api::{Client, Target, fetch_live};
use crate::apply::{self, ApplyOptions, OperationReport, Report};
use crate::model::{Desired, Live, OptionFlags, Options};
use crate::plan::{self, DiffOptions, OpKind, Plan, Restriction};

pub use action::{Action, ErrorPolicy};
pub use error::ReconcileError;

/// How a target is reconciled: its project file's options with the flags applied, and
/// the differ's options (owner, marker key, the gateway recorded in the plan).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The effective options (`options:` of apigsync.yaml, overridden by flags).
    pub options: Options,
    /// What the differ may do and whom it works for.
    pub diff: DiffOptions,
}

impl Settings {
    /// The settings of `desired`'s target, connected through `target`, named `name` under
    /// `targets:`, with the flags `flags` and the marker key of `env`.
    pub fn new(
        desired: &Desired,
        flags: &OptionFlags,
        target: &Target,
        name: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Self {
        let options = desired
            .project
            .as_ref()
            .map(|p| p.options.clone())
            .unwrap_or_default()
            .with_flags(flags);
        let recorded = plan::PlanTarget {
            flavour: Some(target.flavour),
            instance_id: Some(target.instance_id.clone()),
            name: name.map(str::to_owned),
        };
        let diff =
            DiffOptions::new(&options, recorded).with_marker_key(plan::MarkerKey::from_env(env));
        Self { options, diff }
    }

    /// Most API calls in flight at once.
    pub fn parallelism(&self) -> usize {
        self.options.parallelism
    }
}

/// Reads the live state of `client`'s instance with `parallelism` calls in flight at
/// most: the client's in-flight limit is raised (or lowered) to it first.
pub async fn read(client: &Client, parallelism: usize) -> Result<Live, ReconcileError> {
    client.set_max_in_flight(parallelism);
    fetch_live(client, parallelism)
        .await
        .map_err(|source| read_error(client, source))
}

/// Like [`read`], for `watch`: a [`View`] of parts of known age, read in the cheaper
/// direction, re-reading only what fits `fits` calls when an `earlier` view is given
/// ([`crate::api::rolling::read_view`]).
pub async fn read_view(
    client: &Client,
    parallelism: usize,
    earlier: Option<View>,
    fits: Option<usize>,
) -> Result<View, ReconcileError> {
    client.set_max_in_flight(parallelism);
    rolling::read_view(client, parallelism, earlier, fits, None)
        .await
        .map_err(|source| read_error(client, source))
}

/// A failed read of `client`'s instance.
pub fn read_error(client: &Client, source: crate::api::ApiError) -> ReconcileError {
    ReconcileError::Read {
        instance: client.target().instance_id.clone(),
        endpoint: client.target().endpoint.to_string(),
        source: Box::new(source),
    }
}

/// The plan that makes `live` equal to `desired`, restricted by `restriction`.
pub fn plan(
    desired: &Desired,
    live: &Live,
    settings: &Settings,
    restriction: &Restriction,
) -> Result<Plan, ReconcileError> {
    let plan = plan::diff(desired, live, &settings.diff).map_err(ReconcileError::Plan)?;
    Ok(plan::restrict(plan, restriction))
}

/// Executes `plan` with `client`, `parallelism` operations at once; no new operation
/// starts once `stop` is cancelled, and once `fence` is (this replica may no longer
/// write) those not yet answered are dropped too. `progress` is called as each
/// operation ends.
#[allow(clippy::too_many_arguments)] // the pipeline's one execute step, all plain inputs
pub async fn execute(
    plan: &Plan,
    client: &Client,
    env: &BTreeMap<String, String>,
    desired: Option<&Desired>,
    parallelism: usize,
    stop: &CancellationToken,
    fence: Option<&CancellationToken>,
    progress: impl Fn(&OperationReport) + Send + Sync + 'static,
) -> Result<Report, ReconcileError> {
    let opts = ApplyOptions {
        parallelism,
        fence: fence.cloned(),
    };
    Ok(apply::execute(plan, client, env, desired, &opts, stop, progress).await?)
}

/// What a plan touches on the gateway, for a targeted read ([`crate::api::refresh`]): the
/// plug-ins it writes (by every name they have in it: a replacement's temporary name
/// too), and the APIs it attaches (a plug-in bound there now may be displaced).
pub fn touched(plan: &Plan) -> Targets {
    let mut targets = Targets::default();
    for op in &plan.operations {
        targets.names.insert(op.kind.plugin_name().to_owned());
        match &op.kind {
            OpKind::CreatePlugin { spec, .. }
            | OpKind::UpdatePlugin { spec, .. }
            | OpKind::RenamePlugin { spec, .. } => {
                targets.names.insert(spec.name.clone());
            }
            OpKind::Attach(b) => targets
                .apis
                .extend(b.apis.iter().map(|a| (b.env_id.clone(), a.id.clone()))),
            OpKind::DeletePlugin { .. } | OpKind::Detach(_) => {}
        }
    }
    targets
}

/// The restriction to the plug-ins `targets` names: a targeted plan acts on nothing else.
pub fn only(targets: &Targets) -> Restriction {
    Restriction {
        select: targets
            .names
            .iter()
            .filter_map(|name| glob::Pattern::new(&glob::Pattern::escape(name)).ok())
            .collect(),
        ..Restriction::default()
    }
}

/// How many plug-ins of `live` the folder's `owner` manages.
pub fn managed(live: &Live, owner: &str) -> usize {
    live.plugins
        .iter()
        .filter(|p| plan::marker::is_managed_by(p.remark.as_deref(), owner))
        .count()
}
