//! The corruption matrix: every kind of repository file (config, key file, secrets key file, pack,
//! index, snapshot, id map, lease) damaged by a flipped byte, truncation, deletion and emptying.
//!
//! For every case: nothing panics; the damage is detected, by `open` or by `check --read-data 100`,
//! in a message that names the file; no snapshot reads back as other data than it held (a
//! snapshot either reads exactly as before or fails); and what was not damaged stays readable.

use std::collections::BTreeSet;

use bytes::Bytes;
use entra_backup::__private::RepositoryInternals;
use entra_backup::ErrorKind;
use entra_backup::repo::IdMap;
use entra_backup::repo::Repository;
use entra_backup::repo::check::{self, CheckOptions};
use entra_backup::repo::prune;
use futures::TryStreamExt;

use super::figure;
use super::world::{self, Disk, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Config,
    Key,
    SecretsKey,
    Pack,
    Index,
    Snapshot,
    IdMap,
    Lease,
}

const KINDS: [Kind; 8] =
    [Kind::Config, Kind::Key, Kind::SecretsKey, Kind::Pack, Kind::Index, Kind::Snapshot, Kind::IdMap, Kind::Lease];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    /// One bit flipped in the byte at this many eighths of the file (8: the last byte).
    FlipByte(usize),
    /// The last half cut off.
    Truncate,
    Delete,
    Empty,
}

/// The damages tried: under the short budget one flipped byte (in the middle), under the full
/// budget nine (from the first byte to the last).
fn damages() -> Vec<Damage> {
    let flips: Vec<usize> = match super::budget() {
        super::Budget::Short => vec![4],
        super::Budget::Full => (0..=8).collect(),
    };
    flips.into_iter().map(Damage::FlipByte).chain([Damage::Truncate, Damage::Delete, Damage::Empty]).collect()
}

/// Known failures are listed by kind of damage, whatever byte was flipped.
fn same_kind(a: Damage, b: Damage) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// Cases that fail because of a bug another change of issue 12 fixes: reported, not failed.
/// Remove a line when its fix is merged (the test then says it no longer fails).
const KNOWN: &[(Kind, Damage, &str)] = &[];

/// The repository every case starts from: two snapshots, an id map, and a prune lease left behind.
struct Base {
    disk: Disk,
    state: State,
    /// The snapshot ids, oldest first.
    snapshots: Vec<String>,
    /// A path of each kind.
    files: Vec<(Kind, String)>,
}

async fn base() -> Base {
    let sim = world::start_sim(41).await;
    let disk = Disk::memory();
    let repo = world::init(&disk).await;
    world::backup(&sim, &repo, false).await.unwrap();
    sim.churn(0.2, 5);
    let second = world::backup(&sim, &repo, false).await.unwrap();
    let mut map = IdMap::default();
    map.insert("old-id", "new-id");
    map.save(&repo, &second.snapshot_id, &sim.tenant_id()).await.unwrap();
    std::mem::forget(prune::acquire_lease(&repo).await.unwrap()); // as a killed prune leaves it

    let store = repo.store();
    let list = |dir: &'static str| async move {
        let mut paths: Vec<String> =
            store.list(dir).await.unwrap().into_iter().map(|m| m.location.to_string()).collect();
        paths.sort();
        paths
    };
    let snapshots: Vec<String> = repo.snapshots().await.unwrap().into_iter().map(|(id, _)| id).collect();
    // The pack holding the newest snapshot's first user, so that the damage is on a read path.
    let index = repo.load_index().await.unwrap();
    let (_, latest) = repo.find_snapshot(snapshots.last().unwrap()).await.unwrap();
    let users = repo.read_tree(&index, &latest.categories["users"].tree).await.unwrap();
    let blob = &users.values().next().unwrap().blob;
    let pack = index.lookup(blob).unwrap().0.to_string();
    let files = vec![
        (Kind::Config, "config".to_string()),
        (Kind::Key, list("keys").await[0].clone()),
        (Kind::SecretsKey, list("secrets-keys").await[0].clone()),
        (Kind::Pack, entra_backup::__private::pack::pack_path(&pack).unwrap()),
        (Kind::Index, list("index").await[0].clone()),
        (Kind::Snapshot, format!("snapshots/{}", snapshots.last().unwrap())),
        (Kind::IdMap, IdMap::path(&second.snapshot_id, &sim.tenant_id())),
        (Kind::Lease, prune::LEASE_PATH.to_string()),
    ];
    let state = world::state(&repo).await;
    Base { disk, state, snapshots, files }
}

