//! The repository's cryptography through its public API, as the repository code uses it.

use entra_backup::ErrorKind;
use entra_backup::Secret;
use entra_backup::repo::crypto::{
    Cipher, KdfParams, KeyFile, MasterKeys, PASSWORD_ENV, RawKey, SEAL_OVERHEAD, SecretsKeyFile,
    passphrase_from_env_or_file, seal_secret,
};

/// The id of the repository the key files below belong to.
const REPO: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A new repository, then a later session that opens it: once for browsing, once with the secrets.
#[test]
fn init_backup_browse_and_reveal() {
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "repository passphrase\n").unwrap();

    // init: keys, one key file per way in, and the secrets key under its own passphrase.
    let (keys, secrets) = MasterKeys::generate();
    let repo_pass = passphrase_from_env_or_file(PASSWORD_ENV, Some(&password_file)).unwrap().unwrap();
    let by_passphrase =
        KeyFile::create_with_passphrase(&keys, REPO, &repo_pass, KdfParams::fast_for_tests()).unwrap().to_json();
    let raw = RawKey::generate();
    let key_path = dir.path().join("repo.key");
    raw.write_new_file(&key_path).unwrap();
    let by_key = KeyFile::create_with_key(&keys, REPO, &raw).to_json();
    let secrets_pass = Secret::new("secrets passphrase");
    let secrets_file =
        SecretsKeyFile::create_with_passphrase(&secrets, REPO, &secrets_pass, KdfParams::fast_for_tests())
            .unwrap()
            .to_json();
    drop((keys, secrets));

    // backup: unlock with the passphrase; seal a snapshot and a BitLocker key.
    let keys = KeyFile::from_json(&by_passphrase).unwrap().unlock(&repo_pass).unwrap();
    let cipher = keys.cipher();
    let recovery = b"{\"key\":\"111111-222222-333333-444444-555555-666666-777777-888888\"}";
    let sealed_secret = cipher.seal_secret(recovery);
    let snapshot = b"{\"objects\":[\"...\"]}".to_vec();
    let stored_snapshot = cipher.seal(&snapshot);
    let stored_secret = cipher.seal(&sealed_secret);
    let snapshot_id = cipher.id_hex(&snapshot);
    assert_eq!(stored_snapshot.len(), snapshot.len() + SEAL_OVERHEAD);

    // browse: another session, opened with the raw key file; the secret stays sealed.
    let raw = RawKey::read_file(&key_path).unwrap();
    let keys2 = KeyFile::from_json(&by_key).unwrap().unlock_with_key(&raw).unwrap();
    assert_eq!(keys2, keys);
    let cipher2 = keys2.cipher();
    assert_eq!(cipher2.open(&stored_snapshot).unwrap(), snapshot);
    assert_eq!(cipher2.id_hex(&snapshot), snapshot_id);
    let still_sealed = cipher2.open(&stored_secret).unwrap();
    assert_eq!(still_sealed, sealed_secret);
    assert_eq!(cipher2.open(&still_sealed).unwrap_err().kind(), ErrorKind::Protocol);

    // reveal: the secrets key, unlocked with its own passphrase, opens the secret.
    let secrets_file = SecretsKeyFile::from_json(&secrets_file).unwrap();
    assert_eq!(&secrets_file.public_key().unwrap(), keys2.secrets_public_key());
    let err = secrets_file.unlock(&repo_pass).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let secrets = secrets_file.unlock(&secrets_pass).unwrap();
    assert_eq!(&secrets.open_secret(&still_sealed).unwrap()[..], &recovery[..]);
}

#[test]
fn wrong_passphrase_message_is_fixed_and_clean() {
    let (keys, _) = MasterKeys::generate();
    let file =
        KeyFile::create_with_passphrase(&keys, REPO, &Secret::new("Tr0ub4dor&3"), KdfParams::fast_for_tests()).unwrap();
    let err = file.unlock(&Secret::new("Tr0ub4dor&4")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.to_string(), "wrong passphrase for the repository (or a damaged key file)");
    assert!(!format!("{err:?}").contains("Tr0ub4dor"));
}

#[test]
fn corrupt_data_is_a_protocol_error() {
    let (keys, secrets) = MasterKeys::generate();
    let cipher = keys.cipher();
    let mut sealed = cipher.seal(b"pack contents");
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    let err = cipher.open(&sealed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(err.to_string(), "authentication failed: the data was changed or damaged");
    let mut secret = seal_secret(secrets.public_key(), b"x");
    secret[0] ^= 1;
    assert_eq!(secrets.open_secret(&secret).unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn plaintext_repository_cipher() {
    let cipher = Cipher::plaintext();
    assert!(!cipher.is_encrypted());
    assert_eq!(cipher.open(&cipher.seal(b"{}")).unwrap(), b"{}");
    let (keys, _) = MasterKeys::generate();
    assert_ne!(cipher.id(b"{}"), keys.cipher().id(b"{}"));
}

#[test]
fn debug_is_opaque() {
    let (keys, secrets) = MasterKeys::generate();
    assert_eq!(format!("{keys:?}"), "MasterKeys(..)");
    assert_eq!(format!("{secrets:?}"), "SecretsKey(..)");
    assert_eq!(format!("{:?}", keys.cipher()), "Cipher(encrypted)");
    assert_eq!(format!("{:?}", RawKey::generate()), "RawKey(..)");
    let raw = RawKey::generate();
    let shown = format!("{:?}", KeyFile::create_with_key(&keys, REPO, &raw));
    assert!(!shown.contains(raw.encode().expose()));
}
