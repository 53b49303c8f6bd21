//! The tenants' latest-snapshot pointers: finding a backup's parent without reading every
//! snapshot file (see "The latest pointer" in `docs/repository-format.md`).
//!
//! `latest/<tenant key>` holds, sealed with the data key, `{"snapshot", "time", "tenant"}`: a
//! snapshot of that tenant. The tenant key is the keyed content id of
//! `entra-backup latest\0<tenant id>`, so the file name does not show the tenant. A backup writes
//! it after its snapshot, when its snapshot is newer (by time, then id) than the one it names.
//!
//! A pointer is a hint that is verified, never trusted: the snapshot it names must exist, open
//! (its content has its id), be of the tenant and have the time the pointer says. Then only the
//! snapshot files written since the pointer was (by the store's own modification times, one
//! listing) are read: a snapshot newer than the one named, written by a backup that died before
//! it moved the pointer, or by a backup that lost a race for it, is among them. The parent is the
//! newest readable snapshot of the tenant among those and the one named, which is what reading
//! every snapshot would have chosen. A pointer that is missing, damaged, or names a snapshot that
//! is gone (forgotten), damaged or of another tenant is passed over: every snapshot is read, as
//! before pointers existed (and as for a repository written before them).

use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::pack::is_id;
use crate::repo::snapshot::{SnapshotFile, UnreadableSnapshot};

/// The folder of the pointers.
pub const LATEST_DIR: &str = "latest";

/// The largest pointer file read (it is about 200 bytes).
const MAX_POINTER_FILE: u64 = 64 * 1024;

/// Snapshot files modified this long before the pointer are read too: the store's clock may
/// round, or differ a little between its servers.
const CLOCK_SLACK_MS: i64 = 2_000;

/// Snapshot files read at once.
const READS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pointer {
    snapshot: String,
    time: jiff::Timestamp,
    tenant: String,
}

/// The parent a backup of `tenant` starts from: its newest readable snapshot, and the snapshot
/// files that could not be read on the way (all of them when the pointer could not be used).
pub(crate) type ParentChoice = (Option<(String, SnapshotFile)>, Vec<UnreadableSnapshot>);

/// The path of `tenant`'s pointer.
pub fn latest_path(repo: &Repository, tenant: &str) -> String {
    let mut h = repo.cipher().id_hasher();
    h.update(b"entra-backup latest\0").update(tenant.as_bytes());
    format!("{LATEST_DIR}/{}", h.finalize_hex())
}

/// The newest readable snapshot of `tenant` (see the [module docs](self)): through its pointer
/// when that can be used, else by reading every snapshot.
pub(crate) async fn tenant_parent(repo: &Repository, tenant: &str) -> Result<ParentChoice> {
    if let Some(found) = through_pointer(repo, tenant).await? {
        return Ok(found);
    }
    let list = repo.snapshot_list().await?;
    let parent = list.snapshots.into_iter().rev().find(|(_, s)| s.tenant.id == tenant);
    Ok((parent, list.unreadable))
}

/// Read and open `tenant`'s pointer; `None` when it is missing or cannot be used.
async fn read_pointer(repo: &Repository, path: &str, tenant: &str) -> Result<Option<Pointer>> {
    let sealed = match repo.store().get_bounded(path, MAX_POINTER_FILE).await {
        Ok(Some(sealed)) => sealed,
        Ok(None) => return Ok(None),
        Err(e) if e.kind() == ErrorKind::Protocol => return Ok(None),
        Err(e) => return Err(e),
    };
    let Ok(json) = repo.cipher().open(&sealed) else {
        tracing::warn!("{path} does not open; the parent is chosen by reading every snapshot");
        return Ok(None);
    };
    let pointer: Pointer = match serde_json::from_slice(&json) {
        Ok(p) => p,
        Err(_) => {
            tracing::warn!("{path} is not a pointer; the parent is chosen by reading every snapshot");
            return Ok(None);
        }
    };
    Ok((pointer.tenant == tenant && is_id(&pointer.snapshot)).then_some(pointer))
}

