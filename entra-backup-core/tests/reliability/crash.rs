//! The crash matrix: backup (first and incremental), forget and prune killed at every storage
//! write (a sample under the short budget), with [`FaultyStore`] standing in for SIGKILL.
//!
//! Each operation first runs once to count its writes W. Then for each chosen k in 1..=W and each
//! [`Kill`] variant, on a fresh copy of the same repository: kill at write k; the killed operation
//! must not report success; then, as the next process: `check --read-data 100` is clean, every
//! snapshot that existed (and that forget keeps) is there with the same objects, the operation run
//! again succeeds, and after `prune --grace 0` nothing is left that is not referenced.

use std::collections::BTreeSet;
use std::sync::Arc;

use entra_backup::repo::Repository;
use entra_backup::repo::backend::Backend;
use entra_backup::repo::prune::{self, KeepPolicy, PruneOptions};
use entra_backup::repo::testing::{FaultyStore, Kill};
use entra_backup::sim::SimServer;
use entra_backup::{Error, ErrorKind};
use object_store::memory::InMemory;

use crate::world::{self, CAPS, State};
use crate::{Budget, figure};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// The first backup into an empty repository.
    FirstBackup,
    /// A backup with a parent, after the tenant changed.
    IncrementalBackup,
    /// `forget --keep-last 1` of three snapshots.
    Forget,
    /// `prune --grace 0` that deletes packs an earlier prune marked, marks others and repacks.
    Prune,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::FirstBackup => "backup (first)",
            Op::IncrementalBackup => "backup (incremental)",
            Op::Forget => "forget",
            Op::Prune => "prune",
        }
    }
}

fn keep_last_one() -> KeepPolicy {
    KeepPolicy { last: 1, ..KeepPolicy::default() }
}

fn grace_zero() -> PruneOptions {
    PruneOptions { grace: jiff::SignedDuration::ZERO, ..PruneOptions::default() }
}

async fn run(op: Op, sim: &SimServer, repo: &Repository) -> entra_backup::Result<()> {
    match op {
        Op::FirstBackup | Op::IncrementalBackup => {
            let report = world::backup(sim, repo, false).await?;
            if !report.summary.ok() {
                let failed: Vec<_> = report.snapshot.failed.iter().collect();
                return Err(Error::new(ErrorKind::Io, format!("categories failed: {failed:?}")));
            }
        }
        Op::Forget => drop(entra_backup::api::forget(repo, &keep_last_one(), false).await?),
        Op::Prune => drop(prune::prune(repo, &grace_zero()).await?),
    }
    Ok(())
}

/// The repository each case of `op` starts from.
async fn base(op: Op, sim: &SimServer) -> Arc<InMemory> {
    let disk = Arc::new(InMemory::new());
    let repo = world::init(&disk).await;
    let backup = |seed: u64| {
        let repo = repo.clone();
        async move {
            if seed > 0 {
                sim.churn(0.1, seed);
            }
            world::backup(sim, &repo, false).await.unwrap();
        }
    };
    match op {
        Op::FirstBackup => {}
        Op::IncrementalBackup => {
            backup(0).await;
            sim.churn(0.1, 7);
        }
        Op::Forget => {
            for seed in 0..3 {
                backup(seed).await;
            }
        }
        Op::Prune => {
            backup(0).await;
            backup(1).await;
            entra_backup::api::forget(&repo, &keep_last_one(), false).await.unwrap();
            prune::prune(&repo, &grace_zero()).await.unwrap(); // marks what the first snapshot alone held
            backup(2).await;
            entra_backup::api::forget(&repo, &keep_last_one(), false).await.unwrap();
        }
    }
    disk
}

/// The snapshots of `before` that must survive `op`.
fn must_keep(
    op: Op,
    before: &State,
    repo_snapshots: &[(String, entra_backup::repo::snapshot::Snapshot)],
) -> BTreeSet<String> {
    match op {
        Op::Forget => repo_snapshots.last().map(|(id, _)| id.clone()).into_iter().collect(),
        _ => before.keys().cloned().collect(),
    }
}

