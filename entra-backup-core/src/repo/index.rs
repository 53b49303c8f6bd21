//! Indexes: which blob is in which pack, at which offset (see "Indexes" in
//! `docs/repository-format.md`).
//!
//! An index file is the JSON `{"packs": [{"id", "blobs": [{"kind", "id", "offset", "length",
//! "ulength"}]}], "supersedes": [index ids], "delete": [{"pack", "marked"}]}`, compressed with
//! zstd, sealed with the data key and written once to `index/<id>`, the id being the keyed content
//! id of the JSON. A backup writes one after its packs and before its snapshot. A blob's location
//! is the union of all index files that no other index file supersedes. `delete` lists packs prune
//! found unused and will delete once the mark is old enough (two-phase delete).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::backend::Store;
use crate::repo::crypto::Cipher;
use crate::repo::pack::{BlobEntry, PackInfo, check_id};

/// Index files read at once by [`Index::load`].
const LOAD_CONCURRENCY: usize = 16;

/// The largest index file a reader downloads: a file larger than this is refused before it is
/// read into memory (and a writer refuses to write one). An entry takes about 100 stored bytes, so
/// this is room for some ten million blobs.
pub const MAX_INDEX_FILE: u64 = 1024 * 1024 * 1024;

/// One index file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    /// The packs it indexes, each with its blobs.
    pub packs: Vec<PackInfo>,
    /// Ids of index files this one replaces: a reader ignores them (prune and repair rewrite the
    /// index this way).
    #[serde(default)]
    pub supersedes: Vec<String>,
    /// Packs marked for deletion by prune, and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete: Vec<Marked>,
}

/// A pack prune found unused, and when it first found it so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marked {
    /// The pack's id.
    pub pack: String,
    /// When prune first found it unused.
    pub marked: jiff::Timestamp,
}

/// The path of an index file: `index/<id>`.
pub fn index_path(index_id: &str) -> Result<String> {
    check_id(index_id, "index")?;
    Ok(format!("index/{index_id}"))
}

impl IndexFile {
    /// An index of `packs` that supersedes nothing and marks nothing.
    pub fn new(packs: Vec<PackInfo>) -> Self {
        IndexFile { packs, supersedes: Vec::new(), delete: Vec::new() }
    }

    /// Seal and write this index (create-if-absent) and return its id.
    pub async fn write(&self, store: &Store, cipher: &Cipher) -> Result<String> {
        Ok(self.write_sized(store, cipher).await?.0)
    }

    /// [`IndexFile::write`], also returning the bytes written.
    pub async fn write_sized(&self, store: &Store, cipher: &Cipher) -> Result<(String, u64)> {
        let json = serde_json::to_vec(self)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("encoding an index file: {e}")))?;
        let id = cipher.id_hex(&json);
        let path = index_path(&id)?;
        let sealed = cipher.seal(&crate::repo::pack::compress(&json)?);
        let len = sealed.len() as u64;
        if len > MAX_INDEX_FILE {
            return Err(Error::invalid_input(format!(
                "an index file of {len} bytes is larger than the {MAX_INDEX_FILE} bytes an index file may have"
            )));
        }
        store.put_if_absent(&path, Bytes::from(sealed)).await.map_err(|e| e.context(format!("writing index {id}")))?;
        Ok((id, len))
    }

    /// Read, open and parse the index file `id`, checking that its content has that id. A missing
    /// file is [`ErrorKind::NotFound`]; a damaged one is [`ErrorKind::Protocol`] naming it.
    pub async fn read(store: &Store, cipher: &Cipher, id: &str) -> Result<IndexFile> {
        let path = index_path(id)?;
        let damaged = |what: String| Error::new(ErrorKind::Protocol, format!("index {id}: {what}"));
        let sealed = match store.get_bounded(&path, MAX_INDEX_FILE).await {
            Ok(Some(sealed)) => sealed,
            Ok(None) => return Err(Error::new(ErrorKind::NotFound, format!("index {id} does not exist ({path})"))),
            Err(e) if e.kind() == ErrorKind::Protocol => return Err(damaged(e.message().to_owned())),
            Err(e) => return Err(e),
        };
        let compressed = cipher.open(&sealed).map_err(|e| damaged(e.message().to_owned()))?;
        let json =
            crate::repo::pack::decompress(&compressed).map_err(|e| damaged(format!("does not decompress: {e}")))?;
        let actual = cipher.id_hex(&json);
        if actual != id {
            return Err(damaged(format!("the content has the id {actual}")));
        }
        serde_json::from_slice(&json).map_err(|e| damaged(format!("not a valid index file: {e}")))
    }
}

