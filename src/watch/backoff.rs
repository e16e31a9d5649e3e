//! Jittered, capped exponential backoff as an iterator with `reset`, in the
//! manner of kube-runtime: the watch loop asks it how long to wait after a
//! failed reconcile and resets it after a success.

use std::time::Duration;

/// Exponential backoff: `base * 2^n`, capped at `max`, with ±25 % jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    seed: u64,
}

impl Backoff {
    /// A backoff starting at `base` and never exceeding `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempt: 0,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Starts over from `base` (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Failures since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    fn jitter(&mut self) -> f64 {
        // xorshift64*: enough randomness to spread retries, no dependency on a global RNG.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        let r = self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        0.75 + 0.5 * (r as f64 / (1u64 << 53) as f64)
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(20));
        self.attempt = self.attempt.saturating_add(1);
        let jittered = exp.min(self.max).mul_f64(self.jitter());
        Some(jittered.min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let first = b.next().expect("always some");
        assert!(first >= Duration::from_millis(750) && first <= Duration::from_millis(1250));
        let later: Vec<Duration> = b.by_ref().take(10).collect();
        assert!(later.iter().all(|d| *d <= Duration::from_secs(10)));
        assert!(later[9] >= Duration::from_millis(7500), "capped near max");
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert!(b.next().expect("some") <= Duration::from_millis(1250));
    }
}
