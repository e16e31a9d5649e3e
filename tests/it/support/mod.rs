//! Harnesses shared by the test modules.

pub mod cli;
pub mod emulator;
pub mod plan;
pub mod recorded;
pub mod watch;
