//! The command line: one `#[derive(Parser)]`, one file per command.
//!
//! Each command lowers its flags into a ready config value once, then calls
//! into the library. Errors become an exit code here and nowhere else.

mod apply;
mod completions;
mod dump;
mod duration;
pub mod emulator;
mod leader;
mod logging;
mod man;
mod man_page;
mod output;
mod plan;
mod policy;
mod progress;
mod schema;
mod session;
pub mod target;
mod validate;
mod watch;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use logging::LogFormat;

/// Keep APIG plug-ins and their API bindings in sync with YAML files in git.
///
/// A folder of manifests (kind: Plugin, kind: Binding) and a project file
/// `apigsync.yaml` describe what the gateway should hold. `plan` shows the
/// difference with the live gateway, `apply` makes the gateway equal to the
/// files, `watch` keeps it so. Try it against the embedded emulator:
///
///   apigsync apply examples/manifests --auto-approve
#[derive(Debug, Parser)]
#[command(
    name = "apigsync",
    version = VERSION,
    propagate_version = true,
    max_term_width = 100,
    after_help = EXIT_STATUS
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to use colours (NO_COLOR and non-terminals turn them off under auto).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour output written to stdout.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a manifest folder offline: syntax, contents, references, conflicts.
    Validate(validate::Args),
    /// Show what apply would change on the gateway (reads only).
    Plan(plan::Args),
    /// Make the gateway's plug-ins and bindings equal to the folder.
    Apply(apply::Args),
    /// Keep the gateway equal to the folder: reconcile on changes and on an interval.
    Watch(watch::Args),
    /// Write the live plug-ins and bindings as a manifest folder (adopt a gateway).
    Dump(dump::Args),
    /// Print the JSON Schema of the manifest format (for editors' YAML language server).
    Schema,
    /// Run the local APIG plug-in API server (the embedded default target).
    Emulator(emulator::EmulatorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::Args),
    /// Print the manual page, or write every page into a folder.
    Man(man::Args),
}

/// `--version`: the package version, the git commit and the build date (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("APIGSYNC_COMMIT"),
    ", built ",
    env!("APIGSYNC_BUILD_DATE"),
    ")"
);

/// The conventions and exit status of every command, as `--help` states them.
pub const EXIT_STATUS: &str = "\
Flags mean the same in every command: -o/--output FORMAT is how results are printed, \
--out PATH is the file or folder written.

Environment: HW_ACCESS_KEY and HW_SECRET_KEY (with HW_SECURITY_TOKEN for temporary \
credentials) or HW_AUTH_TOKEN, each also as *_FILE; HW_PROJECT_ID, HW_REGION_NAME; \
APIGSYNC_MARKER_KEY (the key of the marker's secret fingerprints: the same for every plan \
and apply); the ${VAR}s of the manifests; APIGSYNC_POLICY_* for --policy rules; NO_COLOR, \
RUST_LOG. The manual (apigsync man) lists them all.

Exit status (every command):
  0  success; for plan, no changes (or changes without --detailed-exitcode)
  1  an error of any kind: a usage error, invalid manifests, a failed API call or operation
  2  only with plan --detailed-exitcode: success, and the plan has changes";

/// Exit code of any error, usage errors included.
pub const EXIT_ERROR: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when the plan has changes.
pub const EXIT_CHANGES: u8 = 2;

/// Entry point of the binary: parse, run, print the error chain.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    output::set_format(output::format_in_args(&args));
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return parse_failure(&err),
    };
    // Long-running commands log at info by default (one line per reconcile or request batch).
    let verbose = match cli.command {
        Command::Watch(_) | Command::Emulator(_) => cli.verbose.max(1),
        _ => cli.verbose,
    };
    logging::init(verbose, cli.log_format, cli.color.enabled());
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            output::message(output::Level::Error, &format!("{err:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `--help` and `--version` succeed; any other parse failure is an error (exit 1, never clap's
/// 2, which `plan --detailed-exitcode` uses for "changes").
fn parse_failure(err: &clap::Error) -> ExitCode {
    if !err.use_stderr() {
        let styled = err.render();
        let help = if ColorChoice::Auto.enabled() {
            styled.ansi().to_string()
        } else {
            styled.to_string()
        };
        let _ = output::stdout(&help);
        return ExitCode::SUCCESS;
    }
    let rendered = err.render().to_string();
    output::message(
        output::Level::Error,
        rendered.trim_end().trim_start_matches("error: "),
    );
    ExitCode::from(EXIT_ERROR)
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let color = cli.color.enabled();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
    };
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => runtime()?.block_on(plan::run(&args, color)),
        Command::Apply(args) => runtime()?.block_on(apply::run(&args, color)),
        Command::Watch(args) => runtime()?.block_on(watch::run(&args)),
        Command::Dump(args) => runtime()?.block_on(dump::run(&args)),
        Command::Schema => schema::run(),
        Command::Emulator(args) => emulator::run(args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}
