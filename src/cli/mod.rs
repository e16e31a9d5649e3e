//! The command line: one `#[derive(Parser)]`, one file per command.
//!
//! Each command lowers its flags into a ready config value once, then calls
//! into the library. Errors become an exit code here and nowhere else.

pub mod emulator;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keep APIG plug-ins and their API bindings in sync with YAML files in git.
#[derive(Debug, Parser)]
#[command(name = "apigsync", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the JSON Schema of the manifest format (for editors).
    Schema,
    /// Run the local APIG plug-in API server (the embedded default target).
    Emulator(emulator::EmulatorArgs),
}

/// Entry point of the binary: parse, run, print the error chain.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Schema => {
            println!("{{}}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Emulator(args) => emulator::run(args),
    }
}
