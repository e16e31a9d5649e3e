//! A request budget (`watch --max-request-rate`): real gateways throttle per account
//! (the Terraform provider's issues report limits as low as 200 requests per 5 minutes),
//! and the quota is shared with every other tool of the account. The budget spaces
//! requests evenly, one every `per / requests` plus a tenth (at least 100 ms): so no window
//! of `per` holds more than `requests` of them as the gateway sees them, even when the
//! network delays one request more than the next; the adaptive limit and the slow-down
//! back-off still apply underneath.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// At most `requests` requests every `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRate {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window.
    pub per: Duration,
}

impl RequestRate {
    /// The even spacing of requests within this rate, with its margin for network jitter.
    pub fn spacing(&self) -> Duration {
        let even = self.per / self.requests.max(1);
        even + (even / 10).max(Duration::from_millis(100))
    }
}

impl fmt::Display for RequestRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.requests, self.per.as_secs_f64())
    }
}

/// Why a `--max-request-rate` value is not a rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a request rate: write REQUESTS/WINDOW, e.g. 3/s, 200/5m, 1000/1h (REQUESTS 1-1000000, WINDOW 1s-24h)"
)]
pub struct RateError(String);

impl FromStr for RequestRate {
    type Err = RateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || RateError(s.to_owned());
        let (count, window) = s.split_once('/').ok_or_else(bad)?;
        let requests: u32 = count.trim().parse().map_err(|_| bad())?;
        let window = window.trim();
        let digits = window.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &window[digits.len()..];
        let n: u64 = if digits.is_empty() {
            1
        } else {
            digits.parse().map_err(|_| bad())?
        };
        let seconds = match unit {
            "s" => n,
            "m" => n.saturating_mul(60),
            "h" => n.saturating_mul(3600),
            _ => return Err(bad()),
        };
        if !(1..=1_000_000).contains(&requests) || !(1..=86_400).contains(&seconds) {
            return Err(bad());
        }
        Ok(Self {
            requests,
            per: Duration::from_secs(seconds),
        })
    }
}

/// Hands out send times at most one per [`RequestRate::spacing`].
#[derive(Debug)]
pub(crate) struct Budget {
    spacing: Duration,
    next: Mutex<Option<Instant>>,
}

impl Budget {
    /// A budget of `rate`.
    pub(crate) fn new(rate: RequestRate) -> Self {
        Self {
            spacing: rate.spacing(),
            next: Mutex::new(None),
        }
    }

    /// Waits for this request's turn.
    pub(crate) async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.spacing);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_written() {
        let rate = |s: &str| s.parse::<RequestRate>();
        assert_eq!(
            rate("3/s"),
            Ok(RequestRate {
                requests: 3,
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(
            rate("200/5m"),
            Ok(RequestRate {
                requests: 200,
                per: Duration::from_secs(300)
            })
        );
        assert_eq!(
            rate("1000/1h").map(|r| r.spacing()),
            Ok(Duration::from_millis(3960))
        );
        for bad in ["", "3", "0/s", "3/0s", "3/2d", "x/s", "3/25h"] {
            assert!(rate(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_so_no_window_holds_more_than_the_budget() {
        let budget = Budget::new("2/s".parse().expect("rate"));
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            budget.acquire().await;
            at.push((Instant::now() - start).as_millis());
        }
        assert_eq!(at, [0, 600, 1200, 1800, 2400]);
    }
}
