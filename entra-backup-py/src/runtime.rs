//! One tokio runtime for the module, made on first use (not at import, so that a process may fork
//! before it uses the module), for the sync calls and the `*_async` ones (see `awaitable`).
//!
//! Each operation is a [`Job`]: a thread of its own that makes the core's future and drives it
//! with the shared runtime (`block_on`), exactly as the command-line tool drives it on its main
//! thread. (The future is made on that thread, so it need not be `Send`.) A sync call waits for
//! the job with the GIL released, waking every 100 ms to let Python run its signal handlers: Ctrl-C
//! (or an exception from a progress callback) cancels the job, which drops the work at its next
//! await point, waits until it is gone, and raises. Nothing the work had not committed stays
//! half-done: a backup writes its snapshot last. An awaitable dropped or cancelled by asyncio
//! cancels its job the same way.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::errors::IntoPy;

/// How often a waiting sync call lets Python run its signal handlers.
pub const SIGNAL_POLL: Duration = Duration::from_millis(100);

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("entra-backup")
            .build()
            .expect("the tokio runtime could not be started")
    })
}

/// Work running on a thread of its own. Dropping the job cancels the work (without waiting).
pub struct Job<T> {
    result: oneshot::Receiver<entra_backup::Result<T>>,
    cancel: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How a job ended, other than with the work's own result.
pub enum Ended {
    /// The work panicked (a bug).
    Panicked,
}

impl<T: Send + 'static> Job<T> {
    /// Start `make()`'s future on a new thread.
    pub fn start<F, Fut>(make: F) -> entra_backup::Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = entra_backup::Result<T>>,
    {
        let rt = runtime();
        let (cancel, cancelled) = oneshot::channel::<()>();
        let (done, result) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("entra-backup-job".into())
            .spawn(move || {
                let outcome = rt.block_on(async move {
                    let work = make();
                    tokio::select! {
                        r = work => Some(r),
                        // A cancel, or the job dropped.
                        _ = cancelled => None,
                    }
                });
                if let Some(r) = outcome {
                    let _ = done.send(r);
                }
            })
            .map_err(|e| entra_backup::Error::io("cannot start a thread", e))?;
        Ok(Job { result, cancel: Some(cancel), thread: Some(thread) })
    }

    /// Cancel the work and wait until it is dropped (with the GIL released).
    pub fn cancel(&mut self, py: Python<'_>) {
        drop(self.cancel.take());
        if let Some(t) = self.thread.take() {
            py.detach(|| {
                let _ = t.join();
            });
        }
    }

    /// Wait at most `wait` for the result: None if the work is still running.
    pub fn poll(&mut self, py: Python<'_>, wait: Duration) -> Option<Result<entra_backup::Result<T>, Ended>> {
        let result = &mut self.result;
        let polled = py.detach(|| runtime().block_on(async { tokio::time::timeout(wait, result).await }));
        match polled {
            Err(_elapsed) => None,
            Ok(Ok(r)) => Some(Ok(r)),
            Ok(Err(_)) => Some(Err(Ended::Panicked)),
        }
    }

    /// The result, awaited (for the `*_async` functions).
    pub async fn finish(mut self) -> Result<entra_backup::Result<T>, Ended> {
        (&mut self.result).await.map_err(|_| Ended::Panicked)
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        drop(self.cancel.take());
    }
}

pub fn ended(e: Ended) -> PyErr {
    match e {
        Ended::Panicked => PyRuntimeError::new_err("entra_backup failed unexpectedly (a bug; see the message above)"),
    }
}

/// Something to call while a sync call waits (a progress callback), every `every`.
pub struct Ticker<'a> {
    pub every: Duration,
    pub tick: &'a mut dyn FnMut(Python<'_>) -> PyResult<()>,
}

fn refuse_inside_runtime() -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "a blocking entra_backup call was made from inside an asynchronous one (a progress callback of a \
             *_async call?); use the *_async functions there",
        ));
    }
    Ok(())
}

/// Run the future `make()` makes as a job and wait for it; see the module docs.
pub fn run<T, F, Fut>(py: Python<'_>, make: F) -> PyResult<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = entra_backup::Result<T>>,
    T: Send + 'static,
{
    run_with(py, make, None)
}

/// [`run`], calling `ticker` while waiting. An exception from the ticker or a signal handler
/// cancels the work and is raised.
pub fn run_with<T, F, Fut>(py: Python<'_>, make: F, mut ticker: Option<Ticker<'_>>) -> PyResult<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = entra_backup::Result<T>>,
    T: Send + 'static,
{
    refuse_inside_runtime()?;
    let mut job = Job::start(make).py_err(py)?;
    let mut next_tick = ticker.as_ref().map(|t| Instant::now() + t.every);
    loop {
        let wait = next_tick.map_or(SIGNAL_POLL, |at| at.saturating_duration_since(Instant::now()).min(SIGNAL_POLL));
        match job.poll(py, wait) {
            Some(Ok(result)) => return result.py_err(py),
            Some(Err(e)) => return Err(ended(e)),
            None => {}
        }
        let mut interrupted = py.check_signals();
        if interrupted.is_ok()
            && let (Some(t), Some(at)) = (ticker.as_mut(), next_tick.as_mut())
            && Instant::now() >= *at
        {
            interrupted = (t.tick)(py);
            *at = Instant::now() + t.every;
        }
        if let Err(e) = interrupted {
            job.cancel(py);
            return Err(e);
        }
    }
}
