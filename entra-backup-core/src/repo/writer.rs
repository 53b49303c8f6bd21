//! [`SnapshotWriter`]: a backup written into a [`Repository`] as a snapshot, the write half of the
//! repository (its read half is [`Snapshot`](crate::repo::Snapshot)).
//!
//! Objects become blobs (canonical JSON, deduplicated by id against the repository's index, so an
//! unchanged object uploads nothing), gathered in packs; each category becomes a tree; at the end
//! come the index of the new packs and, last, the snapshot (the commit point). An incremental
//! backup starts each category from the parent snapshot: delta changes are merged onto the
//! parent's objects, a full listing is compared with them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use crate::catalog::{Category, RelationshipKind, TenantFact};
use crate::error::{Error, Result};
use crate::repo::Repository;
use crate::repo::canonical;
use crate::repo::changes::{self, Over};
use crate::repo::index::{Index, IndexFile};
use crate::repo::pack::{BlobKind, DEFAULT_TARGET_SIZE, PackInfo, PackWriter, SealedPack};
use crate::repo::parent::ParentTree;
use crate::repo::snapshot::{
    CategorySnapshot, ReadMode, SNAPSHOT_VERSION, SnapshotFile, SnapshotSummary, TenantInfo, UnreadableSnapshot,
};
use crate::repo::spill::{MemoryBudget, Sorter, SpillBudget};
use crate::repo::tree::{self, Entry};

/// How to back up.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Read every category in full, ignoring the parent's delta links.
    pub full: bool,
    /// Tags stored with the snapshot.
    pub tags: Vec<String>,
    /// Packs are cut at this many bytes.
    pub pack_size: usize,
    /// The tenant being backed up; its latest snapshot is the parent.
    pub tenant_id: String,
    /// Start from this snapshot instead of the tenant's latest.
    pub parent: Option<String>,
    /// Which secrets public key the backup may seal to (by default the one this machine pinned
    /// on first use): a repository whose key file now seals elsewhere is refused.
    pub secrets_recipient: crate::repo::crypto::trust::SecretsRecipient,
    /// How much memory the backup's per-object sets (the parent's entries, what changed) may
    /// take before they are spilled to disk as sorted runs.
    pub memory_budget: MemoryBudget,
    /// Where spilled runs go (a folder made inside it, removed at the end): the system's
    /// temporary folder by default.
    pub spill_dir: Option<PathBuf>,
    /// Store changed objects as deltas against their previous version (format 2 repositories;
    /// on by default). Prune rewrites a delta whose base only forgotten snapshots need, so
    /// forgetting frees what it would without deltas (see "Deltas" in docs/repository-format.md).
    pub deltas: bool,
}

impl BackupOptions {
    /// Options for an incremental backup of tenant `tenant_id`, in packs of the default size.
    pub fn new(tenant_id: impl Into<String>) -> Self {
        BackupOptions {
            full: false,
            tags: Vec::new(),
            pack_size: DEFAULT_TARGET_SIZE,
            tenant_id: tenant_id.into(),
            parent: None,
            secrets_recipient: Default::default(),
            memory_budget: MemoryBudget::default(),
            spill_dir: None,
            deltas: true,
        }
    }
}

/// Parent trees read at once when a backup starts.
const PARENT_TREE_READS: usize = 8;

/// Tree nodes' bytes gathered before they are added to the tree packs (under the packs' lock).
const NODE_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A backup writes an index file each time its new packs hold this many blobs per 64 MiB of
/// memory budget (and one for the rest at the end): about an eighth of the budget held in
/// entries (some 170 bytes each) at most. A tiny budget gives many small index files.
const INDEX_FILE_BLOBS_PER_64_MIB: u64 = 50_000;

/// One category being written.
struct Building {
    /// Objects read this time (whole, or merged from a patch) and those delta said are gone, as
    /// operations in a sorted run (the last one of an object wins).
    changes: Sorter,
    /// Plaintext bytes of the blobs this category added (objects, link chunks, secrets).
    new_bytes: u64,
    /// Recording a removal failed (spilling to disk): the category fails when it closes.
    error: Option<Error>,
}

