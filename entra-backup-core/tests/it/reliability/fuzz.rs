//! Fuzzing of every decoder of repository data, on stable Rust: a small deterministic mutator
//! (bytes and JSON structure) over valid seeds, plus arbitrary bytes.
//!
//! Each target must, on every input: not panic; not ask for an allocation larger than
//! [`ALLOCATION_LIMIT`] (inputs are at most a few hundred KiB, so a larger buffer was sized from
//! what the input claims, not from what it holds); and never return other data than was written
//! (damaged authenticated or content-addressed data is an error, not a different value).
//! Plaintext repositories are fuzzed too: there, nothing authenticates the bytes, so every parser
//! is reached.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;
use entra_backup::__private::index::{IndexFile, index_path};
use entra_backup::__private::pack::{BlobKind, PackWriter, open_blob, pack_path, read_header};
use entra_backup::__private::tree::{self, Entries, Entry};
use entra_backup::Secret;
use entra_backup::repo::IdMap;
use entra_backup::repo::backend::{Backend, Store};
use entra_backup::repo::crypto::{Cipher, KdfParams, KeyFile, MasterKeys, RawKey, SecretsKeyFile};
use entra_backup::repo::snapshot::{SnapshotFile, snapshot_path};
use entra_backup::repo::{Access, Repository};
use object_store::memory::InMemory;
use serde_json::{Value, json};

use super::alloc::largest_allocation;
use super::world::CAPS;
use super::{Budget, figure};

/// The largest single allocation a decoder may ask for on these inputs.
const ALLOCATION_LIMIT: usize = 64 * 1024 * 1024;

/// Decoders known to size buffers from what the input claims, each owned by a fix in progress.
/// They are reported, not failed; remove a line when its fix is merged.
const KNOWN_LARGE_ALLOCATIONS: &[(&str, &str)] = &[];

/// A small deterministic generator (xorshift64*): the same seed gives the same inputs.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes no one would write: the values that trip length and offset arithmetic.
const INTERESTING: &[u64] = &[0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, 0xffff_ffff, u64::MAX, 1 << 32, 1 << 40];

/// One to four byte-level changes: bit flips, bytes set, ranges deleted, duplicated or inserted,
/// interesting little-endian numbers written over, truncation.
pub(super) fn mutate_bytes(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                out.drain(at..at + n);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(256));
                let chunk = out[at..at + n].to_vec();
                let to = rng.below(len + 1);
                out.splice(to..to, chunk);
            }
            4 => {
                let to = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(to..to, bytes);
            }
            5 if len >= 8 => {
                let at = rng.below(len - 7);
                let width = *rng.pick(&[1usize, 2, 4, 8]);
                let value = rng.pick(INTERESTING).to_le_bytes();
                out[at..at + width].copy_from_slice(&value[..width]);
            }
            6 => out.truncate(rng.below(len + 1)),
            _ if len > 0 => {
                // Around the ends, where lengths, trailers and headers are.
                let i = if rng.below(2) == 0 { rng.below(len.min(16)) } else { len - 1 - rng.below(len.min(16)) };
                out[i] = out[i].wrapping_add(1 + rng.below(255) as u8);
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out
}

/// One structural change to a JSON document: a value replaced by a hostile one (huge or negative
/// numbers, a long string, the wrong type, deep nesting), or an array element duplicated or dropped.
pub(super) fn mutate_json(rng: &mut Rng, input: &Value) -> Value {
    let mut out = input.clone();
    let mut slots = 0usize;
    count(&out, &mut slots);
    let target = rng.below(slots.max(1));
    let mut seen = 0usize;
    replace_nth(&mut out, target, &mut seen, rng);
    out
}

fn count(v: &Value, n: &mut usize) {
    *n += 1;
    match v {
        Value::Array(a) => a.iter().for_each(|x| count(x, n)),
        Value::Object(o) => o.values().for_each(|x| count(x, n)),
        _ => {}
    }
}

