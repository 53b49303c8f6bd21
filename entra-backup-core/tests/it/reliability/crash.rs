//! The crash matrix: backup (first and incremental), forget and prune killed at every storage
//! write (a sample under the short budget), with `repo::testing::FaultyStore` standing in for SIGKILL.
//!
//! Each operation first runs once to count its writes W. Then for each chosen k in 1..=W and each
//! [`Kill`] variant, on a fresh copy of the same repository: kill at write k; the killed operation
//! must not report success; then, as the next process: `check --read-data 100` is clean, every
//! snapshot that existed (and that forget keeps) is there with the same objects, the operation run
//! again succeeds, and after `prune --grace 0` nothing is left that is not referenced.

use std::collections::BTreeSet;

use entra_backup::repo::Repository;
use entra_backup::repo::prune::{self, KeepPolicy, PruneOptions};
use entra_backup::repo::testing::Kill;
use entra_backup::{Error, ErrorKind};
use entra_backup_sim::SimServer;

use super::world::{self, Disk, State};
use super::{Budget, figure};

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
async fn base(op: Op, sim: &SimServer, disk: Disk) -> Disk {
    let repo = world::init(&disk).await;
    // Changes between backups large enough to fill packs; prune's base changes most of the tenant,
    // so that whole packs fall unused.
    let churn = if op == Op::Prune { 0.8 } else { 0.3 };
    let backup = |seed: u64| {
        let repo = repo.clone();
        async move {
            if seed > 0 {
                sim.churn(churn, seed);
            }
            world::backup(sim, &repo, false).await.unwrap();
        }
    };
    match op {
        Op::FirstBackup => {}
        Op::IncrementalBackup => {
            backup(0).await;
            sim.churn(0.3, 7);
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
            // A prune killed earlier left its lease: this one takes it over.
            let _left_by_a_killed_prune = prune::acquire_lease(&repo).await.unwrap();
            world::lease_of_a_dead_process(repo.store()).await;
        }
    }
    disk
}

/// The snapshots of `before` that must survive `op`.
fn must_keep(
    op: Op,
    before: &State,
    repo_snapshots: &[(String, entra_backup::repo::snapshot::SnapshotFile)],
) -> BTreeSet<String> {
    match op {
        Op::Forget => repo_snapshots.last().map(|(id, _)| id.clone()).into_iter().collect(),
        _ => before.keys().cloned().collect(),
    }
}

/// How the process dies at the chosen write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Death {
    /// The write never reaches storage.
    Before,
    /// The write lands; the process dies before it hears so.
    After,
    /// The write is cut off halfway: on a local disk its staging file stays behind.
    Torn,
}

/// Cases that fail because of a bug another change of issue 12 fixes: reported, not failed.
/// Remove a line when its fix is merged (the test then says it no longer fails).
const KNOWN: &[(Death, &str)] = &[];

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

