//! Check a repository: its structure always, and a share of its data on request.
//!
//! Structure: every index and snapshot opens and has its content's id; every indexed pack exists;
//! every snapshot's trees resolve and every object and secret they name is in an index. Data
//! (`read_data_percent`): that share of packs is read whole, its id (the BLAKE3 of its bytes)
//! checked, its header compared with the index, and every blob authenticated, decompressed and
//! checked against its id, a delta decoded down its chain of bases. Every blob a snapshot reaches
//! has its chain of delta bases in the index; every latest-snapshot pointer opens and names its
//! tenant's snapshot (else a warning: the next backup repairs it). Every problem names the file it is in. Staging files left by
//! interrupted writes are warnings, like packs no index names: prune removes both.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::Result;
use crate::repo::Repository;
use crate::repo::delta::MAX_CHAIN;
use crate::repo::index::{IndexFile, list_index_ids};
use crate::repo::pack::{BlobEntry, BlobKind, blob_from_frame, header_of, is_id, open_frame, pack_path};
use crate::repo::snapshot::{SnapshotFile, list_snapshot_ids};

/// What to check beyond the structure.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Share of packs to read and verify whole, from 0 to 100.
    pub read_data_percent: f64,
}

/// What check found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// Snapshots that opened and were checked (the others are errors, or warnings when newer).
    pub snapshots: usize,
    /// Index files that opened (superseded ones included).
    pub indexes: usize,
    /// Packs the index names.
    pub packs: usize,
    /// Blobs the index names.
    pub blobs: usize,
    /// Packs read whole and verified (see [`CheckOptions::read_data_percent`]).
    pub packs_read: usize,
    /// Blobs authenticated, decompressed and checked against their ids.
    pub blobs_read: usize,
    /// Damage: the repository does not hold what it says.
    pub errors: Vec<String>,
    /// Not damage: packs no index names yet and staging files (a backup running or interrupted;
    /// prune removes them), snapshots of a newer format.
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// Whether no damage was found (warnings allowed).
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Check `repo` (see the [module docs](self)).
pub async fn check(repo: &Repository, options: &CheckOptions) -> Result<CheckReport> {
    let store = repo.store();
    let cipher = repo.cipher();
    let mut report = CheckReport::default();
    let keys = crate::repo::crypto::keyring::check_key_files(store, &repo.config().id, cipher).await?;
    report.errors.extend(keys.errors);
    report.warnings.extend(keys.warnings);

    let mut files = Vec::new();
    for id in list_index_ids(store).await? {
        match IndexFile::read(store, cipher, &id).await {
            Ok(file) => files.push((id, file)),
            Err(e) => report.errors.push(format!("index/{id}: {e}")),
        }
    }
    report.indexes = files.len();
    // Each pack's entries as the index files in force list them, to compare with its header.
    let superseded: HashSet<String> = files.iter().flat_map(|(_, f)| f.supersedes.iter().cloned()).collect();
    let mut listed: HashMap<String, Vec<BlobEntry>> = HashMap::new();
    for (id, file) in &files {
        if !superseded.contains(id) {
            for pack in &file.packs {
                listed.entry(pack.id.clone()).or_insert_with(|| pack.entries.clone());
            }
        }
    }
    let index = crate::repo::index::Index::from_files(files);
    report.blobs = index.len();

    // Packs on storage, by id and size.
    let mut stored: HashMap<String, u64> = HashMap::new();
    for meta in store.list("data").await? {
        let path = meta.location.as_ref();
        let name = path.rsplit('/').next().unwrap_or_default();
        if is_id(name) && pack_path(name).is_ok_and(|p| p == path) {
            stored.insert(name.to_string(), meta.size);
        } else {
            report.warnings.push(format!("{path}: not a pack file name"));
        }
    }
    let indexed: HashSet<&str> = index.pack_ids().collect();
    report.packs = indexed.len();
    for pack in &indexed {
        if !stored.contains_key(*pack) {
            report.errors.push(format!("{}: indexed but missing", pack_path(pack)?));
        }
    }
    for pack in stored.keys() {
        if !indexed.contains(pack.as_str()) {
            report.warnings.push(format!(
                "{}: in no index (left by an interrupted or running backup; prune removes it)",
                pack_path(pack)?
            ));
        }
    }

    for staged in crate::repo::staging::list(store).await? {
        report.warnings.push(format!(
            "{}: a staging file of {} bytes left by an interrupted write (prune removes it after its grace period)",
            staged.path, staged.size
        ));
    }

    if !repo.writes_deltas() {
        report.warnings.push(format!(
            "config: format version {} (changed objects are stored whole; a repository made by this version \
             stores them as deltas, and is read only by entra-backup 0.2 or later)",
            repo.config().version
        ));
    }
    crate::repo::latest::check_pointers(repo, &mut report).await?;

    // Snapshots and everything they reach.
    let mut chains_ok: HashSet<String> = HashSet::new();
    for id in list_snapshot_ids(store).await? {
        let snapshot = match SnapshotFile::try_read(store, cipher, &id).await {
            Ok(Ok(s)) => s,
            Ok(Err(bad)) if !bad.is_damaged() => {
                report.warnings.push(format!("snapshots/{id}: {}", bad.reason));
                continue;
            }
            Ok(Err(bad)) => {
                report.errors.push(format!("snapshots/{id}: {}", bad.reason));
                continue;
            }
            Err(e) => {
                report.errors.push(format!("snapshots/{id}: {e}"));
                continue;
            }
        };
        report.snapshots += 1;
        for (name, cs) in &snapshot.categories {
            let (_, entries) = match repo.tree_node_ids(&index, &cs.tree).await {
                Ok(t) => t,
                Err(e) => {
                    report.errors.push(format!("snapshots/{id}: {name}: {e}"));
                    continue;
                }
            };
            if entries.len() as u64 != cs.objects {
                report.errors.push(format!(
                    "snapshots/{id}: {name}: the tree holds {} objects, the snapshot says {}",
                    entries.len(),
                    cs.objects
                ));
            }
            for (oid, e) in &entries {
                for blob in std::iter::once(&e.blob).chain(e.secret.as_ref()).chain(&e.chunks) {
                    if !index.contains(blob) {
                        report.errors.push(format!("snapshots/{id}: {name}/{oid}: blob {blob} is in no index"));
                    } else if let Some(problem) = chain_problem(&index, blob, &mut chains_ok) {
                        report.errors.push(format!("snapshots/{id}: {name}/{oid}: {problem}"));
                    }
                }
            }
        }
    }

    // Data.
    let percent = options.read_data_percent.clamp(0.0, 100.0);
    if percent > 0.0 {
        let mut packs: Vec<&str> = indexed.iter().copied().filter(|p| stored.contains_key(*p)).collect();
        packs.sort_unstable();
        let take = ((packs.len() as f64) * percent / 100.0).ceil() as usize;
        if take < packs.len() {
            // A random share, so that repeated partial checks cover every pack in time.
            let mut keyed: Vec<(u64, &str)> = packs.iter().map(|p| (random_u64(), *p)).collect();
            keyed.sort_unstable();
            packs = keyed.into_iter().take(take).map(|(_, p)| p).collect();
        }
        for pack in packs {
            let path = pack_path(pack)?;
            report.packs_read += 1;
            let bytes = match store.get(&path).await? {
                Some(b) => b,
                None => {
                    report.errors.push(format!("{path}: missing"));
                    continue;
                }
            };
            let actual = crate::repo::crypto::Cipher::plaintext().id_hex(&bytes);
            if actual != pack {
                report.errors.push(format!("{path}: damaged (its content hashes to {actual})"));
                continue;
            }
            if let Some(problem) = compare_header(cipher, pack, &bytes, listed.get(pack).map_or(&[][..], Vec::as_slice))
            {
                report.errors.push(format!("{path}: {problem}"));
            }
            let blobs: Vec<BlobEntry> = index.pack_blobs(pack);
            let mut frames: HashMap<u64, std::result::Result<Vec<u8>, String>> = HashMap::new();
            for entry in &blobs {
                let range = entry.range();
                let Some(stored_frame) = bytes.get(range.start as usize..range.end as usize) else {
                    report.errors.push(format!("{path}: blob {} lies past the end of the pack", entry.id));
                    continue;
                };
                report.blobs_read += 1;
                let frame = frames
                    .entry(entry.offset)
                    .or_insert_with(|| open_frame(cipher, pack, entry, stored_frame).map_err(|e| e.to_string()));
                let result = match frame {
                    Ok(frame) => blob_from_frame(cipher, pack, entry, frame).map(drop).map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                if let Err(e) = result {
                    report.errors.push(format!("{path}: {e}"));
                } else if entry.kind == BlobKind::Delta && chain_indexed(&index, &entry.id) {
                    // Decoded down its chain of bases, the content has its id. (A delta whose chain
                    // leaves the index is damage only if a snapshot reaches it, which the structure
                    // check reports: one no snapshot reaches waits for prune to drop it.)
                    if let Err(e) = repo.read_blobs(&index, std::slice::from_ref(&entry.id)).await {
                        report.errors.push(format!("{path}: {e}"));
                    }
                }
            }
        }
    }
    Ok(report)
}

/// Whether every base down the chain under `blob` is indexed (within twice [`MAX_CHAIN`] links).
fn chain_indexed(index: &crate::repo::index::Index, blob: &str) -> bool {
    let mut current = blob.to_string();
    for _ in 0..=2 * MAX_CHAIN {
        match index.lookup(&current) {
            None => return false,
            Some((_, entry)) => match entry.base {
                None => return true,
                Some(base) => current = base,
            },
        }
    }
    true
}

/// What is wrong with the chain of bases under `blob`, if it is a delta: a base in no index, or
/// a chain that does not end within twice [`MAX_CHAIN`] links (writers stop at `MAX_CHAIN`).
fn chain_problem(index: &crate::repo::index::Index, blob: &str, ok: &mut HashSet<String>) -> Option<String> {
    let mut walked = Vec::new();
    let mut current = blob.to_string();
    loop {
        if ok.contains(&current) {
            break;
        }
        let Some((_, entry)) = index.lookup(&current) else {
            return Some(format!("delta {} needs base {current}, which is in no index", walked.last()?));
        };
        let Some(base) = entry.base.clone() else { break };
        walked.push(std::mem::replace(&mut current, base));
        if walked.len() > 2 * MAX_CHAIN {
            return Some(format!("the chain of delta bases under {blob} does not end"));
        }
    }
    ok.extend(walked);
    ok.insert(current);
    None
}

/// What differs between a pack's header and the index's entries for it, if anything.
fn compare_header(
    cipher: &crate::repo::crypto::Cipher,
    pack: &str,
    bytes: &[u8],
    indexed: &[BlobEntry],
) -> Option<String> {
    let header = match header_of(cipher, pack, bytes) {
        Ok(h) => h,
        Err(e) => return Some(e.message().to_owned()),
    };
    let in_header: HashSet<&BlobEntry> = header.iter().collect();
    let in_index: HashSet<&BlobEntry> = indexed.iter().collect();
    if in_header == in_index {
        return None;
    }
    let only_header = in_header.difference(&in_index).count();
    let only_index: Vec<&&BlobEntry> = in_index.difference(&in_header).collect();
    Some(format!(
        "its header disagrees with the index: {only_header} entries only in the header, {} only in the index{}",
        only_index.len(),
        only_index.first().map(|e| format!(" (blob {} at {})", e.id, e.offset)).unwrap_or_default()
    ))
}

fn random_u64() -> u64 {
    use chacha20poly1305::aead::rand_core::RngCore;
    chacha20poly1305::aead::OsRng.next_u64()
}
