//! Forget snapshots by a retention policy, and prune what no snapshot needs any more.
//!
//! Prune plans, then executes (rustic's shape). It holds the lease `locks/prune` so that two
//! prunes never run at once; backups take no lock. A pack no snapshot reaches is first *marked*
//! in a new index and deleted only by a later prune, once the mark is older than the grace period
//! (24 hours by default), and only if no snapshot reaches it by then: a backup that was running
//! when the pack was marked, and used blobs in it, has made it reachable again. Packs that no
//! index names yet (a running or interrupted backup's), and staging files interrupted writes left
//! in a local folder, are deleted only when older than the grace period. Packs mostly unused are
//! repacked: their live blobs are copied into new packs first.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::crypto::Cipher;
use crate::repo::index::{Index, IndexFile, Marked, list_index_ids};
use crate::repo::pack::{BlobEntry, BlobKind, PackInfo, PackWriter, is_id, pack_path};
use crate::repo::snapshot::{SnapshotFile, snapshot_path};

#[path = "prune_deltas.rs"]
mod deltas;

/// The lease prune holds.
pub const LEASE_PATH: &str = "locks/prune";

/// How long a lease lasts unless released (a prune killed midway leaves it; the next prune waits
/// this long before taking over).
const LEASE_DURATION: jiff::SignedDuration = jiff::SignedDuration::from_hours(6);

/// How to prune.
#[derive(Debug, Clone)]
pub struct PruneOptions {
    /// How long a pack stays marked (and an unindexed pack stays) before it is deleted.
    pub grace: jiff::SignedDuration,
    /// Repack a pack when more than this share of its bytes is unused (0 to 1).
    pub max_unused: f64,
    /// Plan only; change nothing.
    pub dry_run: bool,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions { grace: jiff::SignedDuration::from_hours(24), max_unused: 0.5, dry_run: false }
    }
}

/// What prune will do (and, after [`execute`], did).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrunePlan {
    /// Packs kept as they are.
    pub keep: Vec<String>,
    /// Packs whose live blobs are copied into new packs, then marked.
    pub repack: Vec<String>,
    /// Packs newly marked unused.
    pub mark: Vec<String>,
    /// Packs marked long enough ago and still unused: deleted.
    pub delete: Vec<String>,
    /// Packs in no index, older than the grace period: deleted.
    pub delete_unindexed: Vec<String>,
    /// Staging files of interrupted writes (`data/63/6352…#1`), older than the grace period: deleted.
    pub delete_staging: Vec<String>,
    /// Packs still marked, waiting out the grace period.
    pub waiting: Vec<String>,
    /// Index files replaced by the new one.
    pub replace_indexes: Vec<String>,
    /// Bytes freed by the deletions.
    pub bytes_freed: u64,
    #[serde(skip)]
    marks: Vec<Marked>,
    /// Deltas whose base goes: stored again against a base that stays, or whole.
    pub deltas_rebased: usize,
    #[serde(skip)]
    live: HashSet<String>,
    #[serde(skip)]
    rebase: HashMap<String, Option<String>>,
}

/// A lease on `locks/prune`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lease {
    holder: String,
    host: String,
    pid: u32,
    since: jiff::Timestamp,
    expires: jiff::Timestamp,
}

/// The held lease; release it with [`LeaseGuard::release`].
#[derive(Debug)]
pub struct LeaseGuard {
    holder: String,
}

