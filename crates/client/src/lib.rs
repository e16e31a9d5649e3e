//! The APIG HTTP client: one send path that signs, retries and classifies errors.
//!
//! - [`Target`] and [`Credentials`] say where and as whom.
//! - [`Client`] holds the one send path (adaptive in-flight limit and pacing, sign
//!   or token, canonical query, retries with jittered backoff re-signed every
//!   attempt, slow-down answers retried within a time budget, error classification),
//!   the pagination helper and the operations of SPEC §3.
//! - [`live::fetch_live`] reads a whole instance into [`apigsync_core::model::Live`];
//!   [`rolling::read_view`] reads it in parts of known age, for `watch`.
//!
//! Architecture invariant: secrets (secret key, security token, IAM token, request
//! bodies) are never logged and never appear in an error.

mod auth;
mod budget;
mod client;
mod credentials;
mod error;
mod kind;
pub mod live;
mod ops;
mod page;
mod paging;
pub mod refresh;
mod retry;
pub mod rolling;
mod source;
mod target;
mod throttle;
mod wire;

pub use auth::{AuthProblem, Part};
pub use budget::{RateError, RequestRate};
pub use client::{
    BuildError, CallObserver, Client, ClientOptions, ClientStats, MAX_ANSWER_BYTES, PAGE_LIMIT,
    install_tls_provider,
};
pub use credentials::{Credentials, CredentialsError, Secret};
pub use error::{ApiError, Op, error_chain};
pub use kind::ErrorKind;
pub use live::{fetch_live, fetch_live_with};
pub use paging::{MAX_LIST_ITEMS, MAX_LIST_PAGES};
pub use retry::{Backoff, MAX_DELAY, jittered, parse_retry_after};
pub use source::{CHECK_EVERY, CredentialSource, Override};
pub use target::{Target, TargetError};
pub use wire::{
    ApiId, ApiInfo, AttachResponse, AttachedApi, AttachedPlugin, BindingResult, EnvInfo, Plugin,
    PluginBody, PluginOperApiInfo,
};
