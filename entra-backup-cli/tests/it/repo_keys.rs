//! The repository's key files and the data/secrets split, end to end: the review's attack on the
//! secrets split, secret ids, damaged and planted key files, key management, and id maps bound to
//! their place.

use entra_backup_test_support as common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entra_backup::__private::RepositoryInternals;
use entra_backup::ErrorKind;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::IdMap;
use entra_backup::repo::backend::{self, Store};
use entra_backup::repo::check::{CheckOptions, check};
use entra_backup::repo::crypto::keyring::{self, KeyKind};
use entra_backup::repo::crypto::trust::{SecretsRecipient, TRUST_DIR_ENV};
use entra_backup::repo::crypto::{KdfParams, KeyFile, MasterKeys, SecretsKeyFile};
use entra_backup::repo::{Access, Repository};
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use entra_backup_sim::{SimConfig, SimServer};

use common::sim_tenant::source;

const PASSWORD: &str = "repo-keys data passphrase";
const SECRETS_PASSWORD: &str = "repo-keys secrets passphrase";

fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

fn store(dir: &Path) -> Store {
    backend::open(dir.to_str().expect("a UTF-8 temp path")).unwrap()
}

async fn init_repo(dir: &Path) -> Repository {
    Repository::init(store(dir), &pass(PASSWORD), Some(&pass(SECRETS_PASSWORD)), KdfParams::fast_for_tests())
        .await
        .unwrap()
}

async fn open_repo(dir: &Path) -> Repository {
    Repository::open(store(dir), &pass(PASSWORD)).await.unwrap()
}

fn categories() -> Vec<&'static Category> {
    ["devices", "bitlockerRecoveryKeys"].iter().map(|n| catalog::get(n).unwrap()).collect()
}

async fn sim() -> SimServer {
    SimServer::start(SimConfig { seed: 12, users: 20, groups: 2, throttle: false, ..SimConfig::default() })
        .await
        .unwrap()
}

/// Files under `dir/sub`, as `sub/<name>` paths.
fn files(dir: &Path, sub: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join(sub))
        .map(|d| d.map(|e| format!("{sub}/{}", e.unwrap().file_name().to_string_lossy())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The tool with the data passphrase only (as a backup runs) and its own trust folder.
fn cli(trust: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_entra-backup"));
    c.env("ENTRA_BACKUP_PASSWORD", PASSWORD)
        .env(TRUST_DIR_ENV, trust)
        .env_remove("ENTRA_BACKUP_SECRETS_PASSWORD")
        .env_remove("ENTRA_BACKUP_SECRETS_PUBLIC_KEY")
        .env_remove("ENTRA_BACKUP_REPOSITORY")
        .env_remove("AZURE_CLIENT_CERTIFICATE_PATH")
        .env_remove("AZURE_AUTHORITY_HOST")
        .stdin(Stdio::null());
    c
}

fn backup_cmd(trust: &Path, repo: &Path, sim: &SimServer) -> Command {
    let mut c = cli(trust);
    c.env("AZURE_TENANT_ID", sim.tenant_id())
        .env("AZURE_CLIENT_ID", "repo-keys")
        .env("AZURE_CLIENT_SECRET", "any secret")
        .args(["backup", "--categories", "devices,bitlockerRecoveryKeys", "--repo"])
        .arg(repo)
        .args(["--graph-url", sim.url(), "--authority-url", sim.url()]);
    c
}

/// Run a command off the runtime (the simulated tenant is served on it).
async fn run(mut cmd: Command) -> Output {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    out
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// What an attacker with the data passphrase does to the (version 2) key file: unwrap it with the
/// passphrase, put their own X25519 public key in place of the secrets public key, wrap it again
/// under the same passphrase in the version 1 format (which shows no public key), and store it in
/// place of the original. Written with the primitives, as an attacker would, not the library.
fn rewrap_with_attackers_public_key(dir: &Path, attacker: &[u8; 32]) {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let b64 = |t: &str| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, t).unwrap();
    let [path] = files(dir, "keys").try_into().unwrap();
    let mut file: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(&path)).unwrap()).unwrap();
    let kdf = &file["kdf"];
    let salt = b64(kdf["salt"].as_str().unwrap());
    let params = argon2::Params::new(
        kdf["memory_kib"].as_u64().unwrap() as u32,
        kdf["iterations"].as_u64().unwrap() as u32,
        kdf["parallelism"].as_u64().unwrap() as u32,
        Some(32),
    )
    .unwrap();
    let mut key = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(PASSWORD.as_bytes(), &salt, &mut key)
        .unwrap();
    let aead = XChaCha20Poly1305::new(&key.into());
    let data = b64(file["data"].as_str().unwrap());
    let mut aad = format!("entra-backup key file v2\0master\0{}\0", file["repository"].as_str().unwrap()).into_bytes();
    aad.extend_from_slice(&b64(file["public_key"].as_str().unwrap()));
    let mut payload =
        aead.decrypt(XNonce::from_slice(&data[..24]), Payload { msg: &data[24..], aad: &aad }).expect("real key file");
    payload[64..].copy_from_slice(attacker);
    let nonce = XNonce::from([7u8; 24]);
    let sealed = aead.encrypt(&nonce, Payload { msg: &payload, aad: b"entra-backup key file v1\0master\0" }).unwrap();
    file["version"] = 1.into();
    let object = file.as_object_mut().unwrap();
    object.remove("repository");
    object.remove("public_key");
    file["data"] =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [&nonce[..], &sealed].concat()).into();
    let json = serde_json::to_vec_pretty(&file).unwrap();
    std::fs::remove_file(dir.join(&path)).unwrap();
    std::fs::write(dir.join(keyring::key_file_path(KeyKind::Master, &json)), json).unwrap();
}

