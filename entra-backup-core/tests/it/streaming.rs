//! The streaming paths (issue 14) give exactly the results of whole-category, in-memory
//! comparisons: the snapshot and the live diff against a naive diff of every object held in maps,
//! and restore plans at any batch size, down to one object at a time.

use std::collections::BTreeMap;

use entra_backup::catalog::{self, Category};
use entra_backup::diff::{DiffKind, ObjectDiff, compare_objects, diff_live, diff_snapshots, display_name};
use entra_backup::repo::IdMap;
use entra_backup::restore::RestoreOptions;
use entra_backup::source::{
    CategoryStats, DEFAULT_STREAM_BATCH, SnapshotSource, Source, SourceOptions, set_stream_batch,
};
use entra_backup_sim::{Removal, SimConfig, SimServer};
use futures::TryStreamExt;
use serde_json::{Map, Value};

use crate::restore::{run_restore, snapshot_of};
use common::sim_tenant::source;
use entra_backup_test_support as common;

type Objects = BTreeMap<String, Map<String, Value>>;

/// What a diff says of one object, comparable across runs.
fn key(d: &ObjectDiff) -> String {
    serde_json::to_string(d).unwrap()
}

/// The naive diff of two whole categories held in maps, in id order.
fn naive(cat: &'static Category, before: &Objects, after: &Objects) -> Vec<ObjectDiff> {
    let ids: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        let (kind, name, attributes) = match (before.get(id), after.get(id)) {
            (Some(b), Some(a)) => {
                let attributes = compare_objects(cat, b, a);
                if attributes.is_empty() {
                    continue;
                }
                (DiffKind::Changed, display_name(a), attributes)
            }
            (Some(b), None) => (DiffKind::Removed, display_name(b), vec![]),
            (None, Some(a)) => (DiffKind::Added, display_name(a), vec![]),
            (None, None) => unreachable!(),
        };
        out.push(ObjectDiff { category: cat.name, id: id.clone(), display_name: name, kind, new_id: None, attributes });
    }
    out
}

async fn snapshot_objects(snap: &SnapshotSource, cat: &'static Category) -> Objects {
    snap.objects(cat).try_collect().await.unwrap()
}

async fn live_objects(live: &dyn Source, cat: &'static Category) -> Objects {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let stats = CategoryStats::default();
    let read = async move { live.read(cat, &tx, &stats).await.unwrap() };
    let collect = async move {
        let mut all = Objects::new();
        while let Some(o) = rx.recv().await {
            all.insert(o.id, o.json);
        }
        all
    };
    tokio::join!(read, collect).1
}

async fn drain<F: std::future::Future<Output = entra_backup::Result<entra_backup::DiffSummary>>>(
    run: impl FnOnce(tokio::sync::mpsc::Sender<ObjectDiff>) -> F,
) -> Vec<ObjectDiff> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let collect = async move {
        let mut all = Vec::new();
        while let Some(d) = rx.recv().await {
            all.push(d);
        }
        all
    };
    let (summary, all) = tokio::join!(run(tx), collect);
    let summary = summary.unwrap();
    assert_eq!(summary.added + summary.removed + summary.changed, all.len() as u64);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_diffs_and_restore_plans_equal_the_in_memory_results_at_any_batch_size() {
    let sim = SimServer::start(SimConfig { seed: 21, users: 120, groups: 24, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, first) = snapshot_of(&sim).await;
    // Changes, additions and removals, soft and for good.
    sim.churn(0.2, 5);
    {
        let mut t = sim.tenant_mut();
        let users: Vec<String> = t.objects("users").take(4).map(|u| u.id().to_string()).collect();
        t.remove("users", &users[0], Removal::SoftDeleted).unwrap();
        t.remove("users", &users[1], Removal::Deleted).unwrap();
    }
    let (_, second) = {
        let src = source(&sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
        let all: Vec<&'static Category> = catalog::all().iter().collect();
        let options = entra_backup::sink::BackupOptions::new(sim.tenant_id());
        let report =
            entra_backup::pipeline::backup(&src, &repo, options, &entra_backup::Progress::new(&all)).await.unwrap();
        ((), report.snapshot_id)
    };
    let cats: Vec<&'static Category> = catalog::all().iter().filter(|c| c.time_property.is_none()).collect();
    let before = SnapshotSource::open(repo.clone(), &first, false).await.unwrap();
    let after = SnapshotSource::open(repo.clone(), &second, false).await.unwrap();
    let live = source(&sim, "any", SourceOptions::default());
    // Churn again so that the live tenant differs from both snapshots.
    sim.churn(0.1, 9);

    let mut expected_snapshots = Vec::new();
    let mut expected_live = Vec::new();
    for &cat in &cats {
        let (b, a) = (snapshot_objects(&before, cat).await, snapshot_objects(&after, cat).await);
        expected_snapshots.extend(naive(cat, &b, &a));
        expected_live.extend(naive(cat, &b, &live_objects(&live, cat).await));
    }
    assert!(expected_snapshots.iter().any(|d| d.kind == DiffKind::Removed));
    assert!(expected_snapshots.iter().any(|d| d.kind == DiffKind::Added));
    assert!(expected_live.iter().any(|d| d.kind == DiffKind::Changed));
    let sorted = |v: &[ObjectDiff]| {
        let mut k: Vec<String> = v.iter().map(key).collect();
        k.sort();
        k
    };

    let map = IdMap::default();
    let mut plans = Vec::new();
    for batch in [1, 3, DEFAULT_STREAM_BATCH] {
        set_stream_batch(batch);
        let snapshots = drain(|tx| {
            let (before, after, cats) = (&before, &after, &cats);
            async move { diff_snapshots(before, after, cats, None, &tx).await }
        })
        .await;
        // Snapshot diffs come in id order within a category, as the naive one does.
        assert_eq!(
            snapshots.iter().map(key).collect::<Vec<_>>(),
            expected_snapshots.iter().map(key).collect::<Vec<_>>(),
            "snapshot diff, batch {batch}"
        );
        let lives = drain(|tx| {
            let (before, live, cats, map) = (&before, &live, &cats, &map);
            async move { diff_live(before, live, cats, None, map, &tx).await }
        })
        .await;
        assert_eq!(sorted(&lives), sorted(&expected_live), "live diff, batch {batch}");
        let mut plan =
            run_restore(&sim, &repo, &first, RestoreOptions { dry_run: true, ..RestoreOptions::default() }).await;
        plan.summary.duration_ms = 0;
        plan.summary.requests = 0;
        plans.push(serde_json::to_value(&plan).unwrap());
    }
    set_stream_batch(DEFAULT_STREAM_BATCH);
    assert!(plans[0]["summary"]["planned"].as_u64().unwrap() > 10, "{}", plans[0]["summary"]);
    assert_eq!(plans[0], plans[2], "restore plan, batch 1");
    assert_eq!(plans[1], plans[2], "restore plan, batch 3");
}
