//! `Access`, `Repository` and `Snapshot`: repositories and what they hold; `export`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::diff::{self, DiffSummary};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::check::{self, CheckOptions};
use entra_backup::repo::crypto::{KdfParams, PASSWORD_ENV, RawKey, SECRETS_PASSWORD_ENV, passphrase_from_env_or_file};
use entra_backup::repo::prune::{self, KeepPolicy, PruneOptions};
use entra_backup::repo::{self as core_repo, backend};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{SnapshotSource, Source, SourceOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::awaitable;
use crate::convert;
use crate::credentials::{Credentials, resolve};
use crate::errors::{IntoPy, invalid};
use crate::iter::{DiffIterator, IdIterator, ObjectIterator};
use crate::progress;
use crate::runtime::{self, Ticker};

#[derive(Clone)]
enum Opening {
    Passphrase(Secret),
    KeyFile(RawKey),
    Plaintext,
}

/// How to open a repository, or its secrets key: a passphrase, a key file, or (for a repository
/// created without encryption) plaintext. Never shows the passphrase or key.
#[pyclass(module = "entra_backup", frozen)]
#[derive(Clone)]
pub struct Access {
    key: Opening,
    source: String,
}

impl Access {
    fn core(&self) -> core_repo::Access {
        match &self.key {
            Opening::Passphrase(p) => core_repo::Access::Passphrase(p.clone()),
            Opening::KeyFile(k) => core_repo::Access::Key(k.clone()),
            Opening::Plaintext => core_repo::Access::Plaintext,
        }
    }

    fn from_env_var(py: Python<'_>, var: &str, file: Option<PathBuf>) -> PyResult<Self> {
        match passphrase_from_env_or_file(var, file.as_deref()).py_err(py)? {
            Some(p) => Ok(Access {
                key: Opening::Passphrase(p),
                source: match file {
                    Some(f) => format!("password_file={}", convert::repr(&f.display().to_string())),
                    None => format!("env={var}"),
                },
            }),
            None => Err(invalid(py, format!("no passphrase: set {var} or give password_file"))),
        }
    }
}

#[pymethods]
impl Access {
    /// A passphrase (stretched with Argon2id).
    #[staticmethod]
    fn passphrase(py: Python<'_>, passphrase: String) -> PyResult<Self> {
        if passphrase.is_empty() {
            return Err(invalid(py, "the passphrase is empty"));
        }
        Ok(Access { key: Opening::Passphrase(Secret::new(passphrase)), source: "passphrase".into() })
    }

    /// A key file: one line, the base64 of a random 32-byte key (read now).
    #[staticmethod]
    fn key_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let key = RawKey::read_file(&path).py_err(py)?;
        Ok(Access {
            key: Opening::KeyFile(key),
            source: format!("key_file={}", convert::repr(&path.display().to_string())),
        })
    }

    /// Make a new key file at `path` (refused if it exists; readable by its owner only) and use it.
    #[staticmethod]
    fn new_key_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let key = RawKey::generate();
        key.write_new_file(&path).py_err(py)?;
        Ok(Access {
            key: Opening::KeyFile(key),
            source: format!("key_file={}", convert::repr(&path.display().to_string())),
        })
    }

    /// No encryption: only to create or open a repository without it.
    #[staticmethod]
    fn plaintext() -> Self {
        Access { key: Opening::Plaintext, source: "plaintext".into() }
    }

    /// The repository passphrase from ENTRA_BACKUP_PASSWORD, or the first line of `password_file`.
    #[staticmethod]
    #[pyo3(signature = (password_file=None))]
    fn from_env(py: Python<'_>, password_file: Option<PathBuf>) -> PyResult<Self> {
        Self::from_env_var(py, PASSWORD_ENV, password_file)
    }

    /// The secrets passphrase from ENTRA_BACKUP_SECRETS_PASSWORD, or the first line of `password_file`.
    #[staticmethod]
    #[pyo3(signature = (password_file=None))]
    fn secrets_from_env(py: Python<'_>, password_file: Option<PathBuf>) -> PyResult<Self> {
        Self::from_env_var(py, SECRETS_PASSWORD_ENV, password_file)
    }

    fn __repr__(&self) -> String {
        format!("Access({})", self.source)
    }
}

/// A repository: where snapshots of tenants live (a local folder, S3, Azure Blob, GCS, memory).
#[pyclass(module = "entra_backup", frozen)]
pub struct Repository {
    repo: RwLock<core_repo::Repository>,
}

