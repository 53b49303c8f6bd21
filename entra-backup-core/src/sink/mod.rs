//! Where objects go: a [`Sink`] takes the object stream of a [`Source`](crate::source::Source).
//!
//! [`JsonDirSink`] writes the plain export layout, `DIR/<category>/<id>.json`. The repository sink
//! (snapshots in object storage) arrives with the repository.

use crate::error::Result;
use crate::pipeline::Summary;
use crate::source::Object;

mod json_dir;

pub use json_dir::JsonDirSink;

/// Takes objects; may be called from several tasks at once.
#[async_trait::async_trait]
pub trait Sink: Send + Sync {
    async fn put(&self, object: Object) -> Result<()>;

    /// Called once after every category was read (or failed), with the run's summary.
    async fn finish(&self, summary: &Summary) -> Result<()> {
        let _ = summary;
        Ok(())
    }
}
