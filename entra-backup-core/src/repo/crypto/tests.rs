use super::*;

fn keys() -> (MasterKeys, SecretsKey) {
    MasterKeys::generate()
}

#[test]
fn seal_open_round_trip() {
    let (keys, _) = keys();
    let cipher = keys.cipher();
    for len in [0usize, 1, 15, 16, 17, 1000, 70_000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let sealed = cipher.seal(&plaintext);
        assert_eq!(sealed.len(), plaintext.len() + SEAL_OVERHEAD);
        assert_eq!(cipher.overhead(), SEAL_OVERHEAD);
        if len >= 16 {
            assert!(!sealed.windows(16).any(|w| w == &plaintext[..16]), "plaintext visible in sealed blob");
        }
        assert_eq!(cipher.open(&sealed).unwrap(), plaintext);
    }
}

#[test]
fn every_flipped_bit_is_caught() {
    let (keys, _) = keys();
    let cipher = keys.cipher();
    let sealed = cipher.seal(b"a snapshot of the tenant");
    for i in 0..sealed.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = sealed.clone();
            bad[i] ^= bit;
            let err = cipher.open(&bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "byte {i}");
            assert_eq!(err.message(), AUTH_FAILED);
        }
    }
    // Truncated, extended, empty.
    for bad in [&sealed[..sealed.len() - 1], &sealed[1..], &sealed[..SEAL_OVERHEAD - 1], &[][..]] {
        assert_eq!(cipher.open(bad).unwrap_err().kind(), ErrorKind::Protocol);
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(cipher.open(&longer).unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn associated_data_must_match() {
    let (keys, _) = keys();
    let cipher = keys.cipher();
    let sealed = cipher.seal_with(b"id map", b"restores/a/t\0gen 2");
    assert_eq!(cipher.open_with(&sealed, b"restores/a/t\0gen 2").unwrap(), b"id map");
    for other in [&b"restores/b/t\0gen 2"[..], b"restores/a/t\0gen 1", b""] {
        assert_eq!(cipher.open_with(&sealed, other).unwrap_err().kind(), ErrorKind::Protocol);
    }
    assert_eq!(cipher.open(&sealed).unwrap_err().kind(), ErrorKind::Protocol);
    assert_eq!(cipher.open_with(&cipher.seal(b"x"), b"").unwrap(), b"x");
}

#[test]
fn fingerprints_name_the_keys_without_showing_them() {
    let (a, _) = keys();
    let (b, _) = keys();
    let fa = a.cipher().fingerprint().unwrap();
    assert_eq!(fa.len(), 64);
    assert_eq!(Some(fa.clone()), a.clone().cipher().fingerprint());
    assert_ne!(Some(fa.clone()), b.cipher().fingerprint());
    assert_hides(&fa, a.id.as_bytes());
    assert_hides(&fa, a.data.as_bytes());
    assert_eq!(Cipher::plaintext().fingerprint(), None);
    assert_eq!(a.cipher().secrets_public_key(), Some(a.secrets_public_key()));
}

#[test]
fn another_key_cannot_open() {
    let (a, _) = keys();
    let (b, _) = keys();
    let sealed = a.cipher().seal(b"hello");
    assert_eq!(b.cipher().open(&sealed).unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn nonces_differ_between_seals() {
    let (keys, _) = keys();
    let cipher = keys.cipher();
    let one = cipher.seal(b"same plaintext");
    let two = cipher.seal(b"same plaintext");
    assert_ne!(one[..NONCE_LEN], two[..NONCE_LEN]);
    assert_ne!(one, two);
}

#[test]
fn ids_are_stable_per_key_and_differ_between_keys() {
    let (a, _) = keys();
    let (b, _) = keys();
    let data = b"{\"id\":\"00000000-0000-0000-0000-000000000001\"}";
    assert_eq!(a.cipher().id(data), a.cipher().id(data));
    assert_eq!(a.cipher().id(data), a.clone().cipher().id(data));
    assert_ne!(a.cipher().id(data), b.cipher().id(data));
    assert_ne!(a.cipher().id(data), a.cipher().id(b"other"));
    // Keyed: not the plain hash anyone could compute.
    assert_ne!(a.cipher().id(data), *blake3::hash(data).as_bytes());
    assert_eq!(a.cipher().id_hex(data), to_hex(&a.cipher().id(data)));
    assert_eq!(a.cipher().id_hex(data).len(), 64);
    // Incremental gives the same id.
    let mut h = a.cipher().id_hasher();
    h.update(&data[..10]).update(&data[10..]);
    assert_eq!(h.finalize(), a.cipher().id(data));
    assert_eq!(h.finalize_hex(), a.cipher().id_hex(data));
}

#[test]
fn plaintext_cipher_is_identity_with_plain_blake3_ids() {
    let cipher = Cipher::plaintext();
    assert!(!cipher.is_encrypted());
    assert_eq!(cipher.overhead(), 0);
    assert_eq!(cipher.seal(b"abc"), b"abc");
    assert_eq!(cipher.open(b"abc").unwrap(), b"abc");
    assert_eq!(cipher.seal_secret(b"abc"), b"abc");
    assert_eq!(cipher.id(b"abc"), *blake3::hash(b"abc").as_bytes());
    let mut h = cipher.id_hasher();
    h.update(b"a").update(b"bc");
    assert_eq!(h.finalize(), cipher.id(b"abc"));
    assert_eq!(format!("{cipher:?}"), "Cipher(plaintext)");
}

#[test]
fn secrets_open_only_with_the_secrets_key() {
    let (keys, secrets) = keys();
    let cipher = keys.cipher();
    let recovery = b"123456-123456-123456-123456-123456-123456-123456-123456";
    for sealed in [seal_secret(keys.secrets_public_key(), recovery), cipher.seal_secret(recovery)] {
        assert_eq!(sealed.len(), recovery.len() + SECRET_SEAL_OVERHEAD);
        assert!(!sealed.windows(12).any(|w| w == &recovery[..12]));
        // The data key cannot open it...
        assert_eq!(cipher.open(&sealed).unwrap_err().kind(), ErrorKind::Protocol);
        // ...another repository's secrets key cannot...
        let (_, other) = MasterKeys::generate();
        assert_eq!(other.open_secret(&sealed).unwrap_err().kind(), ErrorKind::Protocol);
        // ...the secrets key can.
        assert_eq!(&secrets.open_secret(&sealed).unwrap()[..], &recovery[..]);
        // Any flipped byte is caught.
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x04;
            let err = secrets.open_secret(&bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "byte {i}");
            assert_eq!(err.message(), AUTH_FAILED);
        }
        assert_eq!(secrets.open_secret(&sealed[..SECRET_SEAL_OVERHEAD - 1]).unwrap_err().kind(), ErrorKind::Protocol);
    }
    assert_eq!(secrets.public_key(), keys.secrets_public_key());
}

#[test]
fn master_payload_round_trip_and_equality() {
    let (keys, _) = keys();
    let payload = keys.to_payload();
    assert_eq!(payload.len(), MASTER_PAYLOAD_LEN);
    let back = MasterKeys::from_payload(&payload).unwrap();
    assert_eq!(back, keys);
    let (other, _) = MasterKeys::generate();
    assert_ne!(other, keys);
    assert_eq!(MasterKeys::from_payload(&payload[1..]).unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn secrets_key_bytes_round_trip() {
    let (_, secrets) = keys();
    let bytes = secrets.to_key_bytes();
    let back = SecretsKey::from_key_bytes(&bytes);
    assert_eq!(back.public_key(), secrets.public_key());
    let sealed = seal_secret(secrets.public_key(), b"x");
    assert_eq!(&back.open_secret(&sealed).unwrap()[..], b"x");
}

/// Hex (both cases) and base64 of a key, and of its first 8 bytes.
pub(crate) fn renderings(key: &[u8]) -> Vec<String> {
    let hex = to_hex(key);
    let mut out = vec![hex.clone(), hex.to_uppercase(), b64_encode(key), to_hex(&key[..8]), b64_encode(&key[..8])];
    out.push(format!("{:?}", key));
    out.push(format!("{:?}", &key[..8]));
    // The base64 of the key in a longer buffer, at each of the three alignments.
    for pad in 0..3 {
        let mut buf = vec![0u8; pad];
        buf.extend_from_slice(key);
        let b = b64_encode(&buf);
        out.push(b[4 * pad.div_ceil(3)..b.len() - 4].to_string());
    }
    out
}

pub(crate) fn assert_hides(text: &str, key: &[u8]) {
    for r in renderings(key) {
        assert!(!text.contains(&r), "{text:?} shows key material {r:?}");
    }
}

#[test]
fn debug_shows_no_key_material() {
    let (keys, secrets) = keys();
    let data = *keys.data.as_bytes();
    let id = *keys.id.as_bytes();
    let private = *secrets.to_key_bytes().as_bytes();
    let cipher = keys.cipher();
    let hasher = cipher.id_hasher();
    let shown = [
        format!("{keys:?}"),
        format!("{keys:#?}"),
        format!("{secrets:?}"),
        format!("{secrets:#?}"),
        format!("{cipher:?}"),
        format!("{cipher:#?}"),
        format!("{hasher:?}"),
        format!("{:?}", keys.secrets_public_key()),
    ];
    assert_eq!(shown[0], "MasterKeys(..)");
    assert_eq!(shown[2], "SecretsKey(..)");
    assert_eq!(shown[4], "Cipher(encrypted)");
    assert_eq!(shown[6], "IdHasher(..)");
    for text in &shown {
        for key in [&data, &id, &private] {
            assert_hides(text, key);
        }
    }
}

#[test]
fn public_key_base64_round_trip() {
    let (keys, _) = keys();
    let public = keys.secrets_public_key();
    assert_eq!(&SecretsPublicKey::from_base64(&public.to_base64()).unwrap(), public);
    assert_eq!(SecretsPublicKey::from_bytes(*public.as_bytes()), *public);
    assert_eq!(SecretsPublicKey::from_base64("AAAA").unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(SecretsPublicKey::from_base64("not base64!").unwrap_err().kind(), ErrorKind::InvalidInput);
}
