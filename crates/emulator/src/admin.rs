//! Admin endpoints outside the APIG paths, without auth: statistics, the request log, reset,
//! run-time fault settings and a state dump.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::config::Faults;
use super::error::ServiceError;
use super::shared::{Shared, lock};

/// `GET /_emulator/stats`, `GET /_emulator/log`, `POST /_emulator/reset`,
/// `GET|PUT /_emulator/faults`, `GET /_emulator/state`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/log", get(log))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/faults", get(faults).put(set_faults))
        .route("/_emulator/state", get(state))
        .merge(super::quirks_service::router())
        .merge(super::quirks_auth::router())
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.stats).clone()).into_response()
}

async fn log(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.log).clone()).into_response()
}

async fn reset(State(s): State<Arc<Shared>>) -> Result<Response, ServiceError> {
    s.reset()?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn faults(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.faults).clone()).into_response()
}

/// Replaces the fault settings; an omitted field goes back to its default (none).
async fn set_faults(
    State(s): State<Arc<Shared>>,
    Json(new): Json<Faults>,
) -> Result<Response, ServiceError> {
    if !(0.0..=1.0).contains(&new.fault_rate) {
        return Err(ServiceError::invalid("fault_rate", "expected 0.0 to 1.0"));
    }
    if !(0.0..=1.0).contains(&new.throttle_rate) {
        return Err(ServiceError::invalid(
            "throttle_rate",
            "expected 0.0 to 1.0",
        ));
    }
    if new.rate_limit.is_some_and(|r| r <= 0.0) {
        return Err(ServiceError::invalid(
            "rate_limit",
            "expected a positive number",
        ));
    }
    *lock(&s.faults) = new.clone();
    lock(&s.limiter).clear();
    Ok(Json(new).into_response())
}

async fn state(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.state).clone()).into_response()
}