async fn through_pointer(repo: &Repository, tenant: &str) -> Result<Option<ParentChoice>> {
    let store = repo.store();
    let path = latest_path(repo, tenant);
    // Its modification time first: a pointer moved in between makes the window wider, not narrower.
    let Some(meta) = store.head(&path).await? else { return Ok(None) };
    let Some(pointer) = read_pointer(repo, &path, tenant).await? else { return Ok(None) };
    let named = match SnapshotFile::try_read(store, repo.cipher(), &pointer.snapshot).await {
        Ok(Ok(s)) if s.tenant.id == tenant && s.time == pointer.time => s,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let since = meta.last_modified.timestamp_millis() - CLOCK_SLACK_MS;
    let recent: Vec<String> = store
        .list("snapshots")
        .await?
        .into_iter()
        .filter(|m| m.last_modified.timestamp_millis() >= since)
        .filter_map(|m| m.location.as_ref().strip_prefix("snapshots/").map(str::to_owned))
        .filter(|id| is_id(id) && *id != pointer.snapshot)
        .collect();
    let read: Vec<Option<std::result::Result<(String, SnapshotFile), UnreadableSnapshot>>> = stream::iter(recent)
        .map(|id| async move {
            match SnapshotFile::try_read(store, repo.cipher(), &id).await {
                Ok(result) => Ok(Some(result.map(|s| (id, s)))),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffered(READS)
        .try_collect()
        .await?;
    let mut best = (pointer.snapshot, named);
    let mut skipped = Vec::new();
    for item in read.into_iter().flatten() {
        match item {
            Ok((id, s)) if s.tenant.id == tenant && (s.time, &id) > (best.1.time, &best.0) => best = (id, s),
            Ok(_) => {}
            Err(bad) => skipped.push(bad),
        }
    }
    Ok(Some((Some(best), skipped)))
}

/// After snapshot `id` of `snapshot.tenant` is written: point the tenant's pointer at it, unless
/// it names a newer snapshot. With a conditional update, of two backups racing the newer wins;
/// without one (a local folder), the loser is found by the next backup's look at recent files.
pub(crate) async fn record(repo: &Repository, id: &str, snapshot: &SnapshotFile) -> Result<()> {
    let store = repo.store();
    let tenant = &snapshot.tenant.id;
    let path = latest_path(repo, tenant);
    let pointer = Pointer { snapshot: id.to_string(), time: snapshot.time, tenant: tenant.clone() };
    let json = serde_json::to_vec(&pointer).expect("a pointer serializes");
    let sealed = Bytes::from(repo.cipher().seal(&json));
    let cas = store.capabilities().conditional_update;
    for _ in 0..5 {
        let current = store.get_versioned(&path).await?;
        if let Some((bytes, _)) = &current
            && let Ok(json) = repo.cipher().open(bytes)
            && let Ok(held) = serde_json::from_slice::<Pointer>(&json)
            && held.tenant == *tenant
            && (held.time, &held.snapshot) >= (pointer.time, &pointer.snapshot)
        {
            return Ok(());
        }
        let expected = if cas { current.as_ref().map(|(_, v)| v) } else { None };
        if current.is_some() && !cas {
            store.put(&path, sealed.clone()).await?;
            return Ok(());
        }
        if store.update_if(&path, sealed.clone(), expected).await?.is_some() {
            return Ok(());
        }
    }
    // Others kept moving it: the next backup finds this snapshot among the recent files.
    Ok(())
}

/// Check every pointer: it opens, and the snapshot it names, if still there and readable, is of
/// its tenant and has its time.
/// Problems are warnings (a pointer is only a hint: a backup passes over a bad one, and the next
/// backup writes it anew).
pub(crate) async fn check_pointers(repo: &Repository, report: &mut crate::repo::check::CheckReport) -> Result<()> {
    let store = repo.store();
    for meta in store.list(LATEST_DIR).await? {
        let path = meta.location.to_string();
        let sealed = match store.get_bounded(&path, MAX_POINTER_FILE).await {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) if e.kind() == ErrorKind::Protocol => Bytes::new(),
            Err(e) => return Err(e),
        };
        let pointer = repo.cipher().open(&sealed).ok().and_then(|j| serde_json::from_slice::<Pointer>(&j).ok());
        let problem = match pointer {
            None => Some("does not open".to_string()),
            Some(p) if latest_path(repo, &p.tenant) != path || !is_id(&p.snapshot) => {
                Some("is not the pointer of the tenant it names".to_string())
            }
            Some(p) => match SnapshotFile::try_read(store, repo.cipher(), &p.snapshot).await {
                Ok(Ok(s)) if s.tenant.id == p.tenant && s.time == p.time => None,
                Ok(Ok(_)) => Some(format!("names snapshot {}, which is of another tenant or time", p.snapshot)),
                // Damaged snapshots are reported as such; a forgotten one leaves its pointer behind,
                // which backups pass over (forget does not rewrite pointers).
                Ok(Err(_)) => None,
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            },
        };
        if let Some(problem) = problem {
            report.warnings.push(format!(
                "{path}: {problem}; backups of its tenant read every snapshot until the next one rewrites it"
            ));
        }
    }
    Ok(())
}
