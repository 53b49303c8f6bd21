//! Snapshots: the commit point of a backup (see "Trees and snapshots" in
//! `docs/repository-format.md`).
//!
//! A snapshot file is `snapshots/<id>`: the snapshot's JSON, compressed with zstd and sealed with
//! the data key; the id is the keyed content id of the JSON. It is written last, after the packs
//! and the index it needs, so a snapshot that exists is complete.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::backend::Store;
use crate::repo::crypto::Cipher;
use crate::repo::pack::{check_id, compress, decompress_max};

/// The snapshot format version this program writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The largest snapshot file a reader downloads (a snapshot is a few kilobytes per category; a
/// larger file is damaged or planted, and is refused before it is read into memory).
pub const MAX_SNAPSHOT_FILE: u64 = 64 * 1024 * 1024;

/// The largest snapshot JSON a reader decompresses.
const MAX_SNAPSHOT_JSON: usize = 256 * 1024 * 1024;

/// What a backup saw at one point in time: the content of a snapshot file (read back through
/// [`Snapshot`](crate::repo::Snapshot)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotFile {
    /// The format version ([`SNAPSHOT_VERSION`] when this program wrote it).
    pub version: u32,
    /// When the backup started.
    pub time: jiff::Timestamp,
    /// The tenant it is of.
    pub tenant: TenantInfo,
    /// The snapshot this one was read incrementally from.
    #[serde(default)]
    pub parent: Option<String>,
    /// Every category the snapshot holds, by name.
    pub categories: BTreeMap<String, CategorySnapshot>,
    /// Categories that could not be read this time, and why. A category that an earlier snapshot
    /// held keeps that data here, marked `read: carried`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed: BTreeMap<String, String>,
    /// What the backup read and stored.
    #[serde(default)]
    pub summary: SnapshotSummary,
    /// Tags the backup was given ([`BackupOptions::tags`](crate::repo::BackupOptions::tags)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The program that wrote it (`entra-backup 0.1.0`).
    #[serde(default)]
    pub program: String,
}

/// Which tenant a snapshot is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantInfo {
    /// The tenant's id, as the backup was given it.
    pub id: String,
    /// The tenant's default verified domain, from its organization object; `None` until a backup
    /// of this tenant reads `organization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// How a category's objects were obtained for a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadMode {
    /// Every object was listed (the first backup, `--full`, an expired delta link, or a category
    /// without delta: listed and compared with the parent).
    Full,
    /// Changes since the parent's delta link, applied to the parent's objects.
    Delta,
    /// Records since the parent's newest one, added to the parent's (audit and sign-in logs).
    Since,
    /// Not read this time (it failed): the parent's objects, unchanged. See `failed`.
    Carried,
}

/// One category in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategorySnapshot {
    /// The root of the category's tree.
    pub tree: String,
    /// Objects the category holds in this snapshot.
    pub objects: u64,
    /// How this backup obtained them.
    pub read: ReadMode,
    /// When the objects were read (for a carried category: when they were last read).
    pub time: jiff::Timestamp,
    /// Where the next incremental read starts: a delta link, or the newest log record's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Objects new since the parent snapshot.
    #[serde(default)]
    pub added: u64,
    /// Objects changed since the parent snapshot.
    #[serde(default)]
    pub changed: u64,
    /// Objects gone since the parent snapshot.
    #[serde(default)]
    pub removed: u64,
    /// Plaintext bytes of the object, link-chunk and secret blobs this backup added for it.
    #[serde(default)]
    pub new_bytes: u64,
    /// Plaintext bytes of the tree nodes this backup added for it.
    #[serde(default)]
    pub new_tree_bytes: u64,
}

/// What a backup cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SnapshotSummary {
    /// Graph requests (each request inside a `$batch` counted).
    pub requests: u64,
    /// HTTP requests to Graph (a `$batch` counted once).
    pub http_requests: u64,
    /// Objects read from Graph (for an incremental backup: new or changed ones).
    pub objects: u64,
    /// Blobs stored by this backup (all others were already in the repository).
    pub blobs_added: u64,
    /// Bytes written to storage: packs, the index and the snapshot.
    pub bytes_added: u64,
    /// Pack files written.
    pub packs_added: u64,
    /// Of `bytes_added`: object packs (object and link-chunk blobs).
    pub object_bytes: u64,
    /// Of `bytes_added`: tree packs.
    pub tree_bytes: u64,
    /// Of `bytes_added`: secret packs.
    pub secret_bytes: u64,
    /// Of `bytes_added`: the index file.
    pub index_bytes: u64,
    /// Storage write requests.
    pub storage_writes: u64,
    /// Wall-clock time of the Graph read, in milliseconds.
    pub duration_ms: u64,
}

/// The path of a snapshot file.
pub fn snapshot_path(id: &str) -> Result<String> {
    check_id(id, "snapshot")?;
    Ok(format!("snapshots/{id}"))
}

