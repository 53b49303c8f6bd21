//! Backups in bounded memory: a backup whose memory budget is tiny (so that the parent's entries
//! and the changes spill to disk as sorted runs) writes exactly the snapshot a backup with the
//! default budget writes (the same trees, layers and figures; only the time differs), full and
//! incremental, and check and prune still pass on it.

use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::backend::Store;
use entra_backup::repo::check::{self, CheckOptions};
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::prune::{self, PruneOptions};
use entra_backup::repo::snapshot::SnapshotFile;
use entra_backup::repo::spill::{MemoryBudget, spilled_records_total};
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use entra_backup_sim::{SimConfig, SimServer};

use common::sim_tenant::source;
use entra_backup_test_support as common;

fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

fn all() -> Vec<&'static Category> {
    catalog::all().iter().collect()
}

/// Two repositories with the same keys (so the same content has the same ids in both).
async fn twin_repos() -> (Repository, Repository) {
    let a = Store::memory();
    Repository::init(a.clone(), &pass("data pw"), Some(&pass("secrets pw")), KdfParams::fast_for_tests())
        .await
        .unwrap();
    let b = Store::memory();
    for meta in a.list("").await.unwrap() {
        let path = meta.location.to_string();
        b.put(&path, a.get(&path).await.unwrap().unwrap()).await.unwrap();
    }
    (Repository::open(a, &pass("data pw")).await.unwrap(), Repository::open(b, &pass("data pw")).await.unwrap())
}

async fn backup(sim: &SimServer, repo: &Repository, full: bool, budget: Option<MemoryBudget>) -> SnapshotFile {
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let mut options = BackupOptions::new(sim.tenant_id());
    options.full = full;
    if let Some(b) = budget {
        options.memory_budget = b;
    }
    let report = pipeline::backup(&src, repo, options, &Progress::new(&all())).await.unwrap();
    assert!(report.summary.ok(), "{:#?}", report.summary);
    report.snapshot
}

/// A snapshot's content as the writer makes it: each category's tree and figures. Left out: the
/// times, the delta cursors (Graph's, with its clock in them), the directory audit log, which
/// grows between the two backups of a pair (the simulated tenant audits every read of a secret),
/// and the bytes each category added (a blob two categories share is counted in the one that
/// stored it first, which depends on how the categories' reads interleave). The tree of a category
/// with sealed secrets differs too (a secret is sealed with a random nonce, so its blob id differs
/// between repositories): its figures are compared, and its ids by [`same_ids`].
fn content(s: &SnapshotFile) -> serde_json::Value {
    let mut v = serde_json::to_value(&s.categories).unwrap();
    let categories = v.as_object_mut().unwrap();
    categories.remove("directoryAudits");
    for (name, c) in categories.iter_mut() {
        let c = c.as_object_mut().unwrap();
        if !catalog::get(name).unwrap().secret_properties.is_empty() {
            c.remove("tree");
        }
        c.remove("time");
        c.remove("cursor");
        c.remove("newBytes");
        c.remove("newTreeBytes");
    }
    serde_json::json!({ "categories": v, "failed": s.failed, "tenant": s.tenant.id })
}

/// Assert two snapshots have the same content, naming the first category that differs.
fn assert_same(a: &SnapshotFile, b: &SnapshotFile, what: &str) {
    let (a, b) = (content(a), content(b));
    for (name, ca) in a["categories"].as_object().unwrap() {
        assert_eq!(Some(ca), b["categories"].get(name), "{what}: {name}");
    }
    assert_eq!(a, b, "{what}");
}

/// The two latest snapshots hold the same object ids in every category (but the audit log).
async fn same_ids(a: &Repository, b: &Repository) {
    let (a, b) = (a.open_snapshot("latest", false).await.unwrap(), b.open_snapshot("latest", false).await.unwrap());
    for cat in a.categories().into_iter().filter(|c| c.name != "directoryAudits") {
        assert_eq!(a.ids(cat).await.unwrap(), b.ids(cat).await.unwrap(), "{}", cat.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_memory_budget_writes_the_same_snapshots() {
    let sim = SimServer::start(SimConfig { seed: 23, users: 400, groups: 60, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (default, tiny) = twin_repos().await;
    let budget = Some(MemoryBudget::bytes(4096));

    let spilled = spilled_records_total();
    let a = backup(&sim, &default, false, None).await;
    let b = backup(&sim, &tiny, false, budget).await;
    assert!(spilled_records_total() > spilled + 1000, "the tiny budget spilled");
    assert_same(&a, &b, "the first (full) backup");
    same_ids(&default, &tiny).await;

    // A little churn: incremental backups write layers over the parent's trees.
    sim.churn(0.02, 7);
    let a = backup(&sim, &default, false, None).await;
    let b = backup(&sim, &tiny, false, budget).await;
    assert!(a.categories.values().any(|c| c.changed + c.added + c.removed > 0));
    assert_same(&a, &b, "an incremental backup over a little churn");
    same_ids(&default, &tiny).await;

    // Much churn: whole tries again where a layer would be too large.
    sim.churn(0.4, 8);
    let a = backup(&sim, &default, false, None).await;
    let b = backup(&sim, &tiny, false, budget).await;
    assert_same(&a, &b, "an incremental backup over much churn");
    same_ids(&default, &tiny).await;

    // A full read with a parent: compared with the parent's entries.
    sim.churn(0.02, 9);
    let a = backup(&sim, &default, true, None).await;
    let b = backup(&sim, &tiny, true, budget).await;
    assert_same(&a, &b, "a full backup with a parent");
    same_ids(&default, &tiny).await;

    for repo in [&default, &tiny] {
        let report = check::check(repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap();
        assert!(report.ok(), "{report:#?}");
        prune::prune(repo, &PruneOptions::default()).await.unwrap();
        let report = check::check(repo, &CheckOptions::default()).await.unwrap();
        assert!(report.ok(), "{report:#?}");
    }
}
