//! `Repository`: a repository of snapshots, and what is done with one (backup, diff, restore,
//! check, forget, prune). `Access` is in access.rs, `Snapshot` in snapshot.rs; the backup job in
//! backup.rs, the restore job in restore.rs, the options of check, forget and prune in
//! maintenance.rs.

use std::sync::{Arc, Mutex, RwLock};

use entra_backup::api;
use entra_backup::catalog::Category;
use entra_backup::diff::DiffSummary;
use entra_backup::repo::check;
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::prune;
use entra_backup::repo::{self as core_repo, backend};
use entra_backup::source::{SnapshotSource, SourceOptions};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::access::Access;
use crate::args;
use crate::awaitable;
use crate::backup::{BackupJob, backup_result};
use crate::convert;
use crate::credentials::{Credentials, resolve};
use crate::errors::{IntoPy, invalid};
use crate::iter::DiffIterator;
use crate::maintenance::{check_dict, keep_policy, prune_options, read_data};
use crate::progress;
use crate::restore::{self, Scope};
use crate::runtime::{self, Ticker};
use crate::snapshot::Snapshot;

/// A repository: where snapshots of tenants live (a local folder, S3, Azure Blob, GCS, memory).
/// A context manager: leaving the `with` block closes it (its keys are dropped from memory).
#[pyclass(module = "entra_backup", frozen)]
pub struct Repository {
    /// None once closed.
    repo: RwLock<Option<core_repo::Repository>>,
}

impl Repository {
    fn get(&self, py: Python<'_>) -> PyResult<core_repo::Repository> {
        match self.repo.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(r) => Ok(r.clone()),
            None => Err(invalid(py, "this repository was closed (its `with` block ended): open it again")),
        }
    }

    fn wrap(repo: core_repo::Repository) -> Self {
        Repository { repo: RwLock::new(Some(repo)) }
    }

    /// Keep the repository with its secrets key unlocked (unless it was closed meanwhile).
    fn unlocked(&self, repo: core_repo::Repository) {
        if let Some(r) = self.repo.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            *r = repo;
        }
    }
}

async fn init_repo(
    url: String,
    access: core_repo::Access,
    secrets: Option<core_repo::Access>,
    kdf: KdfParams,
) -> entra_backup::Result<core_repo::Repository> {
    let store = backend::open(&url)?;
    core_repo::Repository::init(store, &access, secrets.as_ref(), kdf).await
}

async fn open_repo(
    url: String,
    access: core_repo::Access,
    secrets: Option<core_repo::Access>,
) -> entra_backup::Result<core_repo::Repository> {
    let store = backend::open_existing(&url)?;
    let mut repo = core_repo::Repository::open(store, &access).await?;
    if let Some(s) = secrets {
        repo.unlock_secrets(&s).await?;
    }
    Ok(repo)
}

fn kdf(py: Python<'_>, memory_mib: i128, iterations: i128) -> PyResult<KdfParams> {
    let memory_mib: u32 = args::whole(py, "kdf_memory_mib", memory_mib)?;
    let iterations: u32 = args::whole(py, "kdf_iterations", iterations)?;
    if memory_mib == 0 || iterations == 0 {
        return Err(invalid(py, "kdf_memory_mib and kdf_iterations must be at least 1"));
    }
    Ok(KdfParams { memory_kib: memory_mib.saturating_mul(1024), iterations, parallelism: 1 })
}

/// `Snapshot` objects, as `snapshot()` gives them (each opened for reading on its first read).
fn snapshot_list<'py>(
    py: Python<'py>,
    repo: &core_repo::Repository,
    list: Vec<(String, core_repo::snapshot::SnapshotFile)>,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for (id, file) in list {
        out.append(Bound::new(py, Snapshot::listed(repo.clone(), id, file))?)?;
    }
    Ok(out)
}