/// Issue 12, item 13, as the review reproduced it: with the data passphrase and write access to
/// the storage, re-wrap the key file with the real data and id keys but an attacker's public key,
/// prune the existing sealed secrets, and run a backup with the data passphrase only. The backup
/// refuses to seal, and `check` names the key that matches no secrets key file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_attack_on_the_secrets_split_is_refused() {
    let sim = sim().await;
    let work = tempfile::tempdir().unwrap();
    let (dir, trust) = (work.path().join("repo"), work.path().join("trust"));
    init_repo(&dir).await;

    // The operator's backups: the first pins the secrets public key on this machine.
    let out = run(backup_cmd(&trust, &dir, &sim)).await;
    assert!(out.status.success(), "{}", text(&out));
    let repo = open_repo(&dir).await;
    let real_public = *repo.cipher().secrets_public_key().unwrap();
    let [pin] = files(&trust, ".").try_into().unwrap();
    assert!(std::fs::read_to_string(trust.join(&pin)).unwrap().contains(&real_public.to_base64()));

    // The attack.
    let (attacker, attacker_secrets) = MasterKeys::generate();
    rewrap_with_attackers_public_key(&dir, attacker.secrets_public_key().as_bytes());
    for snapshot in files(&dir, "snapshots") {
        std::fs::remove_file(dir.join(snapshot)).unwrap();
    }
    let mut prune = cli(&trust);
    prune.args(["prune", "--grace", "0s", "--repo"]).arg(&dir);
    let out = run(prune).await;
    assert!(out.status.success(), "{}", text(&out));
    let repo = open_repo(&dir).await;
    assert_eq!(repo.cipher().secrets_public_key(), Some(attacker.secrets_public_key()), "the attack took");
    let packs_before = files(&dir, "data").len();

    // The next backup, with the data passphrase only, refuses to seal to the new recipient...
    let out = run(backup_cmd(&trust, &dir, &sim)).await;
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to seal secrets"), "{err}");
    assert!(err.contains(&attacker.secrets_public_key().to_base64()), "{err}");
    // ...and wrote nothing: no snapshot, no pack (so no secret sealed to the attacker).
    assert!(files(&dir, "snapshots").is_empty());
    assert_eq!(files(&dir, "data").len(), packs_before);
    let _ = attacker_secrets;

    // On a machine that never pinned the key, the first backup refuses too: no secrets key file
    // holds the attacker's key.
    let fresh = work.path().join("fresh-trust");
    let out = run(backup_cmd(&fresh, &dir, &sim)).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of its secrets key files holds"), "{}", text(&out));
    assert!(files(&fresh, ".").is_empty(), "nothing pinned");

    // check (with no secrets passphrase) flags the key that matches no secrets key file.
    let mut check_cmd = cli(&trust);
    check_cmd.args(["check", "--read-data", "100", "--repo"]).arg(&dir);
    let out = run(check_cmd).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("which no intact secrets key file holds"), "{}", text(&out));
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.iter().any(|e| e.contains(&attacker.secrets_public_key().to_base64())), "{report:#?}");
}

