//! `apigsync man [--dir DIR]`: the manual pages, generated from the command-line definition.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::output::{self, Level};

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --dir, prints apigsync(1) on stdout. With --dir, writes apigsync.1 and one \
page per command (apigsync-plan.1, apigsync-apply.1, ...).

Examples:
  apigsync man | man -l -
  apigsync man --dir ~/.local/share/man/man1 && man apigsync-plan
  sudo apigsync man --dir /usr/local/share/man/man1")]
pub struct Args {
    /// Write every page into this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints or writes the pages.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let cmd = super::Cli::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the man pages to {}", dir.display()))?;
            output::message(
                Level::Info,
                &format!("Wrote the man pages to {}.", dir.display()),
            );
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            output::stdout(&String::from_utf8_lossy(&page))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