fn replace_nth(v: &mut Value, target: usize, seen: &mut usize, rng: &mut Rng) -> bool {
    if *seen == target {
        *v = hostile(rng, v);
        return true;
    }
    *seen += 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| replace_nth(x, target, seen, rng)),
        Value::Object(o) => o.values_mut().any(|x| replace_nth(x, target, seen, rng)),
        _ => false,
    }
}

fn hostile(rng: &mut Rng, old: &Value) -> Value {
    match rng.below(12) {
        0 => json!(u64::MAX),
        1 => json!(-1),
        2 => json!(4_294_967_295u64),
        3 => json!(1e308),
        4 => Value::Null,
        5 => json!("x".repeat(1 + rng.below(100_000))),
        6 => json!([]),
        7 => json!({}),
        8 => {
            let mut deep = json!(0);
            for _ in 0..rng.below(200) {
                deep = json!([deep]);
            }
            deep
        }
        9 => match old {
            Value::Array(a) if !a.is_empty() => {
                let mut a = a.clone();
                let i = rng.below(a.len());
                let x = a[i].clone();
                a.insert(i, x);
                Value::Array(a)
            }
            _ => json!(true),
        },
        10 => match old {
            Value::Array(a) if !a.is_empty() => {
                let mut a = a.clone();
                a.remove(rng.below(a.len()));
                Value::Array(a)
            }
            Value::String(s) => json!(format!("{s}{}", rng.next() % 10)),
            _ => json!("0"),
        },
        _ => json!(rng.next() % 1_000_000),
    }
}

fn arbitrary(rng: &mut Rng) -> Vec<u8> {
    let max = if rng.below(4) == 0 { 64 } else { 4096 };
    let n = rng.below(max);
    (0..n).map(|_| rng.next() as u8).collect()
}

/// Inputs per target.
fn iterations() -> usize {
    match super::budget() {
        Budget::Short => 300,
        Budget::Full => 20_000,
    }
}

/// What fuzzing one target found.
struct Outcome {
    inputs: usize,
    rejected: usize,
    largest: usize,
    over_limit: usize,
}

/// Feed `decode` mutated seeds and arbitrary bytes (JSON-aware mutations when `json`). `decode`
/// returns `Ok(true)` when it accepted the input, `Ok(false)` when it refused it, and `Err` when it
/// accepted it but returned other data than was written.
fn fuzz(name: &str, seed: u64, seeds: &[Vec<u8>], json: bool, mut decode: impl FnMut(&[u8]) -> Result<bool, String>) {
    let mut rng = Rng::new(seed);
    let parsed: Vec<Option<Value>> =
        seeds.iter().map(|s| if json { serde_json::from_slice(s).ok() } else { None }).collect();
    let mut outcome = Outcome { inputs: 0, rejected: 0, largest: 0, over_limit: 0 };
    let mut first_over: Option<(usize, Vec<u8>)> = None;
    for i in 0..iterations() {
        let k = rng.below(seeds.len());
        let input = match rng.below(8) {
            0 => arbitrary(&mut rng),
            1 => seeds[k].clone(),
            2..=4 if parsed[k].is_some() => {
                serde_json::to_vec(&mutate_json(&mut rng, parsed[k].as_ref().unwrap())).unwrap()
            }
            _ => mutate_bytes(&mut rng, &seeds[k]),
        };
        let (result, largest) = largest_allocation(|| catch_unwind(AssertUnwindSafe(|| decode(&input))));
        outcome.inputs += 1;
        outcome.largest = outcome.largest.max(largest);
        match result {
            Err(_) => panic!("{name}: input {i} panicked: {}", shown(&input)),
            Ok(Err(wrong)) => panic!("{name}: input {i} read back as other data ({wrong}): {}", shown(&input)),
            Ok(Ok(accepted)) => outcome.rejected += usize::from(!accepted),
        }
        if largest > ALLOCATION_LIMIT {
            outcome.over_limit += 1;
            first_over.get_or_insert((largest, input));
        }
    }
    figure(&format!(
        "fuzz {name}: {} inputs, {} refused, no panic, largest allocation {} KiB",
        outcome.inputs,
        outcome.rejected,
        outcome.largest / 1024
    ));
    if let Some((size, input)) = first_over {
        let known = KNOWN_LARGE_ALLOCATIONS.iter().find(|(target, _)| *target == name);
        let what = format!(
            "{name}: {} of {} inputs made it allocate more than {} MiB at once (first: {} MiB for {})",
            outcome.over_limit,
            outcome.inputs,
            ALLOCATION_LIMIT >> 20,
            size >> 20,
            shown(&input)
        );
        match known {
            Some((_, owner)) => figure(&format!("KNOWN FAILURE ({owner}): {what}")),
            None => panic!("unbounded allocation: {what}"),
        }
    } else if let Some((_, owner)) = KNOWN_LARGE_ALLOCATIONS.iter().find(|(target, _)| *target == name) {
        figure(&format!("fuzz {name}: the known failure ({owner}) was not seen; remove it from the list"));
    }
}