async fn matrix(op: Op, seed: u64, disk: Disk, deaths: &[Death]) {
    let budget = super::budget();
    let sim = world::start_sim(seed).await;
    let where_ = if matches!(disk, Disk::Local(_)) { "local disk" } else { "memory" };
    let base = base(op, &sim, disk).await;
    let base_repo = world::open(base.store()).await.unwrap();
    let before = world::state(&base_repo).await;
    let keep = must_keep(op, &before, &base_repo.snapshots().await.unwrap());

    // Count the writes of one undisturbed run.
    let counted = base.fork();
    let (counting, store) = counted.faulty(0, Kill::Before);
    run(op, &sim, &world::open(store).await.unwrap()).await.unwrap();
    let writes = counting.writes();
    assert!(writes > 0, "{}: wrote nothing", op.name());
    let mut ops: Vec<String> =
        counting.log().into_iter().map(|w| format!("{} {}", w.op, w.path.split('/').next().unwrap_or(""))).collect();
    ops.dedup();

    let (mut cases, mut killed, mut survived, mut known) = (0u64, 0u64, 0u64, Vec::new());
    for k in sample(writes, budget) {
        for &death in deaths {
            let case = format!("{} on {where_} killed {death:?} write {k} of {writes}", op.name());
            let disk = base.fork();
            let (faulty, store) = disk.faulty(k, if death == Death::After { Kill::After } else { Kill::Before });
            let repo = world::open(store).await.unwrap();
            let result = run(op, &sim, &repo).await;
            cases += 1;
            let mut torn = None;
            if faulty.is_dead() {
                killed += 1;
                let at = faulty.log().into_iter().find(|w| w.number == k).expect("the killing write is logged");
                assert!(result.is_err(), "{case} ({at:?}): reported success");
                if death == Death::Torn && at.op != "delete" {
                    torn = disk.tear(&at.path);
                }
            } else {
                // This run wrote less than the counting one (concurrent packs cut differently).
                result.unwrap_or_else(|e| panic!("{case}: not killed, yet failed: {e}"));
            }
            match survive(op, &sim, &disk, &before, &keep, torn.as_deref()).await {
                Ok(()) => survived += 1,
                Err(e) => match KNOWN.iter().find(|(d, _)| *d == death) {
                    Some((_, owner)) => known.push(format!("{case} ({owner}): {e}")),
                    None => panic!("{case}: {e}"),
                },
            }
        }
    }
    for k in &known {
        figure(&format!("crash KNOWN FAILURE {k}"));
    }
    figure(&format!(
        "crash matrix, {} on {where_}: {writes} writes ({}), {cases} cases, {killed} kills, {survived} survived, {} known failures",
        op.name(),
        ops.join(", "),
        known.len()
    ));
}

/// What the next process finds after the kill, and what it can do.
async fn survive(
    op: Op,
    sim: &SimServer,
    disk: &Disk,
    before: &State,
    keep: &BTreeSet<String>,
    torn: Option<&str>,
) -> world::Outcome {
    let store = disk.store();
    world::lease_of_a_dead_process(&store).await;
    let repo = world::open(store).await.map_err(|e| format!("the repository does not open: {e}"))?;
    let warnings = world::check_clean(&repo).await?;
    if let Some(staged) = torn
        && !warnings.iter().any(|w| w.contains(staged))
    {
        return Err(format!("check does not report the staging file {staged} ({} other warnings)", warnings.len()));
    }
    world::intact(before, &world::state(&repo).await, keep)?;

    run(op, sim, &repo).await.map_err(|e| format!("the next run failed: {e}"))?;
    world::check_clean(&repo).await.map_err(|e| format!("after the next run: {e}"))?;

    world::prune_until_quiet(&repo).await?;
    world::nothing_unreferenced(&repo, disk).await?;
    world::check_clean(&repo).await.map_err(|e| format!("after prune: {e}"))?;
    world::intact(before, &world::state(&repo).await, keep).map_err(|e| format!("after prune: {e}"))
}

const MEMORY: &[Death] = &[Death::Before, Death::After];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_backup_killed_at_any_write_loses_nothing() {
    matrix(Op::FirstBackup, 31, Disk::memory(), MEMORY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_backup_killed_at_any_write_loses_nothing() {
    matrix(Op::IncrementalBackup, 32, Disk::memory(), MEMORY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_killed_at_any_write_keeps_what_it_keeps() {
    matrix(Op::Forget, 33, Disk::memory(), MEMORY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_killed_at_any_write_loses_nothing() {
    matrix(Op::Prune, 34, Disk::memory(), MEMORY).await;
}

/// A local disk has no compare-and-swap: prune takes a stale lease over through a marker file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_killed_at_any_write_on_a_local_disk_loses_nothing() {
    matrix(Op::Prune, 36, Disk::local(), MEMORY).await;
}

/// On a local disk a write killed halfway leaves `object_store`'s staging file: check must report
/// it and prune remove it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_torn_at_any_write_on_a_local_disk_leaves_nothing_behind() {
    matrix(Op::FirstBackup, 35, Disk::local(), &[Death::Torn]).await;
}
