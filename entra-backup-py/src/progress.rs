//! A run's live progress as a dict for progress callbacks, and the callback loop of async calls.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use entra_backup::pipeline::{Progress, State};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn state_name(s: State) -> &'static str {
    match s {
        State::Waiting => "waiting",
        State::Reading => "reading",
        State::Done => "done",
        State::Failed => "failed",
    }
}

/// `{"elapsed", "objects", "relationships", "httpRequests", "throttled", "categoriesDone",
/// "categoriesFailed", "categoriesTotal", "categories": [{"category", "state", "objects",
/// "relationships", "httpRequests", "throttled"}, ...]}` (`entra_backup.ProgressUpdate`): camelCase
/// as the reports, and the request count named as in them (HTTP requests, a `$batch` counted once).
pub fn to_dict<'py>(py: Python<'py>, progress: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let cats = PyList::empty(py);
    let (mut objects, mut relationships, mut requests, mut throttled, mut done, mut failed) = (0, 0, 0, 0, 0, 0);
    for cp in &progress.categories {
        let state = cp.state();
        let r = &cp.stats.requests;
        let (o, l, q, t) = (
            cp.stats.objects(),
            cp.stats.relationships(),
            r.requests.load(Ordering::Relaxed),
            r.throttled.load(Ordering::Relaxed),
        );
        objects += o;
        relationships += l;
        requests += q;
        throttled += t;
        done += usize::from(state == State::Done);
        failed += usize::from(state == State::Failed);
        let d = PyDict::new(py);
        d.set_item("category", cp.category.name)?;
        d.set_item("state", state_name(state))?;
        d.set_item("objects", o)?;
        d.set_item("relationships", l)?;
        d.set_item("httpRequests", q)?;
        d.set_item("throttled", t)?;
        cats.append(d)?;
    }
    let d = PyDict::new(py);
    d.set_item("elapsed", progress.elapsed().as_secs_f64())?;
    d.set_item("objects", objects)?;
    d.set_item("relationships", relationships)?;
    d.set_item("httpRequests", requests)?;
    d.set_item("throttled", throttled)?;
    d.set_item("categoriesDone", done)?;
    d.set_item("categoriesFailed", failed)?;
    d.set_item("categoriesTotal", progress.categories.len())?;
    d.set_item("categories", cats)?;
    Ok(d)
}

/// Call `callback(progress)` once.
pub fn call(py: Python<'_>, callback: &Py<PyAny>, progress: &Progress) -> PyResult<()> {
    callback.call1(py, (to_dict(py, progress)?,)).map(drop)
}

/// For an async call: the tick calling `callback` every `every` (on the event loop's thread).
pub fn ticks(
    py: Python<'_>,
    callback: Option<&Py<PyAny>>,
    progress: &Arc<Progress>,
    every: Duration,
) -> Option<(Duration, crate::awaitable::Tick)> {
    let (callback, progress) = (callback?.clone_ref(py), progress.clone());
    Some((every, Box::new(move |py| call(py, &callback, &progress))))
}

/// Check a callback interval from Python.
pub fn interval(py: Python<'_>, seconds: f64) -> PyResult<Duration> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(crate::errors::invalid(py, format!("progress_interval must be between 0 and 86400 seconds, not {seconds}")))
    }
}
