//! The APIG HTTP client: one send path that signs, retries and classifies errors.
//!
//! - [`Target`] and [`Credentials`] say where and as whom.
//! - [`Client`] holds the one send path (adaptive in-flight limit and pacing, sign
//!   or token, canonical query, retries with jittered backoff re-signed every
//!   attempt, slow-down answers retried within a time budget, error classification),
//!   the pagination helper and the operations of SPEC §3.
//! - [`live::fetch_live`] reads a whole instance into [`apigsync_core::model::Live`].
//!
//! Architecture invariant: secrets (secret key, security token, IAM token, request
//! bodies) are never logged and never appear in an error.

mod client;
mod credentials;
mod error;
mod kind;
pub mod live;
mod ops;
mod page;
pub mod refresh;
mod retry;
mod target;
mod throttle;
mod wire;

pub use client::{
    BuildError, Client, ClientOptions, ClientStats, PAGE_LIMIT, install_tls_provider,
};
pub use credentials::{Credentials, CredentialsError, Secret};
pub use error::{ApiError, Op, error_chain};
pub use kind::ErrorKind;
pub use live::{fetch_live, fetch_live_with};
pub use retry::{Backoff, MAX_DELAY, jittered, parse_retry_after};
pub use target::{Target, TargetError};
pub use wire::{
    ApiId, ApiInfo, AttachResponse, AttachedApi, AttachedPlugin, EnvInfo, Plugin, PluginBody,
    PluginOperApiInfo,
};
