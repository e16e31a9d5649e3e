//! `apigsync schema`: the JSON Schema of manifests and the project file, for editors.

use std::process::ExitCode;

/// Prints the schema (also committed as `schema/apigsync.schema.json`).
pub fn run() -> anyhow::Result<ExitCode> {
    let schema = crate::manifest::json_schema();
    super::output::stdout(&format!("{}\n", serde_json::to_string_pretty(&schema)?))?;
    Ok(ExitCode::SUCCESS)
}
