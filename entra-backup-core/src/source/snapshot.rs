//! A repository snapshot read back as a [`Source`]: the same objects, in the same shape, that
//! [`GraphSource`](super::GraphSource) read when the snapshot was taken.

use std::sync::atomic::Ordering;

use futures::TryStreamExt;
use tokio::sync::mpsc;

use super::{CategoryStats, Object, Source};
use crate::catalog::Category;
use crate::error::{Error, ErrorKind, Result};
use crate::repo::Snapshot;

/// A snapshot as a [`Source`]: [`Snapshot`] implements it, so that a snapshot can be exported,
/// compared or restored like a live tenant. The name is kept for the code that reads it so.
pub type SnapshotSource = Snapshot;

#[async_trait::async_trait]
impl Source for Snapshot {
    async fn read(&self, category: &'static Category, out: &mpsc::Sender<Object>, stats: &CategoryStats) -> Result<()> {
        let mut objects = self.objects(category);
        while let Some((id, json)) = objects.try_next().await? {
            stats.objects.fetch_add(1, Ordering::Relaxed);
            if out.send(Object { category, id, json }).await.is_err() {
                return Err(Error::new(ErrorKind::Cancelled, "the sink stopped taking objects"));
            }
        }
        Ok(())
    }

    fn tenant_id(&self) -> Option<String> {
        Some(self.tenant().id.clone())
    }
}
