//! [`Snapshot`]: one snapshot of a repository opened for reading, the only way the rest of the
//! crate and its users read objects back. It hides how a snapshot is stored (the index, each
//! category's tree, packs, link chunks, sealed secrets): callers ask for a category's ids, its
//! objects (streamed, a batch at a time, never the whole tenant in memory), or one object.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use crate::catalog::{self, Category};
use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::snapshot::{SnapshotFile, SnapshotSummary, TenantInfo};
use crate::repo::tree::Entries;

/// Objects read from the repository at once.
const BATCH: usize = 256;

/// Category trees kept after reading: a restore or a live diff asks for objects of one category
/// batch after batch (and a restore of role assignments looks at their schedules meanwhile), so
/// the last two are kept instead of read again; more would hold large trees for nothing.
const CACHED_TREES: usize = 2;

/// One object: its id and its Graph JSON, relationships included.
pub type ObjectJson = (String, Map<String, Value>);

/// A snapshot of a repository, opened for reading with [`Snapshot::open`] (or
/// [`Repository::open_snapshot`]). Cheap to clone: clones share the repository's index, loaded
/// once on the first read.
///
/// ```no_run
/// # async fn demo(repo: entra_backup::repo::Repository) -> entra_backup::Result<()> {
/// use futures::TryStreamExt;
///
/// let snapshot = repo.open_snapshot("latest", false).await?;
/// let users = entra_backup::catalog::get("users").unwrap();
/// println!("{} users", snapshot.ids(users).await?.len());
/// let mut objects = snapshot.objects(users);
/// while let Some((id, json)) = objects.try_next().await? {
///     println!("{id}: {}", json["displayName"]);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Snapshot {
    repo: Repository,
    id: String,
    file: Arc<SnapshotFile>,
    secrets: bool,
    index: Arc<OnceCell<Index>>,
    trees: Arc<Mutex<TreeCache>>,
}

/// The category trees read so far, newest last (a snapshot is read a category at a time).
type TreeCache = Vec<(&'static str, Arc<Entries>)>;

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("repo", &self.repo)
            .field("id", &self.id)
            .field("secrets", &self.secrets)
            .finish()
    }
}

impl Repository {
    /// The snapshot `name` (`latest`, an id or a unique prefix of one), opened for reading: see
    /// [`Snapshot::open`].
    pub async fn open_snapshot(&self, name: &str, secrets: bool) -> Result<Snapshot> {
        Snapshot::open(self.clone(), name, secrets).await
    }
}

impl Snapshot {
    /// The snapshot `name` (`latest`, an id or a unique prefix) of `repo`. Secrets are merged back
    /// into their objects when `secrets` is set, which needs the repository's secrets key
    /// ([`Repository::unlock_secrets`]).
    pub async fn open(repo: Repository, name: &str, secrets: bool) -> Result<Snapshot> {
        let (id, file) = repo.find_snapshot(name).await?;
        if secrets && !repo.secrets_unlocked() {
            return Err(Error::new(
                ErrorKind::Authentication,
                "showing secrets needs the secrets key (ENTRA_BACKUP_SECRETS_PASSWORD, --secrets-password-file \
                 or --secrets-key-file)",
            ));
        }
        Ok(Snapshot { repo, id, file: Arc::new(file), secrets, index: Arc::default(), trees: Arc::default() })
    }

    /// The snapshot's id (64 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Everything the snapshot file says: when, which tenant, its parent, tags, per-category
    /// figures and what failed.
    pub fn file(&self) -> &SnapshotFile {
        &self.file
    }

    /// When the backup started.
    pub fn time(&self) -> jiff::Timestamp {
        self.file.time
    }

    /// Which tenant it is of.
    pub fn tenant(&self) -> &TenantInfo {
        &self.file.tenant
    }

    /// What the backup that wrote it cost.
    pub fn summary(&self) -> &SnapshotSummary {
        &self.file.summary
    }