impl Repository {
    fn get(&self) -> core_repo::Repository {
        self.repo.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn wrap(repo: core_repo::Repository) -> Self {
        Repository { repo: RwLock::new(repo) }
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

fn kdf(py: Python<'_>, memory_mib: u32, iterations: u32) -> PyResult<KdfParams> {
    if memory_mib == 0 || iterations == 0 {
        return Err(invalid(py, "kdf_memory_mib and kdf_iterations must be at least 1"));
    }
    Ok(KdfParams { memory_kib: memory_mib.saturating_mul(1024), iterations, parallelism: 1 })
}

/// What a backup needs, checked in Python's thread before any work starts.
struct BackupJob {
    repo: core_repo::Repository,
    source: entra_backup::source::GraphSource,
    options: BackupOptions,
    progress: Arc<Progress>,
}

impl BackupJob {
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        repo: core_repo::Repository,
        credentials: &Credentials,
        categories: Option<Vec<String>>,
        full: bool,
        tags: Option<Vec<String>>,
        secrets: bool,
    ) -> PyResult<Self> {
        let cats = resolve(py, categories)?;
        let source = credentials.source(SourceOptions { secrets, ..SourceOptions::default() }).py_err(py)?;
        let mut options = BackupOptions::new(source.tenant_id().unwrap_or_default());
        options.full = full;
        options.tags = tags.unwrap_or_default();
        Ok(BackupJob { repo, source, options, progress: Progress::new(&cats) })
    }

    async fn run(self) -> entra_backup::Result<pipeline::BackupReport> {
        pipeline::backup(&self.source, &self.repo, self.options, &self.progress).await
    }
}

/// A backup's report as a dict, or `IncompleteBackupError` carrying it when categories failed
/// (unless `allow_failed`), as the command-line tool exits non-zero then.
fn backup_result<'py>(
    py: Python<'py>,
    report: &pipeline::BackupReport,
    allow_failed: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let dict = convert::serialized(py, report)?;
    let failed = &report.snapshot.failed;
    if failed.is_empty() || allow_failed {
        return Ok(dict);
    }
    let names: Vec<&str> = failed.keys().map(String::as_str).collect();
    let message = format!(
        "the backup wrote snapshot {}, but {} could not be read: {} (the snapshot keeps what its parent held \
         of them; see .report['snapshot']['failed'])",
        report.snapshot_id,
        if names.len() == 1 { "1 category" } else { "these categories" },
        names.join(", ")
    );
    Err(crate::errors::incomplete(py, message, dict))
}

fn keep_policy(last: usize, hourly: usize, daily: usize, weekly: usize, monthly: usize, yearly: usize) -> KeepPolicy {
    KeepPolicy { last, hourly, daily, weekly, monthly, yearly }
}

fn prune_options(
    py: Python<'_>,
    grace: Option<&Bound<'_, PyAny>>,
    dry_run: bool,
    max_unused: f64,
) -> PyResult<PruneOptions> {
    let seconds: f64 = match grace {
        None => 86_400.0,
        Some(g) => match g.call_method0("total_seconds") {
            Ok(s) => s.extract()?,
            Err(_) => g.extract().map_err(|_| invalid(py, "grace is a datetime.timedelta or a number of seconds"))?,
        },
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(invalid(py, format!("grace cannot be negative ({seconds} s)")));
    }
    if !(0.0..=1.0).contains(&max_unused) {
        return Err(invalid(py, format!("max_unused is a share from 0 to 1, not {max_unused}")));
    }
    Ok(PruneOptions { grace: jiff::SignedDuration::from_secs_f64(seconds), max_unused, dry_run })
}

fn read_data(py: Python<'_>, percent: f64) -> PyResult<CheckOptions> {
    if (0.0..=100.0).contains(&percent) {
        Ok(CheckOptions { read_data_percent: percent })
    } else {
        Err(invalid(py, format!("read_data_percent is a percentage from 0 to 100, not {percent}")))
    }
}

fn snapshot_list(
    py: Python<'_>,
    list: Vec<(String, core_repo::snapshot::SnapshotFile)>,
) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for (id, s) in list {
        let d = convert::serialized(py, &s)?.cast_into::<PyDict>()?;
        d.set_item("id", id)?;
        out.append(d)?;
    }
    Ok(out)
}

