//! A long history: the parent of a backup is found through the tenant's latest-snapshot pointer,
//! reading O(1) snapshot files (and the same parent as reading them all, also when the pointer is
//! stale, damaged or names a forgotten snapshot); changed objects are stored as deltas that read
//! back as the tenant, pass check (down their chains) and survive prune.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, Result as OsResult,
};

use entra_backup::__private::RepositoryInternals;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::backend::{Backend, Capabilities, Store};
use entra_backup::repo::check::{CheckOptions, check};
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::prune::{self, PruneOptions};
use entra_backup::repo::{Access, Repository, SnapshotWriter};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{SnapshotSource, SourceOptions};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::json;

use common::sim_tenant::{assert_equal_to_ground_truth, source};
use entra_backup_test_support as common;

/// An in-memory store that counts GETs by path and whose clock moves an hour per write (so a
/// history made in a second looks like hourly backups to listings).
#[derive(Debug, Default)]
struct Counting {
    inner: InMemory,
    gets: Mutex<Vec<String>>,
    clock: Mutex<(i64, HashMap<String, i64>)>,
}

impl std::fmt::Display for Counting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("counting")
    }
}

impl Counting {
    fn snapshot_gets(&self) -> usize {
        self.gets.lock().unwrap().iter().filter(|p| p.starts_with("snapshots/")).count()
    }
    fn time_of(&self, path: &str) -> i64 {
        self.clock.lock().unwrap().1[path]
    }
    fn set_time(&self, path: &str, hours: i64) {
        self.clock.lock().unwrap().1.insert(path.to_string(), hours);
    }
    fn reset(&self) {
        self.gets.lock().unwrap().clear();
    }
    fn stamp(&self, meta: ObjectMeta) -> ObjectMeta {
        let hours = self.clock.lock().unwrap().1.get(meta.location.as_ref()).copied().unwrap_or(0);
        let real = meta.last_modified;
        let epoch = real - std::time::Duration::from_secs(real.timestamp() as u64);
        let t = epoch + std::time::Duration::from_secs(1_700_000_000 + hours as u64 * 3600);
        ObjectMeta { last_modified: t, ..meta }
    }
}

