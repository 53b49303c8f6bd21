//! Forget snapshots by a retention policy, and prune what no snapshot needs any more.
//!
//! Prune plans, then executes (rustic's shape). It holds the lease `locks/prune` so that two
//! prunes never run at once; backups take no lock. A pack no snapshot reaches is first *marked*
//! in a new index and deleted only by a later prune, once the mark is older than the grace period
//! (24 hours by default), and only if no snapshot reaches it by then: a backup that was running
//! when the pack was marked, and used blobs in it, has made it reachable again. Packs that no
//! index names yet (a running or interrupted backup's) are deleted only when older than the grace
//! period. Packs mostly unused are repacked: their live blobs are copied into new packs first.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::index::{Index, IndexFile, Marked};
use crate::repo::pack::{BlobKind, PackInfo, PackWriter, is_id, pack_path};
use crate::repo::snapshot::{Snapshot, snapshot_path};

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
    /// Packs still marked, waiting out the grace period.
    pub waiting: Vec<String>,
    /// Index files replaced by the new one.
    pub replace_indexes: Vec<String>,
    /// Bytes freed by the deletions.
    pub bytes_freed: u64,
    #[serde(skip)]
    marks: Vec<Marked>,
    #[serde(skip)]
    live: HashSet<String>,
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
        host: std::env::var("HOSTNAME").unwrap_or_default(),
        pid: std::process::id(),
        since: now,
        expires: now + LEASE_DURATION,
    };
    let bytes = Bytes::from(serde_json::to_vec(&lease).expect("a lease serializes"));
    for _ in 0..3 {
        match store.get_versioned(LEASE_PATH).await? {
            None => {
                if store.update_if(LEASE_PATH, bytes.clone(), None).await?.is_some() {
                    return Ok(LeaseGuard { holder: lease.holder });
                }
            }
            Some((current, version)) => {
                let held: Option<Lease> = serde_json::from_slice(&current).ok();
                if let Some(h) = &held
                    && h.expires > now
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
                // Expired (or unreadable): take it over.
                if store.capabilities().conditional_update {
                    if store.update_if(LEASE_PATH, bytes.clone(), Some(&version)).await?.is_some() {
                        return Ok(LeaseGuard { holder: lease.holder });
                    }
                } else {
                    // A local folder has no compare-and-swap: remove, then create exclusively.
                    store.delete(LEASE_PATH).await?;
                }
            }
        }
    }
    Err(Error::new(ErrorKind::Conflict, "another prune took the repository's lease first"))
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

fn rand_u64() -> u64 {
    use chacha20poly1305::aead::rand_core::RngCore;
    chacha20poly1305::aead::OsRng.next_u64()
}

/// Every blob the snapshots reach: tree nodes, objects and secrets.
async fn reachable(repo: &Repository, index: &Index, snapshots: &[(String, Snapshot)]) -> Result<HashSet<String>> {
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
                if let Some(s) = e.secret {
                    live.insert(s);
                }
            }
        }
    }
    Ok(live)
}

/// Plan a prune: which packs to keep, repack, mark and delete.
pub async fn plan(repo: &Repository, options: &PruneOptions) -> Result<PrunePlan> {
    let store = repo.store();
    let now = jiff::Timestamp::now();
    let index = repo.load_index().await?;
    let snapshots = repo.snapshots().await?;
    let live = reachable(repo, &index, &snapshots).await?;
    let mut plan = PrunePlan { replace_indexes: index.files().to_vec(), ..PrunePlan::default() };

    let mut sizes: HashMap<String, (u64, jiff::Timestamp)> = HashMap::new();
    for meta in store.list("data").await? {
        let name = meta.location.as_ref().rsplit('/').next().unwrap_or_default().to_string();
        if is_id(&name) {
            let modified = jiff::Timestamp::from_millisecond(meta.last_modified.timestamp_millis()).unwrap_or(now);
            sizes.insert(name, (meta.size, modified));
        }
    }
    let mut by_pack: BTreeMap<&str, (u64, u64)> = BTreeMap::new(); // (used bytes, total blob bytes)
    for (pack, entry) in index.blobs() {
        let e = by_pack.entry(pack).or_default();
        e.1 += entry.length;
        if live.contains(&entry.id) {
            e.0 += entry.length;
        }
    }
    for (pack, (used, total)) in by_pack {
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
        } else if total > 0 && (total - used) as f64 / total as f64 > options.max_unused {
            plan.repack.push(pack.to_string());
            plan.marks.push(Marked { pack: pack.to_string(), marked: now });
        } else {
            plan.keep.push(pack.to_string());
        }
    }
    for (pack, (size, modified)) in &sizes {
        if !index.contains_pack(pack) && *modified + options.grace <= now {
            plan.delete_unindexed.push(pack.clone());
            plan.bytes_freed += size;
        }
    }
    plan.live = live;
    Ok(plan)
}

