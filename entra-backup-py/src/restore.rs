//! The restore behind `Repository.restore` and `Repository.plan_restore` (and their awaitable
//! twins): options checked in Python's thread, so that bad input raises before anything runs.

use std::future::Future;
use std::pin::Pin;

use entra_backup::repo::{self as core_repo};
use entra_backup::restore::{RestoreOptions, RestoreReport, restore_snapshot};
use entra_backup::source::SourceOptions;
use pyo3::prelude::*;

use crate::args;
use crate::credentials::{Credentials, resolve};
use crate::errors::IntoPy;

/// The restore, made on the job's thread.
pub type RestoreFuture = Pin<Box<dyn Future<Output = entra_backup::Result<RestoreReport>> + Send>>;

/// What `restore` and `plan_restore` take besides the snapshot and the credentials.
pub struct Scope<'a, 'py> {
    pub categories: Option<&'a Bound<'py, PyAny>>,
    pub ids: Option<&'a Bound<'py, PyAny>>,
    pub attributes: Option<&'a Bound<'py, PyAny>>,
    pub overwrite_relationships: bool,
    pub dry_run: bool,
}

/// The restore of `snapshot` of `repo` into the tenant `live` reaches, checked and ready to run.
pub fn job(
    py: Python<'_>,
    repo: core_repo::Repository,
    snapshot: String,
    live: &Credentials,
    scope: Scope<'_, '_>,
) -> PyResult<impl FnOnce() -> RestoreFuture + Send + 'static> {
    let categories = match args::strings(py, "categories", scope.categories)? {
        None => Vec::new(),
        some => resolve(py, "categories", some)?,
    };
    let options = RestoreOptions {
        categories,
        ids: args::strings(py, "ids", scope.ids)?.unwrap_or_default(),
        attributes: args::strings(py, "attributes", scope.attributes)?.unwrap_or_default(),
        overwrite_relationships: scope.overwrite_relationships,
        dry_run: scope.dry_run,
    };
    let source = live.source(SourceOptions::default()).py_err(py)?;
    Ok(move || -> RestoreFuture { Box::pin(async move { restore_snapshot(repo, &snapshot, &source, &options).await }) })
}

/// The report as a dict (`entra_backup.RestoreReport`).
pub fn report<'py>(py: Python<'py>, report: &RestoreReport) -> PyResult<Bound<'py, PyAny>> {
    crate::convert::serialized(py, report)
}
