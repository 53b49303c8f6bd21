//! One conformance suite, run against every storage backend the repository can live on: a local
//! directory, memory, Azure Blob (Azurite) and S3 (moto). The emulators are real servers started
//! by `scripts/emulators start` (scripts/test does it); without them the Azure and S3 cases fail
//! instead of skipping, so a green run always means every backend was exercised.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use entra_backup::ErrorKind;
use entra_backup::repo::backend::{self, Backend, Store};

use common::emulator_url;
use entra_backup_test_support as common;

/// A prefix no other run (or earlier run against the same emulator) uses.
fn unique(name: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("conformance-{name}-{}-{nanos}", std::process::id())
}

fn names(metas: &[backend::ObjectMeta]) -> BTreeSet<String> {
    metas.iter().map(|m| m.location.to_string()).collect()
}

/// The suite. `store` must be empty; it is left empty.
async fn conformance(store: &Store) {
    let caps = store.capabilities();
    let at = store.location().to_string();

    // Missing objects.
    assert_eq!(store.get("missing/object").await.unwrap(), None, "{at}");
    assert!(store.head("missing/object").await.unwrap().is_none(), "{at}");
    let err = store.get_range("missing/object", 0..1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{at}: {err}");
    assert!(err.message().contains("missing/object"), "the message names the path: {err}");
    store.delete("missing/object").await.expect("deleting a missing object is fine");
    assert!(store.list("").await.unwrap().is_empty(), "{at}: the store starts empty");

    // Put, get, overwrite, head.
    store.put("plain/one", Bytes::from_static(b"first")).await.unwrap();
    assert_eq!(store.get("plain/one").await.unwrap().unwrap(), "first");
    store.put("plain/one", Bytes::from_static(b"second!")).await.unwrap();
    assert_eq!(store.get("plain/one").await.unwrap().unwrap(), "second!");
    let meta = store.head("plain/one").await.unwrap().unwrap();
    assert_eq!((meta.location.as_ref(), meta.size), ("plain/one", 7), "{at}: head is relative to the prefix");

    // put_if_absent: the first write wins and its content stays.
    assert!(store.put_if_absent("keys/k1", Bytes::from_static(b"first")).await.unwrap(), "{at}");
    assert!(!store.put_if_absent("keys/k1", Bytes::from_static(b"second")).await.unwrap(), "{at}");
    assert_eq!(store.get("keys/k1").await.unwrap().unwrap(), "first", "{at}");

    // 16 concurrent put_if_absent on one key: exactly one winner, and its bytes are stored.
    let racers = (0..16u8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { (i, store.put_if_absent("race/create", Bytes::from(vec![i; 64])).await.unwrap()) })
    });
    let winners: Vec<u8> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|(_, won)| *won)
        .map(|(i, _)| i)
        .collect();
    if caps.create_if_absent {
        assert_eq!(winners.len(), 1, "{at}: exactly one create wins, got {winners:?}");
        assert_eq!(store.get("race/create").await.unwrap().unwrap(), vec![winners[0]; 64], "{at}");
    }

    // get_range: exact bytes, including the first and the last.
    let blob: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    store.put("ranges/blob", Bytes::from(blob.clone())).await.unwrap();
    for range in [0..1, 10..20, 500..1000, 999..1000, 0..1000] {
        let got = store.get_range("ranges/blob", range.clone()).await.unwrap();
        assert_eq!(&got[..], &blob[range.start as usize..range.end as usize], "{at}: range {range:?}");
    }

    // list: exactly what was written under a prefix, at any depth; prefixes match whole segments.
    for path in ["list/x/1", "list/x/2", "list/y/deep/1", "listing/1", "list2/1"] {
        store.put(path, Bytes::from(path.to_string())).await.unwrap();
    }
    let listed = store.list("list/x").await.unwrap();
    assert_eq!(names(&listed), BTreeSet::from(["list/x/1".into(), "list/x/2".into()]), "{at}");
    assert!(listed.iter().all(|m| m.size == 8), "{at}: sizes {listed:?}");
    let all_list = names(&store.list("list").await.unwrap());
    assert_eq!(all_list, ["list/x/1", "list/x/2", "list/y/deep/1"].map(String::from).into(), "{at}");
    assert!(store.list("list/none").await.unwrap().is_empty(), "{at}");

    // update_if: compare-and-swap for a lease.
    let v1 = store.update_if("lease", Bytes::from_static(b"v1"), None).await.unwrap().expect("creating the lease");
    assert_eq!(store.update_if("lease", Bytes::from_static(b"again"), None).await.unwrap(), None, "{at}: exists");
    let (bytes, read_version) = store.get_versioned("lease").await.unwrap().unwrap();
    assert_eq!(bytes, "v1");
    if caps.conditional_update {
        assert_eq!(read_version.e_tag, v1.e_tag, "{at}: the version read is the version written");
        let v2 =
            store.update_if("lease", Bytes::from_static(b"v2"), Some(&v1)).await.unwrap().expect("current version");
        assert_eq!(store.update_if("lease", Bytes::from_static(b"v3"), Some(&v1)).await.unwrap(), None, "{at}: stale");
        assert_eq!(store.get("lease").await.unwrap().unwrap(), "v2", "{at}: a stale update changes nothing");

        let racers = (0..16u8).map(|i| {
            let (store, v2) = (store.clone(), v2.clone());
            tokio::spawn(async move { store.update_if("lease", Bytes::from(vec![i; 8]), Some(&v2)).await.unwrap() })
        });
        let won = futures::future::join_all(racers).await.into_iter().filter(|r| r.as_ref().unwrap().is_some()).count();
        assert_eq!(won, 1, "{at}: exactly one of 16 racing updates wins");

        // An update of an object deleted meanwhile loses too.
        let (_, current) = store.get_versioned("lease").await.unwrap().unwrap();
        store.delete("lease").await.unwrap();
        assert_eq!(store.update_if("lease", Bytes::from_static(b"v4"), Some(&current)).await.unwrap(), None, "{at}");
    } else {
        let err = store.update_if("lease", Bytes::from_static(b"v2"), Some(&v1)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{at}: {err}");
        assert!(err.message().contains("conditional_update"), "{err}");
        assert_eq!(store.get("lease").await.unwrap().unwrap(), "v1");
    }

    // Delete everything; the store is empty again.
    for meta in store.list("").await.unwrap() {
        store.delete(meta.location.as_ref()).await.unwrap();
    }
    assert!(store.list("").await.unwrap().is_empty(), "{at}: everything deleted");
    assert_eq!(store.get("plain/one").await.unwrap(), None);
}

