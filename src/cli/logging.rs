//! Logging setup: `-v` / `RUST_LOG` pick the level, `--log-format` the shape.
//! Logs go to stderr so stdout stays clean for plans and JSON.

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for clusters).
    Json,
}

/// Installs the global subscriber. `verbose` 0 = warn, 1 = info, 2 = debug, 3+ = trace;
/// `RUST_LOG`, when set, wins.
pub fn init(verbose: u8, format: LogFormat, color: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "apigsync=info,info",
        2 => "apigsync=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| super::progress::AboveBar);
    let result = match format {
        LogFormat::Text => builder.with_ansi(color).try_init(),
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
    };
    // A subscriber may already be installed (tests running commands in-process).
    drop(result);
}
