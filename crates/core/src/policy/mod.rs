//! Policies on the plan: Rego rules (evaluated by `regorus`, no OPA binary) over the plan's
//! JSON document (`docs/plan-format.md`), with conftest's conventions: rules named `deny`,
//! `violation` or `warn` (or starting with `deny_`, `violation_`, `warn_`) in packages
//! under `main`, or under the namespaces asked for. `deny` and `violation` refuse a plan;
//! `warn` is shown. Pure: the caller reads the policy files and hands their text over.

mod eval;
mod report;

pub use eval::{DEFAULT_NAMESPACE, PolicyError, PolicySource, evaluate};
pub use report::{Finding, FindingLevel, PolicyReport};
