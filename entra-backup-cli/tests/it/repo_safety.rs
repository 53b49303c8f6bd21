//! The repository survives what happens to backups in real life: a backup or a prune killed with
//! SIGKILL at any point, two backups at once, a prune while a backup runs, and damaged files.
//!
//! Every test works on local-folder repositories in temporary directories. "Intact" means that
//! every snapshot that existed before still exists under the same id and reads back (tree by tree,
//! object by object) exactly as before, and that `check` with `--read-data 100` finds no error
//! (warnings about packs no index names are expected after a kill: prune removes them).

use entra_backup_test_support as common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use entra_backup::__private::RepositoryInternals;
use entra_backup::ErrorKind;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, BackupReport, Progress};
use entra_backup::repo::backend::{self, Store};
use entra_backup::repo::check::{CheckOptions, CheckReport, check};
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::prune::{self, KeepPolicy, LEASE_PATH, PruneOptions};
use entra_backup::repo::snapshot::list_snapshot_ids;
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{SnapshotSource, SourceOptions};
use entra_backup_sim::{Rng, SimConfig, SimServer};
use futures::TryStreamExt;
use serde_json::json;

use common::sim_tenant::{assert_equal_to_ground_truth, source};

pub(super) const PASSWORD: &str = "repo-safety data passphrase";
pub(super) const SECRETS_PASSWORD: &str = "repo-safety secrets passphrase";

pub(super) fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

pub(super) fn store(dir: &Path) -> Store {
    backend::open(dir.to_str().expect("a UTF-8 temp path")).unwrap()
}

pub(super) async fn init_repo(dir: &Path) -> Repository {
    Repository::init(store(dir), &pass(PASSWORD), Some(&pass(SECRETS_PASSWORD)), KdfParams::fast_for_tests())
        .await
        .unwrap()
}

/// Open with a fresh store handle, as a new process would.
pub(super) async fn open_repo(dir: &Path) -> Repository {
    Repository::open(store(dir), &pass(PASSWORD)).await.unwrap_or_else(|e| panic!("opening {}: {e}", dir.display()))
}

pub(super) fn sim_config(seed: u64, users: usize, latency_ms: u64) -> SimConfig {
    SimConfig {
        seed,
        users,
        groups: users / 8,
        throttle: false,
        latency: Duration::from_millis(latency_ms),
        ..SimConfig::default()
    }
}

pub(super) fn all_categories() -> Vec<&'static Category> {
    catalog::all().iter().collect()
}

/// A few categories that need no paced Graph family: quick library backups for building history.
pub(super) fn quick_categories() -> Vec<&'static Category> {
    ["users", "groups", "devices", "applications", "servicePrincipals", "bitlockerRecoveryKeys"]
        .iter()
        .map(|n| catalog::get(n).unwrap())
        .collect()
}

pub(super) fn backup_options(sim: &SimServer, full: bool, pack_size: Option<usize>) -> BackupOptions {
    let mut options = BackupOptions::new(sim.tenant_id());
    options.full = full;
    if let Some(size) = pack_size {
        options.pack_size = size;
    }
    options
}