/// Take the prune lease, or fail with [`ErrorKind::Conflict`] naming who holds it.
pub async fn acquire_lease(repo: &Repository) -> Result<LeaseGuard> {
    let store = repo.store();
    let now = jiff::Timestamp::now();
    let lease = Lease {
        holder: format!("{:016x}", rand_u64()),
        host: hostname(),
        pid: std::process::id(),
        since: now,
        expires: now + LEASE_DURATION,
    };
    let bytes = Bytes::from(serde_json::to_vec(&lease).expect("a lease serializes"));
    for _ in 0..3 {
        match store.get_versioned(LEASE_PATH).await? {
            None => {
                if store.update_if(LEASE_PATH, bytes.clone(), None).await?.is_some() {
                    return taken(store, lease.holder, now).await;
                }
            }
            Some((current, version)) => {
                let held: Option<Lease> = serde_json::from_slice(&current).ok();
                if let Some(h) = &held
                    && !is_stale(h, now)
                {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!(
                            "another prune holds the repository's lease (since {}, host {:?}, pid {}); \
                             wait for it, or until {} if it was killed",
                            h.since, h.host, h.pid, h.expires
                        ),
                    ));
                }
                // Expired, its holder gone, or unreadable: take it over.
                if store.capabilities().conditional_update {
                    if store.update_if(LEASE_PATH, bytes.clone(), Some(&version)).await?.is_some() {
                        return taken(store, lease.holder, now).await;
                    }
                } else {
                    // A local folder has no compare-and-swap. Of the prunes that saw this stale lease,
                    // the one that creates the take-over marker first replaces it; the others retry
                    // and find the new lease.
                    let stale =
                        held.as_ref().map_or_else(|| Cipher::plaintext().id_hex(&current), |h| h.holder.clone());
                    let marker = format!("{TAKEOVER_PREFIX}{stale}");
                    if store.put_if_absent(&marker, bytes.clone()).await? {
                        store.delete(LEASE_PATH).await?;
                        let won = store.update_if(LEASE_PATH, bytes.clone(), None).await?.is_some();
                        store.delete(&marker).await?;
                        if won {
                            return taken(store, lease.holder, now).await;
                        }
                    } else if marker_is_stale(store, &marker, now).await? {
                        // Its writer was killed mid take-over; left there, it would block every prune.
                        store.delete(&marker).await?;
                    } else {
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    }
                }
            }
        }
    }
    Err(Error::new(ErrorKind::Conflict, "another prune took the repository's lease first"))
}

/// A lease past its expiry, or whose holder is certainly gone.
fn is_stale(lease: &Lease, now: jiff::Timestamp) -> bool {
    lease.expires <= now || holder_is_gone(lease)
}

/// The prefix of the take-over markers of a local folder (see [`acquire_lease`]).
const TAKEOVER_PREFIX: &str = "locks/prune-takeover-";

/// Whether a take-over marker (it holds its writer's lease) is gone or stale.
async fn marker_is_stale(store: &crate::repo::backend::Store, marker: &str, now: jiff::Timestamp) -> Result<bool> {
    Ok(match store.get(marker).await? {
        None => true,
        Some(bytes) => serde_json::from_slice::<Lease>(&bytes).map_or(true, |l| is_stale(&l, now)),
    })
}

/// The lease is ours: remove the take-over markers of prunes killed mid take-over (they would
/// stay forever otherwise), and hand the lease out.
async fn taken(store: &crate::repo::backend::Store, holder: String, now: jiff::Timestamp) -> Result<LeaseGuard> {
    for meta in store.list("locks").await? {
        let path = meta.location.as_ref();
        if path.starts_with(TAKEOVER_PREFIX) && marker_is_stale(store, path, now).await? {
            store.delete(path).await?;
        }
    }
    Ok(LeaseGuard { holder })
}

impl LeaseGuard {
    /// Give the lease back (only if it is still ours).
    pub async fn release(self, repo: &Repository) -> Result<()> {
        let store = repo.store();
        if let Some((current, _)) = store.get_versioned(LEASE_PATH).await?
            && serde_json::from_slice::<Lease>(&current).is_ok_and(|l| l.holder == self.holder)
        {
            store.delete(LEASE_PATH).await?;
        }
        Ok(())
    }
}

/// This machine's name (for leases: a lease of a process that is gone on this machine is stale).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

/// Whether a lease's holder is certainly gone: same machine, and no such process.
fn holder_is_gone(lease: &Lease) -> bool {
    cfg!(target_os = "linux")
        && !lease.host.is_empty()
        && lease.host == hostname()
        && lease.pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{}", lease.pid)).exists()
}

fn rand_u64() -> u64 {
    use chacha20poly1305::aead::rand_core::RngCore;
    chacha20poly1305::aead::OsRng.next_u64()
}

/// Every blob the snapshots reach: tree nodes, objects and secrets.
async fn reachable(repo: &Repository, index: &Index, snapshots: &[(String, SnapshotFile)]) -> Result<HashSet<String>> {
    let mut live = HashSet::new();
    let mut trees_seen = HashSet::new();
    for (id, s) in snapshots {
        for (name, cs) in &s.categories {
            if !trees_seen.insert(cs.tree.clone()) {
                continue;
            }
            let (nodes, entries) = repo
                .tree_node_ids(index, &cs.tree)
                .await
                .map_err(|e| e.context(format!("snapshot {id}: {name} (run check; prune stops here)")))?;
            live.extend(nodes);
            for e in entries.into_values() {
                live.insert(e.blob);
                live.extend(e.secret);
                live.extend(e.chunks);
            }
        }
    }
    Ok(live)
}

