//! Adaptive concurrency and pacing for the one send path: a slow-down answer of
//! the gateway (429 / APIGW.0308, APIG.9008, APIG.3500) is a signal, not a failure.
//!
//! - In flight: at most `limit` requests, `1 ≤ limit ≤ ceiling` (`--parallelism`).
//!   A slow-down signal halves it (from what was actually in flight), each accepted
//!   request adds `1/limit` (AIMD, as TCP does with its window).
//! - Pacing: on the first throttle signal the client starts spacing request starts
//!   at the rate the gateway accepted over the last seconds; each later signal takes
//!   30% off (at most one decrease per second: one throttled burst is one signal);
//!   each accepted request adds 0.1 requests/s (so the rate probes upwards by about
//!   10% a second). When the first signal comes before there is anything to measure
//!   (a gateway whose budget another client spent), pacing starts at one request a
//!   second and grows by half each second ("slow start") until the next signal. Ten quiet seconds end the throttled episode (a line on stderr),
//!   and pacing stops once the rate has grown far beyond any gateway's limit.
//!
//! A conflict (APIG.3500, overlapping binding writes) shrinks the window but not the rate.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The slowest pace: one request every five seconds.
const MIN_RATE: f64 = 0.2;
/// Successes counted to measure the accepted rate.
const WINDOW: Duration = Duration::from_secs(5);
/// At most one decrease per this long (or per two paced intervals, if longer).
const DECREASE_GAP: Duration = Duration::from_secs(1);
/// No signal for this long ends a throttled episode.
const QUIET: Duration = Duration::from_secs(10);
/// Pacing stops when the rate grows beyond this (requests/s).
const UNPACED: f64 = 1000.0;
/// What each accepted request adds to the paced rate (requests/s).
const RATE_STEP: f64 = 0.1;
/// A decrease keeps this share of the rate.
const RATE_DECREASE: f64 = 0.7;
/// Fewer accepted requests than this in the window measure nothing.
const MIN_SAMPLES: usize = 4;
/// The rate pacing starts at when there is nothing to measure.
const START_RATE: f64 = 1.0;
/// What each accepted request adds to the rate during slow start.
const SLOW_START_STEP: f64 = 0.5;

/// What an attempt told about the gateway's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Accepted (whatever the status, the gateway took it in).
    Accepted,
    /// Refused for rate: 429 / APIGW.0308, APIG.9008.
    Throttled,
    /// Refused for overlapping writes: APIG.3500.
    Conflict,
}

/// The shared limiter of one client.
#[derive(Debug)]
pub(crate) struct Throttle {
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug)]
struct State {
    ceiling: usize,
    limit: f64,
    in_flight: usize,
    /// Requests per second while pacing.
    rate: Option<f64>,
    next_start: Instant,
    last_decrease: Option<Instant>,
    last_signal: Option<Instant>,
    /// True between the first signal of an episode and the quiet that ends it.
    episode: bool,
    /// Pacing started without a measurement and grows fast until the next signal.
    slow_start: bool,
    accepted: VecDeque<Instant>,
    created: Instant,
    signals: u64,
}

/// A slot in flight; dropping it frees the slot.
pub(crate) struct Slot<'a> {
    throttle: &'a Throttle,
}

/// A snapshot for statistics and logs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Snapshot {
    /// The current in-flight limit.
    pub limit: usize,
    /// The paced rate, when pacing.
    pub rate: Option<f64>,
    /// Slow-down signals received so far.
    pub signals: u64,
}

impl Throttle {
    /// A limiter that allows `ceiling` requests in flight and does not pace.
    pub fn new(ceiling: usize) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                ceiling: ceiling.max(1),
                limit: ceiling.max(1) as f64,
                in_flight: 0,
                rate: None,
                next_start: now,
                last_decrease: None,
                last_signal: None,
                episode: false,
                slow_start: false,
                accepted: VecDeque::new(),
                created: now,
                signals: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the ceiling (`--parallelism`); the current limit follows it down, and up
    /// when nothing has been throttled.
    pub fn set_ceiling(&self, ceiling: usize) {
        let mut s = self.lock();
        s.ceiling = ceiling.max(1);
        if s.signals == 0 || s.limit > s.ceiling as f64 {
            s.limit = s.ceiling as f64;
        }
        drop(s);
        self.freed.notify_waiters();
    }

    /// Waits for a slot: under the in-flight limit and, when pacing, at the next start time.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let freed = self.freed.notified();
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                if s.in_flight >= s.slots() {
                    None
                } else if now >= s.next_start || s.rate.is_none() {
                    s.in_flight += 1;
                    if let Some(rate) = s.rate {
                        let start = s.next_start.max(now);
                        s.next_start = start + Duration::from_secs_f64(1.0 / rate);
                    }
                    return Slot { throttle: self };
                } else {
                    Some(s.next_start)
                }
            };
            match wait {
                Some(at) => tokio::time::sleep_until(at).await,
                None => freed.await,
            }
        }
    }

    /// The current limit, rate and signal count.
    pub fn snapshot(&self) -> Snapshot {
        let s = self.lock();
        Snapshot {
            limit: s.slots(),
            rate: s.rate,
            signals: s.signals,
        }
    }
}

impl State {
    fn slots(&self) -> usize {
        (self.limit.floor() as usize).clamp(1, self.ceiling)
    }