impl Repository {
    /// The restore future for `restore` and `restore_async`: options checked here, in Python's
    /// thread, so bad input raises before anything runs.
    #[allow(clippy::too_many_arguments)]
    fn restore_job(
        &self,
        py: Python<'_>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Vec<String>>,
        ids: Option<Vec<String>>,
        attributes: Option<Vec<String>>,
        overwrite_relationships: bool,
        dry_run: bool,
    ) -> PyResult<impl FnOnce() -> RestoreFuture + Send + 'static> {
        let categories = match categories {
            None => Vec::new(),
            some => resolve(py, some)?,
        };
        let options = entra_backup::restore::RestoreOptions {
            categories,
            ids: ids.unwrap_or_default(),
            attributes: attributes.unwrap_or_default(),
            overwrite_relationships,
            dry_run,
        };
        let source = live.source(SourceOptions::default()).py_err(py)?;
        let repo = self.get();
        Ok(move || -> RestoreFuture {
            Box::pin(async move { entra_backup::restore::restore_snapshot(repo, &snapshot, &source, &options).await })
        })
    }
}

type RestoreFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = entra_backup::Result<entra_backup::restore::RestoreReport>> + Send>,
>;

fn diff_categories(py: Python<'_>, categories: Option<Vec<String>>) -> PyResult<Vec<&'static Category>> {
    match categories {
        None => Ok(catalog::all().iter().filter(|c| c.time_property.is_none()).collect()),
        some => resolve(py, some),
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
        kdf_memory_mib: u32,
        kdf_iterations: u32,
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
        kdf_memory_mib: u32,
        kdf_iterations: u32,
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
        let mut repo = self.get();
        let access = secrets.core();
        let repo = runtime::run(py, move || async move { repo.unlock_secrets(&access).await.map(|()| repo) })?;
        *self.repo.write().unwrap_or_else(|p| p.into_inner()) = repo;
        Ok(())
    }

    #[getter]
    fn location(&self) -> String {
        self.get().store().location().to_string()
    }

    /// The repository's id (from its config).
    #[getter]
    fn id(&self) -> String {
        self.get().config().id.clone()
    }

    #[getter]
    fn encrypted(&self) -> bool {
        self.get().is_encrypted()
    }

    #[getter]
    fn secrets_unlocked(&self) -> bool {
        self.get().secrets_unlocked()
    }

    fn __repr__(&self) -> String {
        let r = self.get();
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
        categories: Option<Vec<String>>,
        full: bool,
        tags: Option<Vec<String>>,
        secrets: bool,
        progress: Option<Py<PyAny>>,
        progress_interval: f64,
        allow_failed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let every = progress::interval(py, progress_interval)?;
        let job = BackupJob::new(py, self.get(), credentials, categories, full, tags, secrets)?;
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
        categories: Option<Vec<String>>,
        full: bool,
        tags: Option<Vec<String>>,
        secrets: bool,
        progress: Option<Py<PyAny>>,
        progress_interval: f64,
        allow_failed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let every = progress::interval(py, progress_interval)?;
        let job = BackupJob::new(py, self.get(), credentials, categories, full, tags, secrets)?;
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

    /// Every snapshot, oldest first, as dicts (`id`, `time`, `tenant`, `parent`, `categories`,
    /// `failed`, `summary`, `tags`).
    fn snapshots<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let repo = self.get();
        let list = runtime::run(py, move || async move { repo.snapshots().await })?;
        snapshot_list(py, list)
    }

    /// `snapshots`, awaitable.
    fn snapshots_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let repo = self.get();
        awaitable::future_job(
            py,
            move || async move { repo.snapshots().await },
            |py, list| snapshot_list(py, list).map(Bound::into_any),
        )
    }

    /// One snapshot: `latest`, an id, or a unique prefix of 4+ hex digits of one. With
    /// `secrets`, its objects come with their secret properties (needs the secrets key).
    #[pyo3(signature = (name="latest", *, secrets=false))]
    fn snapshot(&self, py: Python<'_>, name: &str, secrets: bool) -> PyResult<Snapshot> {
        let (repo, name) = (self.get(), name.to_string());
        let source = runtime::run(py, move || async move { SnapshotSource::open(repo, &name, secrets).await })?;
        Ok(Snapshot { source: Arc::new(source), secrets })
    }

    /// `snapshot`, awaitable.
    #[pyo3(signature = (name="latest", *, secrets=false))]
    fn snapshot_async<'py>(&self, py: Python<'py>, name: &str, secrets: bool) -> PyResult<Bound<'py, PyAny>> {
        let (repo, name) = (self.get(), name.to_string());
        awaitable::future_job(
            py,
            move || async move { SnapshotSource::open(repo, &name, secrets).await },
            move |py, s| Ok(Bound::new(py, Snapshot { source: Arc::new(s), secrets })?.into_any()),
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
        categories: Option<Vec<String>>,
        id: Option<String>,
    ) -> PyResult<DiffIterator> {
        let cats = diff_categories(py, categories)?;
        let live = match (&other, live) {
            (Some(_), Some(_)) => {
                return Err(invalid(py, "give either another snapshot or live credentials, not both"));
            }
            (None, None) => return Err(invalid(py, "give another snapshot to compare with, or live credentials")),
            (Some(_), None) => None,
            (None, Some(c)) => Some(c.source(SourceOptions::default()).py_err(py)?),
        };
        let repo = self.get();
        let summary: Arc<Mutex<Option<DiffSummary>>> = Arc::default();
        let done = summary.clone();
        let feed = crate::iter::spawn(py, move |tx| async move {
            let before = SnapshotSource::open(repo.clone(), &snapshot, false).await?;
            let (dtx, mut drx) = tokio::sync::mpsc::channel(256);
            let compare = async move {
                match (other, live) {
                    (Some(o), _) => {
                        let after = SnapshotSource::open(repo, &o, false).await?;
                        diff::diff_snapshots(&before, &after, &cats, id.as_deref(), &dtx).await
                    }
                    (None, Some(source)) => {
                        // Objects an earlier restore recreated are compared under their new ids.
                        let tenant = source.tenant_id().unwrap_or_else(|| before.tenant().id.clone());
                        let map = entra_backup::repo::IdMap::load(before.repository(), before.id(), &tenant).await?;
                        diff::diff_live(&before, &source, &cats, id.as_deref(), &map, &dtx).await
                    }
                    (None, None) => unreachable!("checked before spawning"),
                }
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
        let repo = self.get();
        let report = runtime::run(py, move || async move { check::check(&repo, &options).await })?;
        check_dict(py, &report)
    }

    /// `check`, awaitable.
    #[pyo3(signature = (read_data_percent=0.0))]
    fn check_async<'py>(&self, py: Python<'py>, read_data_percent: f64) -> PyResult<Bound<'py, PyAny>> {
        let options = read_data(py, read_data_percent)?;
        let repo = self.get();
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
        keep_last: usize,
        keep_hourly: usize,
        keep_daily: usize,
        keep_weekly: usize,
        keep_monthly: usize,
        keep_yearly: usize,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let policy = keep_policy(keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly);
        let repo = self.get();
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
        keep_last: usize,
        keep_hourly: usize,
        keep_daily: usize,
        keep_weekly: usize,
        keep_monthly: usize,
        keep_yearly: usize,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let policy = keep_policy(keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly);
        let repo = self.get();
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
        let repo = self.get();
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
        let repo = self.get();
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
        categories: Option<Vec<String>>,
        ids: Option<Vec<String>>,
        attributes: Option<Vec<String>>,
        overwrite_relationships: bool,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let job =
            self.restore_job(py, snapshot, live, categories, ids, attributes, overwrite_relationships, dry_run)?;
        let report = runtime::run(py, job)?;
        convert::serialized(py, &report)
    }

    /// `restore`, awaitable.
    #[pyo3(signature = (snapshot, live, *, categories=None, ids=None, attributes=None, overwrite_relationships=false, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn restore_async<'py>(
        &self,
        py: Python<'py>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Vec<String>>,
        ids: Option<Vec<String>>,
        attributes: Option<Vec<String>>,
        overwrite_relationships: bool,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let job =
            self.restore_job(py, snapshot, live, categories, ids, attributes, overwrite_relationships, dry_run)?;
        awaitable::future_job(py, job, |py, report| convert::serialized(py, &report))
    }

    /// What `restore` would do, written nothing: `restore(..., dry_run=True)`.
    #[pyo3(signature = (snapshot, live, *, categories=None, ids=None, attributes=None, overwrite_relationships=false))]
    #[allow(clippy::too_many_arguments)]
    fn plan_restore<'py>(
        &self,
        py: Python<'py>,
        snapshot: String,
        live: &Credentials,
        categories: Option<Vec<String>>,
        ids: Option<Vec<String>>,
        attributes: Option<Vec<String>>,
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
        categories: Option<Vec<String>>,
        ids: Option<Vec<String>>,
        attributes: Option<Vec<String>>,
        overwrite_relationships: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.restore_async(py, snapshot, live, categories, ids, attributes, overwrite_relationships, true)
    }
}