/// A backup through the library.
pub(super) async fn lib_backup(
    sim: &SimServer,
    repo: &Repository,
    cats: &[&'static Category],
    full: bool,
    pack_size: Option<usize>,
) -> BackupReport {
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let report = pipeline::backup(&src, repo, backup_options(sim, full, pack_size), &Progress::new(cats))
        .await
        .unwrap_or_else(|e| panic!("library backup: {e}"));
    assert!(report.summary.ok(), "{:#?}", report.summary);
    report
}

/// Change every `every`-th user, starting from a different one each round (an administrator at
/// work), so that the next backup has blobs to write and older blobs fall out of use unevenly.
pub(super) fn edit_users(sim: &SimServer, round: u64, every: usize) {
    edit_some_users(sim, round, round as usize % every.max(1), every);
}

/// Change users `offset`, `offset + every`, ... (their title says `round`).
pub(super) fn edit_some_users(sim: &SimServer, round: u64, offset: usize, every: usize) {
    let ids: Vec<String> = sim.tenant().objects("users").map(|o| o.id().to_string()).collect();
    let mut t = sim.tenant_mut();
    for id in ids.iter().skip(offset).step_by(every.max(1)) {
        let changes = json!({"jobTitle": format!("title of round {round}"), "department": format!("dept {round}")});
        t.patch("users", id, changes.as_object().unwrap()).unwrap();
    }
}

/// What a snapshot holds, read back through the repository: per category, per object id, the
/// BLAKE3 of the object's JSON as read from its blob (and the tree's root id).
type Contents = BTreeMap<String, (String, BTreeMap<String, String>)>;

pub(super) async fn contents(repo: &Repository, id: &str) -> Contents {
    contents_cached(repo, id, &mut HashMap::new()).await
}

/// [`contents`], reading each tree once per `cache` (snapshots share the trees of unchanged categories).
pub(super) async fn contents_cached(
    repo: &Repository,
    id: &str,
    cache: &mut HashMap<String, BTreeMap<String, String>>,
) -> Contents {
    let src = SnapshotSource::open(repo.clone(), id, false).await.unwrap_or_else(|e| panic!("snapshot {id}: {e}"));
    let mut out = Contents::new();
    for (name, cs) in &src.file().categories {
        if !cache.contains_key(&cs.tree) {
            let cat =
                entra_backup::catalog::get(name).unwrap_or_else(|| panic!("snapshot {id}: {name} is no category"));
            let ids = src.ids(cat).await.unwrap_or_else(|e| panic!("snapshot {id}: {name}'s tree: {e}"));
            assert_eq!(ids.len() as u64, cs.objects, "snapshot {id}: {name}: tree size");
            let objects: Vec<_> =
                src.objects(cat).try_collect().await.unwrap_or_else(|e| panic!("snapshot {id}: {name}'s objects: {e}"));
            let digests = objects
                .into_iter()
                .map(|(oid, json)| (oid, blake3::hash(&serde_json::to_vec(&json).unwrap()).to_hex().to_string()))
                .collect();
            cache.insert(cs.tree.clone(), digests);
        }
        out.insert(name.clone(), (cs.tree.clone(), cache[&cs.tree].clone()));
    }
    out
}

pub(super) async fn snapshot_ids(repo: &Repository) -> BTreeSet<String> {
    list_snapshot_ids(repo.store()).await.unwrap().into_iter().collect()
}

/// Every snapshot in `known` still exists and reads back as it did.
pub(super) async fn assert_intact(repo: &Repository, known: &BTreeMap<String, Contents>, when: &str) {
    let now = snapshot_ids(repo).await;
    let mut cache = HashMap::new();
    for (id, before) in known {
        assert!(now.contains(id), "{when}: snapshot {id} is gone");
        let after = contents_cached(repo, id, &mut cache).await;
        assert!(after == *before, "{when}: snapshot {id} reads back differently");
    }
}

/// `check --read-data 100`: no errors (warnings allowed).
pub(super) async fn assert_check_clean(repo: &Repository, when: &str) -> CheckReport {
    let report = check(repo, &CheckOptions { read_data_percent: 100.0 })
        .await
        .unwrap_or_else(|e| panic!("{when}: check failed to run: {e}"));
    assert!(report.ok(), "{when}: check found errors: {:#?}", report.errors);
    assert_eq!(report.packs_read, report.packs, "{when}: every pack read");
    report
}

/// Export a snapshot (with secrets) and compare it with the tenant as it is now.
pub(super) async fn assert_snapshot_is_tenant(sim: &SimServer, repo: &Repository, snapshot: &str) {
    let mut repo = repo.clone();
    repo.unlock_secrets(&pass(SECRETS_PASSWORD)).await.unwrap();
    let src = SnapshotSource::open(repo, snapshot, true).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = pipeline::export(&src, dir.path(), &Progress::new(&src.categories())).await.unwrap();
    assert!(summary.ok(), "{summary:#?}");
    assert_equal_to_ground_truth(sim, dir.path(), true);
}

/// The packs on storage (ids).
pub(super) fn stored_packs(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(shards) = std::fs::read_dir(dir.join("data")) else { return out };
    for shard in shards {
        for f in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            if name.len() == 64 {
                out.insert(name);
            }
        }
    }
    out
}

