//! The watch-mode HTTP endpoints: `/metrics`, `/healthz`, `/readyz`, and the read-only
//! status page `/` and `/status.json` (GET only: there is no write path).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use super::metrics::{Metrics, ProcessMetrics};
use super::status::StatusStore;

/// Readiness: the last reconcile succeeded and the source is valid.
#[derive(Debug, Default)]
pub struct Health {
    not_ready: Mutex<Option<String>>,
}

impl Health {
    /// A health that starts not ready ("no reconcile yet").
    pub fn starting() -> Self {
        Self {
            not_ready: Mutex::new(Some("no reconcile has completed yet".into())),
        }
    }

    /// Marks ready.
    pub fn set_ready(&self) {
        *self.lock() = None;
    }

    /// Marks not ready, with the reason `/readyz` reports.
    pub fn set_not_ready(&self, reason: impl Into<String>) {
        *self.lock() = Some(reason.into());
    }

    /// `None` when ready, else why not.
    pub fn not_ready_reason(&self) -> Option<String> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // A poisoned lock only means a panic elsewhere; the value is still usable.
        self.not_ready.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One watched target's metrics and readiness.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Its name under `targets:`, `None` for the single `target:`.
    pub name: Option<String>,
    /// Its series.
    pub metrics: Metrics,
    /// Its readiness.
    pub health: Arc<Health>,
}

impl Watched {
    /// A target that has not reconciled yet.
    pub fn starting(name: Option<String>) -> Self {
        Self {
            name,
            metrics: Metrics::default(),
            health: Arc::new(Health::starting()),
        }
    }
}

/// What the endpoints expose: every watched target. Cheap to clone (shared); the
/// targets are known once apigsync.yaml is read, so they can be set after the
/// endpoints serve (until then: one target, not ready).
#[derive(Debug, Clone)]
pub struct Exposed {
    targets: Arc<RwLock<Vec<Watched>>>,
    /// The series of the process (build, notifications).
    pub process: ProcessMetrics,
    /// What the status page shows.
    pub status: StatusStore,
}

impl Exposed {
    /// Exposes `targets`.
    pub fn new(targets: Vec<Watched>) -> Self {
        Self {
            targets: Arc::new(RwLock::new(targets)),
            process: ProcessMetrics::default(),
            status: StatusStore::default(),
        }
    }

    /// Shows `status` on the status page.
    pub fn with_status(mut self, status: StatusStore) -> Self {
        self.status = status;
        self
    }

    /// Exposes `targets` from now on.
    pub fn set(&self, targets: Vec<Watched>) {
        *self.targets.write().unwrap_or_else(|e| e.into_inner()) = targets;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Watched>> {
        // A poisoned lock only means a panic elsewhere; the value is still usable.
        self.targets.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Ready when every target is; otherwise each reason, named by its target.
    pub fn not_ready_reason(&self) -> Option<String> {
        let reasons: Vec<String> = self
            .read()
            .iter()
            .filter_map(|t| {
                let reason = t.health.not_ready_reason()?;
                Some(match &t.name {
                    Some(name) => format!("target {name}: {reason}"),
                    None => reason,
                })
            })
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// The text exposition of every target's series.
    pub fn encode(&self) -> String {
        super::metrics::encode_all(
            Some(&self.process),
            self.read().iter().map(|t| (t.name.as_deref(), &t.metrics)),
        )
    }
}

/// The router of the three endpoints, over every watched target.
pub fn router(exposed: Exposed) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready_handler))
        .route("/", get(page_handler))
        .route("/status.json", get(status_handler))
        .with_state(exposed)
}

async fn metrics_handler(State(s): State<Exposed>) -> impl IntoResponse {
    let text = s.encode();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

async fn page_handler(State(s): State<Exposed>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        super::status_page::render(&s.status.snapshot()),
    )
}

async fn status_handler(State(s): State<Exposed>) -> impl IntoResponse {
    axum::Json(s.status.snapshot())
}

async fn ready_handler(State(s): State<Exposed>) -> impl IntoResponse {
    match s.not_ready_reason() {
        None => (StatusCode::OK, "ready\n".to_string()),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

/// Binds `addr` and serves until `shutdown` is cancelled; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    exposed: Exposed,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(exposed);
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(err) = result {
            tracing::error!(%err, "metrics server stopped");
        }
    });
    Ok((local, task))
}