fn shown(input: &[u8]) -> String {
    let hex: String = input.iter().take(48).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes, starting {hex}", input.len())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub(super) fn memory() -> Store {
    Store::from_object_store(Arc::new(InMemory::new()), "", Backend::Memory, CAPS).unwrap()
}

fn fast() -> KdfParams {
    KdfParams::fast_for_tests()
}

/// A pack of a few object blobs, and its blob entries.
fn pack(cipher: &Cipher) -> entra_backup::__private::pack::SealedPack {
    let mut w = PackWriter::new(BlobKind::Object, cipher.clone());
    for i in 0..40 {
        w.add(format!(r#"{{"id":"obj-{i}","displayName":"Object {i}","n":{i}}}"#).as_bytes()).unwrap();
    }
    // A frame of its own above 64 KiB: its zstd header holds a 4-byte content size to mutate.
    w.add(format!(r#"{{"id":"large","notes":"{}"}}"#, "n".repeat(100_000)).as_bytes()).unwrap();
    w.take().unwrap().expect("a pack")
}

fn ciphers() -> [(&'static str, Cipher); 2] {
    [("plaintext", Cipher::plaintext()), ("encrypted", MasterKeys::generate().0.cipher())]
}

#[test]
fn pack_frames_and_headers_survive_any_bytes() {
    let rt = runtime();
    for (i, (mode, cipher)) in ciphers().into_iter().enumerate() {
        let sealed = pack(&cipher);
        let entries = sealed.info.entries.clone();
        // A frame as read with its range, with the entries that point into it.
        let frames: Vec<Vec<u8>> =
            entries.iter().map(|e| sealed.bytes[e.range().start as usize..e.range().end as usize].to_vec()).collect();
        let mut rng = Rng::new(7);
        fuzz(&format!("pack frame ({mode})"), 100 + i as u64, &frames, false, |stored| {
            let mut entry = rng.pick(&entries).clone();
            if rng.below(4) == 0 {
                entry.uoffset = *rng.pick(INTERESTING);
                entry.ulength = *rng.pick(INTERESTING);
            }
            match open_blob(&cipher, &sealed.info.id, &entry, stored) {
                Ok(plain) if cipher.id_hex(&plain) != entry.id => Err("a blob whose content is not its id".into()),
                Ok(_) => Ok(true),
                Err(_) => Ok(false),
            }
        });
        let store = memory();
        let id = sealed.info.id.clone();
        let path = pack_path(&id).unwrap();
        fuzz(&format!("pack header ({mode})"), 200 + i as u64, &[sealed.bytes.to_vec()], false, |bytes| {
            rt.block_on(async {
                store.put(&path, Bytes::copy_from_slice(bytes)).await.unwrap();
                Ok(read_header(&store, &cipher, &id).await.is_ok())
            })
        });
    }
}

/// A valid index file's JSON and a valid snapshot's JSON.
fn index_and_snapshot(cipher: &Cipher) -> (Vec<u8>, Vec<u8>) {
    let sealed = pack(cipher);
    let index = serde_json::to_vec(&IndexFile::new(vec![sealed.info])).unwrap();
    let snapshot = json!({
        "version": 1, "time": "2026-01-02T03:04:05Z", "tenant": {"id": "t", "domain": "x.example"},
        "parent": null,
        "categories": {"users": {"tree": cipher.id_hex(b"t"), "objects": 3, "read": "delta",
            "time": "2026-01-02T03:04:05Z", "cursor": "https://graph/x", "added": 1, "changed": 1, "removed": 1}},
        "failed": {"groups": "403"}, "summary": {"requests": 5, "objects": 3}, "tags": ["a"], "program": "p"
    });
    serde_json::from_value::<SnapshotFile>(snapshot.clone()).expect("the seed snapshot is valid");
    (index, serde_json::to_vec(&snapshot).unwrap())
}

/// Indexes and snapshots: the stored files (sealed, compressed) under their own id, and, in a
/// plaintext repository, any JSON written under its own id (so that the parser is reached).
#[test]
fn index_and_snapshot_files_survive_any_bytes() {
    let rt = runtime();
    for (i, (mode, cipher)) in ciphers().into_iter().enumerate() {
        let (index_json, snapshot_json) = index_and_snapshot(&cipher);
        let store = memory();
        let seal = |json: &[u8]| cipher.seal(&zstd::bulk::compress(json, 3).unwrap());
        let original: IndexFile = serde_json::from_slice(&index_json).unwrap();
        let index_id = cipher.id_hex(&index_json);
        // The second seed decompresses to more than 64 KiB (a 4-byte content size in its header).
        let padded = |json: &[u8]| seal(&[json, &[b' '; 70_000][..]].concat());
        let seeds = [seal(&index_json), padded(&index_json)];
        fuzz(&format!("index file ({mode})"), 300 + i as u64, &seeds, false, |bytes| {
            rt.block_on(async {
                store.put(&index_path(&index_id).unwrap(), Bytes::copy_from_slice(bytes)).await.unwrap();
                match IndexFile::read(&store, &cipher, &index_id).await {
                    Ok(file) if file != original => Err("an index other than the one written".into()),
                    Ok(_) => Ok(true),
                    Err(_) => Ok(false),
                }
            })
        });
        let snapshot: SnapshotFile = serde_json::from_slice(&snapshot_json).unwrap();
        let snapshot_id = cipher.id_hex(&snapshot_json);
        let seeds = [seal(&snapshot_json), padded(&snapshot_json)];
        fuzz(&format!("snapshot file ({mode})"), 400 + i as u64, &seeds, false, |bytes| {
            rt.block_on(async {
                store.put(&snapshot_path(&snapshot_id).unwrap(), Bytes::copy_from_slice(bytes)).await.unwrap();
                match SnapshotFile::read(&store, &cipher, &snapshot_id).await {
                    Ok(s) if s != snapshot => Err("a snapshot other than the one written".into()),
                    Ok(_) => Ok(true),
                    Err(_) => Ok(false),
                }
            })
        });
    }
    // Plaintext: the JSON parsers themselves, on documents stored under their own ids.
    let cipher = Cipher::plaintext();
    let (index_json, snapshot_json) = index_and_snapshot(&cipher);
    let store = memory();
    let stored = |json: &[u8]| Bytes::from(zstd::bulk::compress(json, 3).unwrap());
    fuzz("index JSON (plaintext)", 500, &[index_json], true, |json| {
        rt.block_on(async {
            let id = cipher.id_hex(json);
            store.put(&index_path(&id).unwrap(), stored(json)).await.unwrap();
            Ok(IndexFile::read(&store, &cipher, &id).await.is_ok())
        })
    });
    fuzz("snapshot JSON (plaintext)", 600, &[snapshot_json], true, |json| {
        rt.block_on(async {
            let id = cipher.id_hex(json);
            store.put(&snapshot_path(&id).unwrap(), stored(json)).await.unwrap();
            Ok(SnapshotFile::read(&store, &cipher, &id).await.is_ok())
        })
    });
}

#[test]
fn tree_nodes_survive_any_bytes() {
    let cipher = Cipher::plaintext();
    let mut entries = Entries::new();
    for i in 0..60 {
        let mut e = Entry::new(cipher.id_hex(format!("blob {i}").as_bytes()));
        if i % 7 == 0 {
            e.secret = Some(cipher.id_hex(format!("secret {i}").as_bytes()));
        }
        if i % 11 == 0 {
            e.chunks = vec![cipher.id_hex(format!("chunk {i}").as_bytes())];
        }
        entries.insert(format!("obj-{i:03}"), e);
    }
    let (root, nodes) = tree::build(&entries, &cipher);
    let mut seeds: Vec<Vec<u8>> = nodes.iter().map(|n| n.json.clone()).collect();
    let set: Entries = entries.iter().take(3).map(|(k, v)| (k.clone(), v.clone())).collect();
    seeds.push(tree::layer_node(&root, 0, &set, &["obj-010".into()], &cipher).json);
    fuzz("tree node", 700, &seeds, true, |json| {
        let id = cipher.id_hex(json);
        Ok(match tree::parse(&id, json) {
            Ok(tree::NodeData::Leaf { entries }) => tree::leaf_entries(entries).count() < usize::MAX,
            Ok(_) => true,
            Err(_) => false,
        })
    });
}

/// The repository id the fuzzed key files are bound to.
const REPO_ID: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

#[test]
fn key_files_and_sealed_secrets_survive_any_bytes() {
    let pw = Secret::new("pw");
    let raw = RawKey::generate();
    let (keys, secrets) = MasterKeys::generate();
    let probe = |c: &Cipher| c.id_hex(b"probe");
    let want = probe(&keys.cipher());
    let master = [
        KeyFile::create_with_passphrase(&keys, REPO_ID, &pw, fast()).unwrap(),
        KeyFile::create_with_key(&keys, REPO_ID, &raw),
    ];
    let seeds: Vec<Vec<u8>> = master.iter().map(KeyFile::to_json).collect();
    // The work a key file may demand is capped elsewhere (issue 12, item 16); only cheap
    // parameters are unlocked here, so that fuzzing measures the decoder, not Argon2.
    let cheap = |p: Option<KdfParams>| p.is_none_or(|p| p.memory_kib <= 1024 && p.iterations <= 2);
    fuzz("key file", 800, &seeds, true, |json| {
        let Ok(file) = KeyFile::from_json(json) else { return Ok(false) };
        if !cheap(file.kdf_params()) {
            return Ok(true);
        }
        let unlocked = file.unlock(&pw).or_else(|_| file.unlock_with_key(&raw));
        match unlocked {
            Ok(k) if probe(&k.cipher()) != want => Err("other master keys".into()),
            Ok(_) => Ok(true),
            Err(_) => Ok(false),
        }
    });
    let secrets_files = [
        SecretsKeyFile::create_with_passphrase(&secrets, REPO_ID, &pw, fast()).unwrap(),
        SecretsKeyFile::create_with_key(&secrets, REPO_ID, &raw),
    ];
    let seeds: Vec<Vec<u8>> = secrets_files.iter().map(SecretsKeyFile::to_json).collect();
    fuzz("secrets key file", 900, &seeds, true, |json| {
        let Ok(file) = SecretsKeyFile::from_json(json) else { return Ok(false) };
        if !cheap(file.kdf_params()) {
            return Ok(true);
        }
        match file.unlock(&pw).or_else(|_| file.unlock_with_key(&raw)) {
            Ok(k) if k.public_key() != secrets.public_key() => Err("another secrets key".into()),
            Ok(_) => Ok(true),
            Err(_) => Ok(false),
        }
    });
    let sealed = keys.cipher().seal_secret(br#"{"key":"123456-654321"}"#);
    fuzz("sealed secret", 1000, std::slice::from_ref(&sealed), false, |bytes| match secrets.open_secret(bytes) {
        Ok(_) if bytes != sealed.as_slice() => Err("a changed sealed box opened".into()),
        Ok(_) => Ok(true),
        Err(_) => Ok(false),
    });
    let cipher = keys.cipher();
    let data = cipher.seal(b"some data");
    fuzz("sealed data", 1100, std::slice::from_ref(&data), false, |bytes| match cipher.open(bytes) {
        Ok(_) if bytes != data.as_slice() => Err("changed sealed data opened".into()),
        Ok(_) => Ok(true),
        Err(_) => Ok(false),
    });
    fuzz("raw key and public key text", 1200, &[raw.encode().expose().as_bytes().to_vec()], false, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let a = RawKey::parse(&text).is_ok();
        let b = entra_backup::repo::crypto::SecretsPublicKey::from_base64(&text).is_ok();
        Ok(a || b)
    });
}

/// The small mutable files: config, id maps, the prune lease.
#[test]
fn config_id_maps_and_leases_survive_any_bytes() {
    let rt = runtime();
    let disk = Arc::new(InMemory::new());
    let store = Store::from_object_store(disk.clone(), "", Backend::Memory, CAPS).unwrap();
    let repo = rt
        .block_on(Repository::init(
            store.clone(),
            &Access::Passphrase(Secret::new("pw")),
            Some(&Access::Passphrase(Secret::new("s"))),
            fast(),
        ))
        .unwrap();
    let config = rt.block_on(store.get("config")).unwrap().unwrap().to_vec();
    fuzz("config", 1300, &[config], true, |bytes| {
        let fork = Store::from_object_store(Arc::new(disk.fork()), "", Backend::Memory, CAPS).unwrap();
        rt.block_on(async {
            fork.put("config", Bytes::copy_from_slice(bytes)).await.unwrap();
            Ok(Repository::open(fork, &Access::Passphrase(Secret::new("pw"))).await.is_ok())
        })
    });

    let plain = rt.block_on(Repository::init(memory(), &Access::Plaintext, None, fast())).unwrap();
    let mut map = IdMap::default();
    map.insert("old-1", "new-1");
    map.insert("old-2", "new-2");
    let map_json = serde_json::to_vec(&map).unwrap();
    let path = IdMap::path("snap", "tenant");
    fuzz("id map (plaintext)", 1400, std::slice::from_ref(&map_json), true, |bytes| {
        rt.block_on(async {
            plain.store().put(&path, Bytes::copy_from_slice(bytes)).await.unwrap();
            Ok(IdMap::load(&plain, "snap", "tenant").await.is_ok())
        })
    });
    let sealed_map = repo.cipher().seal(&map_json);
    fuzz("id map (encrypted)", 1500, std::slice::from_ref(&sealed_map), false, |bytes| {
        rt.block_on(async {
            repo.store().put(&path, Bytes::copy_from_slice(bytes)).await.unwrap();
            match IdMap::load(&repo, "snap", "tenant").await {
                Ok(_) if bytes != sealed_map.as_slice() => Err("a changed id map opened".into()),
                Ok(_) => Ok(true),
                Err(_) => Ok(false),
            }
        })
    });

    let lease = json!({"holder": "0123456789abcdef", "host": "elsewhere", "pid": 1, "since": "2026-01-01T00:00:00Z",
        "expires": "2026-01-01T06:00:00Z"});
    fuzz("prune lease", 1600, &[serde_json::to_vec(&lease).unwrap()], true, |bytes| {
        rt.block_on(async {
            plain.store().put(entra_backup::repo::prune::LEASE_PATH, Bytes::copy_from_slice(bytes)).await.unwrap();
            Ok(match entra_backup::repo::prune::acquire_lease(&plain).await {
                Ok(guard) => {
                    guard.release(&plain).await.unwrap();
                    true
                }
                Err(_) => false,
            })
        })
    });
}