#[async_trait]
impl ObjectStore for Counting {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> OsResult<PutResult> {
        let r = self.inner.put_opts(location, payload, opts).await?;
        let mut c = self.clock.lock().unwrap();
        c.0 += 1;
        let now = c.0;
        c.1.insert(location.to_string(), now);
        Ok(r)
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> OsResult<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(&self, location: &Path, options: GetOptions) -> OsResult<GetResult> {
        if !options.head {
            self.gets.lock().unwrap().push(location.to_string());
        }
        let mut r = self.inner.get_opts(location, options).await?;
        r.meta = self.stamp(r.meta);
        Ok(r)
    }
    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> OsResult<Vec<Bytes>> {
        self.gets.lock().unwrap().push(location.to_string());
        self.inner.get_ranges(location, ranges).await
    }
    fn delete_stream(&self, locations: BoxStream<'static, OsResult<Path>>) -> BoxStream<'static, OsResult<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, OsResult<ObjectMeta>> {
        let stamped: Vec<OsResult<ObjectMeta>> =
            futures::executor::block_on(self.inner.list(prefix).collect::<Vec<_>>())
                .into_iter()
                .map(|m| m.map(|m| self.stamp(m)))
                .collect();
        futures::stream::iter(stamped).boxed()
    }
    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, OsResult<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> OsResult<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> OsResult<()> {
        self.inner.copy_opts(from, to, options).await
    }
    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> OsResult<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

fn all() -> Vec<&'static Category> {
    catalog::all().iter().collect()
}

async fn backup(sim: &SimServer, repo: &Repository) -> pipeline::BackupReport {
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let report = pipeline::backup(
        &src,
        repo,
        BackupOptions { deltas: true, ..BackupOptions::new(sim.tenant_id()) },
        &Progress::new(&all()),
    )
    .await
    .unwrap();
    assert!(report.summary.ok(), "{:#?}", report.summary);
    report
}

/// The parent a backup starts from now, and the snapshot files read to find it.
async fn parent(repo: &Repository, counting: &Counting, tenant: &str) -> (Option<String>, usize) {
    counting.reset();
    let writer = SnapshotWriter::new(repo.clone(), entra_backup::repo::BackupOptions::new(tenant), &[]).await.unwrap();
    (writer.parent_id().map(str::to_owned), counting.snapshot_gets())
}

/// What reading every snapshot chooses (the rule before pointers).
async fn parent_by_reading_all(repo: &Repository, tenant: &str) -> Option<String> {
    let list = repo.snapshot_list().await.unwrap();
    list.snapshots.into_iter().rev().find(|(_, s)| s.tenant.id == tenant).map(|(id, _)| id)
}

fn change_one_user(sim: &SimServer, n: usize) {
    let user = sim.tenant().objects("users").nth(n % 20).unwrap().id().to_string();
    let changes = json!({"jobTitle": format!("Title {n}"), "officeLocation": format!("Room {n}")});
    sim.tenant_mut().patch("users", &user, changes.as_object().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parent_is_found_reading_o1_snapshots_and_changed_objects_are_deltas_that_read_back() {
    let sim = SimServer::start(SimConfig { seed: 31, users: 60, groups: 8, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let counting = Arc::new(Counting::default());
    let caps = Capabilities { conditional_update: true, create_if_absent: true };
    let store = Store::from_object_store(counting.clone(), "", Backend::Memory, caps).unwrap();
    let repo =
        Repository::init(store.clone(), &pass("d"), Some(&pass("s")), KdfParams::fast_for_tests()).await.unwrap();
    let tenant = sim.tenant_id().to_string();
    let pointer_path = entra_backup::repo::latest::latest_path(&repo, &tenant);

    let mut ids = Vec::new();
    let mut old_pointer = None;
    let mut old_time = 0;
    for day in 0..12 {
        if day > 0 {
            change_one_user(&sim, day);
        }
        let report = backup(&sim, &repo).await;
        assert_eq!(report.snapshot.parent.as_ref(), ids.last(), "day {day}: the parent is the latest snapshot");
        ids.push(report.snapshot_id);
        if day == 9 {
            old_pointer = store.get(&pointer_path).await.unwrap();
            old_time = counting.time_of(&pointer_path);
        }
    }

    // The parent: the newest snapshot, reading one snapshot file of twelve.
    let (found, reads) = parent(&repo, &counting, &tenant).await;
    assert_eq!(found.as_ref(), ids.last());
    assert_eq!(found, parent_by_reading_all(&repo, &tenant).await);
    assert_eq!(reads, 1, "one snapshot file read to find the parent");

    // A stale pointer (as a backup killed before moving it leaves it): the newer snapshots written
    // since are found among the recent files, still without reading the whole history.
    store.put(&pointer_path, old_pointer.unwrap()).await.unwrap();
    counting.set_time(&pointer_path, old_time);
    let (found, reads) = parent(&repo, &counting, &tenant).await;
    assert_eq!(found.as_ref(), ids.last());
    assert_eq!(reads, 3, "snapshot files read for a pointer two backups behind");

    // A pointer to a forgotten snapshot is not used: the previous one is the parent.
    prune::forget_snapshots(&repo, &[ids[11].clone()], false).await.unwrap();
    let (found, _) = parent(&repo, &counting, &tenant).await;
    assert_eq!(found.as_ref(), Some(&ids[10]));
    assert_eq!(found, parent_by_reading_all(&repo, &tenant).await);

    // A damaged pointer is passed over (every snapshot read, as before pointers), and check says so.
    store.put(&pointer_path, Bytes::from_static(b"not a pointer")).await.unwrap();
    let (found, reads) = parent(&repo, &counting, &tenant).await;
    assert_eq!(found.as_ref(), Some(&ids[10]));
    assert_eq!(reads, 11);
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.ok(), "{:#?}", report.errors);
    assert!(report.warnings.iter().any(|w| w.starts_with(&pointer_path)), "{:#?}", report.warnings);

    // The next backup writes the pointer anew.
    change_one_user(&sim, 12);
    let last = backup(&sim, &repo).await;
    assert_eq!(last.snapshot.parent.as_ref(), Some(&ids[10]));
    let (found, reads) = parent(&repo, &counting, &tenant).await;
    assert_eq!(found.as_ref(), Some(&last.snapshot_id));
    assert_eq!(reads, 1);

    // Changed users were stored as deltas; their chains pass check, data included.
    let index = repo.load_index().await.unwrap();
    let deltas: Vec<String> = index
        .blobs()
        .filter(|(_, e)| e.kind == entra_backup::__private::pack::BlobKind::Delta)
        .map(|(_, e)| e.id.clone())
        .collect();
    assert!(deltas.len() >= 5, "{} deltas", deltas.len());
    assert!(repo.read_blobs(&index, &deltas).await.is_ok());
    let report = check(&repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap();
    assert!(report.ok(), "{:#?}", report.errors);

    // The newest snapshot reads back as the tenant; so does it after a prune that forgets all the
    // snapshots in between (the bases its deltas need are kept).
    let assert_is_tenant = |snapshot: String| {
        let (sim, repo) = (&sim, repo.clone());
        async move {
            let mut repo = repo;
            repo.unlock_secrets(&pass("s")).await.unwrap();
            let src = SnapshotSource::open(repo, &snapshot, true).await.unwrap();
            let dir = tempfile::tempdir().unwrap();
            let summary = pipeline::export(&src, dir.path(), &Progress::new(&src.categories())).await.unwrap();
            assert!(summary.ok(), "{summary:#?}");
            assert_equal_to_ground_truth(sim, dir.path(), true);
        }
    };
    assert_is_tenant(last.snapshot_id.clone()).await;
    prune::forget_snapshots(&repo, &ids[1..11], false).await.unwrap();
    let options = PruneOptions { grace: jiff::SignedDuration::ZERO, max_unused: 0.0, dry_run: false };
    prune::prune(&repo, &options).await.unwrap();
    prune::prune(&repo, &options).await.unwrap();
    let report = check(&repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap();
    assert!(report.ok(), "{:#?}", report.errors);
    assert_is_tenant(last.snapshot_id.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_1_repository_opens_and_is_written_without_deltas() {
    let sim = SimServer::start(SimConfig { seed: 32, users: 40, groups: 6, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let store = Store::memory();
    let repo =
        Repository::init(store.clone(), &pass("d"), Some(&pass("s")), KdfParams::fast_for_tests()).await.unwrap();
    assert!(repo.writes_deltas());
    // Made by the program before deltas: format version 1.
    let mut config: serde_json::Value = serde_json::from_slice(&store.get("config").await.unwrap().unwrap()).unwrap();
    config["version"] = json!(1);
    let mut c: entra_backup::repo::Config = serde_json::from_value(config.clone()).unwrap();
    c.checksum = Some(c.checksum_of());
    store.put("config", Bytes::from(serde_json::to_vec(&c).unwrap())).await.unwrap();
    let repo = Repository::open(store, &pass("d")).await.unwrap();
    assert!(!repo.writes_deltas());
    for day in 0..3 {
        change_one_user(&sim, day);
        backup(&sim, &repo).await;
    }
    let index = repo.load_index().await.unwrap();
    assert!(index.blobs().all(|(_, e)| e.kind != entra_backup::__private::pack::BlobKind::Delta));
    let report = check(&repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap();
    assert!(report.ok(), "{:#?}", report.errors);
    assert!(report.warnings.iter().any(|w| w.contains("format version 1")), "{:#?}", report.warnings);
}