fn check_dict<'py>(py: Python<'py>, report: &check::CheckReport) -> PyResult<Bound<'py, PyAny>> {
    let d = convert::serialized(py, report)?.cast_into::<PyDict>()?;
    d.set_item("ok", report.ok())?;
    Ok(d.into_any())
}

/// One snapshot of a repository: its metadata, its objects (as dicts, streamed), one object by id.
#[pyclass(module = "entra_backup", frozen)]
pub struct Snapshot {
    source: Arc<SnapshotSource>,
    secrets: bool,
}

impl Snapshot {
    fn category(&self, py: Python<'_>, name: &str) -> PyResult<&'static Category> {
        let cat = resolve(py, Some(vec![name.to_string()]))?[0];
        Ok(cat)
    }

    fn held(&self, py: Python<'_>, categories: Option<Vec<String>>) -> PyResult<Vec<&'static Category>> {
        match categories {
            None => Ok(self.source.categories()),
            some => resolve(py, some),
        }
    }

    fn iterate(&self, py: Python<'_>, cats: Vec<&'static Category>, pairs: bool) -> PyResult<ObjectIterator> {
        let (source, secrets) = (self.source.clone(), self.secrets);
        let feed = crate::iter::spawn(py, move |tx| async move {
            let (otx, mut orx) = tokio::sync::mpsc::channel(crate::iter::QUEUE);
            let read = async move {
                let r = entra_backup::api::read_objects(&source, &cats, secrets, BATCH, &otx).await;
                drop(otx);
                r
            };
            let forward = async move {
                while let Some(batch) = orx.recv().await {
                    if tx.send(Ok(batch)).await.is_err() {
                        return;
                    }
                }
            };
            let (read, ()) = tokio::join!(read, forward);
            read.map(drop)
        })?;
        Ok(ObjectIterator::new(feed, pairs))
    }
}

/// Objects per batch handed from the core to Python.
const BATCH: usize = 256;

#[pymethods]
impl Snapshot {
    #[getter]
    fn id(&self) -> &str {
        self.source.id()
    }

    /// When the backup started (RFC 3339, UTC).
    #[getter]
    fn time(&self) -> String {
        self.source.time().to_string()
    }

    #[getter]
    fn tenant_id(&self) -> &str {
        &self.source.tenant().id
    }

    /// The snapshot this one was made incrementally from.
    #[getter]
    fn parent(&self) -> Option<&str> {
        self.source.file().parent.as_deref()
    }

    #[getter]
    fn tags(&self) -> Vec<String> {
        self.source.file().tags.clone()
    }

    /// The names of the categories it holds, in restore order.
    #[getter]
    fn category_names(&self) -> Vec<&'static str> {
        self.source.categories().iter().map(|c| c.name).collect()
    }

    /// Everything the snapshot says of itself, as `Repository.snapshots()` gives it.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = convert::serialized(py, self.source.file())?.cast_into::<PyDict>()?;
        d.set_item("id", self.source.id())?;
        Ok(d.into_any())
    }

