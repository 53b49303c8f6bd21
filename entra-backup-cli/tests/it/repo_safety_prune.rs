//! The repository survives prune beside a running backup (the lease, repacking) and damaged
//! files: the other half of `repo_safety` (the shared helpers live there).

use entra_backup_test_support as common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use entra_backup::ErrorKind;
use entra_backup::catalog;
use entra_backup::pipeline::{self, BackupReport, Progress};
use entra_backup::repo::Repository;
use entra_backup::repo::check::{CheckOptions, check};
use entra_backup::repo::prune::{self, LEASE_PATH, PruneOptions};
use entra_backup::repo::snapshot::snapshot_path;
use entra_backup::source::{SnapshotSource, SourceOptions};
use entra_backup_sim::SimServer;
use futures::TryStreamExt;

use common::sim_tenant::source;

use super::repo_safety::*;

// ---------------------------------------------------------------------------------------------
// 4. Prune and a running backup; the lease.

/// Run a library backup of every category (in small packs), and `during` once the backup is
/// reading (its view of the repository, the index included, is taken) and while it runs: the
/// simulator holds the audit log's requests until `during` is over, so the backup cannot end
/// first however fast or loaded the machine is.
async fn backup_while<T>(
    sim: &SimServer,
    repo: &Repository,
    full: bool,
    during: impl std::future::Future<Output = T>,
) -> (BackupReport, T) {
    let progress = Progress::new(&all_categories());
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let hold = sim.hold("/auditLogs/");
    let backup = pipeline::backup(&src, repo, backup_options(sim, full, Some(SMALL_PACKS)), &progress);
    let other = async {
        let started = Instant::now();
        while progress.categories.iter().map(|c| c.stats.objects()).sum::<u64>() == 0 {
            assert!(started.elapsed() < Duration::from_secs(30), "the backup never started reading");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let t = during.await;
        let done = progress.categories.iter().all(|c| c.state() == pipeline::State::Done);
        assert!(!done, "the backup ended before the work meant to run during it");
        hold.release();
        t
    };
    let (report, t) = tokio::join!(backup, other);
    let report = report.unwrap_or_else(|e| panic!("backup: {e}"));
    assert!(report.summary.ok(), "{:#?}", report.summary);
    (report, t)
}

/// Forget every snapshot (`forget` always keeps one; removing the files is what it does).
async fn forget_all(repo: &Repository) {
    for id in snapshot_ids(repo).await {
        repo.store().delete(&snapshot_path(&id).unwrap()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_never_deletes_what_a_running_backup_needs() {
    // Slow enough that a full backup runs for a second or two.
    let sim = SimServer::start(sim_config(51, 120, 60)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    let repo = init_repo(&dir).await;
    let first = lib_backup(&sim, &repo, &all_categories(), true, Some(SMALL_PACKS)).await;
    let first_packs = packs_needed(&repo, &first.snapshot_id).await;

    // A backup starts (its index says the first snapshot's blobs are stored); meanwhile every
    // snapshot is forgotten and prune runs with the default grace (24 h).
    let (second, plan) = backup_while(&sim, &repo, true, async {
        forget_all(&repo).await;
        prune::prune(&repo, &PruneOptions::default()).await.unwrap()
    })
    .await;
    assert!(plan.delete.is_empty() && plan.delete_unindexed.is_empty(), "deleted at once: {plan:#?}");
    assert!(first_packs.iter().all(|p| plan.mark.contains(p)), "every pack of the forgotten snapshot is marked");
    let needed = packs_needed(&repo, &second.snapshot_id).await;
    let reused = needed.intersection(&first_packs).count();
    assert!(reused > 0, "the backup reused blobs of the marked packs (else this test shows nothing)");
    let stored = stored_packs(&dir);
    assert!(needed.iter().all(|p| stored.contains(p)), "a pack the running backup needs was deleted");
    assert_check_clean(&repo, "after the backup that ran during prune").await;
    assert_snapshot_is_tenant(&sim, &repo, &second.snapshot_id).await;
    // The next prune keeps them: a snapshot reaches them again.
    let plan = prune::prune(&repo, &PruneOptions::default()).await.unwrap();
    assert!(needed.iter().all(|p| !plan.mark.contains(p) && !plan.delete.contains(p)), "{plan:#?}");
    assert_check_clean(&repo, "after the next prune").await;

    // A second prune while one holds the lease is refused; once it is released, prune works.
    let lease = prune::acquire_lease(&repo).await.unwrap();
    let err = prune::prune(&repo, &PruneOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("lease"), "{err}");
    let other = open_repo(&dir).await;
    assert_eq!(prune::acquire_lease(&other).await.unwrap_err().kind(), ErrorKind::Conflict);
    lease.release(&repo).await.unwrap();
    prune::prune(&repo, &PruneOptions::default()).await.unwrap();
    assert!(repo.store().head(LEASE_PATH).await.unwrap().is_none(), "the lease is released");

    // With --grace 0: packs marked while a backup ran are deleted by the following prune unless a
    // snapshot made after the mark needs them. Another tenant's snapshot gives packs nobody needs.
    let other_sim = SimServer::start(sim_config(52, 40, 0)).await.unwrap();
    let other_tenant = lib_backup(&other_sim, &repo, &quick_categories(), true, Some(SMALL_PACKS)).await;
    let unneeded = packs_needed(&repo, &other_tenant.snapshot_id).await;
    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    let (third, plan) = backup_while(&sim, &repo, true, async {
        forget_all(&repo).await;
        prune::prune(&repo, &zero).await.unwrap()
    })
    .await;
    assert!(unneeded.iter().all(|p| plan.mark.contains(p)), "{plan:#?}");
    let needed = packs_needed(&repo, &third.snapshot_id).await;
    assert!(needed.iter().any(|p| plan.mark.contains(p)), "the third snapshot needs packs marked before it was made");
    let plan = prune::prune(&repo, &zero).await.unwrap();
    let stored = stored_packs(&dir);
    let shared: BTreeSet<_> = unneeded.intersection(&needed).collect();
    for p in &unneeded {
        if !shared.contains(p) {
            assert!(plan.delete.contains(p) && !stored.contains(p), "pack {p}, needed by no snapshot, was not deleted");
        }
    }
    let missing: Vec<_> = needed.iter().filter(|p| !stored.contains(*p)).collect();
    assert!(missing.is_empty(), "packs the third snapshot needs were deleted: {missing:?}");
    assert_check_clean(&repo, "after the grace-0 prunes").await;
    assert_snapshot_is_tenant(&sim, &repo, &third.snapshot_id).await;
}

/// A pack mostly unused is repacked (its live blobs copied to a new pack) and marked; once its
/// grace is over, the next prune deletes it. Backups meanwhile find the copied blobs stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repacked_pack_is_freed_once_its_grace_is_over() {
    let sim = SimServer::start(sim_config(71, 100, 0)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    let repo = init_repo(&dir).await;
    let users = [catalog::get("users").unwrap()];
    let first = lib_backup(&sim, &repo, &users, true, None).await;
    let first_packs = stored_packs(&dir);
    // Four users in five change: the first snapshot's object pack is mostly unused once it is forgotten.
    for k in 1..5 {
        edit_users(&sim, k, 5);
    }
    let second = lib_backup(&sim, &repo, &users, false, None).await;
    repo.store().delete(&snapshot_path(&first.snapshot_id).unwrap()).await.unwrap();
    let mut known = BTreeMap::new();
    known.insert(second.snapshot_id.clone(), contents(&repo, &second.snapshot_id).await);

    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    let plan = prune::prune(&repo, &zero).await.unwrap();
    // The first snapshot's object pack. (The second snapshot's pack, of deltas against the first
    // one's objects, is repacked too: its deltas are rewritten so that their forgotten bases can go.)
    let first_repacked: Vec<&String> = plan.repack.iter().filter(|p| first_packs.contains(*p)).collect();
    assert_eq!(first_repacked.len(), 1, "one pack of the first snapshot to repack: {plan:#?}");
    let old = first_repacked[0].clone();
    let repacked = plan.repack.clone();
    assert_intact(&repo, &known, "after the repack").await;
    assert!(assert_check_clean(&repo, "after the repack").await.warnings.is_empty());

    let mut problems = Vec::new();
    let plan = prune::prune(&repo, &zero).await.unwrap();
    if !plan.delete.contains(&old) {
        problems.push(format!(
            "the next prune (grace 0) did not delete the repacked pack {old}: it is in repack {:?} / keep {:?} / \
             waiting {:?} again (its live blobs still resolve to it, not to their copies)",
            plan.repack.contains(&old),
            plan.keep.contains(&old),
            plan.waiting.contains(&old)
        ));
    }
    for old in &repacked {
        if stored_packs(&dir).contains(old) {
            problems.push(format!("the repacked pack {old} is still stored after the second prune"));
        }
    }
    assert_intact(&repo, &known, "after the second prune").await;
    let report = assert_check_clean(&repo, "after the second prune").await;
    if !report.warnings.is_empty() {
        problems.push(format!("the second prune left packs in no index: {:?}", report.warnings));
    }
    // The tenant has not changed: a full backup finds every object's blob stored.
    let third = lib_backup(&sim, &repo, &users, true, None).await;
    if third.snapshot.summary.blobs_added != 0 {
        problems.push(format!(
            "a full backup of the unchanged tenant stored {} blobs again (their copies from the repack are not \
             counted as stored: the index resolves them to the marked pack)",
            third.snapshot.summary.blobs_added
        ));
    }
    assert_check_clean(&repo, "after the last backup").await;
    assert!(problems.is_empty(), "repacking never frees the old pack:\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 5. Damaged files.

fn flip(file: &Path, at: usize, mask: u8) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at] ^= mask;
    std::fs::write(file, bytes).unwrap();
}

/// Every file under `sub` (relative paths).
fn files_under(root: &Path, sub: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(sub)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_any_file_is_reported_naming_the_file() {
    use futures::FutureExt;
    let sim = SimServer::start(sim_config(61, 60, 0)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good");
    let repo = init_repo(&good).await;
    let cats = quick_categories();
    lib_backup(&sim, &repo, &cats, true, None).await;
    edit_users(&sim, 1, 3);
    lib_backup(&sim, &repo, &cats, false, None).await;
    assert!(assert_check_clean(&repo, "the good repository").await.warnings.is_empty());

    let dir = work.path().join("damaged");
    copy_dir(&good, &dir);
    let mut files = files_under(&dir, "data");
    assert!(files.len() >= 4, "packs of every kind: {files:?}");
    files.extend(files_under(&dir, "index"));
    files.extend(files_under(&dir, "snapshots"));
    let mut cases = 0;
    for rel in &files {
        let path = dir.join(rel);
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        let id = rel.rsplit('/').next().unwrap();
        for at in [0, len / 2, len - 1] {
            let case = format!("{rel}, byte {at} of {len} flipped");
            flip(&path, at, 0xff);
            let repo = open_repo(&dir).await;
            let report = std::panic::AssertUnwindSafe(check(&repo, &CheckOptions { read_data_percent: 100.0 }))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| panic!("{case}: check panicked"))
                .unwrap_or_else(|e| panic!("{case}: check failed instead of reporting: {e}"));
            assert!(!report.ok(), "{case}: check found nothing");
            assert!(
                report.errors.iter().any(|e| e.contains(rel.as_str()) || e.contains(id)),
                "{case}: no error names the file: {:#?}",
                report.errors
            );
            // Reading what the file holds fails with an error, not a panic.
            let read = std::panic::AssertUnwindSafe(async {
                let mut failures = 0;
                for sid in snapshot_ids(&repo).await {
                    let ok = async {
                        let src = SnapshotSource::open(repo.clone(), &sid, false).await?;
                        for cat in src.categories() {
                            let _: Vec<_> = src.objects(cat).try_collect().await?;
                        }
                        Ok::<_, entra_backup::Error>(())
                    };
                    failures += usize::from(ok.await.is_err());
                }
                failures
            })
            .catch_unwind()
            .await
            .unwrap_or_else(|_| panic!("{case}: reading the snapshots panicked"));
            if !rel.starts_with("data/") {
                assert!(read > 0, "{case}: the snapshots read back as if nothing were damaged");
            }
            flip(&path, at, 0xff);
            cases += 1;
        }
    }
    assert!(assert_check_clean(&open_repo(&dir).await, "every byte flipped back").await.warnings.is_empty());
    eprintln!("{cases} damaged files reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_a_key_file_fails_opening_cleanly() {
    use futures::FutureExt;
    let work = tempfile::tempdir().unwrap();
    init_repo(work.path()).await;
    let key = files_under(work.path(), "keys").pop().unwrap();
    let path = work.path().join(&key);
    let text = std::fs::read_to_string(&path).unwrap();
    // `created` is informational and not authenticated (the format says so): a flip there may open.
    let created = {
        let start = text.find("\"created\"").unwrap();
        let end = start + text[start..].find(',').unwrap();
        start..end
    };
    let mut outcomes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for at in 0..text.len() {
        for mask in [0x01u8, 0xff] {
            flip(&path, at, mask);
            let opened = std::panic::AssertUnwindSafe(Repository::open(store(work.path()), &pass(PASSWORD)))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| panic!("{key}: byte {at} ^ {mask:#04x}: opening panicked"));
            let outcome = match &opened {
                Ok(_) => "opened".to_string(),
                Err(e) => format!("{:?}", e.kind()),
            };
            let fine = match &opened {
                Ok(_) => created.contains(&at),
                Err(e) => matches!(e.kind(), ErrorKind::Authentication | ErrorKind::Protocol),
            };
            if !fine {
                let what = opened.err().map(|e| e.to_string()).unwrap_or_default();
                let around = &text[at.saturating_sub(12)..(at + 12).min(text.len())];
                wrong.push(format!("byte {at} ({around:?}) ^ {mask:#04x}: {outcome}: {what}"));
            }
            outcomes.entry(outcome).or_default().push(at);
            flip(&path, at, mask);
        }
    }
    Repository::open(store(work.path()), &pass(PASSWORD)).await.unwrap();
    let counts: BTreeMap<_, _> = outcomes.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    eprintln!("{key}: {counts:?}");
    assert!(
        wrong.is_empty(),
        "{key}: a damaged key file must fail to open with Authentication or Protocol; {} flips did not:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
