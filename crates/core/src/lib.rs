//! apigsync's pure core: values in, values out. No async runtime, no network, no
//! HTTP: the crate's dependency list proves it (`cargo tree -p apigsync-core`,
//! checked in CI). The manifest loader is the core's only file read.
//!
//! - [`model`]: flavours, plug-in types, scopes, `Desired` and `Live`.
//! - [`content`]: one module per plug-in type: validation, defaults, canonical form.
//! - [`manifest`]: the loader (located YAML, `${VAR}` substitution, checks).
//! - [`plan`]: the differ, the plan, its order and its renderings.
//! - [`dump`]: live state as a manifest folder.

pub mod content;
pub mod dump;
mod fast_hash;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod policy;
