//! The differ, the plan value, its ordering and its renderers. Pure: no IO, no async.
//!
//! - [`diff`] compares a [`crate::model::Desired`] with a [`crate::model::Live`] and returns a
//!   [`Plan`]: ordered operations with dependencies, notices, and fingerprints of what it read.
//! - [`check_stale`] tells whether a saved plan still matches the live state.
//! - [`resolve_secrets`] puts secret values back into a plan's plug-in body at apply time.
//! - [`restrict`] keeps part of a plan (`--select`, `--no-delete`), dependencies intact.
//! - [`render`] turns a plan into text, markdown or JSON; [`parse_plan`] reads the JSON back.

mod changes;
mod diff;
mod error;
mod fingerprint;
pub mod marker;
mod model;
mod order;
mod parse;
pub mod render;
mod resolve;
mod restrict;
mod secrets;
mod stale;

pub use diff::{DiffOptions, diff, temp_name};
pub use error::{PlanError, PlanErrors};
pub use fingerprint::{MARKER_KEY_VAR, MarkerKey};
pub use model::{
    ApiItem, BindingOp, Cause, FieldChange, LITERAL_SECRET, MAX_APIS_PER_CALL, Notice, NoticeKind,
    OpId, OpKind, Operation, Plan, PlanSet, PlanTarget, PluginSpec, Read, ReadObject, Replacement,
    SCHEMA_VERSION, SecretSlot, Stage, Summary,
};
pub use parse::{PlanParseError, parse_plan, parse_plans};
pub use restrict::{Restriction, restrict};
pub use secrets::{ResolveError, resolve_secrets};
pub use stale::{Drift, DriftKind, check_stale};