/// The combined index, and every pack of the index files it was made of with all its entries
/// (the combined index keeps one location per blob; prune needs every copy).
async fn load_packs(repo: &Repository) -> Result<(Index, BTreeMap<String, Vec<BlobEntry>>)> {
    let index = repo.load_index().await?;
    let mut packs: BTreeMap<String, Vec<BlobEntry>> = BTreeMap::new();
    for id in index.files() {
        let file = IndexFile::read(repo.store(), repo.cipher(), id).await?;
        for p in file.packs {
            packs.entry(p.id).or_insert(p.entries);
        }
    }
    Ok((index, packs))
}

/// Plan a prune: which packs to keep, repack, mark and delete.
pub async fn plan(repo: &Repository, options: &PruneOptions) -> Result<PrunePlan> {
    let store = repo.store();
    let now = jiff::Timestamp::now();
    // Listed before loading, so every one of them is read: in use, or superseded by one in use but
    // not deleted yet (a prune killed after writing its index). The new index supersedes them all;
    // superseding only those in use would let the leftovers come back once it deletes their
    // superseder, naming packs already deleted.
    let listed = list_index_ids(store).await?;
    let (index, packs) = load_packs(repo).await?;
    let snapshots = repo.snapshots().await?;
    let mut live = reachable(repo, &index, &snapshots).await?;
    // A delta needs its base: kept where its pack stays anyway, else the delta is rebased (see
    // `prune_deltas`). Pins add use only to packs kept already, so no pack's fate changes.
    let kept: HashSet<&str> = deltas::usage(&packs, &index, &live)
        .into_iter()
        .filter(|(_, u)| deltas::is_kept(*u, options.max_unused))
        .map(|(p, _)| p)
        .collect();
    let settled = deltas::settle_chains(&index, &packs, &mut live, &kept);
    let rebase = settled.rebase;
    let replace_indexes =
        listed.into_iter().filter(|id| index.files().contains(id) || index.is_superseded(id)).collect();
    let mut plan = PrunePlan { replace_indexes, ..PrunePlan::default() };

    let mut sizes: HashMap<String, (u64, jiff::Timestamp)> = HashMap::new();
    for meta in store.list("data").await? {
        let name = meta.location.as_ref().rsplit('/').next().unwrap_or_default().to_string();
        if is_id(&name) {
            let modified = jiff::Timestamp::from_millisecond(meta.last_modified.timestamp_millis()).unwrap_or(now);
            sizes.insert(name, (meta.size, modified));
        }
    }
    let by_pack = deltas::usage(&packs, &index, &live);
    for (pack, (used, _)) in by_pack {
        let size = sizes.get(pack).map_or(0, |s| s.0);
        if used == 0 {
            match index.marked(pack) {
                Some(at) if at + options.grace <= now => {
                    plan.delete.push(pack.to_string());
                    plan.bytes_freed += size;
                }
                Some(at) => {
                    plan.waiting.push(pack.to_string());
                    plan.marks.push(Marked { pack: pack.to_string(), marked: at });
                }
                None => {
                    plan.mark.push(pack.to_string());
                    plan.marks.push(Marked { pack: pack.to_string(), marked: now });
                }
            }
        } else if !kept.contains(pack) || settled.repack.contains(pack) {
            plan.repack.push(pack.to_string());
            plan.marks.push(Marked { pack: pack.to_string(), marked: now });
        } else {
            plan.keep.push(pack.to_string());
        }
    }
    for (pack, (size, modified)) in &sizes {
        if !packs.contains_key(pack) && *modified + options.grace <= now {
            plan.delete_unindexed.push(pack.clone());
            plan.bytes_freed += size;
        }
    }
    for staged in crate::repo::staging::list(store).await? {
        if staged.modified + options.grace <= now {
            plan.bytes_freed += staged.size;
            plan.delete_staging.push(staged.path);
        }
    }
    plan.deltas_rebased = rebase.len();
    plan.live = live;
    plan.rebase = rebase;
    Ok(plan)
}

