//! The client-credentials grant with a certificate: a PEM holding the certificate and its RSA
//! key, and a fresh signed assertion (PS256) for each token request.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use serde_json::json;
use zeroize::Zeroizing;

use super::cache::TokenCache;
use super::endpoint::Endpoint;
use super::{AccessToken, TokenSource};
use crate::{Error, ErrorKind, Result};

/// Lifetime of a certificate client assertion: the docs ask for 5 to 10 minutes.
const ASSERTION_LIFETIME_SECS: i64 = 10 * 60;
/// How long before "now" an assertion becomes valid (`nbf`), so that an identity platform whose
/// clock is behind ours accepts it: the usual allowance for clock skew.
const CLOCK_SKEW_SECS: i64 = 5 * 60;
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The client-credentials grant with a certificate: each request carries a fresh JWT assertion
/// signed with the certificate's RSA key (PS256), as the identity platform's "certificate
/// credentials" documentation specifies.
pub struct ClientCertificateCredential {
    endpoint: Endpoint,
    key: RsaKeyPair,
    /// base64url SHA-256 of the DER certificate: tells Entra which registered certificate signed.
    x5t_s256: String,
    source: String,
    rng: SystemRandom,
    cache: TokenCache,
}

impl ClientCertificateCredential {
    /// Read a PEM file holding the certificate and its unencrypted RSA private key (PKCS#8
    /// `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), as `openssl pkcs12 -nodes` writes them. With a
    /// chain, the certificate matching the key is used.
    pub fn from_pem_file(
        authority_url: &str,
        tenant_id: &str,
        client_id: &str,
        path: impl AsRef<Path>,
        graph_url: &str,
        http: reqwest::Client,
    ) -> Result<Self> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let pem = std::fs::read(path).map(Zeroizing::new).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("cannot read the client certificate file {source}: {e}"))
                .with_source(e)
        })?;
        Self::build(authority_url, tenant_id, client_id, &pem, source, graph_url, http)
    }

    /// As [`from_pem_file`](Self::from_pem_file), from PEM already in memory (a secret store).
    pub fn from_pem(
        authority_url: &str,
        tenant_id: &str,
        client_id: &str,
        pem: &[u8],
        graph_url: &str,
        http: reqwest::Client,
    ) -> Result<Self> {
        Self::build(authority_url, tenant_id, client_id, pem, "the PEM data".to_string(), graph_url, http)
    }

    fn build(
        authority_url: &str,
        tenant_id: &str,
        client_id: &str,
        pem: &[u8],
        source: String,
        graph_url: &str,
        http: reqwest::Client,
    ) -> Result<Self> {
        let endpoint = Endpoint::new(authority_url, tenant_id, client_id, graph_url, http)?;
        let (key, cert) = read_pem(pem, &source)?;
        let x5t_s256 = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &cert));
        Ok(ClientCertificateCredential {
            endpoint,
            key,
            x5t_s256,
            source,
            rng: SystemRandom::new(),
            cache: TokenCache::default(),
        })
    }

    /// As [`ClientSecretCredential::with_retries`](super::ClientSecretCredential::with_retries).
    pub fn with_retries(mut self, max_retries: u32, base_delay: Duration) -> Self {
        self.endpoint.retries = max_retries;
        self.endpoint.base_delay = base_delay;
        self
    }

    /// The certificate's SHA-256 thumbprint, base64url (the assertion's `x5t#S256`).
    pub fn thumbprint_sha256(&self) -> &str {
        &self.x5t_s256
    }

    /// A signed client assertion: header `{alg: PS256, typ: JWT, x5t#S256}`, claims `aud` (the
    /// token endpoint), `iss` = `sub` = client id, a random `jti`, `iat` now, `nbf` the clock skew
    /// allowance before, `exp` in 10 min.
    fn assertion(&self) -> Result<Zeroizing<String>> {
        let now = jiff::Timestamp::now().as_second();
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256});
        let claims = json!({
            "aud": self.endpoint.token_url,
            "iss": self.endpoint.client_id,
            "sub": self.endpoint.client_id,
            "jti": guid(&self.rng)?,
            "nbf": now - CLOCK_SKEW_SECS,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key.sign(&RSA_PSS_SHA256, &self.rng, signing_input.as_bytes(), &mut signature).map_err(|_| {
            Error::invalid_input(format!("cannot sign a client assertion with the key in {}", self.source))
        })?;
        Ok(Zeroizing::new(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))))
    }
}

