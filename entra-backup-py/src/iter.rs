//! Iterators over large results (a snapshot's objects, a comparison's differences): the core
//! produces batches on the runtime while Python converts and consumes them, so that neither waits
//! for the other and no result is ever held whole. Each works with `for` and `async for`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_backup::diff::{DiffSummary, ObjectDiff};
use entra_backup::source::Object;
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use tokio::sync::mpsc;

use crate::awaitable::ready;
use crate::errors::IntoPy;
use crate::runtime::{Job, runtime};

/// Batches in flight between the producer and Python.
pub const QUEUE: usize = 8;

pub type Batches<T> = mpsc::Receiver<entra_backup::Result<Vec<T>>>;

struct State<T> {
    buffer: VecDeque<T>,
    /// None while a reader waits on it (or once finished).
    rx: Option<Batches<T>>,
    finished: bool,
}

/// The shared part of an iterator: what was received and not yet taken, and the producer.
/// Dropping it (an iterator dropped early) cancels the producer.
pub struct Feed<T> {
    state: Mutex<State<T>>,
    _producer: Job<()>,
}

enum Next<T> {
    Item(T),
    End,
    /// The receiver, to wait on.
    Wait(Batches<T>),
}

impl<T: Send + 'static> Feed<T> {
    pub fn new(rx: Batches<T>, producer: Job<()>) -> Arc<Self> {
        Arc::new(Feed {
            state: Mutex::new(State { buffer: VecDeque::new(), rx: Some(rx), finished: false }),
            _producer: producer,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self) -> PyResult<Next<T>> {
        let mut s = self.lock();
        if let Some(item) = s.buffer.pop_front() {
            return Ok(Next::Item(item));
        }
        if s.finished {
            return Ok(Next::End);
        }
        match s.rx.take() {
            Some(rx) => Ok(Next::Wait(rx)),
            None => Err(PyRuntimeError::new_err("this iterator is already being read by another call")),
        }
    }

    /// Put back the receiver with what it gave: the next item, or the end, or the error.
    fn received(
        &self,
        py: Python<'_>,
        rx: Batches<T>,
        got: Option<entra_backup::Result<Vec<T>>>,
    ) -> PyResult<Option<T>> {
        let mut s = self.lock();
        match got {
            Some(Ok(batch)) => {
                s.rx = Some(rx);
                s.buffer.extend(batch);
                Ok(s.buffer.pop_front())
            }
            None => {
                s.finished = true;
                Ok(None)
            }
            Some(Err(e)) => {
                s.finished = true;
                Err(e).py_err(py)
            }
        }
    }

    /// The next item, waiting with the GIL released (and Ctrl-C honoured), or None at the end.
    pub fn next(&self, py: Python<'_>) -> PyResult<Option<T>> {
        loop {
            let mut rx = match self.take()? {
                Next::Item(item) => return Ok(Some(item)),
                Next::End => return Ok(None),
                Next::Wait(rx) => rx,
            };
            let got = loop {
                let polled = py.detach(|| {
                    runtime().block_on(async { tokio::time::timeout(Duration::from_millis(100), rx.recv()).await })
                });
                match polled {
                    Ok(got) => break got,
                    Err(_) => {
                        if let Err(e) = py.check_signals() {
                            self.lock().rx = Some(rx);
                            return Err(e);
                        }
                    }
                }
            };
            // An empty batch (none is sent) would loop; either way take from the buffer again.
            if let Some(item) = self.received(py, rx, got)? {
                return Ok(Some(item));
            }
            if self.lock().finished {
                return Ok(None);
            }
        }
    }

    /// An awaitable for the next item converted by `convert`; `StopAsyncIteration` at the end.
    pub fn anext<'py>(
        self: &Arc<Self>,
        py: Python<'py>,
        convert: fn(Python<'_>, T) -> PyResult<Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.take()? {
            Next::Item(item) => ready(py, Ok(convert(py, item)?.unbind())),
            Next::End => ready(py, Err(PyStopAsyncIteration::new_err(()))),
            Next::Wait(mut rx) => {
                let feed = self.clone();
                let receive = async move {
                    let got = rx.recv().await;
                    (rx, got)
                };
                let take = move |py: Python<'_>, (rx, got)| match feed.received(py, rx, got)? {
                    Some(item) => Ok(convert(py, item)?.unbind()),
                    None => Err(PyStopAsyncIteration::new_err(())),
                };
                crate::awaitable::awaitable(py, receive, take, None)
            }
        }
    }
}