/// A second key file that opens with the data passphrase but seals to another key (planted beside
/// the real one, in the current format) is flagged by check: key files disagree.
#[tokio::test]
async fn check_flags_key_files_that_disagree_on_the_secrets_key() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    let repo = init_repo(&dir).await;
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.is_empty(), "{report:#?}");
    let (attacker, _) = MasterKeys::generate();
    // Same passphrase, the attacker's keys entirely (they cannot have the real data key without
    // the passphrase, but the check must not care which part differs).
    let json = KeyFile::create_with_passphrase(
        &attacker,
        &repo.config().id,
        &Secret::new(PASSWORD),
        KdfParams::fast_for_tests(),
    )
    .unwrap()
    .to_json();
    keyring::write(repo.store(), KeyKind::Master, json).await.unwrap();
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.iter().any(|e| e.contains("key files disagree")), "{report:#?}");
}

/// Issue 12, item 14: a secret's id is derived from its sealed box, so the id key (which every
/// holder of the data passphrase has) cannot confirm a guessed BitLocker key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_ids_name_the_sealed_box_not_the_secret() {
    let sim = sim().await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    let repo = init_repo(&dir).await;
    let src = source(&sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let mut options = BackupOptions::new(sim.tenant_id());
    options.secrets_recipient = SecretsRecipient::TrustDir(work.path().join("trust"));
    let cats = categories();
    let report = pipeline::backup(&src, &repo, options, &Progress::new(&cats)).await.unwrap();
    let mut repo = open_repo(&dir).await;
    repo.unlock_secrets(&pass(SECRETS_PASSWORD)).await.unwrap();
    let index = repo.load_index().await.unwrap();
    let tree = &report.snapshot.categories["bitlockerRecoveryKeys"].tree;
    let entries = repo.read_tree(&index, tree).await.unwrap();
    let ids: Vec<String> = entries.values().filter_map(|e| e.secret.clone()).collect();
    assert!(!ids.is_empty(), "the tenant has BitLocker keys");
    let sealed = repo.read_blobs(&index, &ids).await.unwrap();
    for (id, sealed) in ids.iter().zip(&sealed) {
        assert_eq!(&repo.cipher().id_hex(sealed), id);
        let secret = repo.open_secret(id, sealed).unwrap();
        assert!(secret.contains_key("key"));
        // The data-key holder's guess: the id key over the (guessed) plaintext, as ids were made.
        let plaintext = entra_backup::__private::canonical::map_to_vec(&secret);
        let mut guess = repo.cipher().id_hasher();
        guess.update(b"entra-backup secret\0").update(&plaintext);
        assert_ne!(&guess.finalize_hex(), id, "the id confirms a guessed key");
        assert_ne!(&repo.cipher().id_hex(&plaintext), id);
    }
}

