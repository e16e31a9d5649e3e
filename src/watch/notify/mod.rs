//! `watch --notify URL`: events (drift detected, apply succeeded or failed, reconcile
//! failed, leadership gained or lost) posted as CloudEvents 1.0 (structured JSON), or as
//! a Slack message to a `slack+https://…` URL. The same drift is sent once, again only
//! when it changes or after `--notify-repeat`. Delivery runs in a background task with
//! a bounded queue and retries with back-off: a reconcile never waits for it. Every
//! delivery is counted in `apigsync_notifications_total{result}`.

mod body;
pub mod event;

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::mpsc;

use super::metrics::ResultLabel;
use super::report::{Observer, ReconcileReport};
use event::{Dedupe, Event};

/// Events waiting for delivery at most; more are dropped (and counted).
const QUEUE: usize = 256;
/// Tries of one delivery.
const ATTEMPTS: u32 = 5;
/// The first wait between tries; doubled after each.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The bound of one try.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// A CloudEvents 1.0 receiver (structured mode).
    CloudEvents(String),
    /// A Slack incoming webhook (`slack+https://…` on the command line).
    Slack(String),
}

impl Sink {
    /// Parses a `--notify` value: an http(s) URL, or `slack+https://…`.
    pub fn parse(text: &str) -> Result<Sink, String> {
        let (slack, url) = match text.strip_prefix("slack+") {
            Some(url) => (true, url),
            None => (false, text),
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "{text:?} is not an http(s) URL (a Slack webhook is written slack+https://…)"
            ));
        }
        reqwest::Url::parse(url).map_err(|e| format!("{text:?}: {e}"))?;
        Ok(if slack {
            Sink::Slack(url.to_owned())
        } else {
            Sink::CloudEvents(url.to_owned())
        })
    }

    fn url(&self) -> &str {
        match self {
            Sink::CloudEvents(url) | Sink::Slack(url) => url,
        }
    }
}

/// The results a delivery is counted under (every one exported from start).
pub const RESULTS: [&str; 3] = ["sent", "failed", "dropped"];

/// Turns reports into events and queues them for delivery.
pub struct Notifier {
    dedupe: Mutex<Dedupe>,
    queue: mpsc::Sender<Event>,
    counts: Family<ResultLabel, Counter>,
    identity: String,
}

impl Notifier {
    /// A notifier posting to `sinks`, counting into `counts`, as replica `identity`;
    /// starts its delivery task.
    pub fn start(
        sinks: Vec<Sink>,
        repeat: Duration,
        identity: String,
        counts: Family<ResultLabel, Counter>,
    ) -> Notifier {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(deliver(rx, sinks, identity.clone(), counts.clone()));
        Notifier {
            dedupe: Mutex::new(Dedupe::new(repeat)),
            queue,
            counts,
            identity,
        }
    }

    fn send(&self, event: Event) {
        if self.queue.try_send(event).is_err() {
            count(&self.counts, "dropped");
            tracing::warn!("notification dropped: the delivery queue is full");
        }
    }
}

impl Observer for Notifier {
    fn reconciled(&self, report: &ReconcileReport) {
        for event in event::admitted(&self.dedupe, report) {
            self.send(event);
        }
    }

    fn leadership(&self, leading: bool) {
        self.send(Event::leadership(leading, &self.identity));
    }
}

fn count(counts: &Family<ResultLabel, Counter>, result: &str) {
    counts
        .get_or_create(&ResultLabel {
            result: result.into(),
        })
        .inc();
}

/// Delivers queued events to every sink, in order, each with retries.
async fn deliver(
    mut rx: mpsc::Receiver<Event>,
    sinks: Vec<Sink>,
    identity: String,
    counts: Family<ResultLabel, Counter>,
) {
    crate::api::install_tls_provider();
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(%err, "notifications disabled: cannot build an HTTP client");
            return;
        }
    };
    let source = format!("/apigsync/watch/{identity}");
    while let Some(event) = rx.recv().await {
        for sink in &sinks {
            let request = match sink {
                Sink::CloudEvents(url) => client
                    .post(url)
                    .header("content-type", "application/cloudevents+json")
                    .body(body::cloudevent(&event, &source).to_string()),
                Sink::Slack(url) => client.post(url).json(&body::slack(&event)),
            };
            let result = post(request, sink).await;
            count(&counts, if result { "sent" } else { "failed" });
        }
    }
}

/// Sends `request`, retrying with back-off; whether a 2xx answer came.
async fn post(request: reqwest::RequestBuilder, sink: &Sink) -> bool {
    let mut wait = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let Some(req) = request.try_clone() else {
            return false;
        };
        let error = match req.send().await {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.without_url().to_string(),
        };
        // The URL may hold a token (a Slack webhook): name only its host.
        let host = reqwest::Url::parse(sink.url())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        tracing::warn!(%host, attempt, %error, "notification not delivered");
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_urls_are_cloudevents_or_slack() {
        assert_eq!(
            Sink::parse("https://hooks.example/ce"),
            Ok(Sink::CloudEvents("https://hooks.example/ce".into()))
        );
        assert_eq!(
            Sink::parse("slack+https://hooks.slack.com/services/T/B/x"),
            Ok(Sink::Slack("https://hooks.slack.com/services/T/B/x".into()))
        );
        assert!(Sink::parse("ftp://x").is_err());
    }
}
