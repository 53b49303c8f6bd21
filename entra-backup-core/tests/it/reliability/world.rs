//! What the matrices share: a small simulated tenant, repositories on in-memory "disks" that can
//! be forked, the state of every snapshot to compare before and after, and the assertions that a
//! repository is whole and holds nothing prune would not keep.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use entra_backup::__private::RepositoryInternals;
use entra_backup::__private::index::Index;
use entra_backup::__private::tree::Entries;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, BackupReport, Progress};
use entra_backup::repo::backend::{Backend, Capabilities, Store};
use entra_backup::repo::check::{self, CheckOptions};
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::prune::{self, PruneOptions};
use entra_backup::repo::testing::{FaultyStore, Kill};
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use entra_backup_sim::{SimConfig, SimServer};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;

use entra_backup_test_support::sim_tenant::source;

/// An in-memory disk has the capabilities of a cloud store.
pub(super) const CAPS: Capabilities = Capabilities { conditional_update: true, create_if_absent: true };

/// Packs are cut this small so that a backup of a small tenant writes many of them.
pub(super) const PACK_SIZE: usize = 8 * 1024;

pub(super) const DATA_PW: &str = "data pw";
pub(super) const SECRETS_PW: &str = "secrets pw";

/// The categories backed up: directory objects, a secret-bearing one, delta and log categories.
pub(super) const CATEGORIES: &[&str] =
    &["users", "groups", "devices", "bitlockerRecoveryKeys", "applications", "namedLocations", "directoryAudits"];

pub(super) fn categories() -> Vec<&'static Category> {
    CATEGORIES.iter().map(|n| catalog::get(n).unwrap_or_else(|| panic!("no category {n}"))).collect()
}

pub(super) fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

/// Where a repository's bytes are: in memory, or in a local directory, where `object_store` first
/// writes each object to a staging file `<path>#<n>` and then links it into place.
pub(super) enum Disk {
    Memory(Arc<InMemory>),
    Local(tempfile::TempDir),
}

impl Disk {
    pub(super) fn memory() -> Disk {
        Disk::Memory(Arc::new(InMemory::new()))
    }

    pub(super) fn local() -> Disk {
        Disk::Local(tempfile::tempdir().unwrap())
    }

    fn object_store(&self) -> Arc<dyn ObjectStore> {
        match self {
            Disk::Memory(m) => m.clone(),
            // Without fsync: the matrices model a killed process, not a power cut.
            Disk::Local(dir) => {
                Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap().with_automatic_cleanup(true))
            }
        }
    }

    fn kind(&self) -> (Backend, Capabilities) {
        match self {
            Disk::Memory(_) => (Backend::Memory, CAPS),
            Disk::Local(_) => (Backend::Local, Capabilities { conditional_update: false, create_if_absent: true }),
        }
    }

    /// The store a process that just started sees.
    pub(super) fn store(&self) -> Store {
        let (backend, caps) = self.kind();
        let store = Store::from_object_store(self.object_store(), "", backend, caps).unwrap();
        match self {
            Disk::Local(dir) => store.with_local_root(dir.path()),
            Disk::Memory(_) => store,
        }
    }

    /// A store that dies at write `n`, and its counter.
    pub(super) fn faulty(&self, n: u64, kill: Kill) -> (FaultyStore, Store) {
        let (backend, caps) = self.kind();
        let faulty = FaultyStore::new(self.object_store()).kill_at(n, kill);
        let store = faulty.store(backend, caps);
        (faulty, store)
    }

    /// A copy, to run one case on.
    pub(super) fn fork(&self) -> Disk {
        match self {
            Disk::Memory(m) => Disk::Memory(Arc::new(m.fork())),
            Disk::Local(dir) => {
                let copy = tempfile::tempdir().unwrap();
                copy_dir(dir.path(), copy.path());
                Disk::Local(copy)
            }
        }
    }

    /// Every file really there, `/`-separated (on a local disk staging files too, which
    /// `object_store` does not list).
    pub(super) async fn files(&self) -> Vec<String> {
        let mut out = match self {
            Disk::Memory(_) => {
                self.store().list("").await.unwrap().into_iter().map(|m| m.location.to_string()).collect()
            }
            Disk::Local(dir) => {
                let mut out = Vec::new();
                walk(dir.path(), dir.path(), &mut out);
                out
            }
        };
        out.sort();
        out
    }

    /// Leave what a process killed in the middle of writing `path` leaves: on a local disk, its
    /// staging file, half written; in memory nothing (a put is atomic there). Returns the name left.
    pub(super) fn tear(&self, path: &str) -> Option<String> {
        let Disk::Local(dir) = self else { return None };
        let staged = format!("{path}#1");
        let file = dir.path().join(&staged);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, vec![0x5a; 1000]).unwrap();
        Some(staged)
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

pub(super) async fn start_sim(seed: u64) -> SimServer {
    SimServer::start(SimConfig { seed, users: 24, groups: 5, throttle: false, ..SimConfig::default() }).await.unwrap()
}

