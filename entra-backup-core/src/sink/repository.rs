//! The repository sink: the pipeline's objects and changes handed to a
//! [`SnapshotWriter`], which writes them into a repository as a snapshot.

use super::Sink;
use crate::catalog::Category;
use crate::error::{Error, Result};
use crate::repo::snapshot::{SnapshotFile, SnapshotSummary, UnreadableSnapshot};
use crate::repo::{BackupOptions, Repository, SnapshotWriter};
use crate::source::{Change, Object, Prior, ReadOutcome};
use crate::summary::Summary;

/// A backup into a repository, as a [`Sink`]: a thin adapter over [`SnapshotWriter`]. Make one
/// per backup with [`RepositorySink::new`], run the pipeline into it, then read the result with
/// [`RepositorySink::snapshot`].
#[derive(Debug)]
pub struct RepositorySink {
    writer: SnapshotWriter,
}

impl RepositorySink {
    /// Prepare a backup of `categories` (see [`SnapshotWriter::new`]).
    pub async fn new(repo: Repository, options: BackupOptions, categories: &[&'static Category]) -> Result<Self> {
        Ok(RepositorySink { writer: SnapshotWriter::new(repo, options, categories).await? })
    }

    /// The writer it hands objects to.
    pub fn writer(&self) -> &SnapshotWriter {
        &self.writer
    }

    /// The parent snapshot's id, if the backup is incremental.
    pub fn parent_id(&self) -> Option<&str> {
        self.writer.parent_id()
    }

    /// Snapshot files passed over when choosing the parent, because they cannot be read.
    pub fn skipped_snapshots(&self) -> &[UnreadableSnapshot] {
        self.writer.skipped_snapshots()
    }

    /// The snapshot written by [`Sink::finish`]: (id, snapshot).
    pub fn snapshot(&self) -> Option<(String, SnapshotFile)> {
        self.writer.snapshot()
    }
}

#[async_trait::async_trait]
impl Sink for RepositorySink {
    async fn put(&self, object: Object) -> Result<()> {
        self.writer.put(object.category, object.id, object.json).await
    }

    async fn apply(&self, change: Change) -> Result<()> {
        match change {
            Change::Object(o) => self.writer.put(o.category, o.id, o.json).await,
            Change::Patch(o) => self.writer.patch(o.category, o.id, o.json).await,
            Change::Removed { category, id, .. } => {
                self.writer.remove(category, id);
                Ok(())
            }
        }
    }

    fn prior(&self, category: &'static Category) -> Prior {
        Prior {
            cursor: self.writer.cursor(category),
            want_cursor: true,
            known_secrets: self.writer.known_secrets(category),
        }
    }

    async fn category_done(
        &self,
        category: &'static Category,
        outcome: std::result::Result<&ReadOutcome, &Error>,
    ) -> Result<()> {
        match outcome {
            Ok(outcome) => self.writer.close_category(category, outcome.mode, outcome.cursor.clone()).await,
            Err(e) => {
                self.writer.fail_category(category, e.to_string());
                Ok(())
            }
        }
    }

    async fn finish(&self, summary: &Summary) -> Result<()> {
        let read = SnapshotSummary {
            requests: summary.graph_requests,
            http_requests: summary.requests,
            objects: summary.objects,
            duration_ms: summary.duration_ms,
            ..SnapshotSummary::default()
        };
        self.writer.finish(&read).await.map(drop)
    }
}
