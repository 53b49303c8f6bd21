//! `SimServer`: the simulated tenant, a Graph-compatible HTTP server on 127.0.0.1, for users' own
//! tests.

use std::sync::Mutex;
use std::time::Duration;

use entra_backup_sim::{SimConfig, SimServer as CoreSim};
use pyo3::prelude::*;

use crate::args;
use crate::credentials::Credentials;
use crate::errors::invalid;
use crate::runtime;

/// The client id and secret the simulator's tokens are asked with when none were configured
/// (it then accepts any).
const DEFAULT_CLIENT: (&str, &str) = ("entra-backup-sim-client", "entra-backup-sim-secret");

/// A simulated tenant served over Graph's HTTP API on 127.0.0.1 (a free port): deterministic from
/// `seed` and the sizes, with Graph's paging, delta, `$batch`, tokens and (with `throttle`)
/// Microsoft's published throttling limits. Use it as a context manager, or call `stop()`.
#[pyclass(module = "entra_backup", frozen)]
pub struct SimServer {
    server: Mutex<Option<CoreSim>>,
    url: String,
    tenant_id: String,
    client: (String, String),
}

impl SimServer {
    fn with<T>(&self, py: Python<'_>, f: impl FnOnce(&CoreSim) -> T) -> PyResult<T> {
        let guard = self.server.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(s) => Ok(f(s)),
            None => Err(invalid(py, "the simulated tenant was stopped")),
        }
    }
}

#[pymethods]
impl SimServer {
    /// Generate the tenant and start serving it. `client_id` and `client_secret` (both or
    /// neither) make the token endpoint accept only them; `granted_permissions` limits what tokens
    /// carry (requests needing more get 403, as from Graph); `faults` is the share of requests
    /// failing with an injected fault (0 to 1).
    #[new]
    #[pyo3(signature = (*, users=200, groups=40, seed=1, memberships=None, latency_ms=0, throttle=true, faults=0.0, tenant_id=None, client_id=None, client_secret=None, granted_permissions=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        users: i128,
        groups: i128,
        seed: i128,
        memberships: Option<i128>,
        latency_ms: i128,
        throttle: bool,
        faults: f64,
        tenant_id: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        granted_permissions: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let users: usize = args::whole(py, "users", users)?;
        let groups: usize = args::whole(py, "groups", groups)?;
        let seed: u64 = args::whole(py, "seed", seed)?;
        let memberships: Option<usize> = memberships.map(|m| args::whole(py, "memberships", m)).transpose()?;
        let latency_ms: u64 = args::whole(py, "latency_ms", latency_ms)?;
        let granted_permissions = args::strings(py, "granted_permissions", granted_permissions.as_ref())?;
        if !(0.0..=1.0).contains(&faults) {
            return Err(invalid(py, format!("faults is a share from 0 to 1, not {faults}")));
        }
        let credentials = match (client_id, client_secret) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            _ => return Err(invalid(py, "give both client_id and client_secret, or neither")),
        };
        let client =
            credentials.clone().unwrap_or_else(|| (DEFAULT_CLIENT.0.to_string(), DEFAULT_CLIENT.1.to_string()));
        let config = SimConfig {
            seed,
            users,
            groups,
            memberships,
            latency: Duration::from_millis(latency_ms),
            throttle,
            fault_rate: faults,
            tenant_id,
            credentials,
            granted_permissions,
            ..SimConfig::default()
        };
        let server = runtime::run(py, move || async move {
            CoreSim::start(config).await.map_err(|e| entra_backup::Error::io("cannot start the simulated tenant", e))
        })?;
        Ok(SimServer {
            url: server.url().to_string(),
            tenant_id: server.tenant_id(),
            server: Mutex::new(Some(server)),
            client,
        })
    }

    /// `http://127.0.0.1:PORT`: both the Graph URL and the authority URL to give credentials.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The tenant's id (a GUID).
    #[getter]
    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// Still serving.
    #[getter]
    fn running(&self) -> bool {
        self.server.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Client-secret credentials for this tenant, pointed at the simulator.
    fn credentials(&self, py: Python<'_>) -> PyResult<Credentials> {
        let core = entra_backup::graph::auth::Credentials {
            tenant_id: self.tenant_id.clone(),
            client_id: self.client.0.clone(),
            auth: entra_backup::graph::auth::ClientAuth::Secret(entra_backup::Secret::new(self.client.1.clone())),
            authority_host: None,
        };
        Credentials::app(py, core, self.url.clone(), self.url.clone())
    }

    /// How many objects `category` holds now (the ground truth).
    fn count(&self, py: Python<'_>, category: &str) -> PyResult<usize> {
        crate::credentials::resolve(py, "category", Some(vec![category.to_string()]))?;
        self.with(py, |s| s.tenant().count(category))
    }

    /// How many objects the tenant holds in all.
    fn total_objects(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| s.tenant().total_objects())
    }

    /// Change about `fraction` of the big categories (users, groups, devices, apps; new log
    /// records), deterministically from `seed`, as an administrator would. Returns what changed
    /// (`entra_backup.ChurnReport`, camelCase keys as every report).
    #[pyo3(signature = (fraction=0.01, seed=1))]
    fn churn<'py>(&self, py: Python<'py>, fraction: f64, seed: i128) -> PyResult<Bound<'py, PyAny>> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(invalid(py, format!("fraction is a share from 0 to 1, not {fraction}")));
        }
        let seed: u64 = args::whole(py, "seed", seed)?;
        let report = py.detach(|| self.with_detached(|s| s.churn(fraction, seed)));
        match report {
            Some(r) => crate::convert::serialized_with(py, &r, crate::convert::camel_case),
            None => Err(invalid(py, "the simulated tenant was stopped")),
        }
    }

    /// Stop serving (waiting for open requests). Stopping twice does nothing.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = server {
            runtime::run(py, move || async move {
                s.shutdown().await;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.stop(py)?;
        Ok(false)
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        crate::awaitable::ready(py, Ok(slf.into_any().unbind()))
    }

    /// Stop serving, awaitable (`async with SimServer(...)`).
    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(&self, py: Python<'py>, _exc: &Bound<'py, pyo3::types::PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.stopping(py, |py| pyo3::types::PyBool::new(py, false).to_owned().into_any())
    }

    /// `stop`, awaitable.
    fn stop_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.stopping(py, |py| py.None().into_bound(py))
    }

    fn __repr__(&self) -> String {
        let running = if self.running() { "True" } else { "False" };
        format!(
            "SimServer(url={}, tenant_id={}, running={running})",
            crate::convert::repr(&self.url),
            crate::convert::repr(&self.tenant_id)
        )
    }
}

impl SimServer {
    /// An awaitable stopping the server, then giving `done()`.
    fn stopping<'py>(&self, py: Python<'py>, done: fn(Python<'_>) -> Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        crate::awaitable::future_job(
            py,
            move || async move {
                if let Some(s) = server {
                    s.shutdown().await;
                }
                Ok(())
            },
            move |py, ()| Ok(done(py)),
        )
    }

    fn with_detached<T>(&self, f: impl FnOnce(&CoreSim) -> T) -> Option<T> {
        self.server.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(f)
    }
}