    /// The rate the gateway accepted over the last [`WINDOW`] (at least a second of
    /// history), or `None` with too few accepted requests to tell.
    fn measured_rate(&mut self, now: Instant) -> Option<f64> {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            self.accepted.pop_front();
        }
        let span = now
            .duration_since(self.created)
            .clamp(Duration::from_secs(1), WINDOW);
        (self.accepted.len() >= MIN_SAMPLES)
            .then(|| self.accepted.len() as f64 / span.as_secs_f64())
    }

    fn accepted(&mut self, now: Instant) {
        self.accepted.push_back(now);
        if self.accepted.len() > 10_000 {
            self.accepted.pop_front();
        }
        self.limit = (self.limit + 1.0 / self.limit).min(self.ceiling as f64);
        if let Some(rate) = self.rate {
            let rate = rate
                + if self.slow_start {
                    SLOW_START_STEP
                } else {
                    RATE_STEP
                };
            self.rate = (rate < UNPACED).then_some(rate);
        }
        if self.episode
            && self
                .last_signal
                .is_some_and(|t| now.duration_since(t) >= QUIET)
        {
            self.episode = false;
            match self.rate {
                Some(rate) => tracing::warn!(
                    "the gateway stopped throttling; pacing at {rate:.1} requests/s, up to {} in flight",
                    self.slots()
                ),
                None => tracing::warn!("the gateway stopped throttling"),
            }
        }
    }

    fn slow_down(&mut self, signal: Signal, now: Instant) {
        self.signals += 1;
        self.last_signal = Some(now);
        let gap = self.rate.map_or(DECREASE_GAP, |r| {
            DECREASE_GAP.max(Duration::from_secs_f64(2.0 / r))
        });
        if self
            .last_decrease
            .is_some_and(|t| now.duration_since(t) < gap)
        {
            return;
        }
        self.last_decrease = Some(now);
        self.limit = (self.limit.min(self.in_flight as f64) / 2.0).max(1.0);
        if signal == Signal::Throttled {
            let measured = self.measured_rate(now);
            let rate = match (self.rate, measured) {
                (None, Some(measured)) => measured * 0.9,
                (None, None) => {
                    self.slow_start = true;
                    START_RATE
                }
                (Some(rate), Some(measured)) => {
                    self.slow_start = false;
                    (rate * RATE_DECREASE).min(measured.max(rate * 0.5))
                }
                (Some(rate), None) => {
                    self.slow_start = false;
                    rate * RATE_DECREASE
                }
            };
            self.rate = Some(rate.max(MIN_RATE));
        }
        let rate = self
            .rate
            .map_or_else(|| "unpaced".to_string(), |r| format!("{r:.1} requests/s"));
        if self.episode {
            tracing::info!(rate = %rate, in_flight = self.slots(), "the gateway is throttling: slowing down");
        } else {
            self.episode = true;
            let what = match signal {
                Signal::Conflict => "reports conflicting binding writes",
                _ => "is throttling requests",
            };
            tracing::warn!(
                "the gateway {what}: slowing down to {rate}, up to {} in flight",
                self.slots()
            );
        }
    }
}

impl Slot<'_> {
    /// Records what the attempt in this slot told, then frees the slot.
    pub fn finish(self, signal: Signal) {
        let now = Instant::now();
        let mut s = self.throttle.lock();
        match signal {
            Signal::Accepted => s.accepted(now),
            Signal::Throttled | Signal::Conflict => s.slow_down(signal, now),
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut s = self.throttle.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.throttle.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_throttle_signal_halves_the_window_and_paces_at_the_accepted_rate() {
        let t = Throttle::new(8);
        for _ in 0..4 {
            tokio::time::advance(Duration::from_millis(500)).await;
            t.acquire().await.finish(Signal::Accepted);
        }
        let slots: Vec<Slot<'_>> = futures_in_flight(&t, 8).await;
        let mut slots = slots.into_iter();
        if let Some(s) = slots.next() {
            s.finish(Signal::Throttled);
        }
        drop(slots);
        let snap = t.snapshot();
        assert_eq!(snap.limit, 4);
        let rate = snap.rate.expect("pacing");
        // Four accepted in two seconds: 2/s, less 10%.
        assert!((rate - 1.8).abs() < 0.01, "{rate}");
        // A second signal in the same second does not decrease again.
        t.acquire().await.finish(Signal::Throttled);
        assert_eq!(t.snapshot().rate, Some(rate));
    }

    async fn futures_in_flight(t: &Throttle, n: usize) -> Vec<Slot<'_>> {
        let mut slots = Vec::new();
        for _ in 0..n {
            slots.push(t.acquire().await);
        }
        slots
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_spaces_the_starts() {
        let t = Throttle::new(4);
        t.lock().rate = Some(2.0);
        let start = Instant::now();
        for _ in 0..5 {
            t.acquire().await.finish(Signal::Accepted);
        }
        // Five starts at about 2/s (each success adds 0.1/s): four gaps of just under half a second.
        assert!(Instant::now().duration_since(start) >= Duration::from_millis(1800));
    }

    #[tokio::test(start_paused = true)]
    async fn a_signal_before_anything_was_accepted_starts_slow_and_grows_fast() {
        let t = Throttle::new(8);
        t.acquire().await.finish(Signal::Throttled);
        assert_eq!(t.snapshot().rate, Some(START_RATE));
        for _ in 0..4 {
            t.acquire().await.finish(Signal::Accepted);
        }
        let rate = t.snapshot().rate.expect("pacing");
        assert!(
            (rate - (START_RATE + 4.0 * SLOW_START_STEP)).abs() < 1e-9,
            "{rate}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_conflict_shrinks_the_window_but_does_not_pace() {
        let t = Throttle::new(8);
        let slots = futures_in_flight(&t, 4).await;
        let mut slots = slots.into_iter();
        if let Some(s) = slots.next() {
            s.finish(Signal::Conflict);
        }
        let snap = t.snapshot();
        assert_eq!(snap.limit, 2);
        assert_eq!(snap.rate, None);
    }
}