impl SnapshotFile {
    /// Seal and write the snapshot (create-if-absent); returns its id and the bytes written.
    pub async fn write(&self, store: &Store, cipher: &Cipher) -> Result<(String, u64)> {
        let json = serde_json::to_vec(self)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("encoding a snapshot: {e}")))?;
        let id = cipher.id_hex(&json);
        let sealed = cipher.seal(&compress(&json)?);
        let len = sealed.len() as u64;
        if len > MAX_SNAPSHOT_FILE {
            // Never write what no reader would accept.
            return Err(Error::invalid_input(format!(
                "a snapshot of {len} bytes is larger than the {MAX_SNAPSHOT_FILE} bytes a snapshot may have"
            )));
        }
        store
            .put_if_absent(&snapshot_path(&id)?, Bytes::from(sealed))
            .await
            .map_err(|e| e.context(format!("writing snapshot {id}")))?;
        Ok((id, len))
    }

    /// Read, open and parse snapshot `id`, checking that its content has that id. A missing file
    /// is [`ErrorKind::NotFound`], a damaged one [`ErrorKind::Protocol`], one of a newer format
    /// [`ErrorKind::InvalidInput`].
    pub async fn read(store: &Store, cipher: &Cipher, id: &str) -> Result<SnapshotFile> {
        match SnapshotFile::try_read(store, cipher, id).await? {
            Ok(snapshot) => Ok(snapshot),
            Err(bad) => Err(bad.to_error()),
        }
    }

    /// [`SnapshotFile::read`], with a file that cannot be read (damaged, empty, newer) as a value:
    /// `Err` is left for storage failures and a missing file.
    pub async fn try_read(
        store: &Store,
        cipher: &Cipher,
        id: &str,
    ) -> Result<std::result::Result<SnapshotFile, UnreadableSnapshot>> {
        let path = snapshot_path(id)?;
        let bad =
            |problem: SnapshotProblem, reason: String| Err(UnreadableSnapshot { id: id.to_string(), problem, reason });
        let sealed = match store.get_bounded(&path, MAX_SNAPSHOT_FILE).await {
            Ok(Some(sealed)) => sealed,
            Ok(None) => return Err(Error::new(ErrorKind::NotFound, format!("snapshot {id} does not exist ({path})"))),
            Err(e) if e.kind() == ErrorKind::Protocol => {
                return Ok(bad(SnapshotProblem::Damaged, e.message().to_owned()));
            }
            Err(e) => return Err(e),
        };
        if sealed.is_empty() {
            return Ok(bad(SnapshotProblem::Empty, "the file is empty".into()));
        }
        let compressed = match cipher.open(&sealed) {
            Ok(c) => c,
            Err(e) => return Ok(bad(SnapshotProblem::Damaged, e.message().to_owned())),
        };
        let json = match decompress_max(&compressed, MAX_SNAPSHOT_JSON) {
            Ok(json) => json,
            Err(e) => return Ok(bad(SnapshotProblem::Damaged, format!("does not decompress: {e}"))),
        };
        let actual = cipher.id_hex(&json);
        if actual != id {
            return Ok(bad(SnapshotProblem::Damaged, format!("the content has the id {actual}")));
        }
        let snapshot: SnapshotFile = match serde_json::from_slice(&json) {
            Ok(s) => s,
            Err(e) => return Ok(bad(SnapshotProblem::Damaged, format!("not a valid snapshot: {e}"))),
        };
        if snapshot.version > SNAPSHOT_VERSION {
            return Ok(bad(
                SnapshotProblem::NewerFormat,
                format!(
                    "written in format version {}; this program reads up to {SNAPSHOT_VERSION}: upgrade entra-backup",
                    snapshot.version
                ),
            ));
        }
        Ok(Ok(snapshot))
    }
}

/// Why a snapshot file cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SnapshotProblem {
    /// The file is empty (emptied, or its write was cut short on a store without atomic writes).
    Empty,
    /// It does not authenticate, decompress, parse or match its id, or is far too large.
    Damaged,
    /// A newer program wrote it: readable after an upgrade, so never set aside by repair.
    NewerFormat,
}

/// A snapshot file that cannot be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableSnapshot {
    /// The snapshot's id (its file name under `snapshots/`).
    pub id: String,
    /// What kind of problem.
    pub problem: SnapshotProblem,
    /// What is wrong, for people.
    pub reason: String,
}

impl UnreadableSnapshot {
    /// Whether `repair snapshots` sets it aside (damaged or empty; not merely newer).
    pub fn is_damaged(&self) -> bool {
        self.problem != SnapshotProblem::NewerFormat
    }

    /// The error a caller that needs this snapshot gets: it names the file and the way out.
    pub fn to_error(&self) -> Error {
        let id = &self.id;
        if self.is_damaged() {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "snapshot {id} cannot be read (snapshots/{id}: {}); `entra-backup repair snapshots` sets \
                     damaged snapshot files aside, `entra-backup forget {id}` removes it",
                    self.reason
                ),
            )
        } else {
            Error::invalid_input(format!("snapshot {id} was {}", self.reason))
        }
    }
}

/// The snapshots of a repository: those that read, and those that do not.
#[derive(Debug, Clone, Default)]
pub struct SnapshotList {
    /// Readable snapshots, oldest first: (id, snapshot).
    pub snapshots: Vec<(String, SnapshotFile)>,
    /// Snapshot files that cannot be read, by id.
    pub unreadable: Vec<UnreadableSnapshot>,
}

/// The ids of every snapshot file (names that are not ids are ignored).
pub async fn list_snapshot_ids(store: &Store) -> Result<Vec<String>> {
    crate::repo::pack::list_ids(store, "snapshots").await
}
