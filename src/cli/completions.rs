//! `apigsync completions SHELL`: a completion script on stdout.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Install for the current user (start a new shell afterwards):
  bash: apigsync completions bash > ~/.local/share/bash-completion/completions/apigsync
  zsh:  apigsync completions zsh > ~/.zfunc/_apigsync   (with fpath+=~/.zfunc before compinit)
  fish: apigsync completions fish > ~/.config/fish/completions/apigsync.fish")]
pub struct Args {
    /// The shell to generate for.
    pub shell: Shell,
}

/// Writes the script for `args.shell` to stdout.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    // Generated into memory: clap_complete panics on a failed write, a closed pipe included.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "apigsync", &mut script);
    super::output::stdout(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}
