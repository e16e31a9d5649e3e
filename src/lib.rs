//! apigsync keeps the plug-ins of a Huawei Cloud APIG / ROMA Connect / OTC APIG
//! instance, and their bindings to APIs, in sync with YAML files in git.
//!
//! ```text
//! manifests dir ──manifest──▶ Desired ─┐
//!                                      ├─ plan::diff ─▶ Plan ─▶ plan::render (text | json | markdown)
//! APIG API ──api + live──▶ Live ───────┘                  └──▶ apply::execute ─▶ APIG API
//! ```
//!
//! Code map (see ARCHITECTURE.md for the invariants):
//! - [`model`], [`content`], [`manifest`], [`plan`]: the pure core. No IO, no async.
//! - [`signing`]: SDK-HMAC-SHA256 request signing and verification (pure).
//! - [`api`]: the HTTP client: one send path that signs, retries and classifies.
//! - [`apply`]: the executor: a plan's operations in dependency order, one attempt each.
//! - [`pipeline`]: the one reconcile pipeline of plan, apply and watch (read → plan → execute).
//! - [`watch`]: the level-triggered reconcile loop, its triggers, metrics and probes.
//! - [`emulator`]: a local server of the APIG plug-in API.
//! - [`dump`]: live state as a manifest folder (pure), for adopting a gateway.
//! - [`cli`]: the commands; thin wiring around the above.

pub use apigsync_client as api;
pub use apigsync_core::{content, dump, manifest, model, plan, policy};
pub use apigsync_emulator as emulator;
pub use apigsync_signing as signing;

pub mod apply;
pub mod cli;
pub mod pipeline;
pub mod watch;
