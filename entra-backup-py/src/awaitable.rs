//! Awaitables for the `*_async` functions, without any thread but the event loop's touching Python.
//!
//! The work runs on the shared runtime. When it ends, the result is put aside and one byte written
//! to a socket pair whose other end the event loop watches (`loop.add_reader`); the loop then, on
//! its own thread, converts the result and completes the asyncio future. Progress ticks travel the
//! same way, so progress callbacks also run on the loop's thread. No runtime thread ever takes the
//! GIL: an interpreter that exits right after `asyncio.run` never meets a thread still finishing a
//! call into Python (which aborts CPython before 3.14). Cancelling the asyncio future (task
//! cancellation, Ctrl-C in `asyncio.run`) aborts the work, which drops it at its next await point.

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::task::JoinHandle;

use crate::errors::IntoPy;
use crate::runtime::{Job, ended, runtime};

/// The result of the work, made into a Python object on the loop's thread.
type Completion = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;
/// What to call on the loop's thread at each progress tick.
pub type Tick = Box<dyn FnMut(Python<'_>) -> PyResult<()> + Send>;

/// The loop's side of one awaitable: called when its socket is readable, and when its future is done.
#[pyclass(frozen)]
struct Waiter {
    reader: UnixStream,
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    completion: Arc<Mutex<Option<Completion>>>,
    tick: Mutex<Option<Tick>>,
    task: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Waiter {
    /// Stop watching the socket and stop the work if it still runs.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.event_loop.call_method1(py, "remove_reader", (self.reader.as_raw_fd(),))?;
        }
        Ok(())
    }

    fn fail(&self, py: Python<'_>, e: PyErr) -> PyResult<()> {
        self.close(py)?;
        self.future.call_method1(py, "set_exception", (e.into_value(py),))?;
        Ok(())
    }
}

#[pymethods]
impl Waiter {
    fn _readable(&self, py: Python<'_>) -> PyResult<()> {
        let mut ended = false;
        let mut buf = [0u8; 64];
        loop {
            match (&self.reader).read(&mut buf) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    ended = true;
                    break;
                }
            }
        }
        if self.future.call_method0(py, "done")?.extract::<bool>(py)? {
            return self.close(py);
        }
        if let Some(complete) = lock(&self.completion).take() {
            self.close(py)?;
            match complete(py) {
                Ok(value) => self.future.call_method1(py, "set_result", (value,))?,
                Err(e) => self.future.call_method1(py, "set_exception", (e.into_value(py),))?,
            };
            return Ok(());
        }
        if ended {
            return self.fail(py, PyRuntimeError::new_err("entra_backup failed unexpectedly (a bug): no result"));
        }
        let ticked = match lock(&self.tick).as_mut() {
            Some(tick) => tick(py),
            None => Ok(()),
        };
        match ticked {
            Ok(()) => Ok(()),
            Err(e) => self.fail(py, e),
        }
    }

    fn _done(&self, py: Python<'_>, _future: &Bound<'_, PyAny>) -> PyResult<()> {
        self.close(py)
    }
}

/// An asyncio future for `work`, whose output `convert` makes a Python object (on the loop's
/// thread); with `tick`, `tick.1` is called every `tick.0` meanwhile (an exception from it stops
/// the work and is the future's). Needs a running event loop (call it from a coroutine).
pub fn awaitable<'py, X, W, C>(
    py: Python<'py>,
    work: W,
    convert: C,
    tick: Option<(Duration, Tick)>,
) -> PyResult<Bound<'py, PyAny>>
where
    W: Future<Output = X> + Send + 'static,
    X: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, X) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let (reader, writer) = UnixStream::pair()
        .and_then(|(r, w)| r.set_nonblocking(true).map(|()| (r, w)))
        .map_err(|e| PyRuntimeError::new_err(format!("cannot make a socket pair: {e}")))?;
    let completion: Arc<Mutex<Option<Completion>>> = Arc::default();
    let (every, tick) = match tick {
        Some((every, tick)) => (Some(every), Some(tick)),
        None => (None, None),
    };
    let done = completion.clone();
    let task = runtime().spawn(async move {
        let mut work = std::pin::pin!(work);
        let output = match every {
            None => work.await,
            Some(every) => loop {
                tokio::select! {
                    output = &mut work => break output,
                    _ = tokio::time::sleep(every) => { let _ = (&writer).write(&[0]); }
                }
            },
        };
        *lock(&done) = Some(Box::new(move |py| convert(py, output)));
        let _ = (&writer).write(&[1]);
    });
    let fd = reader.as_raw_fd();
    let waiter = Bound::new(
        py,
        Waiter {
            reader,
            event_loop: event_loop.clone().unbind(),
            future: future.clone().unbind(),
            completion,
            tick: Mutex::new(tick),
            task: Mutex::new(Some(task)),
            closed: AtomicBool::new(false),
        },
    )?;
    event_loop.call_method1("add_reader", (fd, waiter.getattr("_readable")?))?;
    future.call_method1("add_done_callback", (waiter.getattr("_done")?,))?;
    Ok(future)
}

/// An asyncio future already holding `result`.
pub fn ready(py: Python<'_>, result: PyResult<Py<PyAny>>) -> PyResult<Bound<'_, PyAny>> {
    let future = py.import("asyncio")?.call_method0("get_running_loop")?.call_method0("create_future")?;
    match result {
        Ok(v) => future.call_method1("set_result", (v,))?,
        Err(e) => future.call_method1("set_exception", (e.into_value(py),))?,
    };
    Ok(future)
}

/// An awaitable for the job `make()` makes, its result converted by `convert` on the event loop's
/// thread.
pub fn future_job<'py, T, F, Fut, C>(py: Python<'py>, make: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = entra_backup::Result<T>>,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
{
    future_job_ticking(py, make, convert, None)
}

/// [`future_job`], with `tick` called on the loop's thread every `tick.0` meanwhile (see `awaitable`).
pub fn future_job_ticking<'py, T, F, Fut, C>(
    py: Python<'py>,
    make: F,
    convert: C,
    tick: Option<(Duration, Tick)>,
) -> PyResult<Bound<'py, PyAny>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = entra_backup::Result<T>>,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
{
    let job = Job::start(make).py_err(py)?;
    awaitable(
        py,
        job.finish(),
        move |py, result| {
            let value = result.map_err(ended)?.py_err(py)?;
            convert(py, value).map(Bound::unbind)
        },
        tick,
    )
}
