//! [`CheckedSink`]: a wrapper (the `object_store` way of adding behaviour) that checks the order
//! of the calls a sink receives and lets them through.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::catalog::Category;
use crate::error::{Error, Result};
use crate::sink::Sink;
use crate::source::{Change, Object, Prior, ReadOutcome};
use crate::summary::Summary;

/// Passes every call on to the wrapped sink and records each break of the protocol a sink may
/// rely on: objects of a category only before that category is done, each category done once,
/// nothing after `finish`, and `finish` once. Read them with [`CheckedSink::violations`].
#[derive(Debug)]
pub struct CheckedSink<S> {
    inner: S,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    done: HashSet<&'static str>,
    taken: HashMap<&'static str, u64>,
    finished: bool,
    violations: Vec<String>,
}

impl<S: Sink> CheckedSink<S> {
    /// Wrap `inner`.
    pub fn new(inner: S) -> Self {
        CheckedSink { inner, state: Mutex::new(State::default()) }
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped sink, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The breaks of the protocol seen so far (empty when every call came in order).
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// How many objects or changes of `category` went through.
    pub fn taken(&self, category: &Category) -> u64 {
        self.lock().taken.get(category.name).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the records usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, category: &'static Category, what: &str) {
        let mut s = self.lock();
        if s.finished {
            s.violations.push(format!("{what} of {} after finish", category.name));
        }
        if s.done.contains(category.name) {
            s.violations.push(format!("{what} of {} after its category_done", category.name));
        }
        *s.taken.entry(category.name).or_default() += 1;
    }
}

#[async_trait::async_trait]
impl<S: Sink> Sink for CheckedSink<S> {
    async fn put(&self, object: Object) -> Result<()> {
        self.take(object.category, "put");
        self.inner.put(object).await
    }

    async fn apply(&self, change: Change) -> Result<()> {
        self.take(change.category(), "apply");
        self.inner.apply(change).await
    }

    fn prior(&self, category: &'static Category) -> Prior {
        self.inner.prior(category)
    }

    async fn category_done(
        &self,
        category: &'static Category,
        outcome: std::result::Result<&ReadOutcome, &Error>,
    ) -> Result<()> {
        {
            let mut s = self.lock();
            if s.finished {
                s.violations.push(format!("category_done of {} after finish", category.name));
            }
            if !s.done.insert(category.name) {
                s.violations.push(format!("category_done of {} twice", category.name));
            }
        }
        self.inner.category_done(category, outcome).await
    }

    async fn finish(&self, summary: &Summary) -> Result<()> {
        {
            let mut s = self.lock();
            if s.finished {
                s.violations.push("finish twice".to_string());
            }
            s.finished = true;
        }
        self.inner.finish(summary).await
    }
}
