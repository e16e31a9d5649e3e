//! `apigsync man [--dir DIR]`: the manual pages, generated from the command-line definition.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::man_page;
use super::output::{self, Level};

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --dir, prints apigsync(1) on stdout. With --dir, writes apigsync.1 and one \
page per command (apigsync-plan.1, apigsync-apply.1, ...). Each page has the \
sections ENVIRONMENT (every variable apigsync reads) and EXIT STATUS.

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
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            write_pages(&cmd, dir)
                .with_context(|| format!("cannot write the man pages to {}", dir.display()))?;
            output::message(
                Level::Info,
                &format!("Wrote the man pages to {}.", dir.display()),
            );
        }
        None => {
            let page = man_page::render(&clap_mangen::Man::new(cmd.clone()), &cmd)?;
            output::stdout(&String::from_utf8_lossy(&page))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the page of `cmd` and of each of its visible subcommands into `dir`.
fn write_pages(cmd: &clap::Command, dir: &Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    std::fs::write(dir.join(man.get_filename()), man_page::render(&man, cmd)?)
}
