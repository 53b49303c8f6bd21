//! Where objects go: a [`Sink`] takes the object stream of a [`Source`](crate::source::Source).
//!
//! [`JsonDirSink`] writes the plain export layout, `DIR/<category>/<id>.json`.
//! [`RepositorySink`] writes a snapshot into a repository, incrementally from the last one.

use crate::catalog::Category;
use crate::error::{Error, ErrorKind, Result};
use crate::source::{Change, Object, Prior, ReadOutcome};
use crate::summary::Summary;

mod json_dir;
mod repository;

/// How to back up; defined beside [`SnapshotWriter`](crate::repo::SnapshotWriter), and here too
/// because a backup is usually made through [`RepositorySink`].
pub use crate::repo::BackupOptions;
pub use json_dir::{JsonDirSink, Staging};
pub use repository::RepositorySink;

/// Takes objects; may be called from several tasks at once.
#[async_trait::async_trait]
pub trait Sink: Send + Sync {
    /// Take one whole object. An error stops the run.
    async fn put(&self, object: Object) -> Result<()>;

    /// Take one change of an incremental read. The default takes whole objects only.
    async fn apply(&self, change: Change) -> Result<()> {
        match change {
            Change::Object(o) => self.put(o).await,
            other => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("this sink takes whole objects only, not changes ({})", other.category().name),
            )),
        }
    }

    /// What the sink already holds of `category` (default: nothing; read everything).
    fn prior(&self, category: &'static Category) -> Prior {
        let _ = category;
        Prior::default()
    }

    /// Called once per category after all its changes were applied, with how it was read or why
    /// it failed.
    async fn category_done(
        &self,
        category: &'static Category,
        outcome: std::result::Result<&ReadOutcome, &Error>,
    ) -> Result<()> {
        let _ = (category, outcome);
        Ok(())
    }

    /// Called once after every category was read (or failed), with the run's summary.
    async fn finish(&self, summary: &Summary) -> Result<()> {
        let _ = summary;
        Ok(())
    }
}
