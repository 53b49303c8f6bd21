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
use crate::source::{CategoryStats, Change, ReadOutcome, Source};
pub use crate::summary::{CategoryReport, State, Summary};

/// Categories read at once. Categories of one family share its pace; more at once only helps the
/// small ones finish while the large ones run.
pub const CATEGORY_CONCURRENCY: usize = 8;

/// Live state of a run, for progress displays: one entry per category, in catalog order.
#[derive(Debug)]
pub struct Progress {
    /// The run's categories, in the order given to [`Progress::new`].
    pub categories: Vec<CategoryProgress>,
    started: Instant,
}

/// Live state of one category of a run.
#[derive(Debug)]
pub struct CategoryProgress {
    /// The category being read.
    pub category: &'static Category,
    /// Its counters so far.
    pub stats: CategoryStats,
    /// 0 waiting, 1 reading, 2 done, 3 failed.
    state: std::sync::atomic::AtomicU8,
}

impl CategoryProgress {
    /// Where the category is now.
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
    /// Progress for a run over `categories`, all waiting; the clock starts now.
    pub fn new(categories: &[&'static Category]) -> Arc<Self> {
        Arc::new(Progress {
            categories: categories
                .iter()
                .map(|c| CategoryProgress { category: c, stats: CategoryStats::default(), state: 0.into() })
                .collect(),
            started: Instant::now(),
        })
    }

    /// Time since [`Progress::new`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// What travels from the readers to the writer.
enum Msg {
    Change(Change),
    /// A category's read ended; every change of it was sent before this.
    Done(&'static Category, std::result::Result<ReadOutcome, crate::Error>),
}

/// Changes applied at once by the writer.
const APPLY_CONCURRENCY: usize = 16;

/// Read `progress`'s categories from `source` into `sink`: each category from where the sink's
/// [`Sink::prior`] says it left off.
pub async fn run(source: &dyn Source, sink: &dyn Sink, progress: &Progress) -> Result<Summary> {
    source.prepare().await?;
    let (tx, rx) = mpsc::channel::<Msg>(512);
    let readers = async move {
        futures::stream::iter(progress.categories.iter())
            .map(|cp| {
                let tx = tx.clone();
                async move {
                    cp.state.store(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let prior = sink.prior(cp.category);
                    // Changes go through a per-category channel so that `Done` follows them all.
                    let (ctx, mut crx) = mpsc::channel::<Change>(64);
                    let forward = async {
                        while let Some(c) = crx.recv().await {
                            if tx.send(Msg::Change(c)).await.is_err() {
                                break;
                            }
                        }
                    };
                    let read = async move { source.read_changes(cp.category, &prior, &ctx, &cp.stats).await };
                    let (result, ()) = tokio::join!(read, forward);
                    let ok = result.is_ok();
                    let summary_error =
                        result.as_ref().err().map(|e| (e.kind(), e.to_string(), e.graph_code().map(String::from)));
                    let _ = tx.send(Msg::Done(cp.category, result)).await;
                    cp.state.store(if ok { 2 } else { 3 }, Ordering::Relaxed);
                    (cp, summary_error, started.elapsed())
                }
            })
            .buffer_unordered(CATEGORY_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
    };
    let writer = async move {
        let mut rx = rx;
        let mut inflight = futures::stream::FuturesUnordered::new();
        let mut failed: Option<crate::Error> = None;
        while let Some(msg) = rx.recv().await {
            if failed.is_some() {
                continue; // keep draining so the readers finish
            }
            match msg {
                Msg::Change(c) => {
                    inflight.push(sink.apply(c));
                    if inflight.len() >= APPLY_CONCURRENCY
                        && let Some(Err(e)) = inflight.next().await
                    {
                        failed = Some(e);
                    }
                }
                Msg::Done(category, result) => {
                    while let Some(r) = inflight.next().await {
                        if let Err(e) = r {
                            failed.get_or_insert(e);
                        }
                    }
                    if failed.is_none()
                        && let Err(e) = sink.category_done(category, result.as_ref()).await
                    {
                        failed = Some(e);
                    }
                }
            }
        }
        while let Some(r) = inflight.next().await {
            if let Err(e) = r {
                failed.get_or_insert(e);
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    };
    let (outcomes, written) = tokio::join!(readers, writer);
    written?;

    let mut reports: Vec<CategoryReport> = outcomes
        .into_iter()
        .map(|(cp, result, took)| {
            let r = &cp.stats.requests;
            let (error, graph_code, permissions_needed) = match result {
                None => (None, None, Vec::new()),
                Some((kind, message, code)) => {
                    let perms =
                        if kind == ErrorKind::Permission { cp.category.permissions.read.to_vec() } else { Vec::new() };
                    (Some(message), code, perms)
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
                failures: u64::from(error.is_some()),
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
        graph_requests: reports.iter().map(|r| r.requests - r.batches + r.batched).sum(),
        throttled: reports.iter().map(|r| r.throttled).sum(),
        failed_categories: reports.iter().filter(|r| r.state == State::Failed).count(),
        duration_ms: progress.elapsed().as_millis() as u64,
        categories: reports,
    };
    sink.finish(&summary).await?;
    Ok(summary)
}

/// How an export lands in its folder.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Replace a folder that already holds files (replaced whole at the end, never merged with).
    pub replace: bool,
    /// Put the export in place only if every category was read; otherwise leave the folder as it
    /// was (the summary still says what failed). For a snapshot, where a missing category means
    /// damage, not a permission.
    pub whole: bool,
}

/// Export categories of a tenant to the plain layout `dir/<category>/<id>.json` (and
/// `dir/summary.json`). `dir` must be missing or empty; see [`export_with`].
pub async fn export(source: &dyn Source, dir: &std::path::Path, progress: &Progress) -> Result<Summary> {
    export_with(source, dir, progress, ExportOptions::default()).await
}

/// [`export`], written into a fresh folder beside `dir` and renamed into place once the run is
/// over: an error (or a cancelled run) leaves `dir` as it was, and `dir` never mixes with an older
/// export's files. Categories that failed are named in the summary (and `summary.json`); with
/// [`ExportOptions::whole`] they leave `dir` as it was.
pub async fn export_with(
    source: &dyn Source,
    dir: &std::path::Path,
    progress: &Progress,
    options: ExportOptions,
) -> Result<Summary> {
    let staging = crate::sink::Staging::begin(dir, options.replace)?;
    let sink = crate::sink::JsonDirSink::new(staging.path());
    let summary = run(source, &sink, progress).await?;
    if summary.ok() || !options.whole {
        staging.commit()?;
    }
    Ok(summary)
}

/// The outcome of a backup: the run's summary and the snapshot it wrote.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    /// The new snapshot's id (its file name under `snapshots/`).
    pub snapshot_id: String,
    /// The snapshot as written.
    pub snapshot: crate::repo::snapshot::SnapshotFile,
    /// What the run read, per category.
    pub summary: Summary,
    /// Snapshot files that could not be read, passed over when choosing the parent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_snapshots: Vec<crate::repo::snapshot::UnreadableSnapshot>,
}

/// Back up `progress`'s categories from `source` into `repo` as a new snapshot, incrementally from
/// the tenant's latest snapshot (unless `options.full`). Nothing is committed unless the snapshot
/// is written; a category that fails keeps its previous data, marked as carried, and is listed in
/// the snapshot's `failed`.
pub async fn backup(
    source: &dyn Source,
    repo: &crate::repo::Repository,
    options: crate::sink::BackupOptions,
    progress: &Progress,
) -> Result<BackupReport> {
    let categories: Vec<&'static Category> = progress.categories.iter().map(|c| c.category).collect();
    let sink = crate::sink::RepositorySink::new(repo.clone(), options, &categories).await?;
    let summary = run(source, &sink, progress).await?;
    let (snapshot_id, snapshot) = sink
        .snapshot()
        .ok_or_else(|| crate::Error::new(ErrorKind::Protocol, "the backup ended without writing its snapshot"))?;
    let skipped_snapshots = sink.skipped_snapshots().to_vec();
    Ok(BackupReport { snapshot_id, snapshot, summary, skipped_snapshots })
}