    /// The ids of one category's objects, in id order (read from the snapshot's tree only).
    fn ids(&self, py: Python<'_>, category: &str) -> PyResult<IdIterator> {
        let cat = self.category(py, category)?;
        let source = self.source.clone();
        let ids = runtime::run(py, move || async move { Ok(source.ids(cat).await?.into_iter().collect()) })?;
        Ok(IdIterator::new(ids))
    }

    /// One object as a dict, or None if the snapshot does not hold it.
    fn get<'py>(&self, py: Python<'py>, category: &str, id: String) -> PyResult<Option<Bound<'py, PyAny>>> {
        let cat = self.category(py, category)?;
        let source = self.source.clone();
        let object = runtime::run(py, move || async move { source.object(cat, &id).await })?;
        object.map(|o| convert::object(py, &o).map(Bound::into_any)).transpose()
    }

    /// The objects of `category` (default: every category the snapshot holds), each a dict of
    /// its Graph JSON with its relationships, read in batches as the iterator is consumed.
    #[pyo3(signature = (category=None))]
    fn objects(&self, py: Python<'_>, category: Option<String>) -> PyResult<ObjectIterator> {
        let cats = self.held(py, category.map(|c| vec![c]))?;
        self.iterate(py, cats, false)
    }

    /// `(category, object)` pairs of `categories` (default: every category the snapshot holds).
    #[pyo3(signature = (categories=None))]
    fn walk(&self, py: Python<'_>, categories: Option<Vec<String>>) -> PyResult<ObjectIterator> {
        let cats = self.held(py, categories)?;
        self.iterate(py, cats, true)
    }

    /// Write the snapshot out in the plain layout of `export` (`DIR/<category>/<id>.json`).
    fn export<'py>(&self, py: Python<'py>, out_dir: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let source = self.source.clone();
        let summary = runtime::run(py, move || async move {
            let progress = Progress::new(&source.categories());
            pipeline::export(source.as_ref(), &out_dir, &progress).await
        })?;
        convert::serialized(py, &summary)
    }

    fn __repr__(&self) -> String {
        let s = self.source.file();
        format!(
            "Snapshot(id={}, time={}, tenant_id={}, objects={})",
            convert::repr(self.source.id()),
            convert::repr(&s.time.to_string()),
            convert::repr(&s.tenant.id),
            s.categories.values().map(|c| c.objects).sum::<u64>()
        )
    }
}

