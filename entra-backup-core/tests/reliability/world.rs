//! What the matrices share: a small simulated tenant, repositories on in-memory "disks" that can
//! be forked, the state of every snapshot to compare before and after, and the assertions that a
//! repository is whole and holds nothing prune would not keep.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use entra_backup::catalog::{self, Category};
use entra_backup::graph::auth::Secret;
use entra_backup::pipeline::{self, BackupReport, Progress};
use entra_backup::repo::backend::{Backend, Capabilities, Store};
use entra_backup::repo::check::{self, CheckOptions};
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::index::Index;
use entra_backup::repo::prune::{self, PruneOptions};
use entra_backup::repo::tree::Entries;
use entra_backup::repo::{Access, Repository};
use entra_backup::sim::{SimConfig, SimServer};
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use object_store::memory::InMemory;

use crate::common::sim_tenant::source;

/// The disks of the matrices: in memory, with the capabilities of a cloud store.
pub const CAPS: Capabilities = Capabilities { conditional_update: true, create_if_absent: true };

/// Packs are cut this small so that a backup of a small tenant writes many of them.
pub const PACK_SIZE: usize = 8 * 1024;

pub const DATA_PW: &str = "data pw";
pub const SECRETS_PW: &str = "secrets pw";

/// The categories backed up: directory objects, a secret-bearing one, delta and log categories.
pub const CATEGORIES: &[&str] =
    &["users", "groups", "devices", "bitlockerRecoveryKeys", "applications", "namedLocations", "directoryAudits"];

pub fn categories() -> Vec<&'static Category> {
    CATEGORIES.iter().map(|n| catalog::get(n).unwrap_or_else(|| panic!("no category {n}"))).collect()
}

pub fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

/// A store over a disk, as a process that just started sees it.
pub fn store(disk: &Arc<InMemory>) -> Store {
    Store::from_object_store(disk.clone(), "", Backend::Memory, CAPS).unwrap()
}

/// A copy of a disk, to run one case on.
pub fn fork(disk: &Arc<InMemory>) -> Arc<InMemory> {
    Arc::new(disk.fork())
}

pub async fn start_sim(seed: u64) -> SimServer {
    SimServer::start(SimConfig { seed, users: 24, groups: 5, throttle: false, ..SimConfig::default() }).await.unwrap()
}

pub async fn init(disk: &Arc<InMemory>) -> Repository {
    Repository::init(store(disk), &pass(DATA_PW), Some(&pass(SECRETS_PW)), KdfParams::fast_for_tests()).await.unwrap()
}

pub async fn open(store: Store) -> entra_backup::Result<Repository> {
    Repository::open(store, &pass(DATA_PW)).await
}

/// Back up [`CATEGORIES`] of `sim` into `repo`.
pub async fn backup(sim: &SimServer, repo: &Repository, full: bool) -> entra_backup::Result<BackupReport> {
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let mut options = BackupOptions::new(sim.tenant_id());
    options.full = full;
    options.pack_size = PACK_SIZE;
    pipeline::backup(&src, repo, options, &Progress::new(&categories())).await
}

/// Every snapshot's trees, by snapshot id and category: what "the same objects" means (blob ids
/// are content ids, and check reads every blob).
pub type State = BTreeMap<String, BTreeMap<String, Entries>>;

pub async fn state(repo: &Repository) -> State {
    let index = repo.load_index().await.expect("the index loads");
    let mut out = State::new();
    for (id, snapshot) in repo.snapshots().await.expect("the snapshots read") {
        out.insert(id.clone(), trees(repo, &index, &id, &snapshot).await);
    }
    out
}

async fn trees(
    repo: &Repository,
    index: &Index,
    id: &str,
    snapshot: &entra_backup::repo::snapshot::Snapshot,
) -> BTreeMap<String, Entries> {
    let mut out = BTreeMap::new();
    for (name, cs) in &snapshot.categories {
        let entries = repo.read_tree(index, &cs.tree).await.unwrap_or_else(|e| panic!("snapshot {id}: {name}: {e}"));
        out.insert(name.clone(), entries);
    }
    out
}

/// `check --read-data 100` finds nothing wrong.
pub async fn assert_check_clean(repo: &Repository, case: &str) {
    let report = check::check(repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap_or_else(|e| {
        panic!("{case}: check failed: {e}");
    });
    assert!(report.ok(), "{case}: check found damage: {:#?}", report.errors);
}

/// The snapshots of `before` named in `keep` are all there, with the same objects.
pub fn assert_intact(before: &State, after: &State, keep: &BTreeSet<String>, case: &str) {
    for id in keep {
        let old = &before[id];
        let Some(new) = after.get(id) else { panic!("{case}: snapshot {id} was lost") };
        assert!(old == new, "{case}: snapshot {id} changed");
    }
}

/// A SIGKILLed process is gone; in this process the killed operation's prune lease names our own
/// pid. Give it the pid of a process that has exited, as a lease left by a killed process has.
pub async fn lease_of_a_dead_process(store: &Store) {
    let Some(bytes) = store.get(prune::LEASE_PATH).await.unwrap() else { return };
    let Ok(mut lease) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return };
    let mut child = std::process::Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().unwrap();
    lease["pid"] = pid.into();
    store.put(prune::LEASE_PATH, serde_json::to_vec(&lease).unwrap().into()).await.unwrap();
}

/// Prune with a grace of 0 until it has nothing left to do (marked packs go on the next run).
pub async fn prune_until_quiet(repo: &Repository, case: &str) {
    let options = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    for _ in 0..4 {
        let plan = prune::prune(repo, &options).await.unwrap_or_else(|e| panic!("{case}: prune --grace 0: {e}"));
        if plan.repack.is_empty() && plan.mark.is_empty() && plan.delete.is_empty() && plan.delete_unindexed.is_empty()
        {
            return;
        }
    }
    panic!("{case}: prune --grace 0 still finds work after four runs");
}

/// After prune, the repository holds only what it needs: its config and keys, readable snapshots,
/// the index files in use, and packs they index and no one marked; no leases, no staging files.
pub async fn assert_nothing_unreferenced(repo: &Repository, case: &str) {
    let store = repo.store();
    let index = repo.load_index().await.unwrap();
    let files: BTreeSet<&str> = index.files().iter().map(String::as_str).collect();
    let snapshots: BTreeSet<String> = repo.snapshots().await.unwrap().into_iter().map(|(id, _)| id).collect();
    let mut unexpected = Vec::new();
    for meta in store.list("").await.unwrap() {
        let path = meta.location.to_string();
        let parts: Vec<&str> = path.split('/').collect();
        let ok = match parts.as_slice() {
            ["config"] | ["keys", _] | ["secrets-keys", _] => true,
            ["snapshots", id] => snapshots.contains(*id),
            ["index", id] => files.contains(id),
            ["data", two, id] => id.starts_with(two) && index.contains_pack(id) && index.marked(id).is_none(),
            _ => false,
        };
        if !ok {
            unexpected.push(path);
        }
    }
    assert!(unexpected.is_empty(), "{case}: left after prune --grace 0: {unexpected:?}");
}
