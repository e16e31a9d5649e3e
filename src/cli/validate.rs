//! `apigsync validate [DIR]`: offline checks of a manifest folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::output::{self, Level};
use crate::manifest::{self, LoadError, PROJECT_FILE};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Checks, without credentials or network: YAML syntax, unknown fields (with \
suggestions), plug-in contents against their type's model, ${VAR} substitution, \
references between documents, and conflicts (two plug-ins of one type on the \
same API and environment). A secret field's variable need not be set: when it \
is not, a note says plan and apply need it. Exit code: 0 valid, 1 invalid. A folder that declares nothing \
is invalid; one without apigsync.yaml gets a warning. Without \
DIR, the current folder is validated only when it holds apigsync.yaml.

Example: apigsync validate examples/manifests")]
pub struct Args {
    /// The manifest folder (all *.yaml / *.yml files below it) [default: the
    /// current folder, when it holds apigsync.yaml].
    pub dir: Option<PathBuf>,
}

/// Runs `validate`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let env = super::session::process_env();
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None if Path::new(PROJECT_FILE).is_file() => PathBuf::from("."),
        None => anyhow::bail!(
            "the current folder has no {PROJECT_FILE}: name the manifest folder, \
             e.g. apigsync validate examples/manifests"
        ),
    };
    let loaded = manifest::load_targets_offline(&dir, &env).map(|offline| {
        for note in &offline.unset_secrets {
            output::message(Level::Info, &format!("note: {note}"));
        }
        offline.targets
    });
    match loaded {
        Ok(targets) if targets.iter().all(|t| is_empty(&t.desired)) => {
            output::message(
                Level::Error,
                &format!(
                    "{}: invalid (nothing to validate: no apigsync.yaml, plug-in or binding below it)",
                    dir.display()
                ),
            );
            Ok(ExitCode::from(super::EXIT_ERROR))
        }
        Ok(targets) => {
            let warnings = super::session::print_warnings(&targets);
            if targets.iter().any(|t| t.desired.project.is_none()) {
                output::message(
                    Level::Warn,
                    &format!(
                        "{} has no {PROJECT_FILE}: plan, apply and watch need it to know \
                         the target (or target flags)",
                        dir.display()
                    ),
                );
            }
            let count = |t: &manifest::TargetDesired| {
                format!(
                    "{} plug-in(s), {} binding(s)",
                    t.desired.plugins.len(),
                    t.desired.bindings.len()
                )
            };
            let line = match targets.as_slice() {
                [one] if one.target.name.is_none() => format!(
                    "{}: valid ({}, {} warning(s))\n",
                    dir.display(),
                    count(one),
                    warnings
                ),
                several => {
                    let each: Vec<String> = several
                        .iter()
                        .map(|t| format!("{}: {}", t.target.label(), count(t)))
                        .collect();
                    format!(
                        "{}: valid for {} target(s) ({}; {} warning(s))\n",
                        dir.display(),
                        several.len(),
                        each.join("; "),
                        warnings
                    )
                }
            };
            output::stdout(&line)?;
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
                    dir.display(),
                    diagnostics.len()
                ),
            );
            Ok(ExitCode::from(super::EXIT_ERROR))
        }
        Err(err) => Err(err.into()),
    }
}

fn is_empty(desired: &crate::model::Desired) -> bool {
    desired.project.is_none() && desired.plugins.is_empty() && desired.bindings.is_empty()
}
