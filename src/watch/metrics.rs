//! The Prometheus metrics of watch mode, exposed on `/metrics`.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::report::{Outcome, ReconcileReport};

/// Labels of a reconcile: its result (`success`, `failure`, `invalid_source`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// The outcome.
    pub result: String,
}

/// Labels of the build: `apigsync_build_info{version,commit} 1`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// The crate version.
    pub version: String,
    /// The git commit it was built from.
    pub commit: String,
}

/// The results of a reconcile, each exported from start (at 0), so a rate or an alert
/// on any of them has a series before it first happens.
pub const RECONCILE_RESULTS: [&str; 4] = ["success", "failure", "invalid_source", "standby"];

/// The outcomes `apigsync_last_reconcile{outcome}` shows, 1 on the last one.
pub const OUTCOMES: [Outcome; 6] = [
    Outcome::InSync,
    Outcome::Applied,
    Outcome::Reported,
    Outcome::Standby,
    Outcome::ApplyFailed,
    Outcome::Failed,
];

/// Labels of the last reconcile's outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `in_sync`, `applied`, `reported`, `standby`, `apply_failed`, `failed`.
    pub outcome: String,
}

/// The series of the process, not of one target: the build, and notifications.
#[derive(Debug, Clone)]
pub struct ProcessMetrics {
    /// 1, labelled with the version and commit.
    pub build_info: Family<BuildLabels, Gauge>,
    /// Notifications by result: `sent`, `failed`, `dropped`.
    pub notifications: Family<ResultLabel, Counter>,
}

impl Default for ProcessMetrics {
    fn default() -> Self {
        let m = Self {
            build_info: Family::default(),
            notifications: Family::default(),
        };
        m.build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").into(),
                commit: env!("APIGSYNC_COMMIT").into(),
            })
            .set(1);
        for result in super::notify::RESULTS {
            drop(m.notifications.get_or_create(&ResultLabel {
                result: result.into(),
            }));
        }
        m
    }
}

impl ProcessMetrics {
    fn encode(&self) -> String {
        let mut r = Registry::with_prefix("apigsync");
        r.register(
            "build_info",
            "The version and commit of this binary",
            self.build_info.clone(),
        );
        r.register(
            "notifications",
            "Notifications (--notify) by result: sent, failed after retries, dropped (queue full)",
            self.notifications.clone(),
        );
        encode(&r)
    }
}

/// Labels of an executed operation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `create`, `update`, `delete`, `attach`, `detach`.
    pub kind: String,
    /// `done`, `failed`, `not_attempted`.
    pub result: String,
}

/// Labels of an API request's duration.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The API operation, e.g. `list_plugins`.
    pub operation: String,
}

/// A histogram of request durations: 10 ms to 41 s (a request's timeout is 30 s).
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

/// Labels of an API call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiCallLabels {
    /// The API operation, e.g. `list_plugins`.
    pub operation: String,
    /// The HTTP status, or `error` for a transport failure.
    pub status: String,
}

/// Every series watch mode exports. Cheap to clone (the metrics are shared handles).
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Reconciles by result.
    pub reconciles: Family<ResultLabel, Counter>,
    /// Reconcile duration in seconds.
    pub reconcile_duration: Histogram,
    /// Operations applied by kind and result.
    pub operations: Family<OperationLabels, Counter>,
    /// Reconciles that found the gateway changed since the last apply (operations of cause
    /// drift or both); changes that only come from the files do not count.
    pub drift_detected: Counter,
    /// API calls by operation and status.
    pub api_calls: Family<ApiCallLabels, Counter>,
    /// API call retries.
    pub api_retries: Counter,
    /// Duration of each API request attempt, by operation.
    pub api_request_duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
    /// Unix time of the last successful reconcile.
    pub last_success: Gauge<f64, AtomicU64>,
    /// Plug-ins declared in the files.
    pub desired_plugins: Gauge,
    /// Managed plug-ins found live.
    pub managed_plugins: Gauge,
    /// 1 when the last read of the manifest folder was valid.
    pub source_valid: Gauge,
    /// 1 while this replica leads (always 1 without leader election), 0 on standby.
    pub leader: Gauge,
    /// Seconds since the oldest part of the view of the gateway was read, as of each
    /// scrape ([`Metrics::set_oldest_read`]): how long a console edit can have gone unseen.
    pub oldest_read: Gauge<f64, AtomicU64>,
    /// When the oldest part of the view was read.
    oldest_read_at: Arc<Mutex<Option<Instant>>>,
    /// Plug-ins drifted at the last reconcile (changed on the gateway since the last apply).
    pub drifted_plugins: Gauge,
    /// Operations found and not applied at the last reconcile (by the sync mode, or not
    /// attempted).
    pub pending_operations: Gauge,
    /// 1 on the outcome of the last reconcile, 0 on the others.
    pub last_reconcile: Family<OutcomeLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Self {
            reconciles: Family::default(),
            // 5 ms to 655 s: a reconcile may retry slow-down answers for 10 minutes.
            reconcile_duration: Histogram::new(exponential_buckets(0.005, 2.0, 18)),
            operations: Family::default(),
            drift_detected: Counter::default(),
            api_calls: Family::default(),
            api_retries: Counter::default(),
            api_request_duration: Family::new_with_constructor(request_histogram),
            last_success: Gauge::default(),
            desired_plugins: Gauge::default(),
            managed_plugins: Gauge::default(),
            source_valid: Gauge::default(),
            leader: Gauge::default(),
            oldest_read: Gauge::default(),
            oldest_read_at: Arc::default(),
            drifted_plugins: Gauge::default(),
            pending_operations: Gauge::default(),
            last_reconcile: Family::default(),
        };
        for result in RECONCILE_RESULTS {
            drop(m.reconciles.get_or_create(&ResultLabel {
                result: result.into(),
            }));
        }
        for outcome in OUTCOMES {
            drop(m.last_reconcile.get_or_create(&OutcomeLabel {
                outcome: outcome.as_str().into(),
            }));
        }
        m
    }
}

