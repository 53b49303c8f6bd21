use super::super::tests::assert_hides;
use super::*;

const REPO: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn fast() -> KdfParams {
    KdfParams::fast_for_tests()
}

fn pass(s: &str) -> Secret {
    Secret::new(s)
}

#[test]
fn passphrase_round_trip_through_json() {
    let (keys, _) = MasterKeys::generate();
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("correct horse"), fast()).unwrap();
    let json = file.to_json();
    let back = KeyFile::from_json(&json).unwrap();
    assert_eq!(back.unlock(&pass("correct horse")).unwrap(), keys);
    assert_eq!(back.kdf_params(), Some(fast()));
    assert_eq!(back.created(), file.created());
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(v["repository"], REPO);
    assert_eq!(v["kind"], "master");
    assert_eq!(v["kdf"]["algorithm"], "argon2id");
    assert_eq!(v["kdf"]["version"], 19);
    assert_eq!(v["kdf"]["memory_kib"], 8);
    assert_eq!(v["kdf"]["iterations"], 1);
    assert_eq!(v["kdf"]["parallelism"], 1);
    assert_eq!(v["public_key"], keys.secrets_public_key().to_base64());
    assert_eq!(b64_decode(v["kdf"]["salt"].as_str().unwrap()).unwrap().len(), SALT_LEN);
    assert_eq!(b64_decode(v["data"].as_str().unwrap()).unwrap().len(), 3 * KEY_LEN + SEAL_OVERHEAD);
}

#[test]
fn kdf_params_round_trip_through_json() {
    let (keys, _) = MasterKeys::generate();
    let params = KdfParams { memory_kib: 64, iterations: 2, parallelism: 2 };
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), params).unwrap();
    let back = KeyFile::from_json(&file.to_json()).unwrap();
    assert_eq!(back.kdf_params(), Some(params));
    assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
    assert_eq!(KdfParams::default(), KdfParams { memory_kib: 65536, iterations: 3, parallelism: 1 });
}

#[test]
fn wrong_passphrase_is_authentication_without_the_passphrase() {
    let (keys, _) = MasterKeys::generate();
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("hunter2-right"), fast()).unwrap();
    let err = file.unlock(&pass("hunter2-typo")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.message(), "wrong passphrase for the repository (or a damaged key file)");
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn salts_differ_and_same_passphrase_gives_different_files() {
    let (keys, _) = MasterKeys::generate();
    let a = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    let b = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    let (Kdf::Argon2id { salt: sa, .. }, Kdf::Argon2id { salt: sb, .. }) = (&a.0.kdf, &b.0.kdf) else { panic!() };
    assert_ne!(sa, sb);
    assert_ne!(a.0.data, b.0.data);
}

#[test]
fn damaged_key_file_is_caught() {
    let (keys, _) = MasterKeys::generate();
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    let data = b64_decode(&file.0.data).unwrap();
    for i in 0..data.len() {
        let mut bad = data.to_vec();
        bad[i] ^= 0x10;
        let mut damaged = file.clone();
        damaged.0.data = b64_encode(&bad);
        assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication, "byte {i}");
    }
    // A changed salt or changed parameters derive another key.
    let mut damaged = file.clone();
    if let Kdf::Argon2id { salt, .. } = &mut damaged.0.kdf {
        *salt = b64_encode(&[7u8; SALT_LEN]);
    }
    assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
    let mut damaged = file.clone();
    if let Kdf::Argon2id { iterations, .. } = &mut damaged.0.kdf {
        *iterations = 2;
    }
    assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
    // Truncated data.
    let mut damaged = file.clone();
    damaged.0.data = b64_encode(&data[..10]);
    assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
}

