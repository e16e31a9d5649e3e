//! `apigsync emulator`: run the local APIG plug-in API server until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::emulator::{self, Credential, EmulatorConfig, Seed, ThrottleAnswer};

/// Flags of `apigsync emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, value_name = "ADDR", default_value = emulator::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Seed YAML: project id, instances, environments, groups, APIs [default: the built-in demo seed].
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Persist all state as JSON in FILE (atomic writes); loaded at start when it exists.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Accepted AK/SK pair (repeatable). Without any --credential or --token the demo pair is accepted.
    #[arg(long = "credential", value_name = "AK:SK")]
    pub credentials: Vec<Credential>,
    /// Accepted X-Auth-Token value (repeatable).
    #[arg(long = "token", value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// Latency added to every response, e.g. 30ms, 1s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0ms")]
    pub latency: Duration,
    /// Share of requests (0.0–1.0) that get an injected fault (500, 429, closed connection, lost write response).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_rate: f64,
    /// Seed of the fault sequence; the same seed gives the same faults.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fault_seed: u64,
    /// Requests per second per credential; beyond it: 429 APIGW.0308 with Retry-After.
    #[arg(long, value_name = "RPS", value_parser = parse_rps)]
    pub rate_limit: Option<f64>,
    /// How throttled requests are answered: APIGW.0308 (429) or APIG.9008 (500).
    #[arg(long, value_name = "CODE", default_value = "APIGW.0308")]
    pub throttle_answer: ThrottleAnswer,
    /// Throttled answers carry no Retry-After header.
    #[arg(long)]
    pub no_retry_after: bool,
}

fn too_long() -> String {
    "duration too long".to_owned()
}

/// Parses `30ms`, `2s`, `1m`, `1h` (a bare number is milliseconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(pos) => s.split_at(pos),
        None => (s, "ms"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?}, expected e.g. 30ms, 2s or 1m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => n
            .checked_mul(60)
            .map(Duration::from_secs)
            .ok_or_else(too_long),
        "h" => n
            .checked_mul(3600)
            .map(Duration::from_secs)
            .ok_or_else(too_long),
        _ => Err(format!(
            "invalid duration unit {unit:?}, expected ms, s, m or h"
        )),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("invalid fault rate {s:?}, expected 0.0 to 1.0")),
    }
}

fn parse_rps(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f > 0.0 && f.is_finite() => Ok(f),
        _ => Err(format!(
            "invalid rate limit {s:?}, expected a positive number"
        )),
    }
}

impl EmulatorArgs {
    /// Lowers the flags into a ready configuration (reads the seed file).
    pub fn config(self) -> anyhow::Result<EmulatorConfig> {
        let seed = match &self.seed {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading seed file {}", path.display()))?;
                Seed::from_yaml(&text, &path.display().to_string())?
            }
            None => Seed::demo(),
        };
        let demo = self.credentials.is_empty() && self.tokens.is_empty();
        let defaults = EmulatorConfig::demo();
        Ok(EmulatorConfig {
            listen: self.listen,
            seed,
            state_file: self.state,
            credentials: if demo {
                defaults.credentials
            } else {
                self.credentials
            },
            tokens: if demo { defaults.tokens } else { self.tokens },
            latency: self.latency,
            fault_rate: self.fault_rate,
            fault_seed: self.fault_seed,
            rate_limit: self.rate_limit,
            throttle_answer: self.throttle_answer,
            omit_retry_after: self.no_retry_after,
        })
    }
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs the emulator until Ctrl-C or SIGTERM.
pub fn run(args: EmulatorArgs) -> anyhow::Result<ExitCode> {
    let demo = args.credentials.is_empty() && args.tokens.is_empty();
    let config = args.config()?;
    let state_file = config.state_file.clone();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let handle = emulator::spawn(config).await?;
        println!("apigsync emulator listening on {}", handle.base_url());
        println!("  project id: {}", handle.project_id());
        for (id, flavour) in handle.instances() {
            println!(
                "  instance:   {id} ({flavour}, /{}/ paths)",
                flavour.path_segment()
            );
        }
        if demo {
            println!(
                "  demo credentials: AK {} SK {} (or X-Auth-Token: {})",
                emulator::DEMO_ACCESS_KEY,
                emulator::DEMO_SECRET_KEY,
                emulator::DEMO_TOKEN
            );
        }
        match &state_file {
            Some(path) => println!("  state file: {}", path.display()),
            None => println!("  state file: none (state is lost on exit)"),
        }
        println!(
            "  admin:      {0}/_emulator/stats, /_emulator/log, /_emulator/state (GET); /_emulator/reset (POST); /_emulator/faults (PUT)",
            handle.base_url()
        );
        tracing::info!(addr = %handle.addr(), "emulator started");
        wait_for_stop().await;
        tracing::info!("stopping");
        handle.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30ms"), Ok(Duration::from_millis(30)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_millis(15)));
        assert_eq!(parse_duration("3h"), Ok(Duration::from_secs(3 * 3600)));
        assert!(parse_duration("3d").is_err());
        assert!(parse_duration("ms").is_err());
    }
}