impl Metrics {
    /// The oldest part of the view was read `at`: `oldest_read_seconds` counts from it,
    /// brought up to date at each scrape.
    pub fn set_oldest_read(&self, at: Instant) {
        *self
            .oldest_read_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(at);
        self.oldest_read.set(at.elapsed().as_secs_f64());
    }

    /// Brings `oldest_read_seconds` up to now.
    fn refresh_oldest_read(&self) {
        let at = *self
            .oldest_read_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = at {
            self.oldest_read.set(at.elapsed().as_secs_f64());
        }
    }

    /// A registry holding every series under the `apigsync_` prefix.
    pub fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("apigsync");
        self.register(&mut r);
        r
    }

    /// Registers every series in `r`.
    fn register(&self, r: &mut Registry) {
        self.refresh_oldest_read();
        r.register(
            "reconciles",
            "Reconciles by result",
            self.reconciles.clone(),
        );
        r.register(
            "reconcile_duration_seconds",
            "Duration of a reconcile",
            self.reconcile_duration.clone(),
        );
        r.register(
            "operations",
            "Operations applied, by kind and result",
            self.operations.clone(),
        );
        r.register(
            "drift_detected",
            "Reconciles that found the gateway changed since the last apply (drift)",
            self.drift_detected.clone(),
        );
        r.register(
            "api_calls",
            "API calls by operation and status",
            self.api_calls.clone(),
        );
        r.register("api_retries", "API call retries", self.api_retries.clone());
        r.register(
            "oldest_read_seconds",
            "Seconds since the oldest part of the view of the gateway was read (a rolling scan reads it in parts): how long a console edit can have gone unseen",
            self.oldest_read.clone(),
        );
        r.register(
            "api_request_duration_seconds",
            "Duration of each API request attempt, by operation",
            self.api_request_duration.clone(),
        );
        r.register(
            "last_success_timestamp_seconds",
            "Unix time of the last successful reconcile",
            self.last_success.clone(),
        );
        r.register(
            "desired_plugins",
            "Plug-ins declared in the manifest folder",
            self.desired_plugins.clone(),
        );
        r.register(
            "managed_plugins",
            "Managed plug-ins found on the gateway",
            self.managed_plugins.clone(),
        );
        r.register(
            "source_valid",
            "1 when the manifest folder was valid at the last read",
            self.source_valid.clone(),
        );
        r.register(
            "leader",
            "1 while this replica leads and may write, 0 on standby",
            self.leader.clone(),
        );
        r.register(
            "drifted_plugins",
            "Plug-ins changed on the gateway since the last apply, at the last reconcile",
            self.drifted_plugins.clone(),
        );
        r.register(
            "pending_operations",
            "Operations found and not applied at the last reconcile",
            self.pending_operations.clone(),
        );
        r.register(
            "last_reconcile",
            "1 on the outcome of the last reconcile, 0 on the others",
            self.last_reconcile.clone(),
        );
    }

    /// A client observer that feeds the request duration histogram.
    pub fn call_observer(&self) -> crate::api::CallObserver {
        let durations = self.api_request_duration.clone();
        std::sync::Arc::new(move |operation, _status, took| {
            durations
                .get_or_create(&RequestLabels {
                    operation: operation.to_owned(),
                })
                .observe(took.as_secs_f64());
        })
    }

    /// Sets the gauges of the last reconcile from its report.
    pub fn observe(&self, report: &ReconcileReport) {
        if report.outcome != Outcome::Standby {
            self.drifted_plugins
                .set(report.drifted_plugins().len() as i64);
            self.pending_operations.set(report.pending.len() as i64);
        }
        for outcome in OUTCOMES {
            self.last_reconcile
                .get_or_create(&OutcomeLabel {
                    outcome: outcome.as_str().into(),
                })
                .set(i64::from(outcome == report.outcome));
        }
    }

    /// The text exposition of every series.
    pub fn encode(&self) -> String {
        encode(&self.registry())
    }
}