/// The ids of every index file in the store (names under `index/` that are not ids are ignored).
pub async fn list_index_ids(store: &Store) -> Result<Vec<String>> {
    crate::repo::pack::list_ids(store, "index").await
}

/// Where every blob is: the union of the index files not superseded.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Pack ids, in the order first seen; blobs refer to them by position.
    packs: Vec<String>,
    pack_positions: HashMap<String, usize>,
    blobs: HashMap<String, (usize, BlobEntry)>,
    /// The index files this was loaded from (not superseded).
    files: Vec<String>,
    /// Index files superseded by the loaded ones.
    superseded: HashSet<String>,
    /// Packs marked for deletion, with the earliest mark.
    marked: HashMap<String, jiff::Timestamp>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Index::default()
    }

    /// Read every index file in the store and combine those no other one supersedes.
    pub async fn load(store: &Store, cipher: &Cipher) -> Result<Index> {
        let ids = list_index_ids(store).await?;
        let files: Vec<(String, IndexFile)> = stream::iter(ids)
            .map(|id| async move { IndexFile::read(store, cipher, &id).await.map(|file| (id, file)) })
            .buffered(LOAD_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(Index::from_files(files))
    }

    /// Combine index files already read (those another one supersedes are left out).
    pub fn from_files(files: Vec<(String, IndexFile)>) -> Index {
        let superseded: HashSet<String> = files.iter().flat_map(|(_, file)| file.supersedes.iter().cloned()).collect();
        let mut index = Index { superseded, ..Index::default() };
        for (id, file) in files {
            if index.superseded.contains(&id) {
                continue;
            }
            for pack in &file.packs {
                index.add_pack(pack);
            }
            for m in &file.delete {
                let at = index.marked.entry(m.pack.clone()).or_insert(m.marked);
                *at = (*at).min(m.marked);
            }
            index.files.push(id);
        }
        index
    }

    /// Add a pack's blobs (one just written, say). A blob already indexed keeps its location.
    pub fn add_pack(&mut self, pack: &PackInfo) {
        let position = match self.pack_positions.get(&pack.id) {
            Some(&position) => position,
            None => {
                self.packs.push(pack.id.clone());
                self.pack_positions.insert(pack.id.clone(), self.packs.len() - 1);
                self.packs.len() - 1
            }
        };
        for entry in &pack.entries {
            self.blobs.entry(entry.id.clone()).or_insert_with(|| (position, entry.clone()));
        }
    }

    /// The pack holding the blob `id` and where in it.
    pub fn lookup(&self, id: &str) -> Option<(&str, &BlobEntry)> {
        self.blobs.get(id).map(|(position, entry)| (self.packs[*position].as_str(), entry))
    }

    /// Whether the blob `id` is indexed.
    pub fn contains(&self, id: &str) -> bool {
        self.blobs.contains_key(id)
    }

    /// Number of blobs.
    pub fn len(&self) -> usize {
        self.blobs.len()
    }

    /// Whether it indexes no blob.
    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty()
    }

    /// The blobs of one pack, as indexed.
    pub fn pack_blobs(&self, pack_id: &str) -> Vec<&BlobEntry> {
        let Some(&position) = self.pack_positions.get(pack_id) else { return Vec::new() };
        self.blobs.values().filter(|(p, _)| *p == position).map(|(_, e)| e).collect()
    }

    /// Every indexed pack id.
    pub fn pack_ids(&self) -> impl Iterator<Item = &str> {
        self.packs.iter().map(String::as_str)
    }

    /// Whether the pack `pack_id` is indexed.
    pub fn contains_pack(&self, pack_id: &str) -> bool {
        self.pack_positions.contains_key(pack_id)
    }

    /// The index files this index was loaded from (superseded ones excluded).
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// When prune marked the pack for deletion, if it did.
    pub fn marked(&self, pack_id: &str) -> Option<jiff::Timestamp> {
        self.marked.get(pack_id).copied()
    }

    /// The blob's location, unless its pack is marked for deletion: a backup must not rely on
    /// such a blob (it stores it again instead).
    pub fn lookup_live(&self, id: &str) -> Option<(&str, &BlobEntry)> {
        self.lookup(id).filter(|(pack, _)| !self.marked.contains_key(*pack))
    }

    /// Every blob: (pack id, entry).
    pub fn blobs(&self) -> impl Iterator<Item = (&str, &BlobEntry)> {
        self.blobs.values().map(|(p, e)| (self.packs[*p].as_str(), e))
    }

    /// Whether a loaded index file supersedes the index file `id`.
    pub fn is_superseded(&self, id: &str) -> bool {
        self.superseded.contains(id)
    }
}
