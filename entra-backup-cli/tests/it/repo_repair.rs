//! A damaged repository stays usable and says what is wrong: unreadable snapshot files are listed
//! apart and passed over by backups, `forget` removes snapshots by id, `repair` sets aside what
//! cannot be read and rebuilds the index from the packs; `init` never writes keys beside old
//! data; staging files of killed writes are reported and pruned; oversized files are refused
//! before they are read; `check` compares pack headers with the index.

use entra_backup_test_support as common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use entra_backup::__private::RepositoryInternals;
use entra_backup::__private::index::{IndexFile, MAX_INDEX_FILE, list_index_ids};
use entra_backup::__private::pack::{PackInfo, header_of, pack_path, read_header};
use entra_backup::ErrorKind;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, BackupReport, Progress};
use entra_backup::repo::backend::{self, Store};
use entra_backup::repo::check::{CheckOptions, CheckReport, check};
use entra_backup::repo::crypto::{Cipher, KdfParams};
use entra_backup::repo::prune::{self, PruneOptions};
use entra_backup::repo::repair;
use entra_backup::repo::snapshot::{MAX_SNAPSHOT_FILE, SnapshotProblem, list_snapshot_ids};
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use entra_backup_sim::{SimConfig, SimServer};

use common::sim_tenant::source;

const PASSWORD: &str = "repo-repair data passphrase";
const SECRETS_PASSWORD: &str = "repo-repair secrets passphrase";

fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

fn store(dir: &Path) -> Store {
    backend::open(dir.to_str().expect("a UTF-8 temp path")).unwrap()
}

async fn init_repo(dir: &Path) -> Repository {
    Repository::init(store(dir), &pass(PASSWORD), Some(&pass(SECRETS_PASSWORD)), KdfParams::fast_for_tests())
        .await
        .unwrap()
}

async fn open_repo(dir: &Path) -> Repository {
    Repository::open(store(dir), &pass(PASSWORD)).await.unwrap()
}

async fn sim(seed: u64) -> SimServer {
    let config = SimConfig { seed, users: 24, groups: 4, throttle: false, ..SimConfig::default() };
    SimServer::start(config).await.unwrap()
}

fn categories() -> Vec<&'static Category> {
    ["users", "groups", "devices"].iter().map(|n| catalog::get(n).unwrap()).collect()
}

async fn backup(sim: &SimServer, repo: &Repository) -> BackupReport {
    let src = source(sim, "any", SourceOptions::default());
    let report = pipeline::backup(&src, repo, BackupOptions::new(sim.tenant_id()), &Progress::new(&categories()))
        .await
        .unwrap_or_else(|e| panic!("backup: {e}"));
    assert!(report.summary.ok(), "{:#?}", report.summary);
    report
}

/// Change one user, so that the next backup writes something new.
fn edit(sim: &SimServer, round: u32) {
    let id = sim.tenant().objects("users").next().unwrap().id().to_string();
    let patch = serde_json::json!({"jobTitle": format!("round {round}")});
    sim.tenant_mut().patch("users", &id, patch.as_object().unwrap()).unwrap();
}

/// A repository with `n` snapshots of one tenant; returns their ids, oldest first.
async fn history(sim: &SimServer, dir: &Path, n: u32) -> Vec<String> {
    let repo = init_repo(dir).await;
    let mut ids = Vec::new();
    for round in 0..n {
        edit(sim, round);
        ids.push(backup(sim, &repo).await.snapshot_id);
    }
    ids
}

fn flip(file: &Path, at: usize) {
    let mut bytes = std::fs::read(file).unwrap();
    let at = at.min(bytes.len() - 1);
    bytes[at] ^= 0x40;
    std::fs::write(file, bytes).unwrap();
}

fn files_under(root: &Path, sub: &str) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                into.insert(path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, &root.join(sub), &mut out);
    out
}

/// Every file and its bytes.
fn fingerprint(root: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(root, "").into_iter().map(|f| (f.clone(), std::fs::read(root.join(&f)).unwrap())).collect()
}

