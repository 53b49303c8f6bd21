//! Restore benchmark: bring back 10,000 soft-deleted users and recreate 2,000 hard-deleted groups
//! carrying about 100,000 memberships, with Graph's throttling and write quotas on and 20 ms of
//! latency (the simulated tenant runs in its own process).
//!
//! Run: `cargo bench -p entra-backup-cli --bench restore` (or
//! `-- --users 2000 --groups 400 --memberships 20000` for a quicker look).
//!
//! Printed: writes and HTTP requests, against the minimum (`$batch` of 20; on create, 20 links
//! bound, owners first; then members twenty to a PATCH), the write-quota floor (3,000 writes per
//! 150 s per app and tenant, as a bucket that starts full: (writes - 3,000) / 20 per second), wall
//! time and peak RSS. Targets: wall time at most 1.3 times the floor; requests at most 1.1 times
//! the minimum.

#[path = "support.rs"]
mod support;
use support::{Tenant, flags, peak_rss_mb, start_sim_with, temp_repository, tenant_of};

use std::time::Instant;

use entra_backup::catalog;
use entra_backup::pipeline::{self, Progress};
use entra_backup::restore::{GraphRestorer, Outcome, RestoreOptions, restore};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{GraphSource, SnapshotSource, SourceOptions};
use serde_json::Value;

struct Args {
    users: usize,
    groups: usize,
    memberships: usize,
}

fn args() -> Args {
    let mut a = Args { users: 10_000, groups: 2_000, memberships: 100_000 };
    for (flag, value) in flags("--users N --groups N --memberships N") {
        match flag.as_str() {
            "--users" => a.users = value.parse().expect("--users N"),
            "--groups" => a.groups = value.parse().expect("--groups N"),
            "--memberships" => a.memberships = value.parse().expect("--memberships N"),
            other => panic!("unknown argument {other}; use --users N --groups N --memberships N"),
        }
    }
    a
}