/// Carry out a plan: repack, write the new index (superseding the old ones), delete old index
/// files, then the packs whose time has come. Killed at any point, the repository stays valid.
pub async fn execute(repo: &Repository, plan: &PrunePlan) -> Result<()> {
    let store = repo.store();
    let (index, all_packs) = load_packs(repo).await?;
    // Repack: copy the live blobs of mostly-unused packs into new packs, kind by kind, and the
    // deltas whose base goes (rebased), wherever they are.
    let mut new_packs: Vec<PackInfo> = Vec::new();
    let mut wanted: Vec<(String, BlobEntry)> = Vec::new();
    let mut taken: HashSet<&str> = HashSet::new();
    for pack in &plan.repack {
        for e in all_packs.get(pack).into_iter().flatten() {
            if plan.live.contains(&e.id)
                && index.lookup(&e.id).is_some_and(|(p, _)| p == pack)
                && taken.insert(e.id.as_str())
            {
                wanted.push((e.id.clone(), e.clone()));
            }
        }
    }
    let mut rebased: Vec<&String> = plan.rebase.keys().filter(|id| !taken.contains(id.as_str())).collect();
    rebased.sort_unstable();
    for id in rebased {
        if let Some((_, entry)) = index.lookup(id) {
            wanted.push((id.clone(), entry));
        }
    }
    if !wanted.is_empty() {
        let mut writers: HashMap<BlobKind, PackWriter> = HashMap::new();
        deltas::rewrite(repo, &index, &wanted, &plan.rebase, &mut writers, &mut new_packs).await?;
        for w in writers.values_mut() {
            if let Some(p) = w.finish(store).await? {
                new_packs.push(p);
            }
        }
    }
    // The new index: new packs first (a blob's first location wins, so repacked blobs are found in
    // their new copies), then kept and marked packs, and the marks.
    let keep: HashSet<&str> = plan.keep.iter().map(String::as_str).collect();
    let marked: HashSet<&str> = plan.marks.iter().map(|m| m.pack.as_str()).collect();
    // The others in the order the index found them: a blob stored twice (a rebased delta's old
    // copy stays in its kept pack) must keep resolving to the same copy.
    let mut packs: Vec<PackInfo> = new_packs;
    for pack in index.pack_ids() {
        if (keep.contains(pack) || marked.contains(pack))
            && let Some(entries) = all_packs.get(pack)
        {
            // Marked packs stay indexed until deleted, so old snapshots a running backup still
            // reads keep resolving.
            packs.push(PackInfo { id: pack.to_string(), entries: entries.clone() });
        }
    }
    let mut file = IndexFile::new(packs);
    file.supersedes = plan.replace_indexes.clone();
    file.delete = plan.marks.clone();
    file.write(store, repo.cipher()).await?;
    for id in &plan.replace_indexes {
        store.delete(&crate::repo::index::index_path(id)?).await?;
    }
    for pack in plan.delete.iter().chain(&plan.delete_unindexed) {
        store.delete(&pack_path(pack)?).await?;
    }
    for path in &plan.delete_staging {
        crate::repo::staging::remove(store, path).await?;
    }
    Ok(())
}

/// Plan and execute under the lease. With `dry_run`, only plan.
pub async fn prune(repo: &Repository, options: &PruneOptions) -> Result<PrunePlan> {
    under_lease(repo, || async {
        let plan = plan(repo, options).await?;
        if !options.dry_run {
            execute(repo, &plan).await?;
        }
        Ok(plan)
    })
    .await
}

/// Run `work` holding the prune lease, and give the lease back whatever the outcome.
pub async fn under_lease<T, F>(repo: &Repository, work: impl FnOnce() -> F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let lease = acquire_lease(repo).await?;
    let result = work().await;
    let released = lease.release(repo).await;
    let value = result?;
    released?;
    Ok(value)
}

/// Which snapshots to keep: the newest `last`, and the newest in each of the latest `hourly`
/// hours, `daily` days, ... (restic's rules, per tenant).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepPolicy {
    /// Keep the newest this many.
    pub last: usize,
    /// Keep the newest of each of the latest this many hours that have one.
    pub hourly: usize,
    /// Keep the newest of each of the latest this many days that have one.
    pub daily: usize,
    /// Keep the newest of each of the latest this many ISO weeks that have one.
    pub weekly: usize,
    /// Keep the newest of each of the latest this many months that have one.
    pub monthly: usize,
    /// Keep the newest of each of the latest this many years that have one.
    pub yearly: usize,
}