/// The packs holding the blobs a snapshot reaches (tree nodes, objects, secrets).
pub(super) async fn packs_needed(repo: &Repository, snapshot: &str) -> BTreeSet<String> {
    let index = repo.load_index().await.unwrap();
    let (_, snap) = repo.find_snapshot(snapshot).await.unwrap();
    let mut packs = BTreeSet::new();
    for cs in snap.categories.values() {
        let (nodes, entries) = repo.tree_node_ids(&index, &cs.tree).await.unwrap();
        let blobs =
            nodes.into_iter().chain(entries.into_values().flat_map(|e| std::iter::once(e.blob).chain(e.secret)));
        for blob in blobs {
            let (pack, _) = index.lookup(&blob).unwrap_or_else(|| panic!("blob {blob} of {snapshot} in no index"));
            packs.insert(pack.to_string());
        }
    }
    packs
}

pub(super) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command-line tool as a child process.

/// The tool with the repository's passphrases (and, for a backup, the simulated tenant's
/// credentials) in its environment.
pub(super) fn cli(sim: Option<&SimServer>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_entra-backup"));
    c.env("ENTRA_BACKUP_PASSWORD", PASSWORD)
        .env("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSWORD)
        .env_remove("ENTRA_BACKUP_REPOSITORY")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .stdin(Stdio::null());
    if let Some(sim) = sim {
        c.env("AZURE_TENANT_ID", sim.tenant_id())
            .env("AZURE_CLIENT_ID", "repo-safety")
            .env("AZURE_CLIENT_SECRET", "any secret");
    }
    c
}

pub(super) fn backup_cmd(repo: &Path, sim: &SimServer, full: bool) -> Command {
    let mut c = cli(Some(sim));
    c.args(["backup", "--json", "--repo"]).arg(repo).args(["--graph-url", sim.url(), "--authority-url", sim.url()]);
    if full {
        c.arg("--full");
    }
    c
}

pub(super) fn prune_cmd(repo: &Path, grace: &str) -> Command {
    let mut c = cli(None);
    c.args(["prune", "--json", "--grace", grace, "--repo"]).arg(repo);
    c
}

/// Start `cmd` with its output in `logs/<name>.out` and `.err`.
pub(super) fn spawn(mut cmd: Command, logs: &Path, name: &str) -> Child {
    let out = std::fs::File::create(logs.join(format!("{name}.out"))).unwrap();
    let err = std::fs::File::create(logs.join(format!("{name}.err"))).unwrap();
    cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err)).spawn().unwrap()
}

pub(super) fn output(logs: &Path, name: &str) -> (String, String) {
    let read = |ext: &str| std::fs::read_to_string(logs.join(format!("{name}.{ext}"))).unwrap_or_default();
    (read("out"), read("err"))
}

