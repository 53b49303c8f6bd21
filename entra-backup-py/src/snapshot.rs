//! `Snapshot`: one snapshot of a repository, its metadata, its objects (streamed), one object.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::snapshot::SnapshotFile;
use entra_backup::repo::{self as core_repo};
use entra_backup::source::{Object, SnapshotSource};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tokio::sync::OnceCell;

use crate::awaitable;
use crate::convert;
use crate::credentials::resolve;
use crate::iter::{Feed, IdIterator, ObjectIterator, WalkIterator};
use crate::runtime;

/// Objects per batch handed from the core to Python.
const BATCH: usize = 256;

/// One snapshot of a repository: its metadata, its objects (as dicts, streamed), one object by id.
/// A snapshot from `Repository.snapshots()` is opened for reading on its first read.
#[pyclass(module = "entra_backup", frozen)]
pub struct Snapshot {
    repo: core_repo::Repository,
    id: String,
    file: Arc<SnapshotFile>,
    secrets: bool,
    reader: Arc<OnceCell<Arc<SnapshotSource>>>,
}

impl Snapshot {
    /// A snapshot opened for reading (`Repository.snapshot`).
    pub fn opened(source: SnapshotSource) -> Self {
        Snapshot {
            repo: source.repository().clone(),
            id: source.id().to_string(),
            file: Arc::new(source.file().clone()),
            secrets: source.with_secrets(),
            reader: Arc::new(OnceCell::new_with(Some(Arc::new(source)))),
        }
    }

    /// A snapshot as the repository lists it (`Repository.snapshots`), opened when first read.
    pub fn listed(repo: core_repo::Repository, id: String, file: SnapshotFile) -> Self {
        Snapshot { repo, id, file: Arc::new(file), secrets: false, reader: Arc::default() }
    }

    /// The snapshot opened for reading, once.
    fn reader(&self) -> impl Future<Output = entra_backup::Result<Arc<SnapshotSource>>> + Send + 'static {
        let (cell, repo, id, secrets) = (self.reader.clone(), self.repo.clone(), self.id.clone(), self.secrets);
        async move {
            cell.get_or_try_init(|| async move { SnapshotSource::open(repo, &id, secrets).await.map(Arc::new) })
                .await
                .cloned()
        }
    }

    fn category(&self, py: Python<'_>, name: &str) -> PyResult<&'static Category> {
        Ok(resolve(py, "category", Some(vec![name.to_string()]))?[0])
    }

    /// The categories it holds, in catalog (restore) order.
    fn held_categories(&self) -> Vec<&'static Category> {
        catalog::all().iter().filter(|c| self.file.categories.contains_key(c.name)).collect()
    }

    fn held(&self, py: Python<'_>, arg: &str, categories: Option<Vec<String>>) -> PyResult<Vec<&'static Category>> {
        match categories {
            None => Ok(self.held_categories()),
            some => resolve(py, arg, some),
        }
    }

    fn iterate(&self, py: Python<'_>, cats: Vec<&'static Category>) -> PyResult<Arc<Feed<Object>>> {
        let (reader, secrets) = (self.reader(), self.secrets);
        let feed = crate::iter::spawn(py, move |tx| async move {
            let source = reader.await?;
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
        Ok(feed)
    }

    fn info_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = convert::serialized_with(py, self.file.as_ref(), convert::snapshot_file)?.cast_into::<PyDict>()?;
        d.set_item("id", &self.id)?;
        Ok(d.into_any())
    }

    fn ids_job(&self, py: Python<'_>, category: &str) -> PyResult<impl FnOnce() -> Work<Vec<String>> + Send + 'static> {
        let cat = self.category(py, category)?;
        let reader = self.reader();
        Ok(move || -> Work<Vec<String>> {
            Box::pin(async move { Ok(reader.await?.ids(cat).await?.into_iter().collect()) })
        })
    }

    fn get_job(
        &self,
        py: Python<'_>,
        category: &str,
        id: String,
    ) -> PyResult<impl FnOnce() -> Work<Option<JsonObject>> + Send + 'static> {
        let cat = self.category(py, category)?;
        let reader = self.reader();
        Ok(move || -> Work<Option<JsonObject>> { Box::pin(async move { reader.await?.object(cat, &id).await }) })
    }

    fn export_job(&self, out_dir: PathBuf) -> impl FnOnce() -> Work<Summary> + Send + 'static {
        let reader = self.reader();
        move || -> Work<Summary> {
            Box::pin(async move {
                let source = reader.await?;
                let progress = Progress::new(&source.categories());
                pipeline::export(source.as_ref(), &out_dir, &progress).await
            })
        }
    }
}

