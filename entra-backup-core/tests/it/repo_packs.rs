//! Packs and indexes through the public API, on an in-memory and a local store, encrypted and
//! in plaintext.

use bytes::Bytes;
use entra_backup::__private::index::{Index, IndexFile, list_index_ids};
use entra_backup::__private::pack::{
    BlobEntry, BlobKind, DEFAULT_TARGET_SIZE, PackInfo, PackWriter, pack_path, read_blob, read_header,
};
use entra_backup::ErrorKind;
use entra_backup::repo::backend::{self, Store};
use entra_backup::repo::crypto::{Cipher, MasterKeys};

/// Each store (the tempdir, if any, lives as long as the store is used) with each cipher.
fn setups() -> Vec<(String, Store, Cipher, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    for encrypted in [true, false] {
        let cipher = || if encrypted { MasterKeys::generate().0.cipher() } else { Cipher::plaintext() };
        let label = if encrypted { "encrypted" } else { "plaintext" };
        out.push((format!("memory, {label}"), Store::memory(), cipher(), None));
        let dir = tempfile::tempdir().unwrap();
        let store = backend::open(dir.path().join("repo").to_str().unwrap()).unwrap();
        out.push((format!("local, {label}"), store, cipher(), Some(dir)));
    }
    out
}

/// A directory object's canonical JSON, about 1.5 KB, different for every `n`.
fn user_json(n: usize) -> Vec<u8> {
    let h = blake3::hash(&n.to_le_bytes()).to_hex();
    let groups: Vec<String> = (0..8).map(|g| format!("\"{}\"", &blake3::hash(&[n as u8, g]).to_hex()[..36])).collect();
    format!(
        concat!(
            "{{\"accountEnabled\":true,\"businessPhones\":[\"+1 425 555 {:04}\"],\"city\":\"Redmond\",",
            "\"createdDateTime\":\"2024-0{}-1{}T08:{:02}:00Z\",\"department\":\"Dept {}\",",
            "\"displayName\":\"User {n}\",\"givenName\":\"Given{n}\",\"id\":\"{}-{}-{}-{}-{}\",",
            "\"jobTitle\":\"Title {}\",\"mail\":\"user{n}@contoso.onmicrosoft.com\",",
            "\"memberOf\":[{}],\"mobilePhone\":null,\"officeLocation\":\"Building {}\",",
            "\"onPremisesImmutableId\":\"{}\",\"proxyAddresses\":[\"SMTP:user{n}@contoso.com\",",
            "\"smtp:u{n}@contoso.onmicrosoft.com\"],\"surname\":\"Surname{n}\",",
            "\"userPrincipalName\":\"user{n}@contoso.onmicrosoft.com\",\"extension\":\"{}\"}}"
        ),
        n % 10000,
        1 + n % 9,
        n % 10,
        n % 60,
        n % 37,
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32],
        n % 113,
        groups.join(","),
        n % 17,
        &h[32..56],
        blake3::hash(h.as_bytes()).to_hex().repeat(8),
        n = n,
    )
    .into_bytes()
}

async fn objects_under(store: &Store, prefix: &str) -> usize {
    store.list(prefix).await.unwrap().len()
}

/// Add every blob, writing packs as they fill and at the end.
async fn write_all(store: &Store, writer: &mut PackWriter, blobs: &[Vec<u8>]) -> (Vec<String>, Vec<PackInfo>) {
    let mut ids = Vec::new();
    let mut packs = Vec::new();
    for blob in blobs {
        let (id, written) = writer.add_and_flush(store, blob).await.unwrap();
        ids.push(id);
        packs.extend(written);
    }
    packs.extend(writer.finish(store).await.unwrap());
    (ids, packs)
}