/// Issue 12, item 4: check verifies every key file, secrets keys included, without a passphrase,
/// and names the damaged one; opening tells a damaged key file from a wrong passphrase.
#[tokio::test]
async fn damaged_key_files_are_named_and_told_from_a_wrong_passphrase() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    init_repo(&dir).await;
    let [key] = files(&dir, "keys").try_into().unwrap();
    let [secrets_key] = files(&dir, "secrets-keys").try_into().unwrap();
    let original = std::fs::read(dir.join(&key)).unwrap();
    let original_secrets = std::fs::read(dir.join(&secrets_key)).unwrap();
    type Damage = fn(&[u8]) -> Vec<u8>;
    let damages: [(&str, Damage); 3] = [
        ("flipped byte", |b| {
            let mut b = b.to_vec();
            let i = b.len() / 2;
            b[i] ^= 0x01;
            b
        }),
        ("truncated", |b| b[..b.len() - 7].to_vec()),
        ("empty", |_| Vec::new()),
    ];
    for (what, damage) in &damages {
        // The secrets key file: check names it; unlocking says it is damaged.
        std::fs::write(dir.join(&secrets_key), damage(&original_secrets)).unwrap();
        let mut repo = open_repo(&dir).await;
        let report = check(&repo, &CheckOptions { read_data_percent: 100.0 }).await.unwrap();
        assert!(report.errors.iter().any(|e| e.contains(&secrets_key) && e.contains("damaged")), "{what}: {report:#?}");
        let err = repo.unlock_secrets(&pass(SECRETS_PASSWORD)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{what}: {err}");
        assert!(err.message().contains(&secrets_key) && err.message().contains("damaged"), "{what}: {err}");
        std::fs::write(dir.join(&secrets_key), &original_secrets).unwrap();

        // The master key file: opening names it, with the right passphrase or a wrong one.
        std::fs::write(dir.join(&key), damage(&original)).unwrap();
        for passphrase in [PASSWORD, "a wrong passphrase"] {
            let err = Repository::open(store(&dir), &pass(passphrase)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{what}: {err}");
            assert!(err.message().contains(&format!("key file {key}: damaged")), "{what}: {err}");
        }
        std::fs::write(dir.join(&key), &original).unwrap();
    }
    // Intact files and a wrong passphrase: that, and only that.
    let err = Repository::open(store(&dir), &pass("a wrong passphrase")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!err.message().contains("damaged"), "{err}");
    let mut repo = open_repo(&dir).await;
    let err = repo.unlock_secrets(&pass("a wrong passphrase")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(repo.unlock_secrets(&Access::Plaintext).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.is_empty(), "{report:#?}");
}

/// Issue 12, item 16: a planted key file demanding 4 GiB and 64 passes is refused (not derived)
/// and named; key files are tried cheapest first; one malformed secrets key file does not stop
/// another from unlocking; a key file of another repository is named as such.
#[tokio::test]
async fn planted_and_malformed_key_files_do_not_block_the_good_ones() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    let repo = init_repo(&dir).await;
    let id = repo.config().id.clone();
    let [real] = files(&dir, "keys").try_into().unwrap();

    // Planted: the real file's JSON with the review's parameters.
    let mut planted: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(&real)).unwrap()).unwrap();
    planted["kdf"]["memory_kib"] = (4u64 * 1024 * 1024).into();
    planted["kdf"]["iterations"] = 64.into();
    let planted = serde_json::to_vec(&planted).unwrap();
    let planted_path = keyring::write(repo.store(), KeyKind::Master, planted).await.unwrap();
    let (_, opened) = keyring::open_master(repo.store(), &id, &pass(PASSWORD)).await.unwrap();
    assert_eq!(opened, real);
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.iter().any(|e| e.contains(&planted_path) && e.contains("out of range")), "{report:#?}");

    // Cheapest first: a second key file for the same passphrase at a higher cost is not the one
    // opened, whatever the names' order.
    let (keys, _) = keyring::open_master(repo.store(), &id, &pass(PASSWORD)).await.unwrap();
    let dearer = KdfParams { memory_kib: 64, iterations: 4, parallelism: 1 };
    keyring::write(repo.store(), KeyKind::Master, keyring::wrap_master(&keys, &id, &pass(PASSWORD), dearer).unwrap())
        .await
        .unwrap();
    assert_eq!(keyring::open_master(repo.store(), &id, &pass(PASSWORD)).await.unwrap().1, real);

    // A malformed and a damaged secrets key file beside the good one.
    keyring::write(repo.store(), KeyKind::Secrets, b"{\"version\": 2}".to_vec()).await.unwrap();
    std::fs::write(dir.join("secrets-keys").join("0".repeat(64)), b"not even json").unwrap();
    let mut reopened = open_repo(&dir).await;
    reopened.unlock_secrets(&pass(SECRETS_PASSWORD)).await.unwrap();

    // A key file of another repository (whose passphrase someone knows), copied in.
    let other_dir = work.path().join("other");
    let other = Repository::init(
        store(&other_dir),
        &pass("other pw"),
        Some(&pass("other secrets")),
        KdfParams::fast_for_tests(),
    )
    .await
    .unwrap();
    let [other_key] = files(&other_dir, "keys").try_into().unwrap();
    std::fs::copy(other_dir.join(&other_key), dir.join(&other_key)).unwrap();
    let err = Repository::open(store(&dir), &pass("other pw")).await.unwrap_err();
    assert!(err.message().contains("belongs to another repository"), "{err}");
    let _ = other;
    let secrets_file =
        SecretsKeyFile::from_json(&std::fs::read(other_dir.join(&files(&other_dir, "secrets-keys")[0])).unwrap())
            .unwrap();
    assert_eq!(secrets_file.repository(), Some(other_dir_id(&other_dir).as_str()));
}

fn other_dir_id(dir: &Path) -> String {
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config")).unwrap()).unwrap();
    config["id"].as_str().unwrap().to_string()
}

fn key_cmd(trust: &Path, repo: &Path, args: &[&str]) -> Command {
    let mut c = cli(trust);
    c.arg("key").args(args).arg("--repo").arg(repo);
    c
}

