//! Deltas and prune: chains stay bounded, and forgetting the snapshots that needed a delta's base
//! whole frees that base (prune rebases the delta against what stays, or stores it whole), so a
//! repository written with deltas holds, after prune, exactly the blobs one written without them
//! holds, and every kept snapshot reads back the same.

use std::collections::{BTreeSet, HashMap};

use entra_backup::__private::RepositoryInternals;
use entra_backup::__private::pack::BlobKind;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::backend::Store;
use entra_backup::repo::check::{CheckOptions, check};
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::prune::{self, PruneOptions};
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{SnapshotSource, SourceOptions};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::json;

use common::sim_tenant::{assert_equal_to_ground_truth, source};
use entra_backup_test_support as common;

/// The most links of a chain (`repo::delta::MAX_CHAIN`).
const MAX_CHAIN: usize = 8;

fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

async fn new_repo() -> Repository {
    Repository::init(Store::memory(), &pass("d"), Some(&pass("s")), KdfParams::fast_for_tests()).await.unwrap()
}

async fn backup(sim: &SimServer, repo: &Repository, deltas: bool) -> String {
    let all: Vec<&'static Category> = catalog::all().iter().collect();
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    // Small packs, so that forgetting snapshots leaves packs unused or mostly unused.
    let options = BackupOptions { deltas, pack_size: 8 * 1024, ..BackupOptions::new(sim.tenant_id()) };
    let report = pipeline::backup(&src, repo, options, &Progress::new(&all)).await.unwrap();
    assert!(report.summary.ok(), "{:#?}", report.summary);
    report.snapshot_id
}

/// The same few users change every day (long chains).
fn change_users(sim: &SimServer, day: usize) {
    let users: Vec<String> = sim.tenant().objects("users").take(6).map(|u| u.id().to_string()).collect();
    for user in users {
        let changes = json!({"jobTitle": format!("Title {day}"), "officeLocation": format!("Room {day}")});
        sim.tenant_mut().patch("users", &user, changes.as_object().unwrap()).unwrap();
    }
}

/// The links of the longest chain of deltas in the index.
fn longest_chain(index: &entra_backup::__private::index::Index) -> usize {
    let bases: HashMap<String, String> = index.blobs().filter_map(|(_, e)| Some((e.id.clone(), e.base?))).collect();
    bases
        .keys()
        .map(|id| {
            let (mut links, mut at) = (0, id);
            while let Some(next) = bases.get(at) {
                links += 1;
                at = next;
                assert!(links <= 4 * MAX_CHAIN, "a chain of bases does not end");
            }
            links
        })
        .max()
        .unwrap_or(0)
}

/// Prune with no grace, repacking any pack with unused bytes, until nothing is left to do.
async fn prune_fully(repo: &Repository) -> usize {
    let options = PruneOptions { grace: jiff::SignedDuration::ZERO, max_unused: 0.0, dry_run: false };
    let mut rebased = 0;
    for _ in 0..6 {
        let plan = prune::prune(repo, &options).await.unwrap();
        rebased += plan.deltas_rebased;
        if plan.repack.is_empty() && plan.mark.is_empty() && plan.delete.is_empty() && plan.waiting.is_empty() {
            return rebased;
        }
    }
    panic!("prune still has work after six runs");
}

/// Every blob the snapshots reach: tree nodes, objects, secrets and chunks.
async fn reachable(repo: &Repository, index: &entra_backup::__private::index::Index) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, s) in repo.snapshot_list().await.unwrap().snapshots {
        for cs in s.categories.values() {
            let (nodes, entries) = repo.tree_node_ids(index, &cs.tree).await.unwrap();
            out.extend(nodes);
            for e in entries.into_values() {
                out.insert(e.blob);
                out.extend(e.secret);
                out.extend(e.chunks);
            }
        }
    }
    out
}

async fn stored_bytes(repo: &Repository) -> u64 {
    repo.store().list("data").await.unwrap().iter().map(|m| m.size).sum()
}

async fn export(repo: &Repository, snapshot: &str, dir: &std::path::Path) {
    let mut repo = repo.clone();
    repo.unlock_secrets(&pass("s")).await.unwrap();
    let src = SnapshotSource::open(repo, snapshot, true).await.unwrap();
    let summary = pipeline::export(&src, dir, &Progress::new(&src.categories())).await.unwrap();
    assert!(summary.ok(), "{summary:#?}");
}