#[tokio::test]
async fn many_blobs_round_trip_across_packs() {
    for (label, store, cipher, _dir) in setups() {
        let blobs: Vec<Vec<u8>> = (0..300).map(user_json).collect();
        let mut writer = PackWriter::new(BlobKind::Object, cipher.clone()).with_target_size(4 * 1024);
        let (ids, packs) = write_all(&store, &mut writer, &blobs).await;
        assert!(writer.is_empty(), "{label}");
        assert!(packs.len() >= 4, "{label}: {} packs", packs.len());
        assert_eq!(objects_under(&store, "data").await, packs.len(), "{label}");
        assert_eq!(packs.iter().map(|p| p.entries.len()).sum::<usize>(), blobs.len(), "{label}");

        for (blob, id) in blobs.iter().zip(&ids) {
            assert_eq!(*id, cipher.id_hex(blob), "{label}");
        }
        for pack in &packs {
            // The pack id is the unkeyed hash of the stored bytes: checkable without keys.
            let path = pack_path(&pack.id).unwrap();
            assert_eq!(path, format!("data/{}/{}", &pack.id[..2], pack.id));
            let stored = store.get(&path).await.unwrap().unwrap();
            assert_eq!(Cipher::plaintext().id_hex(&stored), pack.id, "{label}");
            if cipher.is_encrypted() {
                assert!(!stored.windows(11).any(|w| w == b"displayName"), "{label}: plaintext in an encrypted pack");
            }
            // The header says what the writer said.
            assert_eq!(read_header(&store, &cipher, &pack.id).await.unwrap(), pack.entries, "{label}");
            for entry in &pack.entries {
                assert_eq!(entry.kind, BlobKind::Object);
                let i = ids.iter().position(|id| *id == entry.id).unwrap();
                assert_eq!(entry.ulength, blobs[i].len() as u64);
                assert_eq!(read_blob(&store, &cipher, &pack.id, entry).await.unwrap(), blobs[i], "{label}");
            }
        }
    }
}

#[tokio::test]
async fn the_same_blob_is_stored_once() {
    for (label, store, cipher, _dir) in setups() {
        let mut writer = PackWriter::new(BlobKind::Tree, cipher.clone());
        let a = writer.add(b"{\"entries\":[]}").unwrap();
        let again = writer.add(b"{\"entries\":[]}").unwrap();
        assert_eq!(a, again, "{label}");
        assert_eq!(writer.len(), 1, "{label}");
        let b = writer.add(b"{\"entries\":[[\"x\",\"y\"]]}").unwrap();
        let first = writer.finish(&store).await.unwrap().unwrap();
        assert_eq!(first.entries.iter().map(|e| &e.id).collect::<Vec<_>>(), [&a, &b], "{label}");
        assert!(first.entries.iter().all(|e| e.kind == BlobKind::Tree));

        // Also across packs of one writer: nothing new, nothing written.
        writer.add(b"{\"entries\":[]}").unwrap();
        assert!(writer.is_empty(), "{label}");
        assert_eq!(writer.finish(&store).await.unwrap(), None, "{label}");

        // And against the index of an earlier backup.
        IndexFile::new(vec![first.clone()]).write(&store, &cipher).await.unwrap();
        let index = Index::load(&store, &cipher).await.unwrap();
        let mut next = PackWriter::new(BlobKind::Tree, cipher.clone());
        for id in [&a, &b] {
            if index.contains(id) {
                next.mark_stored(id.clone());
            }
        }
        next.add(b"{\"entries\":[[\"x\",\"y\"]]}").unwrap();
        assert_eq!(next.finish(&store).await.unwrap(), None, "{label}");
        assert_eq!(objects_under(&store, "data").await, 1, "{label}");

        // Writing the same pack twice (say, a retried backup) leaves one file.
        let mut twin = PackWriter::new(BlobKind::Tree, Cipher::plaintext());
        twin.add(b"same").unwrap();
        let one = twin.finish(&store).await.unwrap().unwrap();
        let mut twin = PackWriter::new(BlobKind::Tree, Cipher::plaintext());
        twin.add(b"same").unwrap();
        let two = twin.finish(&store).await.unwrap().unwrap();
        assert_eq!(one, two);
        assert_eq!(objects_under(&store, "data").await, 2, "{label}");
    }
}

#[tokio::test]
async fn a_full_backup_writes_a_handful_of_packs() {
    let dir = tempfile::tempdir().unwrap();
    let local = backend::open(dir.path().join("repo").to_str().unwrap()).unwrap();
    for (label, store) in [("memory", Store::memory()), ("local", local)] {
        let cipher = MasterKeys::generate().0.cipher();
        let mut writer = PackWriter::new(BlobKind::Object, cipher.clone());
        assert_eq!(writer.target_size(), DEFAULT_TARGET_SIZE);
        let mut ids = Vec::with_capacity(50_000);
        let mut packs = Vec::new();
        let mut plaintext_bytes = 0;
        for n in 0..50_000 {
            let blob = user_json(n);
            plaintext_bytes += blob.len();
            let (id, written) = writer.add_and_flush(&store, &blob).await.unwrap();
            ids.push(id);
            packs.extend(written);
        }
        packs.extend(writer.finish(&store).await.unwrap());
        let average = plaintext_bytes / 50_000;
        assert!((1300..=1800).contains(&average), "{label}: blobs average {average} bytes");

        let written = objects_under(&store, "data").await;
        eprintln!("{label}: {written} packs for {plaintext_bytes} bytes of JSON");
        assert_eq!(written, packs.len(), "{label}");
        assert!((1..=8).contains(&written), "{label}: {written} pack files for 50,000 objects");
        for meta in store.list("data").await.unwrap() {
            assert!(meta.size <= (DEFAULT_TARGET_SIZE + 64 * 1024) as u64 * 2, "{label}: a pack of {}", meta.size);
        }

        IndexFile::new(packs).write(&store, &cipher).await.unwrap();
        let index = Index::load(&store, &cipher).await.unwrap();
        assert_eq!(index.len(), 50_000, "{label}");
        for n in [0, 1, 12_345, 49_999] {
            let (pack, entry) = index.lookup(&ids[n]).unwrap();
            assert_eq!(read_blob(&store, &cipher, pack, &entry).await.unwrap(), user_json(n), "{label}");
        }
    }
}

