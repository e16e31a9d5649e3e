//! Retry timing: jittered exponential backoff and the `Retry-After` header.

use std::time::Duration;

/// The longest single wait, whatever the attempt or the server asks for.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// Exponential backoff with "equal jitter": attempt `n` waits a random time in
/// `[d/2, d]` where `d = base · 2ⁿ`, capped at [`MAX_DELAY`] (or [`Backoff::with_max`]).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff starting at `base`.
    pub fn new(base: Duration) -> Self {
        Self {
            base,
            max: MAX_DELAY,
            attempt: 0,
        }
    }

    /// The same backoff, capped at `max` instead of [`MAX_DELAY`].
    pub fn with_max(self, max: Duration) -> Self {
        Self { max, ..self }
    }

    /// Starts over from `base` (e.g. after a success in a long-running loop).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let factor = 2u32.saturating_pow(self.attempt.min(16));
        self.attempt = self.attempt.saturating_add(1);
        let full = self.base.saturating_mul(factor).min(self.max);
        let half = full / 2;
        let jitter_nanos = u64::try_from((full - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = Duration::from_nanos(rand::random_range(0..=jitter_nanos));
        Some(half + jitter)
    }
}

/// A server's `Retry-After` plus a random half of it (at least a quarter second):
/// clients told the same delay must not all come back in step.
pub fn jittered(retry_after: Duration) -> Duration {
    let spread = (retry_after / 2).max(Duration::from_millis(250));
    let nanos = u64::try_from(spread.as_nanos()).unwrap_or(u64::MAX);
    retry_after + Duration::from_nanos(rand::random_range(0..=nanos))
}

/// A call refused by a gateway that is not saturated retries after a random time
/// in `[d/2, d]`, `d = QUICK_RETRY · 2ⁿ⁻¹` for its `n`-th slow-down in a row.
pub const QUICK_RETRY: Duration = Duration::from_millis(100);

/// How long a call waits after its `consecutive`-th slow-down answer in a row
/// (429 / APIGW.0308, APIG.9008, APIG.3500); `saturated` is the limiter's view of
/// the client's recent answers (a large share throttled: a rate limit).
///
/// A slow-down among mostly accepted answers is a gateway shedding a share of its
/// load, and the adaptive limiter already answers it for the whole client (a
/// proportional cut of the window): the call goes back through the limiter after a
/// short random pause that doubles while it keeps being refused, never longer than
/// the server's `Retry-After`. Once the recent answers show saturation, every
/// refused call waits the server's `Retry-After` (jittered), else the backoff. The
/// service documents neither its rate limits nor a `Retry-After` (SPEC §10.9; its
/// SDK retries a 429 only when asked, SPEC §5), so the header is honoured as the
/// emulator and most gateways mean it whenever the gateway is at its limit.
pub fn slow_down_delay(
    consecutive: u32,
    retry_after: Option<Duration>,
    saturated: bool,
    backoff: &mut Backoff,
) -> Duration {
    if saturated {
        return retry_after
            .map(jittered)
            .or_else(|| backoff.next())
            .unwrap_or(QUICK_RETRY);
    }
    let full =
        QUICK_RETRY.saturating_mul(2u32.saturating_pow(consecutive.saturating_sub(1).min(16)));
    let quick = Backoff::new(full).next().unwrap_or(full);
    retry_after.map_or(quick, |after| quick.min(after))
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (relative to `now`), capped at [`MAX_DELAY`].
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        let span = at.duration_since(now);
        Duration::try_from(span).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_bounds_and_caps() {
        let delays: Vec<Duration> = Backoff::new(Duration::from_millis(100)).take(12).collect();
        for (n, d) in delays.iter().enumerate().take(5) {
            let full = Duration::from_millis(100 * 2u64.pow(n as u32));
            assert!(*d >= full / 2 && *d <= full, "attempt {n}: {d:?}");
        }
        assert!(delays.iter().all(|d| *d <= MAX_DELAY));
        assert!(delays[11] >= MAX_DELAY / 2);
    }

    #[test]
    fn reset_starts_over_from_the_base() {
        let mut backoff = Backoff::new(Duration::from_millis(100));
        backoff.by_ref().take(6).for_each(drop);
        backoff.reset();
        let first = backoff.next().unwrap();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
    }

    #[test]
    fn a_retry_after_is_kept_and_spread() {
        let delays: Vec<Duration> = (0..50).map(|_| jittered(Duration::from_secs(1))).collect();
        assert!(delays.iter().all(|d| *d >= Duration::from_secs(1)));
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(1500)));
        assert!(delays.iter().any(|d| *d != delays[0]), "not all in step");
    }

    #[test]
    fn a_gateway_not_saturated_is_retried_quickly_doubling_up_to_its_retry_after() {
        let mut backoff = Backoff::new(Duration::from_millis(500));
        let after = Some(Duration::from_secs(1));
        for _ in 0..50 {
            let first = slow_down_delay(1, after, false, &mut backoff);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = slow_down_delay(3, after, false, &mut backoff);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            assert_eq!(
                slow_down_delay(6, after, false, &mut backoff),
                Duration::from_secs(1)
            );
        }
    }

    #[test]
    fn a_saturated_gateway_is_given_its_retry_after_from_the_first_refusal() {
        let mut backoff = Backoff::new(Duration::from_millis(500));
        for _ in 0..50 {
            let delay = slow_down_delay(1, Some(Duration::from_secs(1)), true, &mut backoff);
            assert!(
                delay >= Duration::from_secs(1) && delay <= Duration::from_millis(1500),
                "{delay:?}"
            );
        }
    }

    #[test]
    fn a_saturated_gateway_without_retry_after_gets_the_backoff() {
        let mut backoff = Backoff::new(Duration::from_millis(500));
        let delay = slow_down_delay(1, None, true, &mut backoff);
        assert!(
            delay >= Duration::from_millis(250) && delay <= Duration::from_millis(500),
            "{delay:?}"
        );
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now: jiff::Timestamp = "2015-10-21T07:28:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("3600", now), Some(MAX_DELAY));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
