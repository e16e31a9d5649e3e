//! Harnesses shared by the test modules.

pub mod cli;
pub mod emulator;
pub mod lease;
pub mod plan;
pub mod watch;