#[tokio::test]
async fn a_flipped_byte_fails_naming_the_pack() {
    for (label, store, cipher, _dir) in setups() {
        let mut writer = PackWriter::new(BlobKind::Object, cipher.clone());
        let ids: Vec<String> = (0..5).map(|n| writer.add(&user_json(n)).unwrap()).collect();
        let pack = writer.finish(&store).await.unwrap().unwrap();
        let path = pack_path(&pack.id).unwrap();
        let original = store.get(&path).await.unwrap().unwrap();

        let victim: &BlobEntry = &pack.entries[2];
        assert_eq!(victim.id, ids[2]);
        let mut damaged = original.to_vec();
        damaged[(victim.offset + victim.length / 2) as usize] ^= 0x01;
        store.put(&path, Bytes::from(damaged)).await.unwrap();

        let err = read_blob(&store, &cipher, &pack.id, victim).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{label}: {err}");
        assert!(err.to_string().contains(&pack.id), "{label}: {err}");
        assert!(err.to_string().contains(&victim.id), "{label}: {err}");
        // Blobs share the damaged frame fail alike; blobs of other frames still read.
        for entry in pack.entries.iter().filter(|e| e.id != victim.id) {
            let read = read_blob(&store, &cipher, &pack.id, entry).await;
            assert_eq!(read.is_ok(), entry.offset != victim.offset, "{label}");
        }
        // And a pack check without keys sees the damage.
        let stored = store.get(&path).await.unwrap().unwrap();
        assert_ne!(Cipher::plaintext().id_hex(&stored), pack.id, "{label}");

        // A damaged header (encrypted: fails to authenticate; plaintext: fails to parse).
        let mut damaged = original.to_vec();
        let header_at = damaged.len() - 4 - 10;
        damaged[header_at] ^= 0xff;
        store.put(&path, Bytes::from(damaged)).await.unwrap();
        let err = read_header(&store, &cipher, &pack.id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{label}: {err}");
        assert!(err.to_string().contains(&pack.id), "{label}: {err}");

        // A bad header length.
        let mut damaged = original.to_vec();
        let n = damaged.len();
        damaged[n - 1] = 0xff;
        store.put(&path, Bytes::from(damaged)).await.unwrap();
        let err = read_header(&store, &cipher, &pack.id).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{label}: {err}");

        // Restored, it reads again; a missing pack is NotFound.
        store.put(&path, original).await.unwrap();
        assert_eq!(read_header(&store, &cipher, &pack.id).await.unwrap(), pack.entries);
        store.delete(&path).await.unwrap();
        assert_eq!(read_header(&store, &cipher, &pack.id).await.unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(read_blob(&store, &cipher, &pack.id, victim).await.unwrap_err().kind(), ErrorKind::NotFound);
    }
}

#[tokio::test]
async fn the_index_finds_every_blob_after_reload() {
    for (label, store, cipher, _dir) in setups() {
        let mut all = Vec::new();
        // Two backups, each with object, tree and secret packs and one index.
        for backup in 0..2 {
            let mut files = Vec::new();
            for kind in [BlobKind::Object, BlobKind::Tree, BlobKind::Secret] {
                let mut writer = PackWriter::new(kind, cipher.clone()).with_target_size(8 * 1024);
                let blobs: Vec<Vec<u8>> = (0..40).map(|n| user_json(backup * 1000 + n + 100 * kind as usize)).collect();
                let (ids, packs) = write_all(&store, &mut writer, &blobs).await;
                all.extend(ids.into_iter().zip(blobs).map(|(id, blob)| (id, kind, blob)));
                files.extend(packs);
            }
            IndexFile::new(files).write(&store, &cipher).await.unwrap();
        }
        assert_eq!(list_index_ids(&store).await.unwrap().len(), 2, "{label}");

        let index = Index::load(&store, &cipher).await.unwrap();
        assert_eq!(index.files().len(), 2, "{label}");
        assert_eq!(index.len(), all.len(), "{label}");
        assert_eq!(index.pack_ids().count(), objects_under(&store, "data").await, "{label}");
        for (id, kind, blob) in &all {
            assert!(index.contains(id), "{label}");
            let (pack, entry) = index.lookup(id).unwrap();
            assert!(index.contains_pack(pack));
            assert_eq!(entry.kind, *kind);
            assert_eq!(read_blob(&store, &cipher, pack, &entry).await.unwrap(), *blob, "{label}");
        }
        assert!(!index.contains(&cipher.id_hex(b"never written")));
        assert!(index.lookup(&cipher.id_hex(b"never written")).is_none());

        // Index files are sealed, named by their content id, and checked on load.
        let some = &index.files()[0];
        let path = format!("index/{some}");
        let stored = store.get(&path).await.unwrap().unwrap();
        // zstd's magic number shows only when the index is not sealed.
        assert_eq!(cipher.is_encrypted(), !stored.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]), "{label}");
        let mut damaged = stored.to_vec();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0x01;
        store.put(&path, Bytes::from(damaged)).await.unwrap();
        let err = Index::load(&store, &cipher).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{label}: {err}");
        assert!(err.to_string().contains(some.as_str()), "{label}: {err}");
    }
}