/// Issue 12, item 16: `key list / add / remove / passwd`, for the repository's keys and the
/// secrets key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_commands_add_change_and_remove_passphrases() {
    let work = tempfile::tempdir().unwrap();
    let (dir, trust) = (work.path().join("repo"), work.path().join("trust"));
    init_repo(&dir).await;
    let [first] = files(&dir, "keys").try_into().unwrap();

    // add: a second passphrase opens the repository.
    let mut add = key_cmd(&trust, &dir, &["add", "--kdf-memory-mib", "1", "--kdf-iterations", "1"]);
    add.env("ENTRA_BACKUP_NEW_PASSWORD", "second passphrase");
    let out = run(add).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(files(&dir, "keys").len(), 2);
    Repository::open(store(&dir), &pass("second passphrase")).await.unwrap();

    // list shows both kinds, without any passphrase being tried for secrets.
    let out = run(key_cmd(&trust, &dir, &["list", "--json"])).await;
    assert!(out.status.success(), "{}", text(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // remove: not the key that opens, nor an unknown id; another one, yes.
    let first_id = first.trim_start_matches("keys/");
    let out = run(key_cmd(&trust, &dir, &["remove", &first_id[..8]])).await;
    assert!(
        !out.status.success() && text(&out).contains("the key file your passphrase or key opens"),
        "{}",
        text(&out)
    );
    let out = run(key_cmd(&trust, &dir, &["remove", "ffffffff"])).await;
    assert!(!out.status.success(), "{}", text(&out));
    let mut remove = key_cmd(&trust, &dir, &["remove", &first_id[..8]]);
    remove.env("ENTRA_BACKUP_PASSWORD", "second passphrase");
    let out = run(remove).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(Repository::open(store(&dir), &pass(PASSWORD)).await.unwrap_err().kind(), ErrorKind::Authentication);

    // passwd: the old passphrase stops working, the new one works.
    let mut passwd = key_cmd(&trust, &dir, &["passwd", "--kdf-memory-mib", "1", "--kdf-iterations", "1"]);
    passwd.env("ENTRA_BACKUP_PASSWORD", "second passphrase").env("ENTRA_BACKUP_NEW_PASSWORD", "third passphrase");
    let out = run(passwd).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(files(&dir, "keys").len(), 1);
    assert_eq!(
        Repository::open(store(&dir), &pass("second passphrase")).await.unwrap_err().kind(),
        ErrorKind::Authentication
    );
    let repo = Repository::open(store(&dir), &pass("third passphrase")).await.unwrap();

    // passwd of the secrets key.
    let mut passwd =
        key_cmd(&trust, &dir, &["passwd", "--secrets-key", "--kdf-memory-mib", "1", "--kdf-iterations", "1"]);
    passwd
        .env("ENTRA_BACKUP_PASSWORD", "third passphrase")
        .env("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSWORD)
        .env("ENTRA_BACKUP_NEW_PASSWORD", "new secrets passphrase");
    let out = run(passwd).await;
    assert!(out.status.success(), "{}", text(&out));
    let mut repo = repo;
    assert_eq!(repo.unlock_secrets(&pass(SECRETS_PASSWORD)).await.unwrap_err().kind(), ErrorKind::Authentication);
    repo.unlock_secrets(&pass("new secrets passphrase")).await.unwrap();
    let report = check(&repo, &CheckOptions::default()).await.unwrap();
    assert!(report.errors.is_empty(), "{report:#?}");
}

/// Issue 12, item 15: an id map opens only at its own path and generation; one put back from an
/// older generation, or deleted, is refused where the restore ran.
#[tokio::test]
async fn id_maps_cannot_be_swapped_rolled_back_or_deleted_unnoticed() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("repo");
    let trust: PathBuf = work.path().join("trust");
    let repo = init_repo(&dir).await;
    let (a, b, tenant) = ("a".repeat(64), "b".repeat(64), "tenant-1");
    let mut map = IdMap::load_in(&repo, &a, tenant, Some(&trust)).await.unwrap();
    map.insert("old-1", "new-1");
    map.save_in(&repo, &a, tenant, Some(&trust)).await.unwrap();
    let first = std::fs::read(dir.join(IdMap::path(&a, tenant))).unwrap();
    map.insert("old-2", "new-2");
    map.save_in(&repo, &a, tenant, Some(&trust)).await.unwrap();
    let back = IdMap::load_in(&repo, &a, tenant, Some(&trust)).await.unwrap();
    assert_eq!((back.get("old-2"), back.generation()), ("new-2", 2));

    // Swapped into another snapshot's place: does not open.
    std::fs::create_dir_all(dir.join("restores").join(&b)).unwrap();
    std::fs::write(dir.join(IdMap::path(&b, tenant)), &first).unwrap();
    let err = IdMap::load_in(&repo, &b, tenant, Some(&trust)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    // Its generation changed in the header: does not open.
    let mut bumped = first.clone();
    bumped[8] = 9;
    std::fs::write(dir.join(IdMap::path(&a, tenant)), &bumped).unwrap();
    assert_eq!(IdMap::load_in(&repo, &a, tenant, Some(&trust)).await.unwrap_err().kind(), ErrorKind::Protocol);
    // Rolled back to generation 1: refused.
    std::fs::write(dir.join(IdMap::path(&a, tenant)), &first).unwrap();
    let err = IdMap::load_in(&repo, &a, tenant, Some(&trust)).await.unwrap_err();
    assert!(err.message().contains("rolled back"), "{err}");
    // Deleted: refused.
    std::fs::remove_file(dir.join(IdMap::path(&a, tenant))).unwrap();
    let err = IdMap::load_in(&repo, &a, tenant, Some(&trust)).await.unwrap_err();
    assert!(err.message().contains("deleted"), "{err}");
    // Honest limit: a machine that never saw the map cannot tell.
    assert!(IdMap::load_in(&repo, &a, tenant, None).await.unwrap().is_empty());
    // A machine that only read a map remembers its generation too.
    let reader: PathBuf = work.path().join("reader-trust");
    std::fs::remove_file(dir.join(IdMap::path(&b, tenant))).unwrap();
    let mut map_b = IdMap::load_in(&repo, &b, tenant, Some(&trust)).await.unwrap();
    map_b.insert("x", "y");
    map_b.save_in(&repo, &b, tenant, Some(&trust)).await.unwrap();
    let gen_b = std::fs::read(dir.join(IdMap::path(&b, tenant))).unwrap();
    map_b.save_in(&repo, &b, tenant, Some(&trust)).await.unwrap();
    IdMap::load_in(&repo, &b, tenant, Some(&reader)).await.unwrap();
    std::fs::write(dir.join(IdMap::path(&b, tenant)), &gen_b).unwrap();
    let err = IdMap::load_in(&repo, &b, tenant, Some(&reader)).await.unwrap_err();
    assert!(err.message().contains("rolled back"), "{err}");
}

/// `init` trusts the new secrets key on the machine that created it, so the window in which a
/// re-wrapped key file could be trusted on first use starts only on other machines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_pins_the_secrets_key_it_created() {
    let work = tempfile::tempdir().unwrap();
    let (dir, trust) = (work.path().join("repo"), work.path().join("trust"));
    let mut init = cli(&trust);
    init.env("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSWORD)
        .args(["init", "--kdf-memory-mib", "1", "--kdf-iterations", "1", "--repo"])
        .arg(&dir);
    let out = run(init).await;
    assert!(out.status.success(), "{}", text(&out));
    let repo = open_repo(&dir).await;
    let public = repo.cipher().secrets_public_key().unwrap().to_base64();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&public), "{}", text(&out));
    let [pin] = files(&trust, ".").try_into().unwrap();
    assert!(std::fs::read_to_string(trust.join(pin)).unwrap().contains(&public));
}

/// Issue 12, item 18: the same passphrase for data and secrets, and a password file other users
/// can read, are warned about on stderr; a passphrase with a line ending in the environment opens
/// what the same text in a file opened.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_passphrase_setups_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let (dir, trust) = (work.path().join("repo"), work.path().join("trust"));
    let mut init = cli(&trust);
    init.env("ENTRA_BACKUP_SECRETS_PASSWORD", PASSWORD)
        .args(["init", "--kdf-memory-mib", "1", "--kdf-iterations", "1", "--repo"])
        .arg(&dir);
    let out = run(init).await;
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the secrets passphrase is the repository passphrase"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");

    let password_file = work.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut snapshots = cli(&trust);
    snapshots.env_remove("ENTRA_BACKUP_PASSWORD").arg("snapshots").arg("--password-file").arg(&password_file);
    snapshots.arg("--repo").arg(&dir);
    let out = run(snapshots).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("can be read by other users"), "{}", text(&out));

    let mut with_newline = cli(&trust);
    with_newline.env("ENTRA_BACKUP_PASSWORD", format!("{PASSWORD}\n")).arg("snapshots").arg("--repo").arg(&dir);
    let out = run(with_newline).await;
    assert!(out.status.success(), "{}", text(&out));
}