async fn damage(disk: &Disk, path: &str, how: Damage) {
    let store = disk.store();
    let bytes = store.get(path).await.unwrap().unwrap_or_else(|| panic!("{path} is missing"));
    let damaged = match how {
        Damage::FlipByte(eighths) => {
            let mut b = bytes.to_vec();
            let i = (b.len() * eighths / 8).min(b.len() - 1);
            b[i] ^= 0x01;
            b
        }
        Damage::Truncate => bytes[..bytes.len() / 2].to_vec(),
        Damage::Empty => Vec::new(),
        Damage::Delete => {
            store.delete(path).await.unwrap();
            return;
        }
    };
    store.put(path, Bytes::from(damaged)).await.unwrap();
}

/// What one case found.
struct Found {
    /// What the program said: errors from open, check, unlocking secrets and loading the id map.
    messages: Vec<String>,
    /// Data the program returned as good that was not what was written.
    silent: Vec<String>,
    /// Snapshots that read back whole (exactly as before).
    readable: BTreeSet<String>,
}

async fn examine(base: &Base, disk: &Disk, kind: Kind, path: &str, case: &str) -> Found {
    let (mut messages, mut silent, mut readable) = (Vec::new(), Vec::new(), BTreeSet::new());
    let repo = match world::open(disk.store()).await {
        Ok(repo) => repo,
        Err(e) => {
            messages.push(format!("open: {e}"));
            return Found { messages, silent, readable };
        }
    };
    match check::check(&repo, &CheckOptions { read_data_percent: 100.0 }).await {
        Ok(report) => messages.extend(report.errors.into_iter().map(|e| format!("check: {e}"))),
        Err(e) => messages.push(format!("check failed: {e}")),
    }
    let mut secrets = repo.clone();
    if let Err(e) = secrets.unlock_secrets(&world::pass(world::SECRETS_PW)).await {
        messages.push(format!("unlock secrets: {e}"));
    }
    if kind == Kind::IdMap {
        let mut parts = path.split('/').skip(1);
        let (snap, tenant) = (parts.next().unwrap(), parts.next().unwrap());
        match IdMap::load(&repo, snap, tenant).await {
            Ok(map) if map.get("old-id") != "new-id" => silent.push(format!("id map {path} read without its entries")),
            Ok(_) => {}
            Err(e) => messages.push(format!("id map: {e}")),
        }
    }
    if kind == Kind::Lease {
        match prune::acquire_lease(&repo).await {
            Ok(guard) => guard.release(&repo).await.unwrap(),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Conflict, "{case}: taking the lease: {e}"),
        }
    }
    // No silent wrong data: a snapshot reads exactly as before, or not at all.
    let read_repo = if secrets.secrets_unlocked() { secrets } else { repo };
    for id in &base.snapshots {
        if read_whole(&read_repo, id, base, case).await {
            readable.insert(id.clone());
        }
    }
    Found { messages, silent, readable }
}

/// Read a snapshot's trees and every object (secrets too when unlocked); true if all of it reads
/// and equals what it held before; false if any part fails; a panic if it reads as other data.
async fn read_whole(repo: &Repository, id: &str, base: &Base, case: &str) -> bool {
    let Ok((_, snapshot)) = repo.find_snapshot(id).await else { return false };
    let Ok(index) = repo.load_index().await else { return false };
    for (name, cs) in &snapshot.categories {
        let Ok(entries) = repo.read_tree(&index, &cs.tree).await else { return false };
        assert!(base.state[id].get(name) == Some(&entries), "{case}: snapshot {id}: {name} reads as other objects");
        let objects = repo.objects(&index, entries, true, 64);
        if objects.try_collect::<Vec<_>>().await.is_err() {
            return false;
        }
    }
    true
}