#[test]
fn hostile_parameters_are_refused_before_deriving() {
    let (keys, _) = MasterKeys::generate();
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    for (m, t, p) in [(u32::MAX, 1, 1), (8, 1_000_000, 1), (8, 1, 0), (8, 0, 1), (4, 1, 1), (8, 1, 2)] {
        let mut bad = file.clone();
        if let Kdf::Argon2id { memory_kib, iterations, parallelism, .. } = &mut bad.0.kdf {
            (*memory_kib, *iterations, *parallelism) = (m, t, p);
        }
        let err = bad.unlock(&pass("pw")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{m} {t} {p}: {err}");
    }
    assert_eq!(
        KeyFile::create_with_passphrase(
            &keys,
            REPO,
            &pass("pw"),
            KdfParams { memory_kib: 1, iterations: 1, parallelism: 1 }
        )
        .unwrap_err()
        .kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn malformed_json_and_versions() {
    let (keys, secrets) = MasterKeys::generate();
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    let err = KeyFile::from_json(b"{\"version\": \"secret-ish text\"}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(!err.to_string().contains("secret-ish"));
    assert_eq!(KeyFile::from_json(b"not json").unwrap_err().kind(), ErrorKind::Protocol);
    let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
    v["version"] = 3.into();
    assert_eq!(KeyFile::from_json(v.to_string().as_bytes()).unwrap_err().kind(), ErrorKind::Protocol);
    let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
    v["kdf"]["version"] = 16.into();
    assert_eq!(KeyFile::from_json(v.to_string().as_bytes()).unwrap_err().kind(), ErrorKind::Protocol);
    // Unknown fields are ignored (room for hostname, username...).
    let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
    v["hostname"] = "backup-host".into();
    let back = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
    assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
    // The wrong kind of file.
    let sfile = SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass("pw"), fast()).unwrap();
    assert_eq!(KeyFile::from_json(&sfile.to_json()).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(SecretsKeyFile::from_json(&file.to_json()).unwrap_err().kind(), ErrorKind::InvalidInput);
    // Relabelled as the other kind, it fails to open (the kind is authenticated).
    let mut v: serde_json::Value = serde_json::from_slice(&sfile.to_json()).unwrap();
    v["kind"] = "master".into();
    let relabelled = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
    assert_eq!(relabelled.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
}

#[test]
fn empty_passphrase_is_refused() {
    let (keys, secrets) = MasterKeys::generate();
    assert_eq!(
        KeyFile::create_with_passphrase(&keys, REPO, &pass(""), fast()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass(""), fast()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn raw_key_round_trip() {
    let (keys, _) = MasterKeys::generate();
    let raw = RawKey::generate();
    let file = KeyFile::create_with_key(&keys, REPO, &raw);
    let json = file.to_json();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["kdf"]["algorithm"], "raw-key");
    let back = KeyFile::from_json(&json).unwrap();
    assert_eq!(back.kdf_params(), None);
    assert_eq!(back.unlock_with_key(&raw).unwrap(), keys);
    let err = back.unlock_with_key(&RawKey::generate()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.message(), "wrong key for the repository (or a damaged key file)");
    // Unlocking the wrong way round says so.
    assert_eq!(back.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::InvalidInput);
    let pfile = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    assert_eq!(pfile.unlock_with_key(&raw).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn secrets_key_file_round_trip() {
    let (keys, secrets) = MasterKeys::generate();
    let file = SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass("secrets pw"), fast()).unwrap();
    let json = file.to_json();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["kind"], "secrets");
    assert_eq!(v["public_key"], keys.secrets_public_key().to_base64());
    let back = SecretsKeyFile::from_json(&json).unwrap();
    assert_eq!(&back.public_key().unwrap(), keys.secrets_public_key());
    let opened = back.unlock(&pass("secrets pw")).unwrap();
    let sealed = keys.cipher().seal_secret(b"BitLocker key");
    assert_eq!(&opened.open_secret(&sealed).unwrap()[..], b"BitLocker key");
    // The repository passphrase does not open it.
    let err = back.unlock(&pass("repo pw")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.message(), WRONG_SECRETS_PASSPHRASE);
    // A swapped public key fails authentication (it is bound into the AAD).
    let (other, _) = MasterKeys::generate();
    let mut v = v.clone();
    v["public_key"] = other.secrets_public_key().to_base64().into();
    let swapped = SecretsKeyFile::from_json(v.to_string().as_bytes()).unwrap();
    assert_eq!(swapped.unlock(&pass("secrets pw")).unwrap_err().kind(), ErrorKind::Authentication);
    // With a raw key.
    let raw = RawKey::generate();
    let file = SecretsKeyFile::create_with_key(&secrets, REPO, &raw);
    let back = SecretsKeyFile::from_json(&file.to_json()).unwrap();
    assert_eq!(back.unlock_with_key(&raw).unwrap().public_key(), secrets.public_key());
    assert_eq!(back.unlock_with_key(&RawKey::generate()).unwrap_err().kind(), ErrorKind::Authentication);
}

#[test]
fn key_files_show_no_key_material() {
    let (keys, secrets) = MasterKeys::generate();
    let raw = RawKey::generate();
    let files = [
        format!("{:?}", KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap()),
        format!("{:?}", KeyFile::create_with_key(&keys, REPO, &raw)),
        format!("{:?}", SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass("pw"), fast()).unwrap()),
        format!("{raw:?}"),
        String::from_utf8(KeyFile::create_with_key(&keys, REPO, &raw).to_json()).unwrap(),
        String::from_utf8(SecretsKeyFile::create_with_key(&secrets, REPO, &raw).to_json()).unwrap(),
    ];
    assert_eq!(files[3], "RawKey(..)");
    for text in &files {
        assert_hides(text, keys.data.as_bytes());
        assert_hides(text, keys.id.as_bytes());
        assert_hides(text, secrets.to_key_bytes().as_bytes());
        assert_hides(text, raw.key_bytes());
    }
}

/// Builds a version 1 file (as written before key files were bound to a repository).
fn version_1(keys: &MasterKeys, passphrase: &str) -> KeyFile {
    let mut file = KeyFile::create_with_passphrase(keys, REPO, &pass(passphrase), fast()).unwrap();
    file.0.version = 1;
    file.0.repository = None;
    file.0.public_key = None;
    let salt = b64_decode(match &file.0.kdf {
        Kdf::Argon2id { salt, .. } => salt,
        Kdf::RawKey { .. } => unreachable!(),
    })
    .unwrap();
    let wrapping = fast().derive(passphrase.as_bytes(), &salt).unwrap();
    let aead = XChaCha20Poly1305::new(wrapping.as_bytes().into());
    let nonce = XNonce::default();
    let aad = file.0.aad(None);
    let sealed = aead.encrypt(&nonce, Payload { msg: &keys.to_payload(), aad: &aad }).unwrap();
    file.0.data = b64_encode(&[&nonce[..], &sealed].concat());
    file
}

#[test]
fn version_1_files_are_still_read() {
    let (keys, _) = MasterKeys::generate();
    let old = version_1(&keys, "pw");
    let back = KeyFile::from_json(&old.to_json()).unwrap();
    assert_eq!(back.version(), 1);
    assert_eq!(back.repository(), None);
    assert_eq!(back.secrets_public_key().unwrap(), None);
    assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
}

#[test]
fn key_files_are_bound_to_their_repository_and_public_key() {
    let (keys, _) = MasterKeys::generate();
    let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
    assert_eq!(file.repository(), Some(REPO));
    assert_eq!(file.secrets_public_key().unwrap().as_ref(), Some(keys.secrets_public_key()));
    // Another repository id, or another shown public key: the file no longer opens.
    let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
    v["repository"] = "f".repeat(64).into();
    assert_eq!(
        KeyFile::from_json(v.to_string().as_bytes()).unwrap().unlock(&pass("pw")).unwrap_err().kind(),
        ErrorKind::Authentication
    );
    let (other, _) = MasterKeys::generate();
    let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
    v["public_key"] = other.secrets_public_key().to_base64().into();
    assert_eq!(
        KeyFile::from_json(v.to_string().as_bytes()).unwrap().unlock(&pass("pw")).unwrap_err().kind(),
        ErrorKind::Authentication
    );
    // A version 2 file without its repository or public key is malformed.
    for field in ["repository", "public_key"] {
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v.as_object_mut().unwrap().remove(field);
        assert_eq!(KeyFile::from_json(v.to_string().as_bytes()).unwrap_err().kind(), ErrorKind::Protocol, "{field}");
    }
}

#[test]
fn salts_of_the_wrong_length_are_refused_when_read() {
    let (keys, _) = MasterKeys::generate();
    let raw = RawKey::generate();
    for json in [
        KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap().to_json(),
        KeyFile::create_with_key(&keys, REPO, &raw).to_json(),
    ] {
        for salt in [b64_encode(&[1u8; 8]), b64_encode(&[1u8; 33]), String::new(), "!!".into()] {
            let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            v["kdf"]["salt"] = salt.clone().into();
            let err = KeyFile::from_json(v.to_string().as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{salt:?}");
            assert!(err.message().contains("salt"), "{err}");
        }
    }
}

#[test]
fn parameters_above_the_caps_are_refused_when_read() {
    let (keys, _) = MasterKeys::generate();
    let json = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap().to_json();
    // The demands of the review's planted key file (4 GiB, 64 passes), and just above each cap.
    for (m, t) in [(4 * 1024 * 1024u32, 64u32), (KdfParams::MAX_MEMORY_KIB + 1, 1), (8, KdfParams::MAX_ITERATIONS + 1)]
    {
        let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["kdf"]["memory_kib"] = m.into();
        v["kdf"]["iterations"] = t.into();
        let err = KeyFile::from_json(v.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{m} {t}");
        assert!(err.message().contains("out of range"), "{err}");
    }
    // At the caps, accepted (and cheaper files sort first).
    let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    v["kdf"]["memory_kib"] = KdfParams::MAX_MEMORY_KIB.into();
    v["kdf"]["iterations"] = KdfParams::MAX_ITERATIONS.into();
    let expensive = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
    let cheap = KeyFile::from_json(&json).unwrap();
    assert!(cheap.cost() < expensive.cost());
    assert_eq!(KeyFile::create_with_key(&keys, REPO, &RawKey::generate()).cost(), 0);
}