/// Start `produce` as a job with a channel of batches; an error it returns is the last thing sent.
pub fn spawn<T, P, F>(py: Python<'_>, produce: P) -> PyResult<Arc<Feed<T>>>
where
    T: Send + 'static,
    P: FnOnce(mpsc::Sender<entra_backup::Result<Vec<T>>>) -> F + Send + 'static,
    F: std::future::Future<Output = entra_backup::Result<()>>,
{
    let (tx, rx) = mpsc::channel(QUEUE);
    let producer = Job::start(move || async move {
        if let Err(e) = produce(tx.clone()).await {
            let _ = tx.send(Err(e)).await;
        }
        Ok(())
    })
    .py_err(py)?;
    Ok(Feed::new(rx, producer))
}

fn object_dict(py: Python<'_>, o: Object) -> PyResult<Bound<'_, PyAny>> {
    Ok(crate::convert::object(py, &o.json)?.into_any())
}

fn object_pair(py: Python<'_>, o: Object) -> PyResult<Bound<'_, PyAny>> {
    let dict = crate::convert::object(py, &o.json)?;
    Ok(PyTuple::new(py, [PyString::new(py, o.category.name).into_any(), dict.into_any()])?.into_any())
}

/// Objects of a snapshot, as dicts of their Graph JSON (`Snapshot.objects`), read in batches as
/// it is iterated.
#[pyclass(module = "entra_backup", frozen)]
pub struct ObjectIterator {
    feed: Arc<Feed<Object>>,
}

impl ObjectIterator {
    pub fn new(feed: Arc<Feed<Object>>) -> Self {
        ObjectIterator { feed }
    }
}

#[pymethods]
impl ObjectIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.feed.next(py)?.map(|o| object_dict(py, o)).transpose()
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.feed.anext(py, object_dict)
    }
}

/// `(category, object)` pairs of a snapshot (`Snapshot.walk`), read in batches as it is iterated.
#[pyclass(module = "entra_backup", frozen)]
pub struct WalkIterator {
    feed: Arc<Feed<Object>>,
}

impl WalkIterator {
    pub fn new(feed: Arc<Feed<Object>>) -> Self {
        WalkIterator { feed }
    }
}

#[pymethods]
impl WalkIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.feed.next(py)?.map(|o| object_pair(py, o)).transpose()
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.feed.anext(py, object_pair)
    }
}

fn diff_dict(py: Python<'_>, d: ObjectDiff) -> PyResult<Bound<'_, PyAny>> {
    crate::convert::serialized(py, &d)
}

/// The differences between two snapshots (or a snapshot and the live tenant), one dict per
/// object that differs: `category`, `id`, `displayName`, `kind` (`added`, `removed`, `changed`),
/// and for a change `attributes`, each with `before` and `after`, or for links `added` and
/// `removed` references. `summary` holds the counts once the iteration has ended.
#[pyclass(module = "entra_backup", frozen)]
pub struct DiffIterator {
    feed: Arc<Feed<ObjectDiff>>,
    summary: Arc<Mutex<Option<DiffSummary>>>,
}

impl DiffIterator {
    pub fn new(feed: Arc<Feed<ObjectDiff>>, summary: Arc<Mutex<Option<DiffSummary>>>) -> Self {
        DiffIterator { feed, summary }
    }
}

#[pymethods]
impl DiffIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.feed.next(py)? {
            Some(d) => Ok(Some(diff_dict(py, d)?)),
            None => Ok(None),
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.feed.anext(py, diff_dict)
    }

    /// `{"added", "removed", "changed", "unchanged"}` once every difference was read (and
    /// `failedCategories`, those the tenant would not let it read); None before.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let s = self.summary.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match s {
            Some(s) if self.feed.lock().finished => Ok(Some(crate::convert::serialized(py, &s)?)),
            _ => Ok(None),
        }
    }
}

/// Object ids (`Snapshot.ids`): held by the core, handed out one at a time.
#[pyclass(module = "entra_backup")]
pub struct IdIterator {
    ids: std::vec::IntoIter<String>,
}

impl IdIterator {
    pub fn new(ids: Vec<String>) -> Self {
        IdIterator { ids: ids.into_iter() }
    }
}

#[pymethods]
impl IdIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&mut self) -> Option<String> {
        self.ids.next()
    }

    fn __len__(&self) -> usize {
        self.ids.len()
    }
}