/// Run the suite in `parent.child("suite")`, with objects around it that it must never touch:
/// a sibling, and siblings whose names start with the same characters.
async fn conformance_isolated(parent: &Store) {
    let outside = ["outside/sentinel", "suite2/x", "suite-x", "suite.txt"];
    for path in outside {
        parent.put(path, Bytes::from(format!("keep {path}"))).await.unwrap();
    }
    let store = parent.child("suite").unwrap();
    conformance(&store).await;
    let left = names(&parent.list("").await.unwrap());
    assert_eq!(left, outside.map(String::from).into(), "{}: only the sentinels remain", parent.location());
    for path in outside {
        assert_eq!(parent.get(path).await.unwrap().unwrap(), format!("keep {path}"));
        parent.delete(path).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::open(dir.path().join("repo").to_str().unwrap()).unwrap();
    assert_eq!(store.backend(), Backend::Local);
    assert!(!store.capabilities().conditional_update && store.capabilities().create_if_absent);
    assert!(dir.path().join("repo").is_dir(), "the directory is created");
    conformance_isolated(&store).await;

    // file:// and relative paths open the same directory.
    store.put("same", Bytes::from_static(b"here")).await.unwrap();
    let url = url::Url::from_directory_path(dir.path().join("repo")).unwrap();
    let by_url = backend::open(url.as_str()).unwrap();
    assert_eq!(by_url.get("same").await.unwrap().unwrap(), "here");
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count() - 1);
    let relative = format!("{up}{}", dir.path().join("repo").to_str().unwrap().trim_start_matches('/'));
    let by_relative = backend::open(&relative).unwrap();
    assert_eq!(by_relative.get("same").await.unwrap().unwrap(), "here", "{relative}");
    assert_eq!(by_relative.location(), store.location());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory() {
    let store = Store::memory();
    assert_eq!(store.capabilities(), backend::Capabilities { conditional_update: true, create_if_absent: true });
    conformance_isolated(&store).await;

    // Clones share the objects; every open("memory://") is a new, empty store.
    store.put("shared", Bytes::from_static(b"1")).await.unwrap();
    assert_eq!(store.clone().get("shared").await.unwrap().unwrap(), "1");
    let opened = backend::open("memory://").unwrap();
    opened.put("x", Bytes::from_static(b"1")).await.unwrap();
    assert_eq!(backend::open("memory://").unwrap().get("x").await.unwrap(), None);
    let prefixed = backend::open("memory://some/prefix").unwrap();
    assert_eq!((prefixed.location(), prefixed.prefix().as_ref()), ("memory://some/prefix", "some/prefix"));
    assert_eq!(Store::memory().child("a/b").unwrap().location(), "memory://a/b");
    conformance_isolated(&prefixed).await;

    // A store that claims neither atomic operation: put_if_absent degrades to check-then-write and
    // update_if with a version is refused.
    let none = backend::Capabilities { conditional_update: false, create_if_absent: false };
    let weak = Arc::new(object_store::memory::InMemory::new());
    conformance_isolated(&Store::from_object_store(weak, "weak", Backend::Memory, none).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn azure_blob_on_azurite() {
    let base = emulator_url("ENTRA_BACKUP_TEST_AZURE", "ENTRA_BACKUP_TEST_AZURE_URL", "Azurite");
    let store = backend::open(&format!("{base}/{}", unique("azure"))).unwrap();
    assert_eq!(store.backend(), Backend::Azure);
    assert!(store.location().starts_with("az://"), "{store:?}");
    conformance_isolated(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_on_moto() {
    let base = emulator_url("ENTRA_BACKUP_TEST_S3", "ENTRA_BACKUP_TEST_S3_URL", "moto (S3)");
    let store = backend::open(&format!("{base}/{}", unique("s3"))).unwrap();
    assert_eq!(store.backend(), Backend::S3);
    assert!(store.capabilities().conditional_update && store.capabilities().create_if_absent);
    conformance_isolated(&store).await;

    // A storage failure is Io, naming the backend location and the path.
    let missing = backend::open("s3://no-such-bucket-for-entra-backup/p").unwrap();
    let err = missing.put("obj", Bytes::from_static(b"x")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.message().starts_with("writing s3://no-such-bucket-for-entra-backup/p/obj: "), "{err}");
}

#[test]
fn bad_urls_are_invalid_input() {
    let cases = [
        ("ftp://host/x", "unknown repository URL scheme `ftp://`"),
        ("s3://", "needs a bucket"),
        ("s3:///prefix", "needs a bucket"),
        ("az://", "needs a container"),
        ("azure://", "needs a container"),
        ("gs://", "needs a bucket"),
        ("", "empty repository location"),
        ("s3://bucket//double", "bad prefix"),
        ("s3://bucket/a%2F%2Fb", "bad prefix"),
        ("file://host/path", "must be absolute"),
    ];
    for (url, expected) in cases {
        let err = backend::open(url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}: {err}");
        assert!(err.message().contains(expected), "{url}: {err}");
    }
    let err = backend::open("ftp://host/x").unwrap_err();
    for scheme in ["file://", "memory://", "s3://", "az://", "azure://", "gs://"] {
        assert!(err.message().contains(scheme), "the message lists {scheme}: {err}");
    }
}

#[test]
fn credentials_in_urls_are_refused_and_never_echoed() {
    for url in [
        "s3://AKIAEXAMPLE:very-secret-key@bucket/prefix",
        "az://container/prefix?sv=2022&sig=very-secret-key",
        "gs://user@bucket/x",
    ] {
        let err = backend::open(url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("very-secret-key") && !text.contains("AKIAEXAMPLE"), "{text}");
    }
}

#[test]
fn cloud_urls_open_without_network_and_debug_shows_no_options() {
    let store = backend::open("gs://some-bucket/deep/prefix/").unwrap();
    assert_eq!((store.backend(), store.location()), (Backend::Gcs, "gs://some-bucket/deep/prefix"));
    assert_eq!(store.prefix().as_ref(), "deep/prefix");
    let debug = format!("{store:?}");
    assert!(debug.starts_with(r#"Store { location: "gs://some-bucket/deep/prefix", backend: Gcs"#), "{debug}");
    let store = backend::open("s3://bucket").unwrap();
    assert_eq!((store.backend(), store.location(), store.prefix().as_ref()), (Backend::S3, "s3://bucket", ""));
    let child = store.child("a/b").unwrap();
    assert_eq!((child.location(), child.prefix().as_ref()), ("s3://bucket/a/b", "a/b"));
}
