//! The `apigsync` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;

/// mimalloc, not glibc malloc: on a no-op plan of 10,000 plug-ins malloc and free were 30%
/// of the CPU time (many small strings and JSON values, freed across threads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    apigsync::cli::main()
}
