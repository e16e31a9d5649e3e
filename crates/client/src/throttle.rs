//! Adaptive concurrency and pacing for the one send path: a slow-down answer of
//! the gateway (429 / APIGW.0308, APIG.9008, APIG.3500) is a signal, not a failure.
//!
//! - One cut per window: a signal cuts at most once per congestion window, i.e. only a
//!   request started after the last cut can cause the next one (TCP's one reduction
//!   per round trip); the signals of requests already in flight at a cut are counted,
//!   not cut for again.
//! - The cut is proportional to the signal, as DCTCP's (RFC 8257): it keeps
//!   `1 − share/2` of the window and of the rate, where `share` is the part of the
//!   answers since the last cut that were slow-downs. A gateway that throttles every
//!   request halves them; one that throttles one answer in fourteen takes 4% off.
//! - In flight: at most `limit` requests, `1 ≤ limit ≤ ceiling` (`--parallelism`).
//!   A cut applies to the window, not to what happened to be in flight: an apply
//!   waiting on a chain of dependencies with one request out must not fall to one
//!   slot for a single refusal (it used to, and 7% of refused answers cost 7×).
//!   Each accepted request adds `1/limit` (one more per window, as TCP does).
//! - Pacing answers a rate limit, not a gateway shedding a small share of its load:
//!   it starts only on evidence of saturation, a cut when at least [`PACE_SHARE`] of
//!   the last [`RECENT`] answers (at least [`RECENT_MIN`] of them) were throttled
//!   (above a token bucket's rate most answers are refusals; a gateway that sheds 7%
//!   at random only gets window cuts of about 4%, which the next accepted answers
//!   give back). Then the client spaces request starts
//!   at the rate the gateway accepted over the last seconds (less the cut); each
//!   accepted request adds 0.5 requests/s while the rate is below what the gateway
//!   accepted before the last cut (recovery within seconds), 0.1 requests/s above it (probing by about 10%
//!   a second). When the first signal comes before there is anything to measure
//!   (a gateway whose budget another client spent), pacing starts at one request a
//!   second and grows by half each second ("slow start") until the next signal. A hard
//!   limit converges: above it most answers are slow-downs and each window halves the rate.
//!   Ten quiet seconds end the throttled episode (a line on stderr),
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
/// No signal for this long ends a throttled episode.
const QUIET: Duration = Duration::from_secs(10);
/// Pacing stops when the rate grows beyond this (requests/s).
const UNPACED: f64 = 1000.0;
/// What each accepted request adds to the paced rate above the last cut's rate (requests/s).
const RATE_STEP: f64 = 0.1;
/// What each accepted request adds to the paced rate below the last cut's rate.
const RECOVERY_STEP: f64 = 0.5;
/// The shortest history a rate is measured over: a signal in the first second
/// measures what was accepted until then, not a second's worth.
const MIN_SPAN: Duration = Duration::from_millis(100);
/// Fewer accepted requests than this in the window measure nothing.
const MIN_SAMPLES: usize = 4;
/// The rate pacing starts at when there is nothing to measure.
const START_RATE: f64 = 1.0;
/// What each accepted request adds to the rate during slow start.
const SLOW_START_STEP: f64 = 0.5;
/// Pacing starts only when at least this share of the [`RECENT`] answers were throttled.
const PACE_SHARE: f64 = 0.3;
/// How many of the last answers tell a rate limit from shedding.
const RECENT: usize = 32;
/// Fewer answers than this tell nothing.
const RECENT_MIN: usize = 8;

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
    /// Sequence number of the next request to start.
    next_seq: u64,
    /// Requests numbered below this started before the last cut.
    cut_at: u64,
    /// Answers since the last cut: accepted, and slow-downs.
    since_cut: (u32, u32),
    /// Whether each of the last [`RECENT`] answers was throttled, oldest first.
    recent: VecDeque<bool>,
    /// The rate the gateway accepted before the last cut: recovery grows fast up to it.
    recover_to: Option<f64>,
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
    /// The request's start sequence number.
    seq: u64,
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
                next_seq: 0,
                cut_at: 0,
                since_cut: (0, 0),
                recent: VecDeque::new(),
                recover_to: None,
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
                    let seq = s.next_seq;
                    s.next_seq += 1;
                    return Slot {
                        throttle: self,
                        seq,
                    };
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

    /// Whether the client's recent answers show a rate limit rather than shedding:
    /// at least [`PACE_SHARE`] of the last [`RECENT`] throttled.
    pub fn saturated(&self) -> bool {
        self.lock().saturated()
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

    /// The rate the gateway accepted over the last [`WINDOW`] (at least [`MIN_SPAN`] of
    /// history), or `None` with too few accepted requests to tell.
    fn measured_rate(&mut self, now: Instant) -> Option<f64> {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            self.accepted.pop_front();
        }
        let span = now.duration_since(self.created).clamp(MIN_SPAN, WINDOW);
        (self.accepted.len() >= MIN_SAMPLES)
            .then(|| self.accepted.len() as f64 / span.as_secs_f64())
    }

    fn accepted(&mut self, now: Instant) {
        self.accepted.push_back(now);
        if self.accepted.len() > 10_000 {
            self.accepted.pop_front();
        }
        self.since_cut.0 = self.since_cut.0.saturating_add(1);
        self.remember(false);
        self.limit = (self.limit + 1.0 / self.limit).min(self.ceiling as f64);
        if let Some(rate) = self.rate {
            let recovering = self.recover_to.is_some_and(|r| rate < r);
            let rate = rate
                + if self.slow_start {
                    SLOW_START_STEP
                } else if recovering {
                    RECOVERY_STEP
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

    /// The share of the answers since the last cut that were slow-downs (1 with none).
    fn share(&self) -> f64 {
        let (accepted, slowed) = self.since_cut;
        let answers = f64::from(accepted) + f64::from(slowed);
        if answers == 0.0 {
            1.0
        } else {
            f64::from(slowed) / answers
        }
    }

    /// The share of the window and rate a cut keeps now: `1 − share/2` (DCTCP).
    fn keep(&self) -> f64 {
        1.0 - self.share() / 2.0
    }

    /// Records whether an answer was throttled among the last [`RECENT`].
    fn remember(&mut self, throttled: bool) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(throttled);
    }

    /// Whether the last answers show a rate limit rather than shedding (see the
    /// module documentation).
    fn saturated(&self) -> bool {
        let throttled = self.recent.iter().filter(|t| **t).count();
        self.recent.len() >= RECENT_MIN && throttled as f64 >= PACE_SHARE * self.recent.len() as f64
    }

    fn slow_down(&mut self, signal: Signal, seq: u64, now: Instant) {
        self.signals += 1;
        self.last_signal = Some(now);
        self.since_cut.1 = self.since_cut.1.saturating_add(1);
        self.remember(signal == Signal::Throttled);
        if seq < self.cut_at {
            // Started before the last cut: the same window, already cut for.
            return;
        }
        let keep = self.keep();
        let pace = signal == Signal::Throttled && (self.rate.is_some() || self.saturated());
        self.cut_at = self.next_seq;
        self.since_cut = (0, 0);
        self.limit = (self.limit * keep).max(1.0);
        if pace {
            let rate = match self.rate {
                Some(rate) => {
                    self.slow_start = false;
                    // Back fast to what the gateway accepted, not to the rate it refused.
                    let accepted = self.measured_rate(now).map_or(rate, |m| m.min(rate));
                    self.recover_to = Some(accepted);
                    rate * keep
                }
                None => match self.measured_rate(now) {
                    Some(measured) => {
                        self.recover_to = Some(measured);
                        measured * keep
                    }
                    None => {
                        self.slow_start = true;
                        START_RATE
                    }
                },
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
            Signal::Throttled | Signal::Conflict => s.slow_down(signal, self.seq, now),
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
    async fn a_cut_is_proportional_to_the_share_of_slow_downs_and_once_per_window() {
        let t = Throttle::new(8);
        for _ in 0..13 {
            tokio::time::advance(Duration::from_millis(100)).await;
            t.acquire().await.finish(Signal::Accepted);
        }
        let mut window = futures_in_flight(&t, 8).await.into_iter();
        window.next().unwrap().finish(Signal::Throttled);
        // 1 slow-down in 14 answers keeps 1 - 1/28 of the 8 in flight (7.71): a light
        // share is shedding, not a rate limit, so nothing is paced.
        let snap = t.snapshot();
        assert_eq!(snap.limit, 7);
        assert_eq!(snap.rate, None);
        // Another answer of the same window: counted, not cut for again.
        window.next().unwrap().finish(Signal::Throttled);
        assert_eq!(t.snapshot().limit, 7);
        drop(window);
        // Requests started after the cut: each throttled answer cuts again (the first
        // of them, 1 of 1 since the cut, halves the window: 7.71 to 3.86), and pacing starts once 30%
        // of the last answers were throttled: at the 6th of 19 (5 of 18 is 28%), at the
        // accepted rate, 13 in 1.3 s = 10/s, halved by the cut.
        t.acquire().await.finish(Signal::Throttled);
        assert_eq!(t.snapshot().limit, 3);
        for _ in 0..2 {
            t.acquire().await.finish(Signal::Throttled);
            assert_eq!(t.snapshot().rate, None);
        }
        t.acquire().await.finish(Signal::Throttled);
        let rate = t.snapshot().rate.expect("pacing");
        assert!((rate - 5.0).abs() < 1e-4, "{rate}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_gateway_refusing_one_answer_in_three_is_paced_once_eight_answers_tell() {
        let t = Throttle::new(8);
        for round in 0..5 {
            for _ in 0..2 {
                tokio::time::advance(Duration::from_millis(100)).await;
                t.acquire().await.finish(Signal::Accepted);
            }
            t.acquire().await.finish(Signal::Throttled);
            assert_eq!(t.snapshot().rate.is_some(), round >= 2, "round {round}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_gateway_shedding_one_answer_in_four_is_never_paced() {
        let t = Throttle::new(8);
        for _ in 0..20 {
            for _ in 0..3 {
                tokio::time::advance(Duration::from_millis(100)).await;
                t.acquire().await.finish(Signal::Accepted);
            }
            t.acquire().await.finish(Signal::Throttled);
        }
        let snap = t.snapshot();
        assert_eq!(snap.rate, None, "{snap:?}");
        assert_eq!(snap.signals, 20);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_cut_the_rate_climbs_back_fast_then_probes_slowly() {
        let t = Throttle::new(8);
        {
            let mut s = t.lock();
            s.rate = Some(10.0);
            s.since_cut = (9, 0);
        }
        t.acquire().await.finish(Signal::Throttled);
        // 1 in 10: keeps 95%.
        assert!((t.snapshot().rate.unwrap() - 9.5).abs() < 1e-9);
        let mut rates = Vec::new();
        for _ in 0..3 {
            t.acquire().await.finish(Signal::Accepted);
            rates.push((t.snapshot().rate.unwrap() * 100.0).round() / 100.0);
        }
        assert_eq!(rates, [10.0, 10.1, 10.2]);
    }

    /// One answer in fourteen throttled (a gateway throttling ~7% of calls whatever the
    /// rate), 8 workers, 10 ms answers, 140 operations each retried until accepted: the
    /// window and the rate keep most of what the gateway accepted (the limit used to fall
    /// to one in flight and the rate to a crawl).
    #[tokio::test(start_paused = true)]
    async fn a_gateway_throttling_one_answer_in_fourteen_keeps_most_of_the_pace() {
        let start = tokio::time::Instant::now();
        let t = std::sync::Arc::new(Throttle::new(8));
        let counter = std::sync::Arc::new(Mutex::new((0_u32, 0_u32)));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (t, counter) = (t.clone(), counter.clone());
            workers.spawn(async move {
                loop {
                    {
                        let c = counter.lock().unwrap();
                        if c.1 >= 140 {
                            return;
                        }
                    }
                    let slot = t.acquire().await;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    let throttled = {
                        let mut c = counter.lock().unwrap();
                        c.0 += 1;
                        let throttled = c.0 % 14 == 0;
                        if !throttled {
                            c.1 += 1;
                        }
                        throttled
                    };
                    slot.finish(if throttled {
                        Signal::Throttled
                    } else {
                        Signal::Accepted
                    });
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let snap = t.snapshot();
        assert_eq!(snap.rate, None, "{snap:?}");
        // 150 answers of 10 ms, 8 at a time, take at least 188 ms.
        assert!(
            tokio::time::Instant::now().duration_since(start) <= Duration::from_millis(250),
            "{snap:?}"
        );
    }

    /// A gateway that accepts 2 requests a second (a token bucket of 2) and answers in
    /// 20 ms, called by 8 workers: the paced rate settles near 2/s and most answers are accepted.
    #[tokio::test(start_paused = true)]
    async fn a_hard_limit_of_2_per_second_converges() {
        struct Bucket {
            tokens: f64,
            at: Instant,
        }
        let t = std::sync::Arc::new(Throttle::new(8));
        let bucket = std::sync::Arc::new(Mutex::new(Bucket {
            tokens: 2.0,
            at: Instant::now(),
        }));
        let answers = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (t, bucket, answers) = (t.clone(), bucket.clone(), answers.clone());
            workers.spawn(async move {
                while answers.lock().unwrap().len() < 300 {
                    let slot = t.acquire().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let accepted = {
                        let mut b = bucket.lock().unwrap();
                        let now = Instant::now();
                        b.tokens = (b.tokens + 2.0 * (now - b.at).as_secs_f64()).min(2.0);
                        b.at = now;
                        let ok = b.tokens >= 1.0;
                        if ok {
                            b.tokens -= 1.0;
                        }
                        ok
                    };
                    answers.lock().unwrap().push(accepted);
                    slot.finish(if accepted {
                        Signal::Accepted
                    } else {
                        Signal::Throttled
                    });
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let answers = answers.lock().unwrap();
        let late = &answers[answers.len() - 100..];
        let accepted = late.iter().filter(|a| **a).count();
        assert!(accepted >= 70, "{accepted} of the last 100 accepted");
        let rate = t.snapshot().rate.expect("pacing");
        assert!((1.0..=3.5).contains(&rate), "{rate}");
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
        // Fewer than eight answers tell nothing; eight refusals in a row are a rate limit.
        for _ in 0..7 {
            t.acquire().await.finish(Signal::Throttled);
            assert_eq!(t.snapshot().rate, None);
        }
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
        // The window of 8 is halved, whatever was in flight.
        let snap = t.snapshot();
        assert_eq!(snap.limit, 4);
        assert_eq!(snap.rate, None);
    }
}