/// Whether the damage was reported, naming the file.
fn detected(kind: Kind, how: Damage, path: &str, found: &Found) -> bool {
    let name = path.rsplit('/').next().unwrap();
    let names_it = |m: &String| m.contains(name);
    match (kind, how) {
        // A deleted snapshot is indistinguishable from a forgotten one; an unreadable lease is
        // taken over as stale. Neither loses data: "detected" is that nothing else is affected.
        (Kind::Snapshot, Damage::Delete) | (Kind::Lease, _) => found.messages.is_empty(),
        // A deleted file cannot be named by its content; a missing index shows as unindexed blobs.
        (Kind::Index, Damage::Delete) => !found.messages.is_empty(),
        (Kind::Key, Damage::Delete) => found.messages.iter().any(|m| m.contains("key file")),
        (Kind::SecretsKey, Damage::Delete) => found.messages.iter().any(|m| m.contains("secrets key file")),
        _ => found.messages.iter().any(names_it),
    }
}

/// Which snapshots must still read whole after damage to `kind`.
fn must_stay_readable(kind: Kind, base: &Base) -> BTreeSet<String> {
    match kind {
        // Without config or the key file nothing opens; a damaged pack or index takes its blobs
        // with it.
        Kind::Config | Kind::Key | Kind::Pack | Kind::Index => BTreeSet::new(),
        Kind::Snapshot => base.snapshots[..base.snapshots.len() - 1].iter().cloned().collect(),
        Kind::SecretsKey | Kind::IdMap | Kind::Lease => base.snapshots.iter().cloned().collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_file_damaged_every_way_is_detected_and_nothing_else_is_lost() {
    let base = base().await;
    let (mut cases, mut detected_n, mut known_seen) = (0, 0, Vec::new());
    let mut failures = Vec::new();
    let mut known_hit = std::collections::HashSet::new();
    for kind in KINDS {
        let path = &base.files.iter().find(|(k, _)| *k == kind).unwrap().1;
        for how in damages() {
            let case = format!("{kind:?} ({path}) {how:?}");
            let disk = base.disk.fork();
            damage(&disk, path, how).await;
            let found = examine(&base, &disk, kind, path, &case).await;
            cases += 1;
            let mut problems: Vec<String> = found.silent.iter().map(|s| format!("silently wrong: {s}")).collect();
            if detected(kind, how, path, &found) {
                detected_n += 1;
            } else {
                problems.push(format!("not detected, or not named (messages: {:?})", found.messages));
            }
            let lost: Vec<_> = must_stay_readable(kind, &base).difference(&found.readable).cloned().collect();
            if !lost.is_empty() {
                problems.push(format!("undamaged snapshots no longer read: {lost:?} (messages: {:?})", found.messages));
            }
            let known = KNOWN.iter().find(|(k, d, _)| *k == kind && same_kind(*d, how));
            match (problems.is_empty(), known) {
                (true, _) => {}
                (false, Some(k)) => {
                    known_hit.insert((k.0 as u8, std::mem::discriminant(&k.1)));
                    known_seen.push(format!("{case} ({}): {}", k.2, problems.join("; ")));
                }
                (false, None) => failures.push(format!("{case}: {}", problems.join("; "))),
            }
        }
    }
    for k in &known_seen {
        figure(&format!("corruption KNOWN FAILURE {k}"));
    }
    for (kind, how, owner) in KNOWN {
        if !known_hit.contains(&(*kind as u8, std::mem::discriminant(how))) {
            figure(&format!("corruption {kind:?} {how:?}: the known failure ({owner}) was not seen; remove it"));
        }
    }
    figure(&format!(
        "corruption matrix: {cases} cases ({} kinds x {} damages), {detected_n} detected, {} known failures",
        KINDS.len(),
        damages().len(),
        known_seen.len()
    ));
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}