/// A job's work: made on the job's thread, so it need not be `Send`.
type Work<T> = std::pin::Pin<Box<dyn Future<Output = entra_backup::Result<T>>>>;
type JsonObject = serde_json::Map<String, serde_json::Value>;
type Summary = entra_backup::Summary;

fn object_or_none(py: Python<'_>, object: Option<JsonObject>) -> PyResult<Bound<'_, PyAny>> {
    match object {
        Some(o) => Ok(convert::object(py, &o)?.into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

#[pymethods]
impl Snapshot {
    /// The snapshot's id (64 hex digits).
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// When the backup started (RFC 3339, UTC).
    #[getter]
    fn time(&self) -> String {
        self.file.time.to_string()
    }

    /// The id of the tenant it was taken of.
    #[getter]
    fn tenant_id(&self) -> &str {
        &self.file.tenant.id
    }

    /// The snapshot this one was made incrementally from.
    #[getter]
    fn parent(&self) -> Option<&str> {
        self.file.parent.as_deref()
    }

    /// The tags given to the backup.
    #[getter]
    fn tags(&self) -> Vec<String> {
        self.file.tags.clone()
    }

    /// The names of the categories it holds, in restore order.
    #[getter]
    fn category_names(&self) -> Vec<&'static str> {
        self.held_categories().iter().map(|c| c.name).collect()
    }

    /// Everything the snapshot says of itself (`entra_backup.SnapshotInfo`): `id`, `time`,
    /// `tenant`, `parent`, `categories`, `failed`, `summary`, `tags`.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.info_dict(py)
    }

    /// `info`, awaitable (the snapshot's metadata is already at hand: it is ready at once).
    fn info_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let info = self.info_dict(py).map(Bound::unbind);
        awaitable::ready(py, info)
    }

    /// The ids of one category's objects, in id order (read from the snapshot's tree only).
    fn ids(&self, py: Python<'_>, category: &str) -> PyResult<IdIterator> {
        let job = self.ids_job(py, category)?;
        Ok(IdIterator::new(runtime::run(py, job)?))
    }

    /// `ids`, awaitable.
    fn ids_async<'py>(&self, py: Python<'py>, category: &str) -> PyResult<Bound<'py, PyAny>> {
        let job = self.ids_job(py, category)?;
        awaitable::future_job(py, job, |py, ids| Ok(Bound::new(py, IdIterator::new(ids))?.into_any()))
    }

    /// One object as a dict, or None if the snapshot does not hold it.
    fn get<'py>(&self, py: Python<'py>, category: &str, id: String) -> PyResult<Bound<'py, PyAny>> {
        let job = self.get_job(py, category, id)?;
        let object = runtime::run(py, job)?;
        object_or_none(py, object)
    }

    /// `get`, awaitable.
    fn get_async<'py>(&self, py: Python<'py>, category: &str, id: String) -> PyResult<Bound<'py, PyAny>> {
        let job = self.get_job(py, category, id)?;
        awaitable::future_job(py, job, object_or_none)
    }

    /// The objects of `category` (default: every category the snapshot holds), each a dict of
    /// its Graph JSON with its relationships, read in batches as the iterator is consumed.
    #[pyo3(signature = (category=None))]
    fn objects(&self, py: Python<'_>, category: Option<String>) -> PyResult<ObjectIterator> {
        let cats = self.held(py, "category", category.map(|c| vec![c]))?;
        Ok(ObjectIterator::new(self.iterate(py, cats)?))
    }

    /// `(category, object)` pairs of `categories` (default: every category the snapshot holds).
    #[pyo3(signature = (categories=None))]
    fn walk(&self, py: Python<'_>, categories: Option<Bound<'_, PyAny>>) -> PyResult<WalkIterator> {
        let categories = crate::args::strings(py, "categories", categories.as_ref())?;
        let cats = self.held(py, "categories", categories)?;
        Ok(WalkIterator::new(self.iterate(py, cats)?))
    }

    /// Write the snapshot out in the plain layout of `export` (`DIR/<category>/<id>.json`).
    /// Returns the summary, as `export` does.
    fn export<'py>(&self, py: Python<'py>, out_dir: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let summary = runtime::run(py, self.export_job(out_dir))?;
        convert::serialized_with(py, &summary, convert::run_summary)
    }

    /// `export`, awaitable.
    fn export_async<'py>(&self, py: Python<'py>, out_dir: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        awaitable::future_job(py, self.export_job(out_dir), |py, summary| {
            convert::serialized_with(py, &summary, convert::run_summary)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Snapshot(id={}, time={}, tenant_id={}, objects={})",
            convert::repr(&self.id),
            convert::repr(&self.file.time.to_string()),
            convert::repr(&self.file.tenant.id),
            self.file.categories.values().map(|c| c.objects).sum::<u64>()
        )
    }
}
