//! Source -> Sink: read the chosen categories (several at once, each paced by its throttling
//! family) and hand every object to the sink, with live counters for progress and a summary at the
//! end. A category that fails (a missing permission, Graph giving up) is reported with its reason;
//! the others are still read.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::catalog::Category;
use crate::error::{ErrorKind, Result};
use crate::sink::Sink;
use crate::source::{CategoryStats, Object, Source};

/// Categories read at once. Categories of one family share its pace; more at once only helps the
/// small ones finish while the large ones run.
pub const CATEGORY_CONCURRENCY: usize = 8;

/// Live state of a run, for progress displays: one entry per category, in catalog order.
#[derive(Debug)]
pub struct Progress {
    pub categories: Vec<CategoryProgress>,
    started: Instant,
}

#[derive(Debug)]
pub struct CategoryProgress {
    pub category: &'static Category,
    pub stats: CategoryStats,
    /// 0 waiting, 1 reading, 2 done, 3 failed.
    state: std::sync::atomic::AtomicU8,
}

/// Where a category is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    Waiting,
    Reading,
    Done,
    Failed,
}

impl CategoryProgress {
    pub fn state(&self) -> State {
        match self.state.load(Ordering::Relaxed) {
            0 => State::Waiting,
            1 => State::Reading,
            2 => State::Done,
            _ => State::Failed,
        }
    }
}

impl Progress {
    pub fn new(categories: &[&'static Category]) -> Arc<Self> {
        Arc::new(Progress {
            categories: categories
                .iter()
                .map(|c| CategoryProgress { category: c, stats: CategoryStats::default(), state: 0.into() })
                .collect(),
            started: Instant::now(),
        })
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// The outcome of one category.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryReport {
    pub category: &'static str,
    pub state: State,
    pub objects: u64,
    pub relationships: u64,
    /// HTTP requests (a `$batch` envelope counts once).
    pub requests: u64,
    /// `$batch` envelopes among the requests.
    pub batches: u64,
    /// Graph requests sent inside `$batch` envelopes.
    pub batched: u64,
    pub throttled: u64,
    pub retries: u64,
    pub resource_units: u64,
    pub failures: u64,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_code: Option<String>,
    /// For a 403: the least-privilege permissions the catalog says the category needs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions_needed: Vec<&'static str>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub categories: Vec<CategoryReport>,
    pub objects: u64,
    pub relationships: u64,
    pub requests: u64,
    pub throttled: u64,
    pub failed_categories: usize,
    pub duration_ms: u64,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed_categories == 0
    }
}

/// Read `progress`'s categories from `source` into `sink`.
pub async fn run(source: &dyn Source, sink: &dyn Sink, progress: &Progress) -> Result<Summary> {
    source.prepare().await?;
    let (tx, rx) = mpsc::channel::<Object>(512);
    let readers = async move {
        futures::stream::iter(progress.categories.iter())
            .map(|cp| {
                let tx = tx.clone();
                async move {
                    cp.state.store(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let result = source.read(cp.category, &tx, &cp.stats).await;
                    cp.state.store(if result.is_ok() { 2 } else { 3 }, Ordering::Relaxed);
                    (cp, result, started.elapsed())
                }
            })
            .buffer_unordered(CATEGORY_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
    };
    let writer = async move {
        let objects = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|o| (o, rx)) });
        let mut puts = std::pin::pin!(objects.map(|o| sink.put(o)).buffer_unordered(16));
        while let Some(r) = puts.next().await {
            r?;
        }
        Ok::<(), crate::Error>(())
    };
    let (outcomes, written) = tokio::join!(readers, writer);
    written?;

    let mut reports: Vec<CategoryReport> = outcomes
        .into_iter()
        .map(|(cp, result, took)| {
            let r = &cp.stats.requests;
            let (error, graph_code, permissions_needed) = match &result {
                Ok(()) => (None, None, Vec::new()),
                Err(e) => {
                    let perms = if e.kind() == ErrorKind::Permission {
                        cp.category.permissions.read.to_vec()
                    } else {
                        Vec::new()
                    };
                    (Some(e.to_string()), e.graph_code().map(String::from), perms)
                }
            };
            CategoryReport {
                category: cp.category.name,
                state: cp.state(),
                objects: cp.stats.objects(),
                relationships: cp.stats.relationships(),
                requests: r.requests.load(Ordering::Relaxed),
                batches: r.batches.load(Ordering::Relaxed),
                batched: r.batched.load(Ordering::Relaxed),
                throttled: r.throttled.load(Ordering::Relaxed),
                retries: r.retries.load(Ordering::Relaxed),
                resource_units: r.resource_units.load(Ordering::Relaxed),
                failures: u64::from(result.is_err()),
                duration_ms: took.as_millis() as u64,
                error,
                graph_code,
                permissions_needed,
            }
        })
        .collect();
    let order = |name: &str| progress.categories.iter().position(|c| c.category.name == name).unwrap_or(usize::MAX);
    reports.sort_by_key(|r| order(r.category));
    let summary = Summary {
        objects: reports.iter().map(|r| r.objects).sum(),
        relationships: reports.iter().map(|r| r.relationships).sum(),
        requests: reports.iter().map(|r| r.requests).sum(),
        throttled: reports.iter().map(|r| r.throttled).sum(),
        failed_categories: reports.iter().filter(|r| r.state == State::Failed).count(),
        duration_ms: progress.elapsed().as_millis() as u64,
        categories: reports,
    };
    sink.finish(&summary).await?;
    Ok(summary)
}

/// Export categories of a tenant to the plain layout `dir/<category>/<id>.json` (and
/// `dir/summary.json`).
pub async fn export(source: &dyn Source, dir: &std::path::Path, progress: &Progress) -> Result<Summary> {
    let sink = crate::sink::JsonDirSink::new(dir);
    run(source, &sink, progress).await
}