/// Carry out a plan: repack, write the new index (superseding the old ones), delete old index
/// files, then the packs whose time has come. Killed at any point, the repository stays valid.
pub async fn execute(repo: &Repository, plan: &PrunePlan) -> Result<()> {
    let store = repo.store();
    let index = repo.load_index().await?;
    // Repack: copy live blobs of mostly-unused packs into new packs, kind by kind.
    let mut new_packs: Vec<PackInfo> = Vec::new();
    if !plan.repack.is_empty() {
        let mut writers: HashMap<BlobKind, PackWriter> = HashMap::new();
        for pack in &plan.repack {
            let wanted: Vec<_> = index.pack_blobs(pack).into_iter().filter(|e| plan.live.contains(&e.id)).cloned().collect();
            let ids: Vec<String> = wanted.iter().map(|e| e.id.clone()).collect();
            let blobs = repo.read_blobs(&index, &ids).await?;
            for (entry, plaintext) in wanted.iter().zip(blobs) {
                let w = writers
                    .entry(entry.kind)
                    .or_insert_with(|| PackWriter::new(entry.kind, repo.cipher().clone()));
                if entry.kind == BlobKind::Secret {
                    w.add_sealed_secret(entry.id.clone(), &plaintext)?;
                } else {
                    w.add(&plaintext)?;
                }
                if w.is_full()
                    && let Some(p) = w.finish(store).await?
                {
                    new_packs.push(p);
                }
            }
        }
        for w in writers.values_mut() {
            if let Some(p) = w.finish(store).await? {
                new_packs.push(p);
            }
        }
    }
    // The new index: kept packs (with their blobs), new packs, and the marks.
    let keep: HashSet<&str> = plan.keep.iter().map(String::as_str).collect();
    let mut packs: Vec<PackInfo> = Vec::new();
    let marked: HashSet<&str> = plan.marks.iter().map(|m| m.pack.as_str()).collect();
    for pack in index.pack_ids() {
        if keep.contains(pack) || marked.contains(pack) {
            // Marked packs stay indexed until deleted, so old snapshots a running backup still
            // reads keep resolving.
            packs.push(PackInfo { id: pack.to_string(), entries: index.pack_blobs(pack).into_iter().cloned().collect() });
        }
    }
    packs.extend(new_packs);
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
    Ok(())
}

/// Plan and execute under the lease. With `dry_run`, only plan.
pub async fn prune(repo: &Repository, options: &PruneOptions) -> Result<PrunePlan> {
    let lease = acquire_lease(repo).await?;
    let result: Result<PrunePlan> = async {
        let plan = plan(repo, options).await?;
        if !options.dry_run {
            execute(repo, &plan).await?;
        }
        Ok(plan)
    }
    .await;
    let released = lease.release(repo).await;
    let plan = result?;
    released?;
    Ok(plan)
}

/// Which snapshots to keep: the newest `last`, and the newest in each of the latest `hourly`
/// hours, `daily` days, ... (restic's rules, per tenant).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepPolicy {
    pub last: usize,
    pub hourly: usize,
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
    pub yearly: usize,
}

impl KeepPolicy {
    pub fn is_empty(&self) -> bool {
        *self == KeepPolicy::default()
    }
}

/// One snapshot's fate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForgetDecision {
    pub id: String,
    pub time: jiff::Timestamp,
    pub tenant: String,
    pub keep: bool,
    /// Why it is kept (`last`, `daily`, ...).
    pub reasons: Vec<&'static str>,
}

/// Decide which snapshots the policy keeps (newest first within each tenant).
pub fn apply_policy(snapshots: &[(String, Snapshot)], policy: &KeepPolicy) -> Result<Vec<ForgetDecision>> {
    if policy.is_empty() {
        return Err(Error::invalid_input(
            "forget needs at least one --keep-* rule (it never removes every snapshot by default)",
        ));
    }
    let mut by_tenant: BTreeMap<&str, Vec<&(String, Snapshot)>> = BTreeMap::new();
    for s in snapshots {
        by_tenant.entry(s.1.tenant.id.as_str()).or_default().push(s);
    }
    let mut out = Vec::new();
    for (tenant, mut list) in by_tenant {
        list.sort_by(|a, b| b.1.time.cmp(&a.1.time));
        let buckets: [(&'static str, usize, fn(&jiff::Timestamp) -> String); 5] = [
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
pub async fn forget(repo: &Repository, policy: &KeepPolicy, dry_run: bool) -> Result<Vec<ForgetDecision>> {
    let snapshots = repo.snapshots().await?;
    let decisions = apply_policy(&snapshots, policy)?;
    if !dry_run {
        for d in decisions.iter().filter(|d| !d.keep) {
            repo.store().delete(&snapshot_path(&d.id)?).await?;
        }
    }
    Ok(decisions)
}