impl KeepPolicy {
    /// Whether it has no rule (all zero): [`apply_policy`] refuses it.
    pub fn is_empty(&self) -> bool {
        *self == KeepPolicy::default()
    }
}

/// The calendar bucket of a snapshot's time (its hour, day, ISO week, month or year), in UTC.
type BucketKey = fn(&jiff::Timestamp) -> String;

/// One snapshot's fate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForgetDecision {
    /// The snapshot's id.
    pub id: String,
    /// When its backup started.
    pub time: jiff::Timestamp,
    /// The tenant it is of.
    pub tenant: String,
    /// Whether a rule keeps it (else forget removes it).
    pub keep: bool,
    /// Why it is kept (`last`, `daily`, ...).
    pub reasons: Vec<&'static str>,
}

/// Decide which snapshots the policy keeps (newest first within each tenant).
pub fn apply_policy(snapshots: &[(String, SnapshotFile)], policy: &KeepPolicy) -> Result<Vec<ForgetDecision>> {
    if policy.is_empty() {
        return Err(Error::invalid_input(
            "forget needs at least one --keep-* rule (it never removes every snapshot by default)",
        ));
    }
    let mut by_tenant: BTreeMap<&str, Vec<&(String, SnapshotFile)>> = BTreeMap::new();
    for s in snapshots {
        by_tenant.entry(s.1.tenant.id.as_str()).or_default().push(s);
    }
    let mut out = Vec::new();
    for (tenant, mut list) in by_tenant {
        list.sort_by_key(|s| std::cmp::Reverse(s.1.time));
        let buckets: [(&'static str, usize, BucketKey); 5] = [
            ("hourly", policy.hourly, |z| z.strftime("%Y-%m-%d %H").to_string()),
            ("daily", policy.daily, |z| z.strftime("%Y-%m-%d").to_string()),
            ("weekly", policy.weekly, |z| z.strftime("%G-%V").to_string()),
            ("monthly", policy.monthly, |z| z.strftime("%Y-%m").to_string()),
            ("yearly", policy.yearly, |z| z.strftime("%Y").to_string()),
        ];
        let mut seen: Vec<(HashSet<String>, usize)> = buckets.iter().map(|_| (HashSet::new(), 0)).collect();
        for (i, (id, s)) in list.iter().map(|x| (&x.0, &x.1)).enumerate() {
            let mut reasons = Vec::new();
            if i < policy.last {
                reasons.push("last");
            }
            let z = s.time;
            for (b, (name, limit, key)) in buckets.iter().enumerate() {
                let k = key(&z);
                let (set, kept) = &mut seen[b];
                if *kept < *limit && !set.contains(&k) {
                    set.insert(k);
                    *kept += 1;
                    reasons.push(name);
                }
            }
            out.push(ForgetDecision {
                id: id.clone(),
                time: s.time,
                tenant: tenant.to_string(),
                keep: !reasons.is_empty(),
                reasons,
            });
        }
    }
    Ok(out)
}

/// Remove the snapshots the policy does not keep (their files only; prune frees the data).
/// Snapshot files that cannot be read are left alone (their time is unknown) and get no decision;
/// [`forget_snapshots`] removes them by id.
pub async fn forget(repo: &Repository, policy: &KeepPolicy, dry_run: bool) -> Result<Vec<ForgetDecision>> {
    let snapshots = repo.snapshot_list().await?.snapshots;
    let decisions = apply_policy(&snapshots, policy)?;
    if !dry_run {
        for d in decisions.iter().filter(|d| !d.keep) {
            repo.store().delete(&snapshot_path(&d.id)?).await?;
        }
    }
    Ok(decisions)
}

/// Remove the snapshots `names` (whole ids or unique prefixes of at least 4 hex digits), readable
/// or not, under the prune lease; every name is resolved before anything is removed. Returns the
/// ids removed (with `dry_run`: that would be removed).
pub async fn forget_snapshots(repo: &Repository, names: &[String], dry_run: bool) -> Result<Vec<String>> {
    if names.is_empty() {
        return Err(Error::invalid_input("name at least one snapshot to forget"));
    }
    under_lease(repo, || async {
        let mut ids: Vec<String> = Vec::new();
        for name in names {
            let id = repo.resolve_snapshot_id(name).await?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if !dry_run {
            for id in &ids {
                repo.store().delete(&snapshot_path(id)?).await?;
            }
        }
        Ok(ids)
    })
    .await
}
