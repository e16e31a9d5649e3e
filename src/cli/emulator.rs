//! `apigsync emulator`: run the local APIG plug-in API server until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::duration::within;
use crate::emulator::{self, Credential, EmulatorConfig, Seed, ThrottleAnswer};

/// Longest `--latency`.
const MAX_LATENCY: Duration = Duration::from_secs(60);
/// Longest `--detach-lag` (OTC docs: changes take 5 to 10 s; SPEC §11.7).
const MAX_LAG: Duration = Duration::from_secs(600);
/// Longest `--token-expiry` (IAM tokens are valid 24 h; SPEC §7.1).
const MAX_TOKEN_LIFE: Duration = Duration::from_secs(24 * 60 * 60);

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
    /// Latency added to every response, e.g. 30ms, 1.5s (at most 1m).
    #[arg(long, value_name = "DURATION", value_parser = within(Duration::ZERO, MAX_LATENCY), default_value = "0ms")]
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
    /// An attach of 2+ APIs binds all but the last one and its answer lists only those.
    #[arg(long)]
    pub partial_attach: bool,
    /// Overlapping binding writes of one API and environment answer 500 APIG.3500.
    #[arg(long)]
    pub binding_conflicts: bool,
    /// A create of plug-in NAME answers 400 APIG.2012 (repeatable).
    #[arg(long = "refuse-create", value_name = "NAME")]
    pub refuse_create: Vec<String>,
    /// Store plug-in contents with the documented defaults of their type filled in.
    #[arg(long)]
    pub fill_defaults: bool,
    /// Delete this plug-in (by name) right after a plug-in list returned it (repeatable).
    #[arg(long = "vanish-between-reads", value_name = "NAME")]
    pub vanish_between_reads: Vec<String>,
    /// Refuse a Kafka log plug-in beyond N per instance (403 APIG.3100) [default when given: 5].
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "5")]
    pub kafka_log_quota: Option<usize>,
    /// Enforce the bind-time rules: CORS methods, one CORS plug-in per path of a group and none beside an OPTIONS API, cache on GET/HEAD, no mirror on a Mock backend, OIDC redirect/logout APIs bound.
    #[arg(long)]
    pub bind_rules: bool,
    /// Show plug-in writes in the plug-in list only after this lag, e.g. 500ms.
    #[arg(long, value_name = "DURATION", value_parser = within(Duration::ZERO, MAX_LATENCY))]
    pub list_lag: Option<Duration>,
    /// Store every plug-in content with fields a newer server adds ("x_new_option": false).
    #[arg(long)]
    pub unknown_fields: bool,
    /// Rewrite some stored values (header names lower-cased, cors max_age as a string, Kafka brokers sorted).
    #[arg(long)]
    pub rewrite_values: bool,
    /// The instance's plug-in quota PLUGIN_NUM_LIMIT: creates beyond N answer 403 APIG.3100 [default when given: 500].
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "500")]
    pub plugin_quota: Option<usize>,
    /// An attach reports its last N ids FAILED (binding_result.status) and leaves them unbound.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub failed_attach_entries: usize,
    /// For this long after a detach, binding reads still show it and deleting the plug-in answers 409 APIG.3462, e.g. 5s.
    #[arg(long, value_name = "DURATION", value_parser = within(Duration::ZERO, MAX_LAG))]
    pub detach_lag: Option<Duration>,
    /// Tokens expire this long after they were issued (at start or by PUT /_emulator/tokens): 401 APIG.1002, e.g. 10m.
    #[arg(long, value_name = "DURATION", value_parser = within(Duration::from_millis(1), MAX_TOKEN_LIFE))]
    pub token_expiry: Option<Duration>,
    /// How throttled requests are answered: APIGW.0308 (429) or APIG.9008 (500).
    #[arg(long, value_name = "CODE", default_value = "APIGW.0308")]
    pub throttle_answer: ThrottleAnswer,
    /// Throttled answers carry no Retry-After header.
    #[arg(long)]
    pub no_retry_after: bool,
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
            binding_quirks: emulator::quirks_binding::BindingQuirks {
                partial_attach: self.partial_attach,
                binding_conflicts: self.binding_conflicts,
                refuse_create: self.refuse_create,
                failed_attach_entries: self.failed_attach_entries,
                detach_lag: self.detach_lag,
            },
            service: emulator::quirks_service::ServiceQuirks {
                fill_defaults: self.fill_defaults,
                vanish_between_reads: self.vanish_between_reads,
                kafka_log_quota: self.kafka_log_quota,
                bind_rules: self.bind_rules,
                list_lag: self.list_lag,
                unknown_fields: self.unknown_fields,
                rewrite_values: self.rewrite_values,
                plugin_quota: self.plugin_quota,
            },
            auth: emulator::quirks_auth::AuthQuirks {
                token_expiry: self.token_expiry,
            },
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

