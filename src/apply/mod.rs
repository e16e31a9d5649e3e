//! The executor: runs a plan's operations against the API, one attempt each.

pub mod dag;
