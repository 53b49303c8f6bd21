//! Repair what can be repaired, and say what is lost (restic's `repair snapshots` and
//! `repair index`).
//!
//! - [`repair_snapshots`] sets aside snapshot files that cannot be read (empty or damaged): they
//!   move to `quarantine/snapshots/<id>`, so that backups, `snapshots` and prune see a clean list
//!   while the bytes stay for whoever can still use them. Snapshots of a newer format are left
//!   alone: an upgrade reads them.
//! - [`repair_index`] rebuilds the index: the entries of every readable index file, plus the
//!   header of every pack no readable index lists, written as one new index file that supersedes
//!   the old ones. Unreadable index files, and packs whose header cannot be read, are set aside in
//!   `quarantine/`; indexed packs missing from storage are dropped. Blobs of those are lost:
//!   `check` then names the snapshots that needed them.
//!
//! Both run under the prune lease and change nothing with `dry_run`.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::error::{ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::backend::Store;
use crate::repo::index::{IndexFile, Marked, index_path, list_index_ids};
use crate::repo::pack::{BlobEntry, PackInfo, is_id, pack_path, read_header};
use crate::repo::prune::under_lease;
use crate::repo::snapshot::{UnreadableSnapshot, snapshot_path};

/// Where files set aside by repair go: `quarantine/<their path>`.
pub const QUARANTINE: &str = "quarantine";

/// What [`repair_snapshots`] did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairSnapshotsReport {
    /// Nothing was changed: the report says what would be.
    pub dry_run: bool,
    /// Snapshots that read.
    pub readable: usize,
    /// Snapshot files set aside in `quarantine/snapshots/`: what they held is lost.
    pub set_aside: Vec<UnreadableSnapshot>,
    /// Snapshots of a newer format, left in place.
    pub newer: Vec<UnreadableSnapshot>,
}

/// Set aside every snapshot file that cannot be read (see the [module docs](self)).
pub async fn repair_snapshots(repo: &Repository, dry_run: bool) -> Result<RepairSnapshotsReport> {
    under_lease(repo, || async {
        let list = repo.snapshot_list().await?;
        let (set_aside, newer): (Vec<_>, Vec<_>) =
            list.unreadable.into_iter().partition(UnreadableSnapshot::is_damaged);
        if !dry_run {
            for bad in &set_aside {
                quarantine(repo.store(), &snapshot_path(&bad.id)?).await?;
            }
        }
        Ok(RepairSnapshotsReport { dry_run, readable: list.snapshots.len(), set_aside, newer })
    })
    .await
}

/// What [`repair_index`] did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairIndexReport {
    /// Nothing was changed: the report says what would be.
    pub dry_run: bool,
    /// Index files read; their entries are kept.
    pub indexes_read: usize,
    /// Index files that cannot be read (`index/<id>: why`), set aside.
    pub unreadable_indexes: Vec<String>,
    /// Packs no readable index listed, indexed again from their headers.
    pub packs_reindexed: Vec<String>,
    /// Packs no readable index lists and whose header cannot be read (`data/..: why`), set aside:
    /// their blobs are lost.
    pub packs_lost: Vec<String>,
    /// Packs an index lists that are not in storage, dropped from the index: their blobs are lost.
    pub packs_missing: Vec<String>,
    /// Blobs the rebuilt index lists.
    pub blobs: usize,
    /// The index file written (none when there was nothing to rebuild, or with `dry_run`).
    pub new_index: Option<String>,
}

impl RepairIndexReport {
    /// Whether anything was (or would be) rebuilt.
    pub fn changed(&self) -> bool {
        [&self.unreadable_indexes, &self.packs_reindexed, &self.packs_lost, &self.packs_missing]
            .iter()
            .any(|list| !list.is_empty())
    }
}

/// Rebuild the index from the readable index files and the packs' headers (see the
/// [module docs](self)).
pub async fn repair_index(repo: &Repository, dry_run: bool) -> Result<RepairIndexReport> {
    under_lease(repo, || rebuild_index(repo, dry_run)).await
}

async fn rebuild_index(repo: &Repository, dry_run: bool) -> Result<RepairIndexReport> {
    let (store, cipher) = (repo.store(), repo.cipher());
    let mut report = RepairIndexReport { dry_run, ..RepairIndexReport::default() };
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for id in list_index_ids(store).await? {
        match IndexFile::read(store, cipher, &id).await {
            Ok(file) => files.push((id, file)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) if e.kind() == ErrorKind::Protocol => {
                report.unreadable_indexes.push(format!("index/{id}: {}", e.message()));
                unreadable.push(id);
            }
            Err(e) => return Err(e),
        }
    }
    report.indexes_read = files.len();
    let superseded: HashSet<&String> = files.iter().flat_map(|(_, f)| &f.supersedes).collect();
    let mut packs: BTreeMap<String, Vec<BlobEntry>> = BTreeMap::new();
    let mut marks: BTreeMap<String, jiff::Timestamp> = BTreeMap::new();
    for (_, file) in files.iter().filter(|(id, _)| !superseded.contains(id)) {
        for pack in &file.packs {
            packs.entry(pack.id.clone()).or_insert_with(|| pack.entries.clone());
        }
        for m in &file.delete {
            let at = marks.entry(m.pack.clone()).or_insert(m.marked);
            *at = (*at).min(m.marked);
        }
    }

    let mut stored = HashSet::new();
    for meta in store.list("data").await? {
        let name = meta.location.as_ref().rsplit('/').next().unwrap_or_default();
        if is_id(name) && pack_path(name).is_ok_and(|p| p == meta.location.as_ref()) {
            stored.insert(name.to_string());
        }
    }
    let mut lost = Vec::new();
    let mut unlisted: Vec<&String> = stored.iter().filter(|p| !packs.contains_key(*p)).collect();
    unlisted.sort();
    for pack in unlisted {
        match read_header(store, cipher, pack).await {
            Ok(entries) => {
                report.packs_reindexed.push(pack.clone());
                packs.insert(pack.clone(), entries);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) if e.kind() == ErrorKind::Protocol => {
                report.packs_lost.push(format!("{}: {}", pack_path(pack)?, e.message()));
                lost.push(pack.clone());
            }
            Err(e) => return Err(e),
        }
    }
    packs.retain(|pack, _| {
        let present = stored.contains(pack);
        if !present {
            report.packs_missing.push(pack.clone());
        }
        present
    });
    report.blobs = packs.values().map(Vec::len).sum();
    if dry_run || !report.changed() {
        return Ok(report);
    }

    let delete: Vec<Marked> = marks
        .into_iter()
        .filter(|(pack, _)| packs.contains_key(pack))
        .map(|(pack, marked)| Marked { pack, marked })
        .collect();
    let mut file = IndexFile::new(packs.into_iter().map(|(id, entries)| PackInfo { id, entries }).collect());
    file.supersedes = files.iter().map(|(id, _)| id.clone()).collect();
    file.delete = delete;
    // The new index first, then the old ones go: killed midway, every blob stays indexed.
    report.new_index = Some(file.write(store, cipher).await?);
    for (id, _) in &files {
        store.delete(&index_path(id)?).await?;
    }
    for id in &unreadable {
        quarantine(store, &index_path(id)?).await?;
    }
    for pack in &lost {
        quarantine(store, &pack_path(pack)?).await?;
    }
    Ok(report)
}

/// Move a file to `quarantine/<path>`: out of every listing the repository reads, bytes kept.
async fn quarantine(store: &Store, path: &str) -> Result<()> {
    store.copy(path, &format!("{QUARANTINE}/{path}")).await?;
    store.delete(path).await
}