impl Building {
    fn new(budget: &Arc<SpillBudget>) -> Self {
        Building { changes: budget.sorter(), new_bytes: 0, error: None }
    }
}

struct Packs {
    objects: PackWriter,
    trees: PackWriter,
    secrets: PackWriter,
}

#[derive(Default)]
struct Counters {
    blobs_added: u64,
    bytes_added: u64,
    object_bytes: u64,
    tree_bytes: u64,
    secret_bytes: u64,
    index_bytes: u64,
    packs_added: u64,
    storage_writes: u64,
}

/// Writes one snapshot into a repository. Make one per backup with [`SnapshotWriter::new`], give it
/// each category's objects or changes ([`SnapshotWriter::put`], [`SnapshotWriter::patch`],
/// [`SnapshotWriter::remove`]), close each category ([`SnapshotWriter::close_category`] or
/// [`SnapshotWriter::fail_category`]), then [`SnapshotWriter::finish`]. May be called from several
/// tasks at once.
pub struct SnapshotWriter {
    repo: Repository,
    index: Index,
    options: BackupOptions,
    started: jiff::Timestamp,
    parent: Option<(String, SnapshotFile)>,
    /// Snapshot files that could not be read when choosing the parent.
    skipped: Vec<UnreadableSnapshot>,
    /// The parent's trees of the categories being read.
    parents: HashMap<&'static str, ParentTree>,
    /// The memory the per-object sets may take, shared by the categories.
    budget: Arc<SpillBudget>,
    /// Blobs per index file written during the backup (see [`INDEX_FILE_BLOBS_PER_64_MIB`]).
    index_file_blobs: usize,
    packs: Mutex<Packs>,
    written: Mutex<Vec<PackInfo>>,
    /// Tree packs filled while building a category's tree (synchronous), written once it is built.
    pending_trees: Mutex<Vec<SealedPack>>,
    building: Mutex<HashMap<&'static str, Building>>,
    /// Objects patched in this run, so that a second patch of one object builds on the first.
    patched: Mutex<changes::Patched>,
    done: Mutex<(BTreeMap<String, CategorySnapshot>, BTreeMap<String, String>)>,
    domain: Mutex<Option<String>>,
    counters: Mutex<Counters>,
    result: Mutex<Option<(String, SnapshotFile)>>,
    /// The secrets recipient approved; a first use is pinned once the snapshot is written.
    trusted: crate::repo::crypto::trust::Trusted,
}