    /// The repository it is in.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// Whether objects are read with their secrets merged in.
    pub fn with_secrets(&self) -> bool {
        self.secrets
    }

    /// The categories the snapshot holds, in catalog (restore) order.
    pub fn categories(&self) -> Vec<&'static Category> {
        catalog::all().iter().filter(|c| self.holds(c)).collect()
    }

    /// Whether the snapshot holds `category` (it may hold it with no objects).
    pub fn holds(&self, category: &Category) -> bool {
        self.file.categories.contains_key(category.name)
    }

    /// The ids of `category`'s objects, in id order (read from its tree alone; no object is read).
    /// Empty when the snapshot does not hold the category.
    pub async fn ids(&self, category: &'static Category) -> Result<BTreeSet<String>> {
        Ok(self.entries(category).await?.keys().cloned().collect())
    }

    /// The objects of `category`, in id order, read a batch at a time as the stream is consumed.
    pub fn objects(&self, category: &'static Category) -> BoxStream<'_, Result<ObjectJson>> {
        self.objects_of(category, None, self.secrets)
    }

    /// The objects of `category` whose ids are in `ids` (those the snapshot does not hold are
    /// passed over), in id order.
    pub fn objects_by_id(
        &self,
        category: &'static Category,
        ids: BTreeSet<String>,
    ) -> BoxStream<'_, Result<ObjectJson>> {
        self.objects_of(category, Some(ids), self.secrets)
    }

    /// The object `id` of `category`, or `None` if the snapshot does not hold it.
    pub async fn object(&self, category: &'static Category, id: &str) -> Result<Option<Map<String, Value>>> {
        let mut one = self.objects_of(category, Some(BTreeSet::from([id.to_string()])), self.secrets);
        Ok(one.try_next().await?.map(|(_, json)| json))
    }

    /// The root of `category`'s tree: two snapshots with the same root hold the same objects.
    pub(crate) fn tree_root(&self, category: &Category) -> Option<&str> {
        self.file.categories.get(category.name).map(|c| c.tree.as_str())
    }

    /// `category`'s tree (object id -> blobs), from the cache or read under the index.
    pub(crate) async fn entries(&self, category: &'static Category) -> Result<Arc<Entries>> {
        let Some(root) = self.tree_root(category) else { return Ok(Arc::default()) };
        if let Some((_, hit)) = lock(&self.trees).iter().find(|(name, _)| *name == category.name) {
            return Ok(hit.clone());
        }
        let index = self.index().await?;
        let entries = Arc::new(self.repo.read_tree(index, root).await?);
        let mut cache = lock(&self.trees);
        if cache.len() == CACHED_TREES {
            cache.remove(0);
        }
        cache.push((category.name, entries.clone()));
        Ok(entries)
    }

    /// The objects of `entries` (a part of `category`'s tree), with secrets when `secrets`.
    pub(crate) fn read(
        &self,
        entries: Entries,
        secrets: bool,
    ) -> impl futures::Stream<Item = Result<ObjectJson>> + Send + '_ {
        stream::once(async move {
            let index = self.index().await?;
            let objects = self.repo.objects(index, entries, secrets, BATCH);
            Ok::<_, Error>(objects)
        })
        .try_flatten()
    }

    /// The objects of `category` (those in `ids` only, if given), with secrets when `secrets`.
    pub(crate) fn objects_of(
        &self,
        category: &'static Category,
        ids: Option<BTreeSet<String>>,
        secrets: bool,
    ) -> BoxStream<'_, Result<ObjectJson>> {
        stream::once(async move {
            let all = self.entries(category).await?;
            let entries = match ids {
                None => (*all).clone(),
                Some(ids) => ids.into_iter().filter_map(|id| all.get(&id).cloned().map(|e| (id, e))).collect(),
            };
            Ok::<_, Error>(self.read(entries, secrets))
        })
        .try_flatten()
        .boxed()
    }

    async fn index(&self) -> Result<&Index> {
        self.index.get_or_try_init(|| self.repo.load_index()).await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