impl fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificateCredential")
            .field("authority", &self.endpoint.authority)
            .field("tenant_id", &self.endpoint.tenant_id)
            .field("client_id", &self.endpoint.client_id)
            .field("scope", &self.endpoint.scope)
            .field("certificate", &self.source)
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for ClientCertificateCredential {
    async fn token(&self) -> Result<AccessToken> {
        self.cache
            .get(|| {
                self.endpoint.request(|| {
                    Ok(vec![
                        ("client_assertion_type", Zeroizing::new(CLIENT_ASSERTION_TYPE.to_string())),
                        ("client_assertion", self.assertion()?),
                    ])
                })
            })
            .await
    }

    fn invalidate(&self) {
        self.cache.clear();
    }
}

/// A random (version 4) GUID for an assertion's `jti`.
fn guid(rng: &SystemRandom) -> Result<String> {
    let mut b = [0u8; 16];
    rng.fill(&mut b).map_err(|_| Error::new(ErrorKind::Io, "the system random number generator failed"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

/// The RSA key and the DER certificate it belongs to. Messages name `source`, never key material.
fn read_pem(pem: &[u8], source: &str) -> Result<(RsaKeyPair, Vec<u8>)> {
    let bad = |why: String| Error::invalid_input(format!("client certificate {source}: {why}"));
    let has = |marker: &[u8]| pem.windows(marker.len()).any(|w| w == marker);
    if has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED") {
        return Err(bad("the private key is encrypted; write it unencrypted (openssl pkey -in KEY -out KEY.pem) \
                        and protect the file instead"
            .into()));
    }
    if !has(b"-----BEGIN ") {
        return Err(bad(
            "not a PEM file (a .pfx? convert it with: openssl pkcs12 -in FILE.pfx -nodes -out FILE.pem)".into()
        ));
    }
    let mut certs = Vec::new();
    let mut key = None;
    let mut other_key = false;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        let (kind, der) = section.map(|(k, d)| (k, Zeroizing::new(d))).map_err(|e| {
            bad(match e {
                pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line".into(),
                pem::Error::IllegalSectionStart { .. } => "a malformed PEM BEGIN line".into(),
                pem::Error::Base64Decode(_) => "bad base64 inside a PEM section".into(),
                pem::Error::SectionTooLarge => "a PEM section is too large".into(),
                _ => "unreadable PEM".into(),
            })
        })?;
        match kind {
            SectionKind::Certificate => certs.push(der.to_vec()),
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey if key.is_none() => {
                let parsed = if kind == SectionKind::PrivateKey {
                    RsaKeyPair::from_pkcs8(&der)
                } else {
                    RsaKeyPair::from_der(&der)
                };
                key = Some(parsed.map_err(|e| bad(format!("the private key is not a usable RSA key ({e})")))?);
            }
            SectionKind::EcPrivateKey => other_key = true,
            _ => {}
        }
    }
    let key = match key {
        Some(key) => key,
        None if other_key => {
            return Err(bad("the private key is not RSA; Entra certificate credentials need RSA".into()));
        }
        None => return Err(bad("no private key (PRIVATE KEY or RSA PRIVATE KEY) found".into())),
    };
    if certs.is_empty() {
        return Err(bad("no certificate (CERTIFICATE) found".into()));
    }
    let public = key.public().as_ref();
    match certs.iter().position(|c| cert_rsa_public_key(c) == Some(public)) {
        Some(i) => Ok((key, certs.swap_remove(i))),
        None => Err(bad("the private key belongs to none of its certificates".into())),
    }
}

/// One DER element: (tag, contents, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 `RSAPublicKey` inside an X.509 certificate's SubjectPublicKeyInfo, to match the key.
fn cert_rsa_public_key(cert: &[u8]) -> Option<&[u8]> {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let Some((0x30, cert, _)) = der(cert) else { return None };
    let Some((0x30, mut tbs, _)) = der(cert) else { return None };
    if let Some((0xa0, _, rest)) = der(tbs) {
        tbs = rest; // [0] version
    }
    for _ in 0..5 {
        tbs = der(tbs)?.2; // serialNumber, signature, issuer, validity, subject
    }
    let Some((0x30, spki, _)) = der(tbs) else { return None };
    let Some((0x30, algorithm, rest)) = der(spki) else { return None };
    let Some((0x06, oid, _)) = der(algorithm) else { return None };
    if oid != RSA_ENCRYPTION {
        return None;
    }
    let Some((0x03, bits, _)) = der(rest) else { return None };
    match bits.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_version_4() {
        let g = guid(&SystemRandom::new()).unwrap();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"), "{g}");
    }

    #[test]
    fn truncated_der_is_rejected() {
        assert_eq!(der(&[0x30, 0x05, 1, 2]), None);
        assert_eq!(der(&[0x30, 0x81]), None);
        assert_eq!(der(&[0x30, 0x82, 0x00, 0x01, 9, 8]), Some((0x30, &[9u8][..], &[8u8][..])));
        assert_eq!(cert_rsa_public_key(&[0x30, 0x00]), None);
    }
}
