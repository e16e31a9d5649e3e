//! The server's shared state: the store behind one mutex, the settings, the
//! fault dice, the rate limiter, the statistics and the in-flight binding markers.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};

use super::config::{Credential, EmulatorConfig, Faults};
use super::error::{EmulatorError, ServiceError};
use super::faults::{FaultDice, RateLimiter, RequestLog, Stats};
use super::persist;
use super::quirks_auth::Accepted;
use super::quirks_binding::DetachLag;
use super::quirks_service;
use super::seed::Seed;
use super::store::{Instance, State};

/// Locks a mutex, recovering the data of a panicked holder (the store stays usable).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The current time as the API writes it (RFC 3339, UTC, `Z`).
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Shared {
    /// The seed, for `POST /_emulator/reset`.
    pub seed: Seed,
    /// The store.
    pub state: Mutex<State>,
    /// Where the store is persisted.
    pub state_file: Option<PathBuf>,
    /// The AK/SK pairs and tokens of the configuration (reset goes back to them).
    pub initial: (Vec<Credential>, Vec<String>),
    /// The accepted AK/SK pairs and tokens now (`PUT /_emulator/tokens`, `…/credentials`).
    pub accepted: Mutex<Accepted>,
    /// Latency, fault rate and rate limit, changeable at run time.
    pub faults: Mutex<Faults>,
    /// The seed of the fault dice (reset rewinds them).
    pub fault_seed: u64,
    /// The fault dice.
    pub dice: Mutex<FaultDice>,
    /// Per-credential token buckets.
    pub limiter: Mutex<RateLimiter>,
    /// Request statistics.
    pub stats: Mutex<Stats>,
    /// The APIG requests in order (`GET /_emulator/log`).
    pub log: Mutex<RequestLog>,
    /// What the service-behaviour switches remember between requests.
    pub quirks: Mutex<quirks_service::Runtime>,
    /// What `detach_lag` remembers: the bindings detaches removed.
    pub detach_lag: Mutex<DetachLag>,
    /// `(instance, plug-in, env)` keys of binding changes in progress.
    pub in_flight: Mutex<HashSet<(String, String, String)>>,
    /// APIG requests being served now.
    pub concurrent: AtomicU64,
    requests: AtomicU64,
}

/// Which instance a request path names.
#[derive(Debug, Clone)]
pub struct InstanceRef {
    /// `project_id` of the path.
    pub project: String,
    /// `apigw` or `apic`.
    pub segment: String,
    /// `instance_id` of the path.
    pub instance: String,
}

impl Shared {
    /// The shared state for `config`: the state file's content when it exists, else the seed.
    pub fn new(config: &EmulatorConfig) -> Result<Shared, EmulatorError> {
        let loaded = match &config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let state = match loaded {
            Some(state) => state,
            None => {
                let state = State::from_seed(&config.seed, "seed", &now())?;
                if let Some(path) = &config.state_file {
                    persist::save(path, &state)?;
                }
                state
            }
        };
        Ok(Shared {
            seed: config.seed.clone(),
            state: Mutex::new(state),
            state_file: config.state_file.clone(),
            initial: (config.credentials.clone(), config.tokens.clone()),
            accepted: Mutex::new(Accepted::new(config.credentials.clone(), &config.tokens)),
            faults: Mutex::new(config.faults()),
            fault_seed: config.fault_seed,
            dice: Mutex::new(FaultDice::new(config.fault_seed)),
            limiter: Mutex::new(RateLimiter::default()),
            stats: Mutex::new(Stats::default()),
            log: Mutex::new(RequestLog::default()),
            quirks: Mutex::new(quirks_service::Runtime::default()),
            detach_lag: Mutex::new(DetachLag::default()),
            in_flight: Mutex::new(HashSet::new()),
            concurrent: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        })
    }

    /// A fresh request id (32 hex).
    pub fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        hex::encode(&Sha256::digest(format!("request\n{n}").as_bytes())[..16])
    }

    /// Runs a read on the instance `target` names.
    pub fn read<T>(
        &self,
        target: &InstanceRef,
        f: impl FnOnce(&Instance) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut state = lock(&self.state);
        let inst = state.instance_mut(&target.project, &target.segment, &target.instance)?;
        f(inst)
    }

    /// Runs a change on the instance `target` names; persists the state when it succeeded.
    pub fn write<T>(
        &self,
        target: &InstanceRef,
        f: impl FnOnce(&mut Instance, &str) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut state = lock(&self.state);
        let inst = state.instance_mut(&target.project, &target.segment, &target.instance)?;
        let out = f(inst, &now())?;
        self.persist(&state)?;
        Ok(out)
    }

    fn persist(&self, state: &State) -> Result<(), ServiceError> {
        if let Some(path) = &self.state_file
            && let Err(err) = persist::save(path, state)
        {
            tracing::error!(error = %err, "could not persist the emulator state");
            return Err(ServiceError::system());
        }
        Ok(())
    }

    /// Back to the seed: state, statistics, fault dice and rate limiter.
    pub fn reset(&self) -> Result<(), ServiceError> {
        let fresh = State::from_seed(&self.seed, "seed", &now()).map_err(|err| {
            tracing::error!(error = %err, "could not rebuild the seed state");
            ServiceError::system()
        })?;
        let mut state = lock(&self.state);
        *state = fresh;
        self.persist(&state)?;
        *lock(&self.stats) = Stats::default();
        *lock(&self.log) = RequestLog::default();
        *lock(&self.dice) = FaultDice::new(self.fault_seed);
        lock(&self.limiter).clear();
        lock(&self.quirks).clear();
        lock(&self.detach_lag).clear();
        *lock(&self.accepted) = Accepted::new(self.initial.0.clone(), &self.initial.1);
        Ok(())
    }

    /// Marks binding changes of `plugins` in `env` as in progress; 500 APIG.3500 when
    /// another change of the same plug-in and environment is still running.
    pub fn hold(
        self: &Arc<Self>,
        instance: &str,
        plugins: &[String],
        env: &str,
    ) -> Result<InFlight, ServiceError> {
        let keys: Vec<(String, String, String)> = plugins
            .iter()
            .map(|p| (instance.to_string(), p.clone(), env.to_string()))
            .collect();
        let mut set = lock(&self.in_flight);
        if keys.iter().any(|k| set.contains(k)) {
            return Err(ServiceError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "APIG.3500",
                "Failed to synchronize data to etcd",
            ));
        }
        set.extend(keys.iter().cloned());
        Ok(InFlight {
            shared: Arc::clone(self),
            keys,
        })
    }
}

/// Binding changes in progress; dropping it clears the markers.
#[derive(Debug)]
pub struct InFlight {
    shared: Arc<Shared>,
    keys: Vec<(String, String, String)>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut set = lock(&self.shared.in_flight);
        for k in &self.keys {
            set.remove(k);
        }
    }
}