/// Where an emulator listens, as its banner shows it.
struct Listening<'a> {
    base_url: String,
    project_id: String,
    instances: &'a [(String, emulator::model::Flavour)],
}

/// What the emulator prints when it is up: where, which instances, how to sign in, and a
/// command to paste that points a manifest folder at it.
fn banner(at: &Listening<'_>, demo: bool, state_file: Option<&Path>) -> String {
    use std::fmt::Write;
    let mut s = format!("apigsync emulator listening on {}\n", at.base_url);
    let _ = writeln!(s, "  project id: {}", at.project_id);
    for (id, flavour) in at.instances {
        let _ = writeln!(
            s,
            "  instance:   {id} ({flavour}, /{}/ paths)",
            flavour.path_segment()
        );
    }
    if demo {
        let _ = writeln!(
            s,
            "  demo credentials: AK {} SK {} (or X-Auth-Token: {})",
            emulator::DEMO_ACCESS_KEY,
            emulator::DEMO_SECRET_KEY,
            emulator::DEMO_TOKEN
        );
    }
    match state_file {
        Some(path) => {
            let _ = writeln!(s, "  state file: {}", path.display());
        }
        None => s.push_str("  state file: none (state is lost on exit)\n"),
    }
    let _ = writeln!(
        s,
        "  admin:      {0}/_emulator/stats, /_emulator/log, /_emulator/state (GET); /_emulator/reset (POST); /_emulator/faults, /_emulator/tokens, /_emulator/credentials (PUT)",
        at.base_url
    );
    if let Some((id, flavour)) = at.instances.first() {
        let (ak, sk) = if demo {
            (emulator::DEMO_ACCESS_KEY, emulator::DEMO_SECRET_KEY)
        } else {
            ("YOUR_AK", "YOUR_SK")
        };
        let _ = writeln!(
            s,
            "\nPoint a manifest folder at it (in another shell; DIR is the folder):\n\n  \
             export HW_ACCESS_KEY={ak} HW_SECRET_KEY={sk}\n  \
             apigsync plan DIR --endpoint {} --project-id {} --instance-id {id} --flavour {}",
            at.base_url,
            at.project_id,
            flavour.as_str()
        );
    }
    s
}

/// Runs the emulator until Ctrl-C or SIGTERM.
pub fn run(args: EmulatorArgs) -> anyhow::Result<ExitCode> {
    let demo = args.credentials.is_empty() && args.tokens.is_empty();
    let config = args.config()?;
    let state_file = config.state_file.clone();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let handle = emulator::spawn(config).await?;
        let at = Listening {
            base_url: handle.base_url(),
            project_id: handle.project_id(),
            instances: handle.instances(),
        };
        super::output::stdout(&banner(&at, demo, state_file.as_deref()))?;
        tracing::info!(addr = %handle.addr(), "emulator started");
        wait_for_stop().await;
        tracing::info!("stopping");
        handle.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    #[test]
    fn the_switch_flags_reach_the_fault_settings() {
        let flags = Flags::try_parse_from([
            "apigsync-emulator",
            "--unknown-fields",
            "--rewrite-values",
            "--plugin-quota",
            "3",
            "--failed-attach-entries",
            "2",
            "--detach-lag",
            "5s",
            "--token-expiry",
            "10m",
        ])
        .expect("flags parse");
        let faults = flags.args.config().expect("config").faults();
        let json = serde_json::to_value(&faults).expect("json");
        for (key, want) in [
            ("unknown_fields", json!(true)),
            ("rewrite_values", json!(true)),
            ("plugin_quota", json!(3)),
            ("failed_attach_entries", json!(2)),
            ("detach_lag_ms", json!(5000)),
            ("token_expiry_ms", json!(600_000)),
        ] {
            assert_eq!(json[key], want, "{key}: {json}");
        }
    }

    #[test]
    fn the_banner_says_where_how_to_sign_in_and_what_to_paste() {
        let instances = [(
            "3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d".to_owned(),
            emulator::model::Flavour::Apig,
        )];
        let at = Listening {
            base_url: "http://127.0.0.1:8080".to_owned(),
            project_id: "0123456789abcdef0123456789abcdef".to_owned(),
            instances: &instances,
        };
        insta::assert_snapshot!(banner(&at, true, None));
    }
}