async fn assert_check_clean(repo: &Repository, when: &str) {
    let report = check(repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap();
    assert!(report.ok(), "{when}: {:#?}", report.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_frees_the_bases_only_forgotten_snapshots_needed_and_chains_stay_bounded() {
    let sim = SimServer::start(SimConfig { seed: 41, users: 40, groups: 6, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    // The same history twice: with deltas (the default) and without.
    assert!(BackupOptions::new("t").deltas, "deltas are on by default");
    let (with, without) = (new_repo().await, new_repo().await);
    let (mut ids_with, mut ids_without) = (Vec::new(), Vec::new());
    for day in 0..12 {
        if day > 0 {
            change_users(&sim, day);
        }
        ids_with.push(backup(&sim, &with, true).await);
        ids_without.push(backup(&sim, &without, false).await);
    }
    let index = with.load_index().await.unwrap();
    let deltas = index.blobs().filter(|(_, e)| e.kind == BlobKind::Delta).count();
    assert!(deltas >= 6 * 5, "changed users are stored as deltas: {deltas}");
    let longest = longest_chain(&index);
    assert!((2..=MAX_CHAIN).contains(&longest), "chains are bounded: the longest has {longest} links");
    assert!(without.load_index().await.unwrap().blobs().all(|(_, e)| e.kind != BlobKind::Delta));
    assert_check_clean(&with, "before forgetting").await;

    // Keep days 0, 9 and 11. A user changed daily is whole on day 0, a delta on days 1 to 8
    // (a chain of eight), whole again on day 9 (the chain is at its bound), a delta on days 10 and
    // 11: the last day's deltas needed day 10, forgotten, as their base, and day 9 stays.
    let first_export = tempfile::tempdir().unwrap();
    export(&with, &ids_with[0], first_export.path()).await;
    for ids in [&ids_with, &ids_without] {
        let forget: Vec<String> = ids[1..9].iter().chain(&ids[10..11]).cloned().collect();
        prune::forget_snapshots(if ids == &ids_with { &with } else { &without }, &forget, false).await.unwrap();
    }
    let rebased = prune_fully(&with).await;
    prune_fully(&without).await;
    assert!(rebased > 0, "prune rebased the deltas whose bases went");

    // Exactly the blobs the kept snapshots reach, in both: no base of a forgotten snapshot is left.
    let (index_with, index_without) = (with.load_index().await.unwrap(), without.load_index().await.unwrap());
    for (repo, index, what) in [(&with, &index_with, "with deltas"), (&without, &index_without, "without")] {
        let stored: BTreeSet<String> = index.blobs().map(|(_, e)| e.id.clone()).collect();
        let reached = reachable(repo, index).await;
        let extra = stored.difference(&reached).count();
        assert_eq!(extra, 0, "{what}: {extra} blobs stored that no kept snapshot reaches");
        assert_eq!(stored, reached, "{what}");
    }
    // The last day's deltas are rebased against day 9's versions; chains are one link now.
    let deltas_left = index_with.blobs().filter(|(_, e)| e.kind == BlobKind::Delta).count();
    assert!(deltas_left > 0, "rebased deltas against a kept base stay deltas");
    assert!(longest_chain(&index_with) <= 1, "rebasing only shortens chains");
    let (bytes_with, bytes_without) = (stored_bytes(&with).await, stored_bytes(&without).await);
    eprintln!("after forget and prune: {bytes_with} bytes with deltas, {bytes_without} without");
    assert_check_clean(&with, "after prune").await;
    assert_check_clean(&without, "after prune (no deltas)").await;

    // Every kept snapshot reads back as before.
    let last = tempfile::tempdir().unwrap();
    export(&with, &ids_with[11], last.path()).await;
    assert_equal_to_ground_truth(&sim, last.path(), true);
    let first_again = tempfile::tempdir().unwrap();
    export(&with, &ids_with[0], first_again.path()).await;
    let changes = common::files::changes(
        &common::files::fingerprint(first_export.path()),
        &common::files::fingerprint(first_again.path()),
    );
    // (The export's summary.json says when it was made.)
    let changes: Vec<String> = changes.into_iter().filter(|c| !c.starts_with("summary.json ")).collect();
    assert!(changes.is_empty(), "the first snapshot reads back differently after prune: {changes:?}");

    // A backup after prune writes deltas against the rebased blobs, and check stays clean.
    change_users(&sim, 12);
    backup(&sim, &with, true).await;
    assert_check_clean(&with, "after a backup on the pruned repository").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_grace_a_rebased_delta_never_loses_its_base() {
    let sim = SimServer::start(SimConfig { seed: 42, users: 30, groups: 4, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let repo = new_repo().await;
    let mut ids = Vec::new();
    for day in 0..5 {
        if day > 0 {
            change_users(&sim, day);
        }
        ids.push(backup(&sim, &repo, true).await);
    }
    prune::forget_snapshots(&repo, &ids[..4], false).await.unwrap();
    // Default options: marked packs wait out their grace; rebased deltas are found in their new
    // copies at once, so the last snapshot reads back and check is clean at every step.
    let plan = prune::prune(&repo, &PruneOptions::default()).await.unwrap();
    assert!(plan.deltas_rebased > 0 || !plan.keep.is_empty(), "{plan:#?}");
    assert_check_clean(&repo, "after the first prune").await;
    let zero = PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() };
    prune::prune(&repo, &zero).await.unwrap();
    prune::prune(&repo, &zero).await.unwrap();
    assert_check_clean(&repo, "after the grace-0 prunes").await;
    let dir = tempfile::tempdir().unwrap();
    export(&repo, &ids[4], dir.path()).await;
    assert_equal_to_ground_truth(&sim, dir.path(), true);
}