/// The text exposition of the series of several targets: each series labelled with
/// `target="NAME"` (a target without a name, the single `target:`, adds no label), each
/// metric family described once with the samples of every target under it.
pub fn encode_targets<'a>(
    targets: impl IntoIterator<Item = (Option<&'a str>, &'a Metrics)>,
) -> String {
    encode_all(None, targets)
}

/// [`encode_targets`], after the process's own series (when given).
pub fn encode_all<'a>(
    process: Option<&ProcessMetrics>,
    targets: impl IntoIterator<Item = (Option<&'a str>, &'a Metrics)>,
) -> String {
    let texts = targets.into_iter().map(|(name, metrics)| {
        let mut r = Registry::with_prefix("apigsync");
        match name {
            Some(name) => metrics
                .register(r.sub_registry_with_label(("target".into(), name.to_owned().into()))),
            None => metrics.register(&mut r),
        }
        encode(&r)
    });
    merge_families(process.map(ProcessMetrics::encode).into_iter().chain(texts))
}

/// Several expositions of the same families as one: each family's `# HELP`/`# TYPE`
/// lines once (from its first appearance), then the samples of every exposition.
fn merge_families(texts: impl IntoIterator<Item = String>) -> String {
    let mut order: Vec<String> = Vec::new();
    let mut families: std::collections::HashMap<String, (String, String)> = Default::default();
    let mut described: std::collections::HashSet<String> = Default::default();
    for text in texts {
        let mut current: Option<String> = None;
        for line in text.lines().filter(|l| *l != "# EOF") {
            if let Some(rest) = line.strip_prefix("# ") {
                let name = rest.split(' ').nth(1).unwrap_or_default().to_owned();
                let (head, _) = families.entry(name.clone()).or_insert_with(|| {
                    order.push(name.clone());
                    Default::default()
                });
                if !described.contains(&name) {
                    head.push_str(line);
                    head.push('\n');
                }
                current = Some(name);
            } else if let Some((_, samples)) = current.as_ref().and_then(|c| families.get_mut(c)) {
                samples.push_str(line);
                samples.push('\n');
            }
        }
        described.extend(families.keys().cloned());
    }
    let mut out = String::new();
    for name in order {
        if let Some((head, samples)) = families.get(&name) {
            out.push_str(head);
            out.push_str(samples);
        }
    }
    out.push_str("# EOF\n");
    out
}

fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_of_each_target_carry_its_name() {
        let (staging, prod) = (Metrics::default(), Metrics::default());
        staging.desired_plugins.set(2);
        prod.desired_plugins.set(5);
        let text = encode_targets([(Some("staging"), &staging), (Some("prod"), &prod)]);
        assert!(
            text.contains("apigsync_desired_plugins{target=\"staging\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("apigsync_desired_plugins{target=\"prod\"} 5"),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE apigsync_desired_plugins gauge")
                .count(),
            1,
            "{text}"
        );
    }

    #[test]
    fn exposes_every_series_with_prefix() {
        let m = Metrics::default();
        m.reconciles
            .get_or_create(&ResultLabel {
                result: "success".into(),
            })
            .inc();
        m.desired_plugins.set(3);
        let text = m.encode();
        assert!(
            text.contains("apigsync_reconciles_total{result=\"success\"} 1"),
            "{text}"
        );
        assert!(text.contains("apigsync_desired_plugins 3"), "{text}");
        assert!(
            text.contains("apigsync_reconcile_duration_seconds_bucket"),
            "{text}"
        );
        assert!(
            text.contains("apigsync_last_success_timestamp_seconds"),
            "{text}"
        );
    }
}
