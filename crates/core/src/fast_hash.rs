//! Hash maps and sets with a fast, non-cryptographic hasher (foldhash), for the differ's
//! lookups by names and ids: SipHash, std's default, was 3% of a no-op plan of 10,000
//! plug-ins. The keys are the folder's and the gateway's own names and ids, looked up
//! within one run; no map's iteration order reaches an output (std's is random too).

/// A `HashMap` with foldhash's fast hasher (randomly seeded per map).
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A `HashSet` with foldhash's fast hasher (randomly seeded per set).
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
