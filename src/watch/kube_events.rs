//! Kubernetes Events (`events.k8s.io/v1`) of `watch` in a cluster: drift detected,
//! applied, apply failed, reconcile failed, leadership gained or lost, each regarding
//! this replica's Pod (the downward API's `POD_NAME` / `POD_NAMESPACE`), so
//! `kubectl describe pod` and `kubectl get events` show them. The same drift is posted
//! once, again when it changes or after the repeat period (as notifications). Posting
//! runs in a background task with a bounded queue and a timeout: a reconcile never waits.

use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as KubeEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use tokio::sync::mpsc;

use super::notify::event::{self, Dedupe, Event, Kind};
use super::report::{Observer, ReconcileReport};

/// The `reportingController` of every Event.
pub const CONTROLLER: &str = "apigsync.io/watch";
/// Events waiting to be posted at most; more are dropped.
const QUEUE: usize = 64;
/// The bound of one post.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The API server's limit on `note`.
const NOTE_BYTES: usize = 1024;

/// The Pod the Events regard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
}

/// Posts Events about this replica's Pod.
pub struct EventsPoster {
    dedupe: Mutex<Dedupe>,
    queue: mpsc::Sender<Event>,
    identity: String,
}

impl EventsPoster {
    /// A poster through `client` about `pod`; starts its background task.
    pub fn start(client: kube::Client, pod: Pod, repeat: Duration) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        let identity = pod.name.clone();
        tokio::spawn(post_all(client, pod, rx));
        Self {
            dedupe: Mutex::new(Dedupe::new(repeat)),
            queue,
            identity,
        }
    }

    fn send(&self, event: Event) {
        if self.queue.try_send(event).is_err() {
            tracing::warn!("Kubernetes Event dropped: the queue is full");
        }
    }
}

impl Observer for EventsPoster {
    fn reconciled(&self, report: &ReconcileReport) {
        for event in event::admitted(&self.dedupe, report) {
            self.send(event);
        }
    }

    fn leadership(&self, leading: bool) {
        self.send(Event::leadership(leading, &self.identity));
    }
}

async fn post_all(client: kube::Client, pod: Pod, mut rx: mpsc::Receiver<Event>) {
    let api: Api<KubeEvent> = Api::namespaced(client, &pod.namespace);
    while let Some(e) = rx.recv().await {
        let body = to_kube(&e, &pod, jiff::Timestamp::now());
        let params = PostParams::default();
        match tokio::time::timeout(TIMEOUT, api.create(&params, &body)).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::warn!(%err, reason = reason(e.kind), "cannot post a Kubernetes Event")
            }
            Err(_) => tracing::warn!(
                reason = reason(e.kind),
                "no answer to a Kubernetes Event post"
            ),
        }
    }
}

/// The Event's `reason` (UpperCamelCase, as Kubernetes reasons are).
fn reason(kind: Kind) -> &'static str {
    match kind {
        Kind::DriftDetected => "DriftDetected",
        Kind::ApplySucceeded => "Applied",
        Kind::ApplyFailed => "ApplyFailed",
        Kind::ReconcileFailed => "ReconcileFailed",
        Kind::LeadershipGained => "LeadershipGained",
        Kind::LeadershipLost => "LeadershipLost",
    }
}

/// `e` as an `events.k8s.io/v1` Event regarding `pod`, at `now`.
pub fn to_kube(e: &Event, pod: &Pod, now: jiff::Timestamp) -> KubeEvent {
    let (action, warning) = match e.kind {
        Kind::DriftDetected => ("Reconcile", true),
        Kind::ReconcileFailed => ("Reconcile", true),
        Kind::ApplySucceeded => ("Apply", false),
        Kind::ApplyFailed => ("Apply", true),
        Kind::LeadershipGained | Kind::LeadershipLost => ("LeaderElection", false),
    };
    KubeEvent {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.", pod.name)),
            namespace: Some(pod.namespace.clone()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(now)),
        action: Some(action.to_owned()),
        reason: Some(reason(e.kind).to_owned()),
        type_: Some(if warning { "Warning" } else { "Normal" }.to_owned()),
        note: Some(note(e)),
        reporting_controller: Some(CONTROLLER.to_owned()),
        reporting_instance: Some(pod.name.clone()),
        regarding: Some(ObjectReference {
            api_version: Some("v1".to_owned()),
            kind: Some("Pod".to_owned()),
            name: Some(pod.name.clone()),
            namespace: Some(pod.namespace.clone()),
            ..ObjectReference::default()
        }),
        ..KubeEvent::default()
    }
}

/// The summary and the changed fields, within the API server's 1 kB.
fn note(e: &Event) -> String {
    let mut text = e.summary();
    for change in &e.changes {
        for f in &change.fields {
            text.push_str(&format!(
                "; {} {}: {} -> {}",
                change.plugin, f.path, f.old, f.new
            ));
        }
    }
    for failure in &e.failures {
        text.push_str(&format!(
            "; {}: {}",
            failure.change.operation, failure.error
        ));
    }
    if let Some(error) = &e.error {
        text.push_str(&format!(": {error}"));
    }
    if text.len() > NOTE_BYTES {
        let mut cut = NOTE_BYTES - 3;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}
