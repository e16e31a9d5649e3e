//! A local server of the APIG plug-in API, used by the quickstart, tests and benchmarks.