async fn check_all(repo: &Repository) -> CheckReport {
    check(repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_snapshot_is_listed_apart_and_a_backup_still_runs_from_a_readable_parent() {
    let sim = sim(201).await;
    let dir = tempfile::tempdir().unwrap();
    let ids = history(&sim, dir.path(), 3).await;
    // The newest emptied, the middle one with a flipped byte.
    std::fs::write(dir.path().join("snapshots").join(&ids[2]), b"").unwrap();
    flip(&dir.path().join("snapshots").join(&ids[1]), 40);

    let repo = open_repo(dir.path()).await;
    let list = repo.snapshot_list().await.unwrap();
    assert_eq!(list.snapshots.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), vec![ids[0].clone()]);
    let mut bad: Vec<(String, SnapshotProblem)> = list.unreadable.iter().map(|b| (b.id.clone(), b.problem)).collect();
    bad.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![(ids[1].clone(), SnapshotProblem::Damaged), (ids[2].clone(), SnapshotProblem::Empty)];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(bad, want);
    // Whoever needs every snapshot is told which file is bad and what to do.
    let err = repo.snapshots().await.unwrap_err();
    assert!(err.to_string().contains("repair snapshots"), "{err}");

    // A backup still runs, from the newest readable snapshot, and names the ones it passed over.
    edit(&sim, 9);
    let report = backup(&sim, &repo).await;
    assert_eq!(report.snapshot.parent.as_deref(), Some(ids[0].as_str()));
    let skipped: BTreeSet<String> = report.skipped_snapshots.iter().map(|b| b.id.clone()).collect();
    assert_eq!(skipped, BTreeSet::from([ids[1].clone(), ids[2].clone()]));

    // A policy forget decides on the readable ones and leaves the unreadable files alone.
    let decisions = prune::forget(&repo, &prune::KeepPolicy { last: 1, ..Default::default() }, true).await.unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(list_snapshot_ids(repo.store()).await.unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_by_id_and_repair_snapshots_remove_damaged_snapshots_and_keep_their_bytes() {
    let sim = sim(202).await;
    let dir = tempfile::tempdir().unwrap();
    let ids = history(&sim, dir.path(), 3).await;
    let root = dir.path();
    std::fs::write(root.join("snapshots").join(&ids[2]), b"").unwrap();
    flip(&root.join("snapshots").join(&ids[1]), 40);
    let damaged = std::fs::read(root.join("snapshots").join(&ids[1])).unwrap();
    let repo = open_repo(root).await;

    // forget by a prefix works on a damaged snapshot; a name that matches nothing changes nothing.
    let before = fingerprint(root);
    let err = prune::forget_snapshots(&repo, &[ids[2][..8].to_string(), "ffffffff0".into()], false).await;
    assert!(err.is_err_and(|e| e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::InvalidInput));
    assert_eq!(fingerprint(root), before, "a failed forget removes nothing");
    let removed = prune::forget_snapshots(&repo, &[ids[2][..8].to_string()], false).await.unwrap();
    assert_eq!(removed, vec![ids[2].clone()]);
    assert!(!root.join("snapshots").join(&ids[2]).exists());

    // repair snapshots: a dry run changes nothing; then the damaged file goes to quarantine/.
    let before = fingerprint(root);
    let plan = repair::repair_snapshots(&repo, true).await.unwrap();
    assert_eq!(plan.set_aside.iter().map(|b| b.id.clone()).collect::<Vec<_>>(), vec![ids[1].clone()]);
    assert_eq!(fingerprint(root), before, "a dry run changes nothing");
    let done = repair::repair_snapshots(&repo, false).await.unwrap();
    assert_eq!(done.set_aside.len(), 1);
    assert_eq!(done.readable, 1);
    assert_eq!(std::fs::read(root.join("quarantine/snapshots").join(&ids[1])).unwrap(), damaged);
    let list = repo.snapshot_list().await.unwrap();
    assert!(list.unreadable.is_empty());
    assert_eq!(list.snapshots.len(), 1);
    let report = check_all(&repo).await;
    assert!(report.ok(), "{:#?}", report.errors);
    // Prune runs again now, and the next backup too.
    prune::prune(&repo, &PruneOptions::default()).await.unwrap();
    backup(&sim, &repo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_index_rebuilds_the_index_from_pack_headers_and_names_what_is_lost() {
    let sim = sim(203).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    history(&sim, root, 2).await;
    let repo = open_repo(root).await;
    let indexes = files_under(root, "index");
    assert_eq!(indexes.len(), 2);
    // One index file damaged, the other gone.
    let mut it = indexes.iter();
    flip(&root.join(it.next().unwrap()), 30);
    std::fs::remove_file(root.join(it.next().unwrap())).unwrap();
    assert!(!check_all(&repo).await.ok());

    let before = fingerprint(root);
    let plan = repair::repair_index(&repo, true).await.unwrap();
    assert_eq!(plan.unreadable_indexes.len(), 1, "{plan:#?}");
    assert_eq!(plan.packs_reindexed.len(), files_under(root, "data").len());
    assert!(plan.packs_lost.is_empty() && plan.packs_missing.is_empty(), "{plan:#?}");
    assert_eq!(fingerprint(root), before, "a dry run changes nothing");

    let done = repair::repair_index(&repo, false).await.unwrap();
    let new_index = done.new_index.clone().expect("a new index");
    assert_eq!(files_under(root, "index"), BTreeSet::from([format!("index/{new_index}")]));
    assert_eq!(files_under(root, "quarantine").len(), 1, "the damaged index is kept aside");
    let report = check_all(&repo).await;
    assert!(report.ok(), "{:#?}", report.errors);
    assert!(report.warnings.iter().all(|w| !w.contains("in no index")), "{:#?}", report.warnings);
    // Nothing more to do the second time.
    assert!(!repair::repair_index(&repo, false).await.unwrap().changed());

    // A pack whose header no longer opens, with no index naming it: lost, set aside, and named.
    let pack = files_under(root, "data").into_iter().next().unwrap();
    let len = std::fs::metadata(root.join(&pack)).unwrap().len() as usize;
    flip(&root.join(&pack), len - 10);
    std::fs::remove_file(root.join("index").join(&new_index)).unwrap();
    let done = repair::repair_index(&repo, false).await.unwrap();
    assert_eq!(done.packs_lost.len(), 1, "{done:#?}");
    assert!(done.packs_lost[0].starts_with(&pack), "{:?} names {pack}", done.packs_lost);
    assert!(root.join("quarantine").join(&pack).exists());
    assert!(!check_all(&repo).await.ok(), "check names the snapshots that lost blobs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_never_writes_a_second_key_set_and_refuses_a_folder_with_files_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    init_repo(&root).await;
    std::fs::remove_file(root.join("config")).unwrap();
    let before = fingerprint(&root);
    // Opening names the missing file instead of "no repository here, create one".
    let err = Repository::open(store(&root), &pass(PASSWORD)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("config file is missing"), "{err}");
    let fast = KdfParams::fast_for_tests();
    for force in [false, true] {
        let err = Repository::init_with(store(&root), &pass("x"), Some(&pass("y")), fast, force).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("no config"), "{err}");
        assert_eq!(fingerprint(&root), before, "force={force}");
    }

    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), b"mine").unwrap();
    let err = Repository::init(store(&other), &pass("x"), Some(&pass("y")), fast).await.unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(files_under(&other, ""), BTreeSet::from(["notes.txt".to_string()]));
    Repository::init_with(store(&other), &pass("x"), Some(&pass("y")), fast, true).await.unwrap();
    assert_eq!(std::fs::read(other.join("notes.txt")).unwrap(), b"mine");
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_entra-backup"))
        .env_remove("ENTRA_BACKUP_REPOSITORY")
        .env("ENTRA_BACKUP_PASSWORD", PASSWORD)
        .env("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSWORD)
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn init_refuses_bad_kdf_values_and_file_root_urls_and_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("a/b/repo");
    let path = repo.to_str().unwrap();
    let (code, _, stderr) = cli(&["init", "--repo", path, "--kdf-iterations", "0", "--kdf-memory-mib", "8"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("iterations"), "{stderr}");
    assert!(!dir.path().join("a").exists(), "a failed init leaves no folder behind");

    let (code, _, stderr) = cli(&["init", "--repo", path, "--kdf-memory-mib", "999999999"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("999999999") && !stderr.contains("4294967295"), "{stderr}");
    assert!(!dir.path().join("a").exists());

    for url in ["file://", "file:///"] {
        let (code, _, stderr) = cli(&["init", "--repo", url, "--kdf-memory-mib", "8", "--kdf-iterations", "1"]);
        assert_ne!(code, 0, "{url}");
        assert!(stderr.contains("file://") && stderr.lines().count() == 1, "{url}: {stderr}");
        let (code, _, stderr) = cli(&["snapshots", "--repo", url]);
        assert_ne!(code, 0, "{url}");
        assert!(stderr.contains("needs a folder"), "{url}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_and_repair_commands_work_on_a_damaged_repository() {
    let sim = sim(204).await;
    let dir = tempfile::tempdir().unwrap();
    let ids = history(&sim, dir.path(), 2).await;
    let root = dir.path();
    let repo = root.to_str().unwrap();
    std::fs::write(root.join("snapshots").join(&ids[1]), b"").unwrap();

    let (code, stdout, stderr) = cli(&["snapshots", "--repo", repo]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&ids[0][..12]) && stdout.contains("1 snapshots"), "{stdout}");
    assert!(stderr.contains(&ids[1]) && stderr.contains("empty"), "{stderr}");

    // A backup runs, from the readable snapshot, and says which one it passed over.
    let url = sim.url().to_string();
    let tenant = sim.tenant_id();
    let args: Vec<String> =
        ["backup", "--repo", repo, "--categories", "users", "--graph-url", &url, "--authority-url", &url]
            .iter()
            .map(|a| a.to_string())
            .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_entra-backup"))
            .env_remove("ENTRA_BACKUP_REPOSITORY")
            .env("ENTRA_BACKUP_PASSWORD", PASSWORD)
            .env("AZURE_TENANT_ID", tenant)
            .env("AZURE_CLIENT_ID", "repo-repair-test")
            .env("AZURE_CLIENT_SECRET", "any")
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warning: Vec<&str> = stderr.lines().filter(|l| l.contains(&ids[1])).collect();
    assert_eq!(warning.len(), 1, "{stderr}");
    assert!(warning[0].starts_with("warning: ") && warning[0].contains("not considered as the parent"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("incremental from {}", &ids[0][..12])), "{stdout}");

    let (code, stdout, stderr) = cli(&["repair", "snapshots", "--repo", repo, "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&ids[1]) && stdout.contains("would set aside"), "{stdout}");
    assert!(root.join("snapshots").join(&ids[1]).exists());

    let (code, stdout, stderr) = cli(&["forget", "--repo", repo, &ids[1][..10]]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&format!("removed {}", ids[1])), "{stdout}");
    assert!(!root.join("snapshots").join(&ids[1]).exists());
    let (code, _, stderr) = cli(&["forget", "--repo", repo, &ids[0][..10], "--keep-last", "1"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("not both"), "{stderr}");

    let (code, stdout, stderr) = cli(&["repair", "index", "--repo", repo, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["packsReindexed"], serde_json::json!([]), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_files_of_killed_writes_are_reported_by_check_and_removed_by_prune() {
    let sim = sim(205).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    history(&sim, root, 1).await;
    let repo = open_repo(root).await;
    // What a backup killed mid-write leaves: a pack and an index file under their staging names.
    let pack = files_under(root, "data").into_iter().next().unwrap();
    let staged = [format!("{pack}#1"), format!("index/{}#1", "2c".repeat(32))];
    std::fs::copy(root.join(&pack), root.join(&staged[0])).unwrap();
    std::fs::write(root.join(&staged[1]), vec![7u8; 4096]).unwrap();

    let report = check_all(&repo).await;
    assert!(report.ok(), "{:#?}", report.errors);
    for s in &staged {
        assert!(report.warnings.iter().any(|w| w.starts_with(s.as_str())), "{s} not in {:#?}", report.warnings);
    }
    // Within the grace period (a running backup's files), prune keeps them; --grace 0 removes them.
    let plan = prune::prune(&repo, &PruneOptions::default()).await.unwrap();
    assert!(plan.delete_staging.is_empty());
    assert!(root.join(&staged[0]).exists());
    let options = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    let plan = prune::prune(&repo, &options).await.unwrap();
    assert_eq!(plan.delete_staging.iter().cloned().collect::<BTreeSet<_>>(), staged.iter().cloned().collect());
    for s in &staged {
        assert!(!root.join(s).exists(), "{s}");
    }
    let report = check_all(&repo).await;
    assert!(report.ok() && report.warnings.is_empty(), "{report:#?}");
}

/// A sparse file of `len` bytes (nothing is written, so a huge one costs nothing).
fn sparse(path: &Path, len: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_files_are_refused_before_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init_repo(root).await;
    let id = "ab".repeat(32);
    sparse(&root.join("snapshots").join(&id), MAX_SNAPSHOT_FILE + 1);
    let list = repo.snapshot_list().await.unwrap();
    assert_eq!(list.unreadable.len(), 1);
    assert!(list.unreadable[0].reason.contains("more than"), "{:?}", list.unreadable);

    sparse(&root.join("index").join(&id), MAX_INDEX_FILE + 1);
    let err = repo.load_index().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("more than"), "{err}");
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.iter().any(|e| e.starts_with(&format!("index/{id}"))), "{:#?}", report.errors);

    // A pack whose trailer claims a 40 MiB header: refused from the length alone.
    let pack = "cd".repeat(32);
    let path = root.join(pack_path(&pack).unwrap());
    sparse(&path, 50 * 1024 * 1024);
    let mut bytes = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    use std::io::{Seek, SeekFrom, Write};
    bytes.seek(SeekFrom::End(-4)).unwrap();
    bytes.write_all(&(40u32 * 1024 * 1024).to_le_bytes()).unwrap();
    drop(bytes);
    let err = read_header(repo.store(), repo.cipher(), &pack).await.unwrap_err();
    assert!(err.to_string().contains("header length"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_pack_whose_header_disagrees_with_the_index() {
    let sim = sim(206).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    history(&sim, root, 1).await;
    let repo = open_repo(root).await;
    let store = repo.store();
    let cipher = repo.cipher();
    let index_id = list_index_ids(store).await.unwrap().pop().unwrap();
    let mut file = IndexFile::read(store, cipher, &index_id).await.unwrap();

    // Rewrite one pack with a header that lists one blob more than the index does (a copy of an
    // entry under another id), under its new id, and point the index at it.
    let old = file.packs[0].clone();
    let bytes = std::fs::read(root.join(pack_path(&old.id).unwrap())).unwrap();
    let mut header = header_of(cipher, &old.id, &bytes).unwrap();
    let header_len = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap()) as usize;
    let body = &bytes[..bytes.len() - 4 - header_len];
    let mut extra = header[0].clone();
    extra.id = "ee".repeat(32);
    header.push(extra);
    let sealed = cipher.seal(&serde_json::to_vec(&header).unwrap());
    let mut forged = body.to_vec();
    forged.extend_from_slice(&sealed);
    forged.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
    let new_id = Cipher::plaintext().id_hex(&forged);
    let new_path = root.join(pack_path(&new_id).unwrap());
    std::fs::create_dir_all(new_path.parent().unwrap()).unwrap();
    std::fs::write(&new_path, &forged).unwrap();
    std::fs::remove_file(root.join(pack_path(&old.id).unwrap())).unwrap();
    file.packs[0] = PackInfo { id: new_id.clone(), entries: old.entries.clone() };
    file.supersedes = vec![index_id.clone()];
    file.write(store, cipher).await.unwrap();
    std::fs::remove_file(root.join("index").join(&index_id)).unwrap();

    let report = check_all(&repo).await;
    let named: Vec<&String> = report.errors.iter().filter(|e| e.contains(&new_id)).collect();
    assert_eq!(named.len(), 1, "{:#?}", report.errors);
    assert!(named[0].contains("header disagrees with the index"), "{named:?}");
    assert_eq!(report.errors.len(), 1, "only the header is wrong: {:#?}", report.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_files_a_killed_prune_left_superseded_never_count_again() {
    let sim = sim(207).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ids = history(&sim, root, 3).await;
    let repo = open_repo(root).await;
    prune::forget_snapshots(&repo, &ids[..2], false).await.unwrap();
    // A prune killed after writing its index, before deleting the index files it supersedes.
    let old: Vec<(String, Vec<u8>)> =
        files_under(root, "index").into_iter().map(|f| (f.clone(), std::fs::read(root.join(&f)).unwrap())).collect();
    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    let plan = prune::prune(&repo, &zero).await.unwrap();
    assert!(!plan.mark.is_empty(), "the forgotten snapshots leave packs to mark: {plan:#?}");
    for (file, bytes) in &old {
        std::fs::write(root.join(file), bytes).unwrap();
    }
    let report = check_all(&repo).await;
    assert!(report.ok(), "{:#?}", report.errors);
    // The next prunes delete the marked packs; the old index files must not come back naming them.
    for _ in 0..2 {
        prune::prune(&repo, &zero).await.unwrap();
        let report = check_all(&repo).await;
        assert!(report.ok(), "{:#?}", report.errors);
    }
    assert_eq!(files_under(root, "index").len(), 1);
}
