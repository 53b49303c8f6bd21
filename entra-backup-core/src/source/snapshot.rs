//! A repository snapshot read back as a [`Source`]: the same objects, in the same shape, that
//! [`GraphSource`](super::GraphSource) read when the snapshot was taken.

use std::sync::atomic::Ordering;

use futures::TryStreamExt;
use tokio::sync::{OnceCell, mpsc};

use super::{CategoryStats, Object, Source};
use crate::catalog::{self, Category};
use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::snapshot::Snapshot;

/// Objects read from the repository at once.
const BATCH: usize = 256;

/// Reads one snapshot of a repository.
#[derive(Debug)]
pub struct SnapshotSource {
    repo: Repository,
    id: String,
    snapshot: Snapshot,
    index: OnceCell<Index>,
    secrets: bool,
}

impl SnapshotSource {
    /// The snapshot `name` (`latest`, an id or a unique prefix) of `repo`. Secrets are merged back
    /// into their objects when `secrets` is set and the repository's secrets key is unlocked.
    pub async fn open(repo: Repository, name: &str, secrets: bool) -> Result<Self> {
        let (id, snapshot) = repo.find_snapshot(name).await?;
        if secrets && !repo.secrets_unlocked() {
            return Err(Error::new(
                ErrorKind::Authentication,
                "showing secrets needs the secrets key (ENTRA_BACKUP_SECRETS_PASSWORD, --secrets-password-file \
                 or --secrets-key-file)",
            ));
        }
        Ok(SnapshotSource { repo, id, snapshot, index: OnceCell::new(), secrets })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// The categories the snapshot holds, in catalog (restore) order.
    pub fn categories(&self) -> Vec<&'static Category> {
        catalog::all().iter().filter(|c| self.snapshot.categories.contains_key(c.name)).collect()
    }

    /// The repository's index, loaded once.
    pub async fn index(&self) -> Result<&Index> {
        self.index.get_or_try_init(|| self.repo.load_index()).await
    }

    /// The object `id` of `category`, or `None` if the snapshot does not hold it.
    pub async fn object(&self, category: &'static Category, id: &str) -> Result<Option<Object>> {
        let Some(cs) = self.snapshot.categories.get(category.name) else { return Ok(None) };
        let index = self.index().await?;
        let entries = self.repo.read_tree(index, &cs.tree).await?;
        let Some((key, entry)) = entries.get_key_value(id) else { return Ok(None) };
        let one: crate::repo::tree::Entries = [(key.clone(), entry.clone())].into_iter().collect();
        let mut objects: Vec<_> = self.repo.objects(index, &one, self.secrets, 1).try_collect().await?;
        Ok(objects.pop().map(|(oid, json)| Object { category, id: oid, json }))
    }
}

#[async_trait::async_trait]
impl Source for SnapshotSource {
    async fn read(&self, category: &'static Category, out: &mpsc::Sender<Object>, stats: &CategoryStats) -> Result<()> {
        let Some(cs) = self.snapshot.categories.get(category.name) else { return Ok(()) };
        let index = self.index().await?;
        let entries = self.repo.read_tree(index, &cs.tree).await?;
        let mut objects = std::pin::pin!(self.repo.objects(index, &entries, self.secrets, BATCH));
        while let Some((id, json)) = objects.try_next().await? {
            stats.objects.fetch_add(1, Ordering::Relaxed);
            if out.send(Object { category, id, json }).await.is_err() {
                return Err(Error::new(ErrorKind::Cancelled, "the sink stopped taking objects"));
            }
        }
        Ok(())
    }

    fn tenant_id(&self) -> Option<String> {
        Some(self.snapshot.tenant.id.clone())
    }
}
