//! `apigsync validate [DIR]`: offline checks of a manifest folder.

use std::path::PathBuf;
use std::process::ExitCode;

use super::output::{self, Level};
use crate::manifest::{self, LoadError};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Checks, without credentials or network: YAML syntax, unknown fields (with \
suggestions), plug-in contents against their type's model, ${VAR} substitution, \
references between documents, and conflicts (two plug-ins of one type on the \
same API and environment). Exit code: 0 valid, 1 invalid.

Example: apigsync validate examples/manifests")]
pub struct Args {
    /// The manifest folder (all *.yaml / *.yml files below it).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Runs `validate`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let env = super::session::process_env();
    match manifest::load_dir(&args.dir, &env) {
        Ok(desired) => {
            super::session::print_warnings(&desired);
            output::stdout(&format!(
                "{}: valid ({} plug-in(s), {} binding(s), {} warning(s))\n",
                args.dir.display(),
                desired.plugins.len(),
                desired.bindings.len(),
                desired.warnings.len()
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Invalid { diagnostics }) => {
            for d in &diagnostics {
                output::message(Level::Error, &d.to_string());
            }
            output::message(
                Level::Info,
                &format!(
                    "{}: invalid ({} problem(s))",
                    args.dir.display(),
                    diagnostics.len()
                ),
            );
            Ok(ExitCode::from(super::EXIT_ERROR))
        }
        Err(err) => Err(err.into()),
    }
}
