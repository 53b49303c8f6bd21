//! `export` and `export_async`: a tenant read through Graph into the plain layout.

use std::path::PathBuf;
use std::sync::Arc;

use entra_backup::pipeline::{self, Progress};
use entra_backup::source::SourceOptions;
use pyo3::prelude::*;

use crate::args;
use crate::awaitable;
use crate::convert;
use crate::credentials::{Credentials, resolve};
use crate::errors::IntoPy;
use crate::progress;
use crate::runtime::{self, Ticker};

fn export_job(
    py: Python<'_>,
    credentials: &Credentials,
    categories: Option<&Bound<'_, PyAny>>,
    secrets: bool,
    logs_days: Option<i128>,
) -> PyResult<(entra_backup::source::GraphSource, Arc<Progress>)> {
    let cats = resolve(py, "categories", args::strings(py, "categories", categories)?)?;
    let logs_days: Option<u32> = logs_days.map(|d| args::whole(py, "logs_days", d)).transpose()?;
    let logs_since = logs_days.map(|d| jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(d)));
    let source = credentials.source(SourceOptions { secrets, logs_since, ..SourceOptions::default() }).py_err(py)?;
    Ok((source, Progress::new(&cats)))
}

/// Read a tenant through Graph into `out_dir/<category>/<id>.json` (and `summary.json`), every
/// property and relationship. Returns the summary (`entra_backup.ExportReport`; per category:
/// objects, httpRequests, throttled, and `error` for a category that could not be read).
#[pyfunction]
#[pyo3(signature = (credentials, out_dir, *, categories=None, secrets=false, logs_days=None, progress=None, progress_interval=1.0))]
#[allow(clippy::too_many_arguments)]
pub fn export<'py>(
    py: Python<'py>,
    credentials: &Credentials,
    out_dir: PathBuf,
    categories: Option<Bound<'py, PyAny>>,
    secrets: bool,
    logs_days: Option<i128>,
    progress: Option<Py<PyAny>>,
    progress_interval: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let every = progress::interval(py, progress_interval)?;
    let (source, live) = export_job(py, credentials, categories.as_ref(), secrets, logs_days)?;
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
    convert::serialized_with(py, &summary, convert::run_summary)
}

/// `export`, awaitable.
#[pyfunction]
#[pyo3(signature = (credentials, out_dir, *, categories=None, secrets=false, logs_days=None, progress=None, progress_interval=1.0))]
#[allow(clippy::too_many_arguments)]
pub fn export_async<'py>(
    py: Python<'py>,
    credentials: &Credentials,
    out_dir: PathBuf,
    categories: Option<Bound<'py, PyAny>>,
    secrets: bool,
    logs_days: Option<i128>,
    progress: Option<Py<PyAny>>,
    progress_interval: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let every = progress::interval(py, progress_interval)?;
    let (source, live) = export_job(py, credentials, categories.as_ref(), secrets, logs_days)?;
    let p = live.clone();
    let ticks = progress::ticks(py, progress.as_ref(), &live, every);
    awaitable::future_job_ticking(
        py,
        move || async move { pipeline::export(&source, &out_dir, &p).await },
        move |py, summary| {
            if let Some(cb) = &progress {
                progress::call(py, cb, &live)?;
            }
            convert::serialized_with(py, &summary, convert::run_summary)
        },
        ticks,
    )
}