/// Wait for a child without blocking the runtime (the simulated tenant is served on it).
pub(super) async fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child {} still running after {limit:?}", child.id());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Run `cmd` to its end; panics with its output unless it succeeds. Returns its stdout.
pub(super) async fn run_ok(cmd: Command, logs: &Path, name: &str) -> String {
    let mut child = spawn(cmd, logs, name);
    let status = wait(&mut child, Duration::from_secs(60)).await;
    let (out, err) = output(logs, name);
    assert!(status.success(), "{name}: {status}\nstdout: {out}\nstderr: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    out
}

/// Start `cmd`, SIGKILL it after `delay` unless it ended first. `true` if it was killed.
pub(super) async fn run_and_kill(cmd: Command, logs: &Path, name: &str, delay: Duration) -> bool {
    let mut child = spawn(cmd, logs, name);
    tokio::time::sleep(delay).await;
    match child.try_wait().unwrap() {
        Some(status) => {
            let (out, err) = output(logs, name);
            assert!(status.success(), "{name} ended on its own, badly: {status}\nstdout: {out}\nstderr: {err}");
            false
        }
        None => {
            child.kill().unwrap(); // SIGKILL
            let status = child.wait().unwrap();
            assert!(!status.success());
            true
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL during backup.

/// Kills per test.
const ROUNDS: u64 = 8;

/// When to kill in round `round`: a random point in the round's share of `[0, run]` (stratified,
/// so that the points cover the whole run, its start and its end included).
fn kill_point(rng: &mut Rng, round: u64, run: Duration) -> Duration {
    let slot = 1.0 / ROUNDS as f64;
    run.mul_f64(slot * (round as f64 + rng.unit()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_backup_at_random_points_leaves_every_snapshot_intact() {
    // About 95 Graph requests, paced by the client and slowed by the simulator: a full backup takes 2-3 s.
    let sim = SimServer::start(sim_config(21, 300, 180)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (dir, logs) = (work.path().join("repo"), work.path().to_path_buf());
    let repo = init_repo(&dir).await;

    // One good snapshot first; its duration spreads the kill points over a whole run.
    let started = Instant::now();
    run_ok(backup_cmd(&dir, &sim, false), &logs, "first").await;
    let full_run = started.elapsed();
    let mut known = BTreeMap::new();
    for id in snapshot_ids(&repo).await {
        known.insert(id.clone(), contents(&repo, &id).await);
    }
    assert_eq!(known.len(), 1);
    assert_check_clean(&repo, "after the first backup").await;

    let mut rng = Rng::new(0x5AFE_0001);
    let mut killed = 0;
    for round in 0..ROUNDS {
        edit_users(&sim, round, 7);
        let delay = kill_point(&mut rng, round, full_run);
        let name = format!("backup-{round}");
        let was_killed = run_and_kill(backup_cmd(&dir, &sim, true), &logs, &name, delay).await;
        killed += u64::from(was_killed);
        let repo = open_repo(&dir).await;
        let when = format!("round {round} (killed after {delay:?}: {was_killed})");
        assert_intact(&repo, &known, &when).await;
        assert_check_clean(&repo, &when).await;
        // A run that got as far as its snapshot (or ended) left a complete one: keep it too.
        for id in snapshot_ids(&repo).await {
            if !known.contains_key(&id) {
                known.insert(id.clone(), contents(&repo, &id).await);
            }
        }
    }
    assert!(killed >= ROUNDS / 2, "only {killed} of {ROUNDS} runs were killed: the kill points miss the run");

    // One more backup, incremental from whatever the repository holds now, completes and is valid.
    edit_users(&sim, 99, 5);
    run_ok(backup_cmd(&dir, &sim, false), &logs, "last").await;
    let repo = open_repo(&dir).await;
    assert_intact(&repo, &known, "after the last backup").await;
    let new: Vec<String> = snapshot_ids(&repo).await.into_iter().filter(|id| !known.contains_key(id)).collect();
    assert_eq!(new.len(), 1, "the last backup wrote one snapshot");
    assert_check_clean(&repo, "after the last backup").await;
    assert_snapshot_is_tenant(&sim, &repo, &new[0]).await;
}

// ---------------------------------------------------------------------------------------------
// 2. SIGKILL during prune.

/// Packs check warns are in no index.
fn unindexed(report: &CheckReport) -> BTreeSet<String> {
    report
        .warnings
        .iter()
        .filter(|w| w.contains("in no index"))
        .map(|w| w.split(':').next().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

/// Pack size for building history: small, so that prune has many packs to work on.
pub(super) const SMALL_PACKS: usize = 4 * 1024;

/// The repository after a killed prune: the snapshots kept are intact and check is clean; then
/// the next prunes complete, remove what the killed one left behind, and a backup completes.
async fn assert_recovers_after_killed_prune(
    sim: &SimServer,
    dir: &Path,
    known: &BTreeMap<String, Contents>,
    when: &str,
) -> bool {
    let repo = open_repo(dir).await;
    assert_eq!(snapshot_ids(&repo).await, known.keys().cloned().collect(), "{when}: the snapshots kept");
    assert_intact(&repo, known, when).await;
    let left_behind = unindexed(&assert_check_clean(&repo, when).await);
    let lease_left = repo.store().head(LEASE_PATH).await.unwrap().is_some();
    // A prune killed while it held the lease leaves it behind; its process is gone on this
    // machine, so the next prune takes the lease over instead of waiting out its 6 hours.
    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    for i in 0..2 {
        prune::prune(&repo, &zero).await.unwrap_or_else(|e| panic!("{when}: prune {i} after the kill: {e}"));
    }
    assert_intact(&repo, known, when).await;
    assert_check_clean(&repo, when).await;
    let stored = stored_packs(dir);
    let still: Vec<_> = left_behind.iter().filter(|p| stored.contains(*p)).collect();
    assert!(still.is_empty(), "{when}: packs the killed prune left unindexed are still there: {still:?}");
    let after = lib_backup(sim, &repo, &quick_categories(), false, Some(SMALL_PACKS)).await;
    assert_check_clean(&repo, when).await;
    contents(&repo, &after.snapshot_id).await;
    lease_left
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_prune_at_random_points_leaves_every_kept_snapshot_intact() {
    let work_started = Instant::now();
    let sim = SimServer::start(sim_config(31, 300, 0)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let logs = work.path();
    // History: six backups in small packs, a third of the users changed before each but the first
    // (never the same third: the first third never changes); then all but the last two snapshots
    // forgotten, so that many packs are unused and some mostly unused.
    let unpruned = work.path().join("unpruned");
    let repo = init_repo(&unpruned).await;
    for round in 0..6u64 {
        if round > 0 {
            edit_some_users(&sim, round, 1 + round as usize % 2, 3);
        }
        lib_backup(&sim, &repo, &quick_categories(), round == 0, Some(SMALL_PACKS)).await;
    }
    let decisions = prune::forget(&repo, &KeepPolicy { last: 2, ..KeepPolicy::default() }, false).await.unwrap();
    assert_eq!(decisions.iter().filter(|d| !d.keep).count(), 4);
    let mut known = BTreeMap::new();
    for id in snapshot_ids(&repo).await {
        known.insert(id.clone(), contents(&repo, &id).await);
    }
    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    let plan = prune::plan(&repo, &zero).await.unwrap();
    let counts = |p: &prune::PrunePlan| {
        [p.keep.len(), p.repack.len(), p.mark.len(), p.delete.len(), p.delete_unindexed.len(), p.waiting.len()]
    };
    eprintln!("plan keep/repack/mark/delete/unindexed/waiting: {:?}", counts(&plan));
    assert!(plan.mark.len() >= 5 && !plan.repack.is_empty(), "prune has work: {:?}", counts(&plan));
    // The same after one prune with --grace 0: marked packs, deleted by the next prune.
    let marked = work.path().join("marked");
    copy_dir(&unpruned, &marked);
    prune::prune(&open_repo(&marked).await, &zero).await.unwrap();
    let plan = prune::plan(&open_repo(&marked).await, &zero).await.unwrap();
    eprintln!("plan keep/repack/mark/delete/unindexed/waiting: {:?}", counts(&plan));
    assert!(plan.delete.len() >= 5, "the next prune deletes: {:?}", counts(&plan));

    // How long a whole `prune --grace 0` takes from each state (the quicker of two runs).
    let mut runs = Vec::new();
    for (i, base) in [&unpruned, &marked].into_iter().enumerate() {
        let mut quickest = Duration::MAX;
        for j in 0..2 {
            let copy = work.path().join(format!("calibrate-{i}-{j}"));
            copy_dir(base, &copy);
            let started = Instant::now();
            run_ok(prune_cmd(&copy, "0"), logs, &format!("calibrate-{i}-{j}")).await;
            quickest = quickest.min(started.elapsed());
            assert_intact(&open_repo(&copy).await, &known, "after a whole prune").await;
        }
        runs.push(quickest);
    }

    eprintln!("a whole prune takes {runs:?}; history built in {:?}", work_started.elapsed());
    let mut rng = Rng::new(0x5AFE_0002);
    let (mut killed, mut leases) = (0, 0);
    for round in 0..ROUNDS {
        // Even rounds: the prune marks and repacks; odd rounds: it deletes.
        let i = (round % 2) as usize;
        let dir = work.path().join(format!("round-{round}"));
        copy_dir([&unpruned, &marked][i], &dir);
        let delay = kill_point(&mut rng, round, runs[i]);
        let was_killed = run_and_kill(prune_cmd(&dir, "0"), logs, &format!("prune-{round}"), delay).await;
        killed += u64::from(was_killed);
        let when = format!("prune round {round} (killed after {delay:?} of {:?}: {was_killed})", runs[i]);
        leases += usize::from(assert_recovers_after_killed_prune(&sim, &dir, &known, &when).await);
    }
    assert!(killed >= ROUNDS / 2, "only {killed} of {ROUNDS} prunes were killed: the kill points miss the run");
    eprintln!("{killed} prunes killed, {leases} left their lease behind");
}

// ---------------------------------------------------------------------------------------------
// The prune lease on a local folder.

/// A local folder whose deletes take `delay` longer: a process that is a little behind another.
#[derive(Debug)]
struct SlowDeletes {
    inner: object_store::local::LocalFileSystem,
    delay: Duration,
}

impl std::fmt::Display for SlowDeletes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlowDeletes({})", self.inner)
    }
}

#[async_trait::async_trait]
impl object_store::ObjectStore for SlowDeletes {
    async fn put_opts(
        &self,
        location: &object_store::path::Path,
        payload: object_store::PutPayload,
        opts: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &object_store::path::Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &object_store::path::Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>> {
        use futures::StreamExt;
        let delay = self.delay;
        self.inner.delete_stream(
            locations
                .then(move |l| async move {
                    tokio::time::sleep(delay).await;
                    l
                })
                .boxed(),
        )
    }

    fn list(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<backend::ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &object_store::path::Path,
        to: &object_store::path::Path,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

fn slow_deletes(dir: &Path, delay: Duration) -> Store {
    let inner = object_store::local::LocalFileSystem::new_with_prefix(dir).unwrap().with_automatic_cleanup(true);
    let caps = backend::Capabilities { conditional_update: false, create_if_absent: true };
    let slow = std::sync::Arc::new(SlowDeletes { inner, delay });
    Store::from_object_store(slow, "", backend::Backend::Local, caps).unwrap()
}

/// A lease left by a killed prune expires after 6 hours; then the next prune takes it over. On a
/// local folder (no compare-and-swap) the takeover is "delete, then create exclusively": two prunes
/// starting together must still end with one holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_taken_over_by_one_prune_only() {
    let work = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(work.path()).unwrap();
    let repo = init_repo(&dir).await;
    // What a prune killed more than 6 hours ago leaves behind.
    let dead = json!({"holder": "0123456789abcdef", "host": "gone", "pid": 1,
                      "since": "2020-01-01T00:00:00Z", "expires": "2020-01-01T06:00:00Z"});
    repo.store().put(LEASE_PATH, serde_json::to_vec(&dead).unwrap().into()).await.unwrap();
    // Two prunes start together; one of them is a little slower (its storage answers later).
    let behind = Repository::open(slow_deletes(&dir, Duration::from_millis(300)), &pass(PASSWORD)).await.unwrap();
    let slow = tokio::spawn(async move { prune::acquire_lease(&behind).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fast = prune::acquire_lease(&repo).await.map(|_| ());
    let slow = slow.await.unwrap();
    let holder = repo.store().get(LEASE_PATH).await.unwrap().map(|b| String::from_utf8_lossy(&b).into_owned());
    assert!(
        fast.is_err() || slow.is_err(),
        "both prunes took the expired lease (and would run at once): the slower one deleted the lease the faster \
         one had just taken, then created its own; lease now: {holder:?}"
    );
    let err = fast.err().or(slow.err()).unwrap();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
}

// ---------------------------------------------------------------------------------------------
// 3. Two backups at once.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backups_at_once_both_commit_valid_snapshots() {
    let sim = SimServer::start(sim_config(41, 200, 40)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (dir, logs) = (work.path().join("repo"), work.path().to_path_buf());
    let repo = init_repo(&dir).await;
    let first = lib_backup(&sim, &repo, &all_categories(), false, None).await;
    let mut known = BTreeMap::new();
    known.insert(first.snapshot_id.clone(), contents(&repo, &first.snapshot_id).await);

    // Two processes, both incremental from the same parent, both writing the same new blobs.
    edit_users(&sim, 1, 4);
    let mut a = spawn(backup_cmd(&dir, &sim, false), &logs, "a");
    let mut b = spawn(backup_cmd(&dir, &sim, false), &logs, "b");
    let (sa, sb) = (wait(&mut a, Duration::from_secs(60)).await, wait(&mut b, Duration::from_secs(60)).await);
    for (name, status) in [("a", sa), ("b", sb)] {
        let (out, err) = output(&logs, name);
        assert!(status.success(), "backup {name}: {status}\n{out}\n{err}");
    }
    let ids: BTreeSet<String> = ["a", "b"]
        .iter()
        .map(|n| serde_json::from_str::<serde_json::Value>(&output(&logs, n).0).unwrap())
        .map(|r| {
            assert_eq!(r["snapshot"]["parent"], json!(first.snapshot_id));
            r["snapshotId"].as_str().unwrap().to_string()
        })
        .collect();
    let repo = open_repo(&dir).await;
    assert_eq!(ids.len(), 2, "two snapshots");
    assert_eq!(snapshot_ids(&repo).await, known.keys().chain(&ids).cloned().collect());
    assert_intact(&repo, &known, "after two concurrent backups").await;
    assert_check_clean(&repo, "after two concurrent backups").await;
    for id in &ids {
        assert_snapshot_is_tenant(&sim, &repo, id).await;
        known.insert(id.clone(), contents(&repo, id).await);
    }

    // Two library backups in one process, writing packs while they run.
    edit_users(&sim, 2, 3);
    let cats = all_categories();
    let (x, y) = tokio::join!(
        lib_backup(&sim, &repo, &cats, false, Some(SMALL_PACKS)),
        lib_backup(&sim, &repo, &cats, true, Some(SMALL_PACKS))
    );
    assert_ne!(x.snapshot_id, y.snapshot_id);
    assert_check_clean(&repo, "after two concurrent library backups").await;
    for id in [&x.snapshot_id, &y.snapshot_id] {
        assert_snapshot_is_tenant(&sim, &repo, id).await;
        known.insert(id.clone(), contents(&repo, id).await);
    }

    // Prune copes with the same blobs in several packs: nothing any snapshot needs goes away.
    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    for i in 0..2 {
        prune::prune(&repo, &zero).await.unwrap();
        assert_intact(&repo, &known, &format!("after prune {i}")).await;
        assert_check_clean(&repo, &format!("after prune {i}")).await;
    }
}
