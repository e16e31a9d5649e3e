//! Serving: a hand-written accept loop over hyper, so that an injected fault can
//! close a connection without writing any response, and [`EmulatorHandle`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::middleware::from_fn_with_state;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::config::{Credential, EmulatorConfig};
use super::error::EmulatorError;
use super::faults::{LogEntry, Stats};
use super::gate::{self, CloseConnection};
use super::model::Flavour;
use super::shared::{Shared, lock};
use super::{admin, routes};

/// The whole app: APIG routes behind the front door, admin routes, request ids.
fn app(shared: Arc<Shared>) -> Router {
    let apig = routes::router()
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(from_fn_with_state(Arc::clone(&shared), gate::gate));
    apig.merge(admin::router())
        .layer(from_fn_with_state(Arc::clone(&shared), gate::request_id))
        .with_state(shared)
}

/// The error that makes hyper drop a connection without a response.
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for Closed {}

async fn serve_connection(stream: tokio::net::TcpStream, app: Router, stop: CancellationToken) {
    let inner = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let call = hyper::service::Service::call(&inner, req.map(Body::new));
        async move {
            let resp: axum::response::Response = match call.await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            if resp.extensions().get::<CloseConnection>().is_some() {
                Err(Closed)
            } else {
                Ok::<_, Closed>(resp)
            }
        }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn accept_loop(listener: TcpListener, app: Router, stop: CancellationToken) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_connection(stream, app.clone(), stop.clone()));
                }
                Err(err) => tracing::warn!(error = %err, "accept failed"),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    while conns.join_next().await.is_some() {}
}

/// A running emulator. Dropping it stops the server; [`EmulatorHandle::shutdown`] waits for it.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    instances: Vec<(String, Flavour)>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the emulator on `config.listen` and returns once it accepts connections.
pub async fn spawn(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
    let shared = Arc::new(Shared::new(&config)?);
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let instances = lock(&shared.state)
        .instances
        .iter()
        .map(|i| (i.id.clone(), i.flavour))
        .collect();
    let stop = CancellationToken::new();
    let task = tokio::spawn(accept_loop(
        listener,
        app(Arc::clone(&shared)),
        stop.clone(),
    ));
    Ok(EmulatorHandle {
        addr,
        shared,
        instances,
        stop,
        task: Some(task),
    })
}

impl EmulatorHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The project id every path must carry.
    pub fn project_id(&self) -> String {
        lock(&self.shared.state).project_id.clone()
    }

    /// The instances: id and flavour, in seed order.
    pub fn instances(&self) -> &[(String, Flavour)] {
        &self.instances
    }

    /// The first instance of flavour `flavour` (`apig`, `roma` or `otc`), if any.
    pub fn instance(&self, flavour: &str) -> Option<&str> {
        self.instances
            .iter()
            .find(|(_, f)| f.as_str() == flavour)
            .map(|(id, _)| id.as_str())
    }

    /// The accepted AK/SK pairs.
    pub fn credentials(&self) -> Vec<Credential> {
        lock(&self.shared.accepted).credentials.clone()
    }

    /// The accepted tokens.
    pub fn tokens(&self) -> Vec<String> {
        lock(&self.shared.accepted).tokens_by_validity(None).0
    }

    /// A snapshot of the request statistics.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// The APIG requests so far, in the order they finished (the body of `GET /_emulator/log`).
    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.shared.log).entries.iter().cloned().collect()
    }

    /// Stops accepting, lets open connections finish their request, and waits.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