pub(super) async fn init(disk: &Disk) -> Repository {
    Repository::init(disk.store(), &pass(DATA_PW), Some(&pass(SECRETS_PW)), KdfParams::fast_for_tests()).await.unwrap()
}

pub(super) async fn open(store: Store) -> entra_backup::Result<Repository> {
    Repository::open(store, &pass(DATA_PW)).await
}

/// Back up [`CATEGORIES`] of `sim` into `repo`.
pub(super) async fn backup(sim: &SimServer, repo: &Repository, full: bool) -> entra_backup::Result<BackupReport> {
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let mut options = BackupOptions::new(sim.tenant_id());
    options.full = full;
    options.pack_size = PACK_SIZE;
    pipeline::backup(&src, repo, options, &Progress::new(&categories())).await
}

/// Every snapshot's trees, by snapshot id and category: what "the same objects" means (blob ids
/// are content ids, and check reads every blob).
pub(super) type State = BTreeMap<String, BTreeMap<String, Entries>>;

pub(super) async fn state(repo: &Repository) -> State {
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
    snapshot: &entra_backup::repo::snapshot::SnapshotFile,
) -> BTreeMap<String, Entries> {
    let mut out = BTreeMap::new();
    for (name, cs) in &snapshot.categories {
        let entries = repo.read_tree(index, &cs.tree).await.unwrap_or_else(|e| panic!("snapshot {id}: {name}: {e}"));
        out.insert(name.clone(), entries);
    }
    out
}

/// What a failed expectation says.
pub(super) type Outcome = Result<(), String>;

/// `check --read-data 100` finds nothing wrong; returns its warnings.
pub(super) async fn check_clean(repo: &Repository) -> Result<Vec<String>, String> {
    let report = check::check(repo, &CheckOptions { read_data_percent: 100.0 })
        .await
        .map_err(|e| format!("check failed: {e}"))?;
    if !report.ok() {
        return Err(format!("check found damage: {:?}", report.errors));
    }
    Ok(report.warnings)
}

/// The snapshots of `before` named in `keep` are all there, with the same objects.
pub(super) fn intact(before: &State, after: &State, keep: &BTreeSet<String>) -> Outcome {
    for id in keep {
        match after.get(id) {
            None => return Err(format!("snapshot {id} was lost")),
            Some(new) if *new != before[id] => return Err(format!("snapshot {id} changed")),
            Some(_) => {}
        }
    }
    Ok(())
}

/// A SIGKILLed process is gone; in this process the killed operation's prune lease (and any
/// take-over marker, which holds a lease too) names our own pid. Give them the pid of a process that
/// has exited, as the files a killed process leaves have.
pub(super) async fn lease_of_a_dead_process(store: &Store) {
    let mut child = std::process::Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().unwrap();
    for meta in store.list("locks").await.unwrap() {
        let path = meta.location.to_string();
        let Some(bytes) = store.get(&path).await.unwrap() else { continue };
        let Ok(mut lease) = serde_json::from_slice::<serde_json::Value>(&bytes) else { continue };
        if lease.get("pid").is_some() {
            lease["pid"] = pid.into();
            store.put(&path, serde_json::to_vec(&lease).unwrap().into()).await.unwrap();
        }
    }
}

/// Prune with a grace of 0 until it has nothing left to do (marked packs go on the next run).
pub(super) async fn prune_until_quiet(repo: &Repository) -> Outcome {
    let options = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    for _ in 0..4 {
        let plan = prune::prune(repo, &options).await.map_err(|e| format!("prune --grace 0: {e}"))?;
        if plan.repack.is_empty() && plan.mark.is_empty() && plan.delete.is_empty() && plan.delete_unindexed.is_empty()
        {
            return Ok(());
        }
    }
    Err("prune --grace 0 still finds work after four runs".into())
}

/// After prune, the repository holds only what it needs: its config and keys, tenants' pointers, readable snapshots,
/// the index files in use, and packs they index and no one marked; no leases, no staging files.
pub(super) async fn nothing_unreferenced(repo: &Repository, disk: &Disk) -> Outcome {
    let index = repo.load_index().await.unwrap();
    let files: BTreeSet<&str> = index.files().iter().map(String::as_str).collect();
    let snapshots: BTreeSet<String> = repo.snapshots().await.unwrap().into_iter().map(|(id, _)| id).collect();
    let mut unexpected = Vec::new();
    for path in disk.files().await {
        let parts: Vec<&str> = path.split('/').collect();
        let ok = match parts.as_slice() {
            ["config"] | ["keys", _] | ["secrets-keys", _] => true,
            // A tenant's latest-snapshot pointer (format version 2): a hint, verified before use.
            ["latest", key] => key.len() == 64,
            ["snapshots", id] => snapshots.contains(*id),
            ["index", id] => files.contains(id),
            ["data", two, id] => id.starts_with(two) && index.contains_pack(id) && index.marked(id).is_none(),
            _ => false,
        };
        if !ok {
            unexpected.push(path);
        }
    }
    if unexpected.is_empty() { Ok(()) } else { Err(format!("left after prune --grace 0: {unexpected:?}")) }
}
