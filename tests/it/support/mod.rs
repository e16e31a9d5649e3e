//! Harnesses shared by the test modules.

pub mod cli;
pub mod emulator;
pub mod lease;
pub mod plan;
pub mod recorded;
pub mod stub;
pub mod tap;
pub mod watch;
pub mod webhook;

/// In-memory manifest files under `m/`: `(path, text)` pairs as the loader's sources.
pub fn sources(files: &[(&str, &str)]) -> Vec<apigsync::manifest::Source> {
    files
        .iter()
        .map(|(p, t)| apigsync::manifest::Source {
            path: std::path::PathBuf::from(format!("m/{p}")),
            text: (*t).to_owned(),
        })
        .collect()
}

/// The configuration of every property test: proptest's defaults, and the committed
/// regression seeds of `tests/it/<module>.proptest-regressions` replayed before new cases.
/// (The default persistence looks for `tests/proptest-regressions/<module>.txt` instead,
/// because `tests/it` holds a `main.rs`.)
pub fn proptest_config() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..proptest::test_runner::Config::default()
    }
}