impl std::fmt::Debug for SnapshotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter").field("repo", &self.repo).field("parent", &self.parent_id()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SnapshotWriter {
    /// Prepare a backup of `categories`: load the index, find the parent snapshot (the tenant's
    /// latest readable one, unless `options` names one) and its trees of those categories.
    /// Snapshot files that cannot be read are passed over, and listed by
    /// [`SnapshotWriter::skipped_snapshots`]: one damaged file must not stop every backup.
    pub async fn new(repo: Repository, options: BackupOptions, categories: &[&'static Category]) -> Result<Self> {
        let trusted = options.secrets_recipient.verify(&repo).await?;
        let index = repo.load_index().await?;
        let (parent, skipped) = match &options.parent {
            Some(name) => (Some(repo.find_snapshot(name).await?), Vec::new()),
            // The tenant's pointer and the snapshots written since, else every snapshot.
            None => crate::repo::latest::tenant_parent(&repo, &options.tenant_id).await?,
        };
        let budget = SpillBudget::new(options.memory_budget, options.spill_dir.clone());
        // The parent's trees, several categories at once: a tree under layers is a chain of reads.
        // Each is streamed into a sorted run (spilled past the budget), not held as a map.
        let mut parents = HashMap::new();
        if let Some((_, snap)) = &parent {
            let reads =
                categories.iter().filter_map(|cat| snap.categories.get(cat.name).map(|cs| (cat.name, &cs.tree)));
            let trees: Vec<(&'static str, ParentTree)> = futures::stream::iter(reads)
                .map(|(name, tree)| {
                    let (repo, index, budget) = (&repo, &index, &budget);
                    async move {
                        let entries = ParentTree::read(repo, index, tree, budget)
                            .await
                            .map_err(|e| e.context(format!("reading the parent snapshot's {name} (run check)")))?;
                        Ok::<_, Error>((name, entries))
                    }
                })
                .buffer_unordered(PARENT_TREE_READS)
                .try_collect()
                .await?;
            parents.extend(trees);
        }
        let cipher = repo.cipher().clone();
        let size = options.pack_size;
        // Blobs already stored are found in the index (`stored`); the writers remember only what
        // this backup adds, so ids are not held twice.
        let packs = Packs {
            objects: PackWriter::new(BlobKind::Object, cipher.clone()).with_target_size(size),
            trees: PackWriter::new(BlobKind::Tree, cipher.clone()).with_target_size(size),
            secrets: PackWriter::new(BlobKind::Secret, cipher).with_target_size(size),
        };
        let domain = parent.as_ref().and_then(|(_, s)| s.tenant.domain.clone());
        let patched = changes::Patched::new(&budget);
        let index_file_blobs =
            usize::try_from((u128::from(options.memory_budget.get()) * u128::from(INDEX_FILE_BLOBS_PER_64_MIB)) >> 26)
                .unwrap_or(usize::MAX)
                .max(1);
        Ok(SnapshotWriter {
            repo,
            index,
            options,
            started: jiff::Timestamp::now(),
            parent,
            skipped,
            parents,
            budget,
            index_file_blobs,
            packs: Mutex::new(packs),
            written: Mutex::new(Vec::new()),
            pending_trees: Mutex::new(Vec::new()),
            building: Mutex::new(HashMap::new()),
            patched: Mutex::new(patched),
            done: Mutex::new((BTreeMap::new(), BTreeMap::new())),
            domain: Mutex::new(domain),
            counters: Mutex::new(Counters::default()),
            result: Mutex::new(None),
            trusted,
        })
    }

    /// Whether the repository already holds the blob, in a pack prune has not marked for deletion
    /// (a blob of a marked pack is stored again).
    fn stored(&self, id: &str) -> bool {
        self.index.contains_live(id)
    }

    /// The parent snapshot's id, if the backup is incremental.
    pub fn parent_id(&self) -> Option<&str> {
        self.parent.as_ref().map(|(id, _)| id.as_str())
    }

    /// Snapshot files passed over when choosing the parent, because they cannot be read.
    pub fn skipped_snapshots(&self) -> &[UnreadableSnapshot] {
        &self.skipped
    }

    /// The snapshot written by [`SnapshotWriter::finish`]: (id, snapshot).
    pub fn snapshot(&self) -> Option<(String, SnapshotFile)> {
        lock(&self.result).clone()
    }

    /// The parent's entry of object `id` of `cat` (a walk down the parent's tree).
    async fn parent_entry(&self, cat: &str, id: &str) -> Result<Option<Entry>> {
        match self.parents.get(cat) {
            Some(p) => p.lookup(&self.repo, &self.index, id).await,
            None => Ok(None),
        }
    }

    /// Store one whole object of `cat` (its Graph JSON, relationships included), as read now.
    pub async fn put(&self, cat: &'static Category, id: String, mut json: Map<String, Value>) -> Result<()> {
        if cat.tenant == Some(TenantFact::Identity) {
            remember_domain(&json, &self.domain);
        }
        // Secret properties go into their own blob, sealed to the secrets key.
        let mut secret_map = Map::new();
        for p in cat.secret_properties {
            if let Some(v) = json.remove(*p)
                && !v.is_null()
            {
                secret_map.insert((*p).to_string(), v);
            }
        }
        let cipher = self.repo.cipher();
        let chunks = crate::repo::chunks::chunk_links(cat, &mut json, cipher);
        let bytes = canonical::map_to_vec(&json);
        let blob = cipher.id_hex(&bytes);
        let mut sealed_secret = None;
        let secret = if secret_map.is_empty() {
            // A key already held and not read again this time (it never changes) is carried over.
            self.parents.get(cat.name).and_then(|p| p.secrets.get(&id).cloned())
        } else {
            let plaintext = zeroize::Zeroizing::new(canonical::map_to_vec(&secret_map));
            let sealed = cipher.seal_secret(&plaintext);
            let id = self.repo.sealed_secret_id(&sealed);
            sealed_secret = Some((id.clone(), sealed));
            Some(id)
        };
        // A changed object: stored as the changes from its previous version's blob, when that pays.
        // The parent's tree is walked only for a blob not stored yet (most objects are unchanged).
        let delta_candidate = self.options.deltas && !self.stored(&blob) && !lock(&self.packs).objects.contains(&blob);
        let delta = match if delta_candidate { self.parent_entry(cat.name, &id).await? } else { None } {
            Some(old) if old.blob != blob => {
                crate::repo::delta::delta_for(&self.repo, &self.index, &old.blob, &bytes).await?.map(|d| (old.blob, d))
            }
            _ => None,
        };
        let mut full = Vec::new();
        let mut new_bytes = 0u64;
        {
            let mut packs = lock(&self.packs);
            for (id, plaintext) in chunks.iter().map(|(id, b)| (id, b.as_slice())).chain([(&blob, bytes.as_slice())]) {
                if !self.stored(id) && !packs.objects.contains(id) {
                    match &delta {
                        Some((base, d)) if *id == blob => {
                            new_bytes += d.len() as u64;
                            packs.objects.add_delta(blob.clone(), base.clone(), d)?;
                        }
                        _ => {
                            new_bytes += plaintext.len() as u64;
                            packs.objects.add(plaintext)?;
                        }
                    }
                    lock(&self.counters).blobs_added += 1;
                    if packs.objects.is_full()
                        && let Some(p) = packs.objects.take()?
                    {
                        full.push(p);
                    }
                }
            }
            if let Some((id, sealed)) = sealed_secret
                && !self.stored(&id)
                && !packs.secrets.contains(&id)
            {
                packs.secrets.add_sealed_secret(id, &sealed)?;
                lock(&self.counters).blobs_added += 1;
                if packs.secrets.is_full()
                    && let Some(p) = packs.secrets.take()?
                {
                    full.push(p);
                }
            }
        }
        for pack in full {
            self.upload(pack).await?;
        }
        let entry = Entry { blob, secret, chunks: chunks.into_iter().map(|(id, _)| id).collect() };
        let mut building = lock(&self.building);
        let b = building.entry(cat.name).or_insert_with(|| Building::new(&self.budget));
        b.new_bytes += new_bytes;
        changes::push_set(&mut b.changes, &id, &entry)
    }

    async fn upload(&self, pack: SealedPack) -> Result<()> {
        let info = pack.upload(self.repo.store()).await?;
        {
            let mut c = lock(&self.counters);
            let n = pack.bytes.len() as u64;
            c.bytes_added += n;
            match pack.info.entries.first().map(|e| e.kind) {
                Some(BlobKind::Tree) => c.tree_bytes += n,
                Some(BlobKind::Secret) => c.secret_bytes += n,
                _ => c.object_bytes += n,
            }
            c.packs_added += 1;
            c.storage_writes += 1;
        }
        // The new packs' index is written in parts as it fills, so that a backup writing millions
        // of blobs never holds all their entries (about 170 bytes each) until the end.
        let full = {
            let mut written = lock(&self.written);
            written.push(info);
            if written.iter().map(|p| p.entries.len()).sum::<usize>() >= self.index_file_blobs {
                std::mem::take(&mut *written)
            } else {
                Vec::new()
            }
        };
        if !full.is_empty() {
            self.write_index(full).await?;
        }
        Ok(())
    }

    /// Write an index file of `packs`, counted in the snapshot's summary.
    async fn write_index(&self, packs: Vec<PackInfo>) -> Result<()> {
        let (_, len) = IndexFile::new(packs).write_sized(self.repo.store(), self.repo.cipher()).await?;
        let mut c = lock(&self.counters);
        c.storage_writes += 1;
        c.bytes_added += len;
        c.index_bytes += len;
        Ok(())
    }

    /// The object as this backup last saw it: patched earlier in this run, or the parent's blob.
    async fn current(&self, cat: &'static Category, id: &str) -> Result<Option<Map<String, Value>>> {
        if let Some(m) = lock(&self.patched).get(cat.name, id)? {
            return Ok(Some(m));
        }
        let Some(entry) = self.parent_entry(cat.name, id).await? else { return Ok(None) };
        let bytes = crate::repo::delta::read_cached(&self.repo, &self.index, &entry.blob).await?;
        let mut objects = vec![Repository::parse_object(&entry.blob, &bytes)?];
        self.repo.expand_chunks(&self.index, &mut objects).await?;
        Ok(objects.pop())
    }

    /// Apply a delta item to object `id` of `cat` (as this backup last saw it: patched earlier in
    /// this run, or the parent's): properties replace, `<rel>@delta` adds and removes references,
    /// relationships read in full replace.
    pub async fn patch(&self, cat: &'static Category, id: String, patch: Map<String, Value>) -> Result<()> {
        let mut object = self.current(cat, &id).await?.unwrap_or_default();
        merge_patch(cat, &mut object, patch);
        lock(&self.patched).insert(cat.name, &id, &object)?;
        self.put(cat, id, object).await
    }

    /// Object `id` of `cat` is gone (delta said so).
    pub fn remove(&self, cat: &'static Category, id: String) {
        let mut building = lock(&self.building);
        let b = building.entry(cat.name).or_insert_with(|| Building::new(&self.budget));
        if let Err(e) = changes::push_remove(&mut b.changes, &id) {
            b.error.get_or_insert(e);
        }
    }

    /// Where an incremental read of `category` starts: the parent's cursor (none for a full
    /// backup, or a category the parent lacks).
    pub fn cursor(&self, category: &'static Category) -> Option<String> {
        if self.options.full {
            return None;
        }
        self.parent.as_ref().and_then(|(_, s)| s.categories.get(category.name)).and_then(|c| c.cursor.clone())
    }

    /// The ids of `category`'s objects whose secrets the parent already holds (never read again).
    pub fn known_secrets(&self, category: &'static Category) -> HashSet<String> {
        self.parents.get(category.name).map(|p| p.secrets.keys().cloned().collect()).unwrap_or_default()
    }

    /// `category` was read in `mode` (`cursor`: where the next incremental read starts): its
    /// objects become its tree in the snapshot.
    pub async fn close_category(
        &self,
        category: &'static Category,
        mode: ReadMode,
        cursor: Option<String>,
    ) -> Result<()> {
        let cs = self.build_tree(category, mode, cursor).await?;
        lock(&self.done).0.insert(category.name.to_string(), cs);
        Ok(())
    }

    /// `category` could not be read (`error` says why): what the parent held of it stays in the
    /// snapshot, marked as not read this time.
    pub fn fail_category(&self, category: &'static Category, error: String) {
        lock(&self.building).remove(category.name);
        let mut done = lock(&self.done);
        done.1.insert(category.name.to_string(), error);
        if let Some(old) = self.parent.as_ref().and_then(|(_, s)| s.categories.get(category.name)) {
            done.0.insert(category.name.to_string(), carried(old));
        }
    }

    async fn build_tree(
        &self,
        cat: &'static Category,
        mode: ReadMode,
        cursor: Option<String>,
    ) -> Result<CategorySnapshot> {
        let b = lock(&self.building).remove(cat.name).unwrap_or_else(|| Building::new(&self.budget));
        if let Some(e) = b.error {
            return Err(e);
        }
        let base = self.parents.get(cat.name).and_then(|p| lock(&p.sorted).take());
        let over = match mode {
            ReadMode::Full | ReadMode::Carried => Over::Nothing,
            ReadMode::Delta | ReadMode::Since => Over::Parent,
        };
        // The new tree has at most this many entries: a layer holds at most a quarter of them.
        let bound = base.as_ref().map_or(0, Sorter::len) + b.changes.len();
        let base = base.map(Sorter::finish).transpose()?;
        let mut out = self.budget.sorter();
        let m = changes::merge(base, b.changes.finish()?, over, bound / 4, &mut out)?;
        let parent_tree = self.parent.as_ref().and_then(|(_, s)| s.categories.get(cat.name)).map(|c| c.tree.clone());
        let layer = match (&parent_tree, m.set, m.unset) {
            (Some(parent), Some(set), Some(unset)) if set.is_empty() && unset.is_empty() => {
                Some((parent.clone(), Vec::new()))
            }
            // A few changes: a layer over the parent's tree (a trie rewrites a leaf and its parents
            // for each one).
            (Some(parent), Some(set), Some(unset)) if (set.len() + unset.len()) as u64 * 4 <= m.entries.max(1) => {
                let depth = self.repo.tree_depth(&self.index, parent).await?;
                if depth + 1 >= tree::MAX_LAYERS {
                    None
                } else {
                    let node = tree::layer_node(parent, depth, &set, &unset, self.repo.cipher());
                    Some((node.id.clone(), vec![node]))
                }
            }
            _ => None,
        };
        let mut tree_bytes = 0u64;
        let root = match layer {
            Some((root, nodes)) => {
                drop(out);
                self.add_tree_nodes(nodes, &mut tree_bytes)?;
                root
            }
            None => {
                let mut batch = Vec::new();
                let mut batch_bytes = 0;
                let (root, _) = tree::build_sorted(changes::hashed(out.finish()?), self.repo.cipher(), &mut |node| {
                    batch_bytes += node.json.len();
                    batch.push(node);
                    if batch_bytes >= NODE_BATCH_BYTES {
                        batch_bytes = 0;
                        self.add_tree_nodes(std::mem::take(&mut batch), &mut tree_bytes)?;
                    }
                    Ok(())
                })?;
                self.add_tree_nodes(batch, &mut tree_bytes)?;
                root
            }
        };
        // Full tree packs are written now, not held until the snapshot is.
        let full = std::mem::take(&mut *lock(&self.pending_trees));
        for pack in full {
            self.upload(pack).await?;
        }
        Ok(CategorySnapshot {
            tree: root,
            objects: m.entries,
            read: mode,
            time: self.started,
            cursor,
            added: m.added,
            changed: m.changed,
            removed: m.removed,
            new_bytes: b.new_bytes,
            new_tree_bytes: tree_bytes,
        })
    }

    /// Add tree nodes the repository does not hold yet to the tree packs; full tree packs are
    /// written once the category's tree is built.
    fn add_tree_nodes(&self, nodes: Vec<tree::Node>, tree_bytes: &mut u64) -> Result<()> {
        let mut full = Vec::new();
        {
            let mut packs = lock(&self.packs);
            for node in nodes {
                if !self.stored(&node.id) && !packs.trees.contains(&node.id) {
                    *tree_bytes += node.json.len() as u64;
                    packs.trees.add(&node.json)?;
                    lock(&self.counters).blobs_added += 1;
                    if packs.trees.is_full()
                        && let Some(p) = packs.trees.take()?
                    {
                        full.push(p);
                    }
                }
            }
        }
        lock(&self.pending_trees).extend(full);
        Ok(())
    }
}

/// A parent's category kept as it was, marked as not read this time.
fn carried(old: &CategorySnapshot) -> CategorySnapshot {
    CategorySnapshot {
        read: ReadMode::Carried,
        added: 0,
        changed: 0,
        removed: 0,
        new_bytes: 0,
        new_tree_bytes: 0,
        ..old.clone()
    }
}

/// The tenant's default domain from its organization object.
fn remember_domain(org: &Map<String, Value>, domain: &Mutex<Option<String>>) {
    let found = org.get("verifiedDomains").and_then(Value::as_array).and_then(|ds| {
        ds.iter()
            .find(|d| d.get("isDefault").and_then(Value::as_bool) == Some(true))
            .and_then(|d| d.get("name").and_then(Value::as_str))
    });
    if let Some(name) = found {
        *lock(domain) = Some(name.to_string());
    }
}

/// Apply a delta item to the object it changes: properties replace, `<rel>@delta` adds and
/// removes references, relationships read in full replace.
fn merge_patch(cat: &Category, object: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        if let Some(rel_name) = key.strip_suffix("@delta") {
            let single = cat.relationships.iter().any(|r| r.name == rel_name && r.kind == RelationshipKind::Link);
            let changes = value.as_array().cloned().unwrap_or_default();
            let current = object.entry(rel_name.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            if !current.is_array() {
                *current = Value::Array(Vec::new());
            }
            let list = current.as_array_mut().expect("made an array");
            for change in changes {
                let id = change.get("id").cloned().unwrap_or(Value::Null);
                let removed = change.get("@removed").is_some();
                list.retain(|r| r.get("id") != Some(&id));
                if !removed {
                    if single {
                        list.clear();
                    }
                    let mut r = Map::new();
                    r.insert("@odata.type".into(), change.get("@odata.type").cloned().unwrap_or(Value::Null));
                    r.insert("id".into(), id);
                    list.push(Value::Object(r));
                }
            }
        } else if key == "@removed" || key == "@odata.context" {
            continue;
        } else {
            object.insert(key, value);
        }
    }
}

impl SnapshotWriter {
    /// Write what is left (the last packs, the index of the new packs) and, last, the snapshot:
    /// the commit point. `read` carries what reading cost (Graph requests, objects, duration);
    /// the storage figures are the writer's own. Returns (id, snapshot).
    pub async fn finish(&self, read: &SnapshotSummary) -> Result<(String, SnapshotFile)> {
        let mut last = Vec::new();
        {
            let mut guard = lock(&self.packs);
            let packs = &mut *guard;
            for w in [&mut packs.objects, &mut packs.trees, &mut packs.secrets] {
                if let Some(p) = w.take()? {
                    last.push(p);
                }
            }
        }
        last.extend(std::mem::take(&mut *lock(&self.pending_trees)));
        for pack in last {
            self.upload(pack).await?;
        }
        let written = std::mem::take(&mut *lock(&self.written));
        if !written.is_empty() {
            self.write_index(written).await?;
        }
        let (categories, failed) = std::mem::take(&mut *lock(&self.done));
        // Categories of the parent that this backup did not cover stay as they were.
        let mut categories = categories;
        if let Some((_, p)) = &self.parent {
            for (name, cs) in &p.categories {
                if !categories.contains_key(name) && !self.parents.contains_key(name.as_str()) {
                    categories.insert(name.clone(), carried(cs));
                }
            }
        }
        let c = std::mem::take(&mut *lock(&self.counters));
        let snapshot = SnapshotFile {
            version: SNAPSHOT_VERSION,
            time: self.started,
            tenant: TenantInfo { id: self.options.tenant_id.clone(), domain: lock(&self.domain).clone() },
            parent: self.parent.as_ref().map(|(id, _)| id.clone()),
            categories,
            failed,
            summary: SnapshotSummary {
                requests: read.requests,
                http_requests: read.http_requests,
                objects: read.objects,
                blobs_added: c.blobs_added,
                bytes_added: c.bytes_added,
                packs_added: c.packs_added,
                object_bytes: c.object_bytes,
                tree_bytes: c.tree_bytes,
                secret_bytes: c.secret_bytes,
                index_bytes: c.index_bytes,
                storage_writes: c.storage_writes + 1,
                duration_ms: read.duration_ms,
            },
            tags: self.options.tags.clone(),
            program: concat!("entra-backup ", env!("CARGO_PKG_VERSION")).to_string(),
        };
        let (id, _) = snapshot.write(self.repo.store(), self.repo.cipher()).await?;
        *lock(&self.result) = Some((id.clone(), snapshot.clone()));
        // The snapshot is committed; a pointer left behind costs the next backup a few more reads,
        // but a storage failure here is still the backup's (as a process killed here would be).
        crate::repo::latest::record(&self.repo, &id, &snapshot).await.map_err(|e| {
            e.context(format!(
                "snapshot {id} is written, but its tenant's latest pointer is not (the next backup finds it)"
            ))
        })?;
        self.trusted.record(&self.repo)?;
        Ok((id, snapshot))
    }
}