async fn run(a: Args) {
    entra_backup::init_crypto();
    // Room for synced users, dynamic groups and distribution lists, which are not deleted.
    let (users, groups) = (a.users * 13 / 10, a.groups * 16 / 10);
    let sim = start_sim_with(users, groups, a.memberships * 16 / 10, 0.0);
    let http = reqwest::Client::new();
    let Tenant { id: tenant, credentials: creds, endpoints } = tenant_of(&sim).await;
    let (_repo_dir, repo) = temp_repository().await;
    let scope = vec![catalog::get("users").unwrap(), catalog::get("groups").unwrap()];
    println!(
        "== restore {} soft-deleted users and {} hard-deleted groups; tenant of {users} users and {groups} groups; \
         throttling and write quotas on, 20 ms latency",
        a.users, a.groups
    );

    let source = GraphSource::connect(&creds, &endpoints, SourceOptions::default()).unwrap();
    let started = Instant::now();
    let backup =
        pipeline::backup(&source, &repo, BackupOptions::new(tenant.clone()), &Progress::new(&scope)).await.unwrap();
    println!("backup of users and groups: {:.1} s", started.elapsed().as_secs_f64());

    // The damage, done inside the simulator so that it spends none of the write quota.
    let delete = |category: &str, count: usize, hard: bool| {
        let url = format!("{}/_sim/delete?category={category}&count={count}&hard={hard}", sim.url);
        let http = http.clone();
        async move {
            let v: Value = http.post(url).send().await.unwrap().json().await.unwrap();
            v["deleted"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    let gone_users = delete("users", a.users, false).await;
    let gone_groups = delete("groups", a.groups, true).await;
    assert_eq!((gone_users.len(), gone_groups.len()), (a.users, a.groups), "the tenant is too small");

    // What the deleted groups carried, from the snapshot.
    let snap = SnapshotSource::open(repo.clone(), &backup.snapshot_id, false).await.unwrap();
    let groups_cat = catalog::get("groups").unwrap();
    let (mut links, mut min_writes) = (0usize, a.users);
    for g in &gone_groups {
        let o = snap.object(groups_cat, g).await.unwrap().unwrap();
        let count = |rel: &str| o.get(rel).and_then(Value::as_array).map_or(0, Vec::len);
        let dynamic = o["groupTypes"].as_array().is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"));
        let n = count("owners") + if dynamic { 0 } else { count("members") };
        links += n;
        min_writes += 1 + n.saturating_sub(20).div_ceil(20);
    }
    println!(
        "deleted: {} users (into the recycle bin), {} groups (for good) with {links} members and owners",
        a.users, a.groups
    );

    let live = GraphSource::connect(&creds, &endpoints, SourceOptions::default()).unwrap();
    let restorer = GraphRestorer::new(live.client().clone());
    let options = RestoreOptions { categories: scope.clone(), ..RestoreOptions::default() };
    let started = Instant::now();
    let report = restore(&snap, &live, &restorer, &options).await.unwrap();
    let wall = started.elapsed().as_secs_f64();
    let s = &report.summary;
    if std::env::var_os("BENCH_DETAIL").is_some() {
        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
        for o in &report.objects {
            let key = format!("{} {:?} attrs={:?} links+={}", o.category, o.outcome, o.attributes, o.links_added.len());
            *by.entry(key).or_default() += 1;
        }
        for (k, n) in by.iter().rev().take(15) {
            println!("  {n:>6}  {k}");
        }
    }
    let restored = report.objects.iter().filter(|o| o.outcome == Outcome::Restored).count();
    let recreated = report.objects.iter().filter(|o| o.outcome == Outcome::Recreated).count();
    assert!(
        !report.failed(),
        "{:#?}",
        report.objects.iter().filter(|o| o.outcome == Outcome::Failed).take(5).collect::<Vec<_>>()
    );

    // Managers the recycle bin did not bring back (a user deleted with its manager comes back
    // without it): the second look at the restored users finds them, and each takes its own PUT.
    let puts: usize =
        report.objects.iter().map(|o| o.links_added.iter().filter(|l| l.starts_with("manager:")).count()).sum();
    let min_writes = min_writes + puts;
    // The fewest requests: the writes in envelopes of 20, and one read of what the planner must
    // know (each category's listing, the recycle bin, the surviving groups' links).
    let live_users = users - a.users;
    let live_groups = groups - a.groups;
    let min_reads = live_users.div_ceil(999)
        + a.users.div_ceil(999)
        + live_groups.div_ceil(999)
        + (live_groups * 2).div_ceil(20)
        + 2;
    let min_requests = min_writes.div_ceil(20) + min_reads;
    let floor = (s.writes as f64 - 3_000.0).max(0.0) / 20.0;
    println!(
        "restored from the recycle bin: {restored}; recreated: {recreated}; id map: {} entries",
        report.id_map.len()
    );
    println!(
        "writes: {} (minimum {min_writes}, of which {puts} managers the recycle bin did not bring back)",
        s.writes
    );
    println!(
        "requests: {} (minimum {min_requests}: {} write envelopes + {min_reads} reads)",
        s.requests,
        min_writes.div_ceil(20)
    );
    println!("write-quota floor: {floor:.1} s; wall time: {wall:.1} s");
    println!("peak RSS: {:.0} MB", peak_rss_mb());
    let wall_verdict = if floor < 1.0 {
        "no floor: every write fits in the quota's burst".to_string()
    } else {
        format!("{:.2} (target <= 1.3): {}", wall / floor, if wall <= 1.3 * floor { "met" } else { "MISSED" })
    };
    println!(
        "targets: wall / floor = {wall_verdict}; requests / minimum = {:.2} (target <= 1.1): {}",
        s.requests as f64 / min_requests as f64,
        if s.requests as f64 <= 1.1 * min_requests as f64 { "met" } else { "MISSED" },
    );
}

fn main() {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(run(args()));
}
