//! The public conformance suites (`entra_backup::testing`, feature `testing`) run on this crate's
//! own sources and sinks, and fail on a source and a sink that break the contract, so that a
//! vendor's implementation that passes them keeps it too.

use std::panic::AssertUnwindSafe;

use entra_backup::catalog::{self, Category};
use entra_backup::repo::backend::Store;
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::{BackupOptions, JsonDirSink, RepositorySink, Sink};
use entra_backup::source::{Object, SnapshotSource, SourceOptions};
use entra_backup::testing::{self, FixtureSource, fixture_objects};
use entra_backup::{Error, Result, Secret};
use entra_backup_sim::{SimConfig, SimServer};
use futures::{FutureExt, TryStreamExt};

use entra_backup_test_support::sim_tenant::source;

fn categories() -> Vec<&'static Category> {
    ["users", "groups", "applications", "organization"].iter().map(|n| catalog::get(n).unwrap()).collect()
}

async fn small_tenant() -> SimServer {
    SimServer::start(SimConfig { seed: 5, users: 20, groups: 5, throttle: false, ..SimConfig::default() })
        .await
        .unwrap()
}

async fn memory_repo() -> Repository {
    let pass = Access::Passphrase(Secret::new("conformance"));
    let secrets = Access::Passphrase(Secret::new("conformance secrets"));
    Repository::init(Store::memory(), &pass, Some(&secrets), KdfParams::fast_for_tests()).await.unwrap()
}

/// Every object a repository's newest snapshot holds.
async fn latest_objects(repo: &Repository) -> Result<Vec<Object>> {
    let snapshot = repo.open_snapshot("latest", false).await?;
    let mut out = Vec::new();
    for category in snapshot.categories() {
        let mut objects = snapshot.objects(category);
        while let Some((id, json)) = objects.try_next().await? {
            out.push(Object { category, id, json });
        }
    }
    Ok(out)
}

/// Every object file of an export folder.
fn folder_objects(root: &std::path::Path) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for category in catalog::all() {
        let Ok(files) = std::fs::read_dir(root.join(category.name)) else { continue };
        for file in files {
            let path = file.map_err(|e| Error::io("cannot list the export", e))?.path();
            let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read an object file", e))?;
            let json = serde_json::from_slice(&bytes).map_err(|e| Error::invalid_input(e.to_string()))?;
            out.push(Object::new(category, json));
        }
    }
    Ok(out)
}

/// The message a suite panicked with.
fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graph_source_keeps_the_source_contract() {
    let sim = small_tenant().await;
    let graph = source(&sim, "any", SourceOptions::default());
    testing::source::conformance(&graph, &categories()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_source_keeps_the_source_contract() {
    let sim = small_tenant().await;
    let repo = memory_repo().await;
    let graph = source(&sim, "any", SourceOptions::default());
    let progress = entra_backup::pipeline::Progress::new(&categories());
    entra_backup::pipeline::backup(&graph, &repo, BackupOptions::new(sim.tenant_id()), &progress).await.unwrap();
    let snapshot = SnapshotSource::open(repo, "latest", false).await.unwrap();
    testing::source::conformance(&snapshot, &categories()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_folder_sink_keeps_the_sink_contract() {
    let dir = tempfile::tempdir().unwrap();
    let sink = JsonDirSink::new(dir.path());
    testing::sink::conformance(sink, async |s: &JsonDirSink| folder_objects(s.root())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repository_sink_keeps_the_sink_contract() {
    let repo = memory_repo().await;
    let cats: Vec<&'static Category> =
        catalog::all().iter().filter(|c| ["users", "groups", "applications"].contains(&c.name)).collect();
    let sink = RepositorySink::new(repo.clone(), BackupOptions::new("fixture-tenant"), &cats).await.unwrap();
    testing::sink::conformance(sink, async |_: &RepositorySink| latest_objects(&repo).await).await;
}

/// A sink that loses the first group it is given.
struct Lossy(JsonDirSink, std::sync::atomic::AtomicBool);

#[async_trait::async_trait]
impl Sink for Lossy {
    async fn put(&self, object: Object) -> Result<()> {
        if object.category.name == "groups" && !self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        self.0.put(object).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_loses_an_object_fails_the_sink_suite() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Lossy(JsonDirSink::new(dir.path()), false.into());
    let run = testing::sink::conformance(sink, async |s: &Lossy| folder_objects(s.0.root()));
    let failed = AssertUnwindSafe(run).catch_unwind().await.err().map(panic_message);
    let message = failed.expect("the suite passed a sink that loses an object");
    assert!(message.contains("rule 3") && message.contains("was not kept"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_sends_an_object_twice_fails_the_source_suite() {
    let mut objects = fixture_objects();
    objects.push(objects[0].clone());
    let twice = FixtureSource::new("fixture-tenant", objects);
    let users = categories();
    let run = testing::source::conformance(&twice, &users[..1]);
    let failed = AssertUnwindSafe(run).catch_unwind().await.err().map(panic_message);
    let message = failed.expect("the suite passed a source that sends an object twice");
    assert!(message.contains("rule 1") && message.contains("twice"), "{message}");
}