#[tokio::test]
async fn superseded_index_files_are_ignored() {
    for (label, store, cipher, _dir) in setups() {
        let mut writer = PackWriter::new(BlobKind::Object, cipher.clone());
        let old_id = writer.add(b"{\"old\":1}").unwrap();
        let kept_id = writer.add(b"{\"kept\":1}").unwrap();
        let old_pack = writer.finish(&store).await.unwrap().unwrap();
        let old_index = IndexFile::new(vec![old_pack.clone()]).write(&store, &cipher).await.unwrap();

        // Compaction: repack the blob still needed, index it in a file superseding the old one.
        let mut writer = PackWriter::new(BlobKind::Object, cipher.clone());
        writer.add(b"{\"kept\":1}").unwrap();
        let new_pack = writer.finish(&store).await.unwrap().unwrap();
        let new_index =
            IndexFile { packs: vec![new_pack.clone()], supersedes: vec![old_index.clone()], delete: vec![] }
                .write(&store, &cipher)
                .await
                .unwrap();
        let read_back = IndexFile::read(&store, &cipher, &new_index).await.unwrap();
        assert_eq!(read_back.supersedes, std::slice::from_ref(&old_index), "{label}");

        let index = Index::load(&store, &cipher).await.unwrap();
        assert_eq!(index.files(), std::slice::from_ref(&new_index), "{label}");
        assert!(index.is_superseded(&old_index));
        assert!(!index.contains(&old_id), "{label}");
        assert!(!index.contains_pack(&old_pack.id), "{label}");
        assert_eq!(index.lookup(&kept_id).unwrap().0, new_pack.id, "{label}");

        // Prune deletes the superseded file; nothing changes.
        store.delete(&format!("index/{old_index}")).await.unwrap();
        store.delete(&pack_path(&old_pack.id).unwrap()).await.unwrap();
        let index = Index::load(&store, &cipher).await.unwrap();
        assert_eq!(index.files(), [new_index], "{label}");
        let (pack, entry) = index.lookup(&kept_id).unwrap();
        assert_eq!(read_blob(&store, &cipher, pack, &entry).await.unwrap(), b"{\"kept\":1}", "{label}");
    }
}

#[test]
fn index_file_json_is_the_documented_shape() {
    let entry = BlobEntry {
        kind: BlobKind::Secret,
        id: "a".repeat(64),
        offset: 0,
        length: 90,
        ulength: 40,
        uoffset: 0,
        base: None,
    };
    let file = IndexFile {
        packs: vec![PackInfo { id: "b".repeat(64), entries: vec![entry] }],
        supersedes: vec![],
        delete: vec![],
    };
    let json: serde_json::Value = serde_json::to_value(&file).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"packs": [{"id": "b".repeat(64), "blobs": [
            {"kind": "secret", "id": "a".repeat(64), "offset": 0, "length": 90, "ulength": 40, "uoffset": 0}
        ]}], "supersedes": []})
    );
    assert!(pack_path("../../etc").is_err());
    assert!(pack_path(&"A".repeat(64)).is_err());
}