/// The writes to kill at: all of them, or under the short budget the first two, the last two and
/// three between.
fn sample(writes: u64, budget: Budget) -> Vec<u64> {
    if budget == Budget::Full {
        return (1..=writes).collect();
    }
    let w = writes;
    let mut ks: Vec<u64> = vec![1, 2, w / 3, w / 2, 2 * w / 3, w.saturating_sub(1), w];
    ks.retain(|k| (1..=w).contains(k));
    ks.sort_unstable();
    ks.dedup();
    ks
}

async fn matrix(op: Op, seed: u64) {
    let budget = crate::budget();
    let sim = world::start_sim(seed).await;
    let base = base(op, &sim).await;
    let base_repo = world::open(world::store(&base)).await.unwrap();
    let before = world::state(&base_repo).await;
    let keep = must_keep(op, &before, &base_repo.snapshots().await.unwrap());

    // Count the writes of one undisturbed run.
    let counting = FaultyStore::new(world::fork(&base));
    run(op, &sim, &world::open(counting.store(Backend::Memory, CAPS)).await.unwrap()).await.unwrap();
    let writes = counting.writes();
    assert!(writes > 0, "{}: wrote nothing", op.name());

    let (mut cases, mut killed) = (0u64, 0u64);
    for k in sample(writes, budget) {
        for kill in [Kill::Before, Kill::After] {
            let case = format!("{} killed {kill:?} write {k} of {writes}", op.name());
            let disk = world::fork(&base);
            let faulty = FaultyStore::new(disk.clone()).kill_at(k, kill);
            let repo = world::open(faulty.store(Backend::Memory, CAPS)).await.unwrap();
            let result = run(op, &sim, &repo).await;
            cases += 1;
            if faulty.is_dead() {
                killed += 1;
                let at = faulty.log().into_iter().find(|w| w.number == k);
                assert!(result.is_err(), "{case} ({at:?}): reported success");
            } else {
                // This run wrote less than the counting one (concurrent packs cut differently).
                result.unwrap_or_else(|e| panic!("{case}: not killed, yet failed: {e}"));
            }
            survive(op, &sim, &disk, &before, &keep, &case).await;
        }
    }
    figure(&format!("crash matrix, {}: {writes} writes, {cases} cases, {killed} kills, {cases} survived", op.name()));
}

/// What the next process finds after the kill, and what it can do.
async fn survive(op: Op, sim: &SimServer, disk: &Arc<InMemory>, before: &State, keep: &BTreeSet<String>, case: &str) {
    let store = world::store(disk);
    world::lease_of_a_dead_process(&store).await;
    let repo = world::open(store).await.unwrap_or_else(|e| panic!("{case}: the repository does not open: {e}"));
    world::assert_check_clean(&repo, case).await;
    world::assert_intact(before, &world::state(&repo).await, keep, case);

    run(op, sim, &repo).await.unwrap_or_else(|e| panic!("{case}: the next run failed: {e}"));
    world::assert_check_clean(&repo, &format!("{case}, after the next run")).await;

    world::prune_until_quiet(&repo, case).await;
    world::assert_nothing_unreferenced(&repo, case).await;
    world::assert_check_clean(&repo, &format!("{case}, after prune")).await;
    world::assert_intact(before, &world::state(&repo).await, keep, &format!("{case}, after prune"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_backup_killed_at_any_write_loses_nothing() {
    matrix(Op::FirstBackup, 31).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_backup_killed_at_any_write_loses_nothing() {
    matrix(Op::IncrementalBackup, 32).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_killed_at_any_write_keeps_what_it_keeps() {
    matrix(Op::Forget, 33).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_killed_at_any_write_loses_nothing() {
    matrix(Op::Prune, 34).await;
}
