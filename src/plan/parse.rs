//! Reading a saved plan back (`apply --plan FILE`): JSON, and a schema version this build
//! understands.

use serde_json::Value;
use thiserror::Error;

use super::model::{Plan, SCHEMA_VERSION};

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
    let found = value
        .get("schema_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if found != u64::from(SCHEMA_VERSION) {
        return Err(PlanParseError::UnsupportedVersion { found });
    }
    serde_json::from_value(value).map_err(PlanParseError::Json)
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
