//! Reading a saved plan back (`apply --plan FILE`): JSON, and a schema version this build
//! understands.

use serde_json::Value;
use thiserror::Error;

use super::model::{Plan, PlanSet, SCHEMA_VERSION};

/// Why a saved plan could not be read.
#[derive(Debug, Error)]
pub enum PlanParseError {
    /// Not JSON, or not the shape of a plan.
    #[error("not a valid apigsync plan")]
    Json(#[source] serde_json::Error),
    /// Written by a version of apigsync with another plan format.
    #[error(
        "plan format version {found} is not supported (this apigsync reads version {SCHEMA_VERSION}); make a new plan"
    )]
    UnsupportedVersion {
        /// The version in the file (`0` when absent).
        found: u64,
    },
}

/// Parses the JSON of a saved plan, refusing a schema version other than [`SCHEMA_VERSION`].
pub fn parse_plan(text: &str) -> Result<Plan, PlanParseError> {
    let value: Value = serde_json::from_str(text).map_err(PlanParseError::Json)?;
    check_version(&value)?;
    serde_json::from_value(value).map_err(PlanParseError::Json)
}

/// Parses a saved plan file: one plan, or the plans of several targets ([`PlanSet`]).
pub fn parse_plans(text: &str) -> Result<Vec<Plan>, PlanParseError> {
    let value: Value = serde_json::from_str(text).map_err(PlanParseError::Json)?;
    if value.get("plans").is_none() {
        return parse_plan(text).map(|plan| vec![plan]);
    }
    check_version(&value)?;
    let set: PlanSet = serde_json::from_value(value).map_err(PlanParseError::Json)?;
    Ok(set.plans)
}

/// Refuses a `schema_version` other than [`SCHEMA_VERSION`].
fn check_version(value: &Value) -> Result<(), PlanParseError> {
    let found = value
        .get("schema_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(SCHEMA_VERSION) {
        return Err(PlanParseError::UnsupportedVersion { found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlanTarget, render};

    #[test]
    fn a_rendered_plan_parses_back() {
        let plan = Plan::new(PlanTarget::default());
        assert_eq!(parse_plan(&render::json(&plan)).unwrap(), plan);
    }

    #[test]
    fn the_plans_of_several_targets_parse_back_and_one_plan_reads_as_a_set_of_one() {
        let named = |name: &str| {
            Plan::new(PlanTarget {
                name: Some(name.into()),
                ..PlanTarget::default()
            })
        };
        let plans = vec![named("staging"), named("prod")];
        let borrowed: Vec<&Plan> = plans.iter().collect();
        assert_eq!(parse_plans(&render::json_set(&borrowed)).unwrap(), plans);
        let one = Plan::new(PlanTarget::default());
        assert_eq!(parse_plans(&render::json(&one)).unwrap(), vec![one]);
    }

    #[test]
    fn a_plan_of_the_first_format_is_refused() {
        // Version 1 plans ordered detaches before attaches: never execute one.
        let err = parse_plan(r#"{"schema_version": 1}"#).unwrap_err();
        assert!(matches!(
            err,
            PlanParseError::UnsupportedVersion { found: 1 }
        ));
        assert!(matches!(
            parse_plan("{}"),
            Err(PlanParseError::UnsupportedVersion { found: 0 })
        ));
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(matches!(parse_plan("{"), Err(PlanParseError::Json(_))));
        assert!(matches!(
            parse_plan(r#"{"schema_version": 2, "operations": 3}"#),
            Err(PlanParseError::Json(_))
        ));
    }
}
