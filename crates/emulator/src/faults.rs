//! Injected faults (seeded, reproducible), the per-credential rate limiter and
//! the request statistics of `GET /_emulator/stats`.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::time::Instant;

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 APIG.9999.
    SystemError,
    /// 429 APIGW.0308 with `Retry-After: 1`.
    Throttled,
    /// The connection is closed before any response.
    ConnectionClosed,
    /// A write is applied, then the connection is closed: the response is lost.
    ResponseLost,
}

/// Draws faults from a seeded RNG: one draw per request, so a run is reproducible.
#[derive(Debug)]
pub struct FaultDice {
    rng: StdRng,
}

impl FaultDice {
    /// Dice with this seed.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The fault for the next request, if any; `ResponseLost` only for writes.
    pub fn roll(&mut self, rate: f64, write: bool) -> Option<Fault> {
        let hit = self.rng.random::<f64>() < rate;
        let kinds: &[Fault] = if write {
            &[
                Fault::SystemError,
                Fault::Throttled,
                Fault::ConnectionClosed,
                Fault::ResponseLost,
            ]
        } else {
            &[
                Fault::SystemError,
                Fault::Throttled,
                Fault::ConnectionClosed,
            ]
        };
        let pick = self.rng.random_range(0..kinds.len());
        hit.then(|| kinds[pick])
    }

    /// Whether the next request is throttled, at `rate`; no draw at 0 (the fault sequence
    /// of a run without throttling stays as it was).
    pub fn throttle(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random::<f64>() < rate
    }
}

/// A token bucket per credential: `rps` tokens per second, bursts up to `rps` (at least 1).
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<String, (f64, Instant)>,
}

impl RateLimiter {
    /// Takes a token for `who`; false when the bucket is empty.
    pub fn allow(&mut self, who: &str, rps: f64, now: Instant) -> bool {
        let capacity = rps.max(1.0);
        let (tokens, last) = self
            .buckets
            .entry(who.to_string())
            .or_insert((capacity, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * rps;
        *tokens = (*tokens + refill).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets every bucket.
    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

/// Request counts: per operation and status, the total, and the write calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// Every request to an APIG path.
    pub total: u64,
    /// Every create, update, delete, attach, detach and publish call (whatever its outcome).
    pub writes: u64,
    /// `operation → status → count`; status `closed` for a connection closed without a response.
    pub operations: BTreeMap<String, BTreeMap<String, u64>>,
    /// The most APIG requests that were being served at one time.
    #[serde(default)]
    pub max_concurrent: u64,
}

impl Stats {
    /// Counts one request of `operation` that ended with `status`.
    pub fn record(&mut self, operation: &str, write: bool, status: &str) {
        self.total += 1;
        if write {
            self.writes += 1;
        }
        *self
            .operations
            .entry(operation.to_string())
            .or_default()
            .entry(status.to_string())
            .or_default() += 1;
    }

    /// The count of `operation` with `status`.
    pub fn count(&self, operation: &str, status: &str) -> u64 {
        self.operations
            .get(operation)
            .and_then(|m| m.get(status))
            .copied()
            .unwrap_or(0)
    }
}

/// Most entries [`RequestLog`] keeps; older ones are dropped first.
pub const LOG_CAPACITY: usize = 10_000;

/// One request of `GET /_emulator/log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LogEntry {
    /// SDK operation name, e.g. `create_plugin` (`unknown` for an unmatched route).
    pub operation: String,
    /// Whether it is a write call.
    pub write: bool,
    /// HTTP status, or `closed`.
    pub status: String,
    /// The request path.
    pub path: String,
    /// When the request arrived (Unix time, milliseconds).
    #[serde(default)]
    pub arrived_ms: i64,
}

/// The APIG requests in the order they finished, at most [`LOG_CAPACITY`] of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RequestLog {
    /// The entries, oldest first.
    pub entries: std::collections::VecDeque<LogEntry>,
}

impl RequestLog {
    /// Appends an entry, dropping the oldest beyond the capacity.
    pub fn push(&mut self, entry: LogEntry) {
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let roll = |seed| {
            let mut dice = FaultDice::new(seed);
            (0..50)
                .map(|i| dice.roll(0.5, i % 2 == 0))
                .collect::<Vec<_>>()
        };
        assert_eq!(roll(7), roll(7));
        assert!(roll(7).iter().any(Option::is_some));
        assert!(roll(7).iter().any(Option::is_none));
    }

    #[test]
    fn rate_zero_and_one_are_never_and_always() {
        let mut dice = FaultDice::new(1);
        assert!((0..100).all(|_| dice.roll(0.0, true).is_none()));
        assert!((0..100).all(|_| {
            dice.roll(1.0, false)
                .is_some_and(|f| f != Fault::ResponseLost)
        }));
    }

    #[test]
    fn request_log_keeps_the_newest_entries() {
        let mut log = RequestLog::default();
        for i in 0..LOG_CAPACITY + 2 {
            log.push(LogEntry {
                operation: "list_plugins".into(),
                write: false,
                status: "200".into(),
                path: format!("/{i}"),
                arrived_ms: 0,
            });
        }
        assert_eq!(log.entries.len(), LOG_CAPACITY);
        assert_eq!(log.entries.front().map(|e| e.path.as_str()), Some("/2"));
    }

    #[test]
    fn bucket_refills_over_time() {
        let mut limiter = RateLimiter::default();
        let t0 = Instant::now();
        assert!(limiter.allow("ak", 2.0, t0));
        assert!(limiter.allow("ak", 2.0, t0));
        assert!(!limiter.allow("ak", 2.0, t0));
        assert!(limiter.allow("other", 2.0, t0));
        assert!(limiter.allow("ak", 2.0, t0 + Duration::from_millis(500)));
    }
}
