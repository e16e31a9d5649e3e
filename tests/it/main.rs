//! The integration tests: one binary, one module per area (as ripgrep and dropshot do),
//! so the crate is linked once. `support` holds the harnesses the modules share.

mod support;

mod api_client;
mod api_live;
mod cli_behaviour;
mod content_examples;
mod content_rules;
mod dump_roundtrip;
mod e2e_drift;
mod e2e_examples;
mod e2e_faults;
mod e2e_random;
mod emulator_api;
mod emulator_auth_faults;
mod emulator_state_cli;
mod manifest_errors;
mod manifest_examples;
mod manifest_load_dir;
mod perf_throttle;
mod plan_diff;
mod plan_props;
mod plan_render;
mod plan_scale;
mod plan_stale;
mod signing_vectors;
mod watch_mode;