fn export_job(
    py: Python<'_>,
    credentials: &Credentials,
    categories: Option<Vec<String>>,
    secrets: bool,
    logs_days: Option<u32>,
) -> PyResult<(entra_backup::source::GraphSource, Arc<Progress>)> {
    let cats = resolve(py, categories)?;
    let logs_since = logs_days.map(|d| jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(d)));
    let source = credentials.source(SourceOptions { secrets, logs_since, ..SourceOptions::default() }).py_err(py)?;
    Ok((source, Progress::new(&cats)))
}

/// Read a tenant through Graph into `out_dir/<category>/<id>.json` (and `summary.json`), every
/// property and relationship. Returns the summary (per category: objects, requests, throttled,
/// and `error` for a category that could not be read).
#[pyfunction]
#[pyo3(signature = (credentials, out_dir, *, categories=None, secrets=false, logs_days=None, progress=None, progress_interval=1.0))]
#[allow(clippy::too_many_arguments)]
pub fn export<'py>(
    py: Python<'py>,
    credentials: &Credentials,
    out_dir: PathBuf,
    categories: Option<Vec<String>>,
    secrets: bool,
    logs_days: Option<u32>,
    progress: Option<Py<PyAny>>,
    progress_interval: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let every = progress::interval(py, progress_interval)?;
    let (source, live) = export_job(py, credentials, categories, secrets, logs_days)?;
    let p = live.clone();
    let work = move || async move { pipeline::export(&source, &out_dir, &p).await };
    let summary = match &progress {
        None => runtime::run(py, work)?,
        Some(cb) => {
            let mut tick = |py: Python<'_>| progress::call(py, cb, &live);
            let summary = runtime::run_with(py, work, Some(Ticker { every, tick: &mut tick }))?;
            progress::call(py, cb, &live)?;
            summary
        }
    };
    convert::serialized(py, &summary)
}

/// `export`, awaitable.
#[pyfunction]
#[pyo3(signature = (credentials, out_dir, *, categories=None, secrets=false, logs_days=None, progress=None, progress_interval=1.0))]
#[allow(clippy::too_many_arguments)]
pub fn export_async<'py>(
    py: Python<'py>,
    credentials: &Credentials,
    out_dir: PathBuf,
    categories: Option<Vec<String>>,
    secrets: bool,
    logs_days: Option<u32>,
    progress: Option<Py<PyAny>>,
    progress_interval: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let every = progress::interval(py, progress_interval)?;
    let (source, live) = export_job(py, credentials, categories, secrets, logs_days)?;
    let p = live.clone();
    let ticks = progress::ticks(py, progress.as_ref(), &live, every);
    awaitable::future_job_ticking(
        py,
        move || async move { pipeline::export(&source, &out_dir, &p).await },
        move |py, summary| {
            if let Some(cb) = &progress {
                progress::call(py, cb, &live)?;
            }
            convert::serialized(py, &summary)
        },
        ticks,
    )
}
