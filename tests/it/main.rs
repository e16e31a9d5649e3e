//! The integration tests: one binary, one module per area (as ripgrep and dropshot do),
//! so the crate is linked once. `support` holds the harnesses the modules share.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is a failed test, with its message"
)]

mod support;

mod api_bounds;
mod api_client;
mod api_live;
mod api_rolling;
mod cli_behaviour;
mod cli_details;
mod cli_errors;
mod cli_exit_codes;
mod cli_install;
mod cli_output;
mod cli_policy;
mod cli_schema;
mod cli_select;
mod cli_targets;
mod content_examples;
mod content_rules;
mod dump_roundtrip;
mod e2e_cause;
mod e2e_drift;
mod e2e_examples;
mod e2e_faults;
mod e2e_owner;
mod e2e_random;
mod e2e_safety;
mod e2e_service;
mod e2e_stored;
mod emulator_api;
mod emulator_auth_faults;
mod emulator_quirks;
mod emulator_state_cli;
mod emulator_switches;
mod loader_hostile;
mod manifest_errors;
mod manifest_examples;
mod manifest_load_dir;
mod manifest_secrets;
mod manifest_targets;
mod manifest_values;
mod perf_throttle;
mod pipeline_settings;
mod pipeline_targeted;
mod plan_comment;
mod plan_diff;
mod plan_props;
mod plan_render;
mod plan_rules;
mod plan_scale;
mod plan_stale;
mod signing_vectors;
mod watch_budget;
mod watch_credentials;
mod watch_events;
mod watch_leader;
mod watch_mode;
mod watch_notify;
mod watch_status;