/// The categories a diff compares; empty (None given): the core's default, every category but the logs.
fn diff_categories(py: Python<'_>, categories: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<&'static Category>> {
    match args::strings(py, "categories", categories)? {
        None => Ok(Vec::new()),
        some => resolve(py, "categories", some),
    }
}

#[pymethods]
impl Repository {
    /// Create a repository at `url` (a path, file://, s3://, az://, gs:// or memory://),
    /// encrypted under `access`, with the secrets key (BitLocker keys) under `secrets`; or without
    /// encryption when `access` is `Access.plaintext()` (then no secrets key).
    #[staticmethod]
    #[pyo3(signature = (url, access, secrets=None, *, kdf_memory_mib=64, kdf_iterations=3))]
    fn init(
        py: Python<'_>,
        url: String,
        access: &Access,
        secrets: Option<&Access>,
        kdf_memory_mib: i128,
        kdf_iterations: i128,
    ) -> PyResult<Self> {
        let kdf = kdf(py, kdf_memory_mib, kdf_iterations)?;
        let (access, secrets) = (access.core(), secrets.map(Access::core));
        let repo = runtime::run(py, move || init_repo(url, access, secrets, kdf))?;
        Ok(Self::wrap(repo))
    }

    /// `init`, awaitable.
    #[staticmethod]
    #[pyo3(signature = (url, access, secrets=None, *, kdf_memory_mib=64, kdf_iterations=3))]
    fn init_async<'py>(
        py: Python<'py>,
        url: String,
        access: &Access,
        secrets: Option<&Access>,
        kdf_memory_mib: i128,
        kdf_iterations: i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kdf = kdf(py, kdf_memory_mib, kdf_iterations)?;
        let (access, secrets) = (access.core(), secrets.map(Access::core));
        awaitable::future_job(
            py,
            move || init_repo(url, access, secrets, kdf),
            |py, r| Ok(Bound::new(py, Self::wrap(r))?.into_any()),
        )
    }

    /// Open the repository at `url`; with `secrets`, unlock its secrets key too.
    #[staticmethod]
    #[pyo3(signature = (url, access, secrets=None))]
    fn open(py: Python<'_>, url: String, access: &Access, secrets: Option<&Access>) -> PyResult<Self> {
        let (access, secrets) = (access.core(), secrets.map(Access::core));
        let repo = runtime::run(py, move || open_repo(url, access, secrets))?;
        Ok(Self::wrap(repo))
    }

    /// `open`, awaitable.
    #[staticmethod]
    #[pyo3(signature = (url, access, secrets=None))]
    fn open_async<'py>(
        py: Python<'py>,
        url: String,
        access: &Access,
        secrets: Option<&Access>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (access, secrets) = (access.core(), secrets.map(Access::core));
        awaitable::future_job(
            py,
            move || open_repo(url, access, secrets),
            |py, r| Ok(Bound::new(py, Self::wrap(r))?.into_any()),
        )
    }

    /// Unlock the secrets key (to read BitLocker keys back).
    fn unlock_secrets(&self, py: Python<'_>, secrets: &Access) -> PyResult<()> {
        let mut repo = self.get(py)?;
        let access = secrets.core();
        let repo = runtime::run(py, move || async move { repo.unlock_secrets(&access).await.map(|()| repo) })?;
        self.unlocked(repo);
        Ok(())
    }

    /// `unlock_secrets`, awaitable.
    fn unlock_secrets_async<'py>(slf: Bound<'py, Self>, secrets: &Access) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let mut repo = slf.get().get(py)?;
        let access = secrets.core();
        let this = slf.unbind();
        awaitable::future_job(
            py,
            move || async move { repo.unlock_secrets(&access).await.map(|()| repo) },
            move |py, repo| {
                this.get().unlocked(repo);
                Ok(py.None().into_bound(py))
            },
        )
    }

    /// Close the repository: its keys are dropped from memory, and every later call raises.
    /// Closing twice does nothing. Snapshots and iterators already made keep working.
    fn close(&self) {
        self.repo.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether `close` was called (or the `with` block ended).
    #[getter]
    fn closed(&self) -> bool {
        self.repo.read().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }

    #[getter]
    fn location(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.get(py)?.store().location().to_string())
    }

    /// The repository's id (from its config).
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.get(py)?.config().id.clone())
    }

    #[getter]
    fn encrypted(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.get(py)?.is_encrypted())
    }

    #[getter]
    fn secrets_unlocked(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.get(py)?.secrets_unlocked())
    }

    fn __repr__(&self) -> String {
        let Some(r) = self.repo.read().unwrap_or_else(|p| p.into_inner()).clone() else {
            return "Repository(closed=True)".into();
        };
        format!(
            "Repository(location={}, id={}, encrypted={}, secrets_unlocked={})",
            convert::repr(r.store().location()),
            convert::repr(&r.config().id),
            if r.is_encrypted() { "True" } else { "False" },
            if r.secrets_unlocked() { "True" } else { "False" }
        )
    }

    /// Back up a tenant as a new snapshot, incrementally from its latest one (unless `full`).
    /// `progress(dict)` is called every `progress_interval` seconds and once at the end; an
    /// exception it raises (or Ctrl-C) stops the backup, which then writes no snapshot. Returns
    /// the report: `snapshotId`, `snapshot` and `summary` (the shape of `entra-backup backup
    /// --json`). When categories could not be read (they are named in `report["snapshot"]
    /// ["failed"]; the snapshot keeps their previous data) it raises `IncompleteBackupError` with
    /// the report as `.report`, unless `allow_failed`.
    #[pyo3(signature = (credentials, *, categories=None, full=false, tags=None, secrets=true, progress=None, progress_interval=1.0, allow_failed=false))]
    #[allow(clippy::too_many_arguments)]
    fn backup<'py>(
        &self,
        py: Python<'py>,
        credentials: &Credentials,
        categories: Option<Bound<'py, PyAny>>,
        full: bool,
        tags: Option<Bound<'py, PyAny>>,
        secrets: bool,
        progress: Option<Py<PyAny>>,
        progress_interval: f64,
        allow_failed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let every = progress::interval(py, progress_interval)?;
        let job = BackupJob::new(py, self.get(py)?, credentials, categories.as_ref(), full, tags.as_ref(), secrets)?;
        let live = job.progress.clone();
        let report = match &progress {
            None => runtime::run(py, move || job.run())?,
            Some(cb) => {
                let mut tick = |py: Python<'_>| progress::call(py, cb, &live);
                let report = runtime::run_with(py, move || job.run(), Some(Ticker { every, tick: &mut tick }))?;
                progress::call(py, cb, &live)?;
                report
            }
        };
        backup_result(py, &report, allow_failed)
    }

    /// `backup`, awaitable. The progress callback runs on the runtime's threads (holding the GIL).
    #[pyo3(signature = (credentials, *, categories=None, full=false, tags=None, secrets=true, progress=None, progress_interval=1.0, allow_failed=false))]
    #[allow(clippy::too_many_arguments)]
    fn backup_async<'py>(
        &self,
        py: Python<'py>,
        credentials: &Credentials,
        categories: Option<Bound<'py, PyAny>>,
        full: bool,
        tags: Option<Bound<'py, PyAny>>,
        secrets: bool,
        progress: Option<Py<PyAny>>,
        progress_interval: f64,
        allow_failed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let every = progress::interval(py, progress_interval)?;
        let job = BackupJob::new(py, self.get(py)?, credentials, categories.as_ref(), full, tags.as_ref(), secrets)?;
        let live = job.progress.clone();
        let ticks = progress::ticks(py, progress.as_ref(), &live, every);
        awaitable::future_job_ticking(
            py,
            move || job.run(),
            move |py, report| {
                if let Some(cb) = &progress {
                    progress::call(py, cb, &live)?;
                }
                backup_result(py, &report, allow_failed)
            },
            ticks,
        )
    }

    /// Every snapshot, oldest first, as `Snapshot` objects like `snapshot()` gives (each read from
    /// storage only when its objects are asked for; `.info()` gives its metadata as a dict).
    fn snapshots<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let repo = self.get(py)?;
        let r = repo.clone();
        let list = runtime::run(py, move || async move { r.snapshots().await })?;
        snapshot_list(py, &repo, list)
    }

    /// `snapshots`, awaitable.
    fn snapshots_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let repo = self.get(py)?;
        let r = repo.clone();
        awaitable::future_job(
            py,
            move || async move { r.snapshots().await },
            move |py, list| snapshot_list(py, &repo, list).map(Bound::into_any),
        )
    }

    /// One snapshot: `latest`, an id, or a unique prefix of 4+ hex digits of one. With
    /// `secrets`, its objects come with their secret properties (needs the secrets key).
    #[pyo3(signature = (name="latest", *, secrets=false))]
    fn snapshot(&self, py: Python<'_>, name: &str, secrets: bool) -> PyResult<Snapshot> {
        let (repo, name) = (self.get(py)?, name.to_string());
        let source = runtime::run(py, move || async move { SnapshotSource::open(repo, &name, secrets).await })?;
        Ok(Snapshot::opened(source))
    }

    /// `snapshot`, awaitable.
    #[pyo3(signature = (name="latest", *, secrets=false))]
    fn snapshot_async<'py>(&self, py: Python<'py>, name: &str, secrets: bool) -> PyResult<Bound<'py, PyAny>> {
        let (repo, name) = (self.get(py)?, name.to_string());
        awaitable::future_job(
            py,
            move || async move { SnapshotSource::open(repo, &name, secrets).await },
            |py, s| Ok(Bound::new(py, Snapshot::opened(s))?.into_any()),
        )
    }

    /// Compare snapshot `snapshot` with snapshot `other`, or with the live tenant read with
    /// `live` credentials: an iterator of the objects that differ (see `DiffIterator`).
    /// `categories` defaults to every category but the logs; `id` limits it to one object.
    #[pyo3(signature = (snapshot, other=None, *, live=None, categories=None, id=None))]
    fn diff(
        &self,
        py: Python<'_>,
        snapshot: String,
        other: Option<String>,
        live: Option<&Credentials>,
        categories: Option<Bound<'_, PyAny>>,
        id: Option<String>,
    ) -> PyResult<DiffIterator> {
        let cats = diff_categories(py, categories.as_ref())?;
        let live = match (&other, live) {
            (Some(_), Some(_)) => {
                return Err(invalid(py, "give either another snapshot or live credentials, not both"));
            }
            (None, None) => return Err(invalid(py, "give another snapshot to compare with, or live credentials")),
            (Some(_), None) => None,
            (None, Some(c)) => {
                // Bad credentials fail here, at the call, not at the first step of the iterator.
                c.source(SourceOptions::default()).py_err(py)?;
                Some(c.connection().clone())
            }
        };
        let request = api::DiffRequest::default().categories(cats).id(id);
        let repo = self.get(py)?;
        let summary: Arc<Mutex<Option<DiffSummary>>> = Arc::default();
        let done = summary.clone();
        let feed = crate::iter::spawn(py, move |tx| async move {
            let before = SnapshotSource::open(repo, &snapshot, false).await?;
            let (dtx, mut drx) = tokio::sync::mpsc::channel(256);
            let compare = async move {
                let with = match (&other, &live) {
                    (Some(o), _) => api::DiffWith::Snapshot(o),
                    (None, Some(connection)) => api::DiffWith::Live(connection),
                    (None, None) => unreachable!("checked before spawning"),
                };
                api::diff(&before, with, &request, &dtx).await
            };
            let forward = async move {
                let mut batch = Vec::with_capacity(64);
                while let Some(d) = drx.recv().await {
                    batch.push(d);
                    if batch.len() == 64 && tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                        return;
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(Ok(batch)).await;
                }
            };
            let (result, ()) = tokio::join!(compare, forward);
            *done.lock().unwrap_or_else(|p| p.into_inner()) = Some(result?);
            Ok(())
        })?;
        Ok(DiffIterator::new(feed, summary))
    }

    /// Verify the repository's structure, and read and verify `read_data_percent` percent of its
    /// packs. Returns the report (`errors` and `warnings` lists; `ok`).
    #[pyo3(signature = (read_data_percent=0.0))]
    fn check<'py>(&self, py: Python<'py>, read_data_percent: f64) -> PyResult<Bound<'py, PyAny>> {
        let options = read_data(py, read_data_percent)?;
        let repo = self.get(py)?;
        let report = runtime::run(py, move || async move { check::check(&repo, &options).await })?;
        check_dict(py, &report)
    }

    /// `check`, awaitable.
    #[pyo3(signature = (read_data_percent=0.0))]
    fn check_async<'py>(&self, py: Python<'py>, read_data_percent: f64) -> PyResult<Bound<'py, PyAny>> {
        let options = read_data(py, read_data_percent)?;
        let repo = self.get(py)?;
        awaitable::future_job(
            py,
            move || async move { check::check(&repo, &options).await },
            |py, report| check_dict(py, &report),
        )
    }

    /// Remove the snapshots a retention policy does not keep (per tenant; restic's rules), under
    /// the prune lease. Returns one decision per snapshot (`id`, `time`, `tenant`, `keep`,
    /// `reasons`). Their data stays until `prune`.
    #[pyo3(signature = (*, keep_last=0, keep_hourly=0, keep_daily=0, keep_weekly=0, keep_monthly=0, keep_yearly=0, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn forget<'py>(
        &self,
        py: Python<'py>,
        keep_last: i128,
        keep_hourly: i128,
        keep_daily: i128,
        keep_weekly: i128,
        keep_monthly: i128,
        keep_yearly: i128,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let keep = [keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly];
        let policy = keep_policy(py, keep)?;
        let repo = self.get(py)?;
        let decisions =
            runtime::run(py, move || async move { entra_backup::api::forget(&repo, &policy, dry_run).await })?;
        convert::serialized(py, &decisions)
    }

    /// `forget`, awaitable.
    #[pyo3(signature = (*, keep_last=0, keep_hourly=0, keep_daily=0, keep_weekly=0, keep_monthly=0, keep_yearly=0, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn forget_async<'py>(
        &self,
        py: Python<'py>,
        keep_last: i128,
        keep_hourly: i128,
        keep_daily: i128,
        keep_weekly: i128,
        keep_monthly: i128,
        keep_yearly: i128,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let keep = [keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly];
        let policy = keep_policy(py, keep)?;
        let repo = self.get(py)?;
        awaitable::future_job(
            py,
            move || async move { entra_backup::api::forget(&repo, &policy, dry_run).await },
            |py, decisions| convert::serialized(py, &decisions),
        )
    }

    /// Free the data no snapshot needs, in two phases: unused packs are marked, and deleted by a
    /// later prune once `grace` (a timedelta or seconds; default 24 h) has passed. Returns the plan
    /// (`keep`, `repack`, `mark`, `delete`, `waiting`, `bytesFreed`...).
    #[pyo3(signature = (*, grace=None, dry_run=false, max_unused=0.5))]
    fn prune<'py>(
        &self,
        py: Python<'py>,
        grace: Option<Bound<'py, PyAny>>,
        dry_run: bool,
        max_unused: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = prune_options(py, grace.as_ref(), dry_run, max_unused)?;
        let repo = self.get(py)?;
        let plan = runtime::run(py, move || async move { prune::prune(&repo, &options).await })?;
        convert::serialized(py, &plan)
    }

    /// `prune`, awaitable.
    #[pyo3(signature = (*, grace=None, dry_run=false, max_unused=0.5))]
    fn prune_async<'py>(
        &self,
        py: Python<'py>,
        grace: Option<Bound<'py, PyAny>>,
        dry_run: bool,
        max_unused: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = prune_options(py, grace.as_ref(), dry_run, max_unused)?;
        let repo = self.get(py)?;
        awaitable::future_job(
            py,
            move || async move { prune::prune(&repo, &options).await },
            |py, plan| convert::serialized(py, &plan),
        )
    }

    /// Restore snapshot `snapshot` (or part of it) into the tenant `live` reaches: recycle-bin
    /// restore, recreate with ids remapped everywhere, patch, relink (see docs/restore.md).
    /// `categories`, `ids` (snapshot ids) and `attributes` narrow the scope. Returns the report
    /// (`objects`, `categories`, `idMap`, `passwords` shown once, `summary`); `report["summary"]
    /// ["failed"]` counts refused writes. Running it again writes nothing.
    #[pyo3(signature = (snapshot, live, *, categories=None, ids=None, attributes=None, overwrite_relationships=false, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn restore<'py>(
        &self,
        py: Python<'py>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Bound<'py, PyAny>>,
        ids: Option<Bound<'py, PyAny>>,
        attributes: Option<Bound<'py, PyAny>>,
        overwrite_relationships: bool,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let scope = Scope {
            categories: categories.as_ref(),
            ids: ids.as_ref(),
            attributes: attributes.as_ref(),
            overwrite_relationships,
            dry_run,
        };
        let job = restore::job(py, self.get(py)?, snapshot, live, scope)?;
        let report = runtime::run(py, job)?;
        restore::report(py, &report)
    }

    /// `restore`, awaitable.
    #[pyo3(signature = (snapshot, live, *, categories=None, ids=None, attributes=None, overwrite_relationships=false, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn restore_async<'py>(
        &self,
        py: Python<'py>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Bound<'py, PyAny>>,
        ids: Option<Bound<'py, PyAny>>,
        attributes: Option<Bound<'py, PyAny>>,
        overwrite_relationships: bool,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let scope = Scope {
            categories: categories.as_ref(),
            ids: ids.as_ref(),
            attributes: attributes.as_ref(),
            overwrite_relationships,
            dry_run,
        };
        let job = restore::job(py, self.get(py)?, snapshot, live, scope)?;
        awaitable::future_job(py, job, |py, report| restore::report(py, &report))
    }

    /// What `restore` would do, written nothing: `restore(..., dry_run=True)`.
    #[pyo3(signature = (snapshot, live, *, categories=None, ids=None, attributes=None, overwrite_relationships=false))]
    #[allow(clippy::too_many_arguments)]
    fn plan_restore<'py>(
        &self,
        py: Python<'py>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Bound<'py, PyAny>>,
        ids: Option<Bound<'py, PyAny>>,
        attributes: Option<Bound<'py, PyAny>>,
        overwrite_relationships: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.restore(py, snapshot, live, categories, ids, attributes, overwrite_relationships, true)
    }

    /// `plan_restore`, awaitable.
    #[pyo3(signature = (snapshot, live, *, categories=None, ids=None, attributes=None, overwrite_relationships=false))]
    #[allow(clippy::too_many_arguments)]
    fn plan_restore_async<'py>(
        &self,
        py: Python<'py>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Bound<'py, PyAny>>,
        ids: Option<Bound<'py, PyAny>>,
        attributes: Option<Bound<'py, PyAny>>,
        overwrite_relationships: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.restore_async(py, snapshot, live, categories, ids, attributes, overwrite_relationships, true)
    }
}
