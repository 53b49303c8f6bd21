//! Certificate credentials (a throwaway key and certificate made by `openssl` at test time) and
//! credentials against the simulated tenant.

use super::*;

// ---- certificates ----

/// Throwaway keys and certificates made by `openssl`, with what openssl itself says about them.
struct TestCerts {
    /// Certificate and PKCS#8 key.
    pkcs8: PathBuf,
    /// Certificate and PKCS#1 key.
    pkcs1: PathBuf,
    /// Another certificate, then ours, then our key: a chain.
    chain: PathBuf,
    cert_only: PathBuf,
    key_only: PathBuf,
    /// Our certificate with another key.
    mismatched: PathBuf,
    encrypted: PathBuf,
    /// Our key's public half, PKCS#1 DER, as openssl writes it.
    public_key_der: Vec<u8>,
    /// openssl's SHA-256 fingerprint of the certificate.
    sha256: Vec<u8>,
    /// A line of the base64 inside the private key, to check errors never show it.
    key_line: String,
}

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the certificate tests need the `openssl` CLI to make a throwaway key");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn test_certs() -> &'static TestCerts {
    static CERTS: OnceLock<TestCerts> = OnceLock::new();
    CERTS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("graph_auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (key, cert) in [("key.pem", "cert.pem"), ("other-key.pem", "other-cert.pem")] {
            openssl(
                &dir,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    key,
                    "-out",
                    cert,
                    "-days",
                    "2",
                    "-subj",
                    "/CN=entra-backup throwaway test certificate",
                ],
            );
        }
        openssl(&dir, &["rsa", "-in", "key.pem", "-traditional", "-out", "key-pkcs1.pem"]);
        openssl(&dir, &["pkcs8", "-topk8", "-in", "key.pem", "-passout", "pass:test", "-out", "key-enc.pem"]);
        let public_key_der = openssl(&dir, &["rsa", "-in", "key.pem", "-RSAPublicKey_out", "-outform", "DER"]);
        let fingerprint =
            String::from_utf8(openssl(&dir, &["x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha256"]))
                .unwrap();
        let hex = fingerprint.trim().rsplit('=').next().unwrap().replace(':', "");
        let sha256 = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let write = |name: &str, parts: &[&str]| {
            let p = dir.join(name);
            std::fs::write(&p, parts.iter().map(|n| read(n)).collect::<Vec<_>>().join("\n")).unwrap();
            p
        };
        let key_line = read("key.pem").lines().nth(5).unwrap().to_string();
        TestCerts {
            pkcs8: write("pkcs8.pem", &["cert.pem", "key.pem"]),
            pkcs1: write("pkcs1.pem", &["key-pkcs1.pem", "cert.pem"]),
            chain: write("chain.pem", &["other-cert.pem", "cert.pem", "key.pem"]),
            cert_only: write("cert-only.pem", &["cert.pem"]),
            key_only: write("key-only.pem", &["key.pem"]),
            mismatched: write("mismatched.pem", &["cert.pem", "other-key.pem"]),
            encrypted: write("encrypted.pem", &["cert.pem", "key-enc.pem"]),
            public_key_der,
            sha256,
            key_line,
        }
    })
}

fn b64json(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Check a client assertion as Entra would: format, claims, and the PS256 signature against the
/// public key openssl extracted.
fn check_assertion(assertion: &str, token_url: &str) {
    let certs = test_certs();
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact serialization");
    let header = b64json(parts[0]);
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(URL_SAFE_NO_PAD.decode(header["x5t#S256"].as_str().unwrap()).unwrap(), certs.sha256);
    let claims = b64json(parts[1]);
    assert_eq!(claims["aud"], token_url);
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["sub"], CLIENT);
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 36);
    assert_eq!(jti.matches('-').count(), 4);
    let now = jiff::Timestamp::now().as_second();
    let (nbf, iat, exp) =
        (claims["nbf"].as_i64().unwrap(), claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!((now - iat).abs() < 60, "iat {iat}, now {now}");
    // Valid from five minutes before: an identity platform whose clock is behind still takes it.
    assert_eq!(iat - nbf, 300, "nbf {nbf}, iat {iat}");
    assert_eq!(exp - iat, 600);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PSS_2048_8192_SHA256, &certs.public_key_der);
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the assertion's signature verifies with the certificate's public key");
}

async fn certificate_grant(pem: &Path) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .and(field("grant_type", "client_credentials"))
        .and(field("client_id", CLIENT))
        .and(field("scope", "https://graph.microsoft.com/.default"))
        .and(field("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
        .and(|req: &Request| !form(req).contains_key("client_secret"))
        .respond_with(ok(3599))
        .expect(2)
        .mount(&server)
        .await;
    let cred = ClientCertificateCredential::from_pem_file(&server.uri(), TENANT, CLIENT, pem, GRAPH, http()).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(cred.thumbprint_sha256()).unwrap(), test_certs().sha256);
    cred.token().await.unwrap();
    cred.invalidate();
    cred.token().await.unwrap();
    let shown = format!("{cred:?}");
    assert!(!shown.contains(&test_certs().key_line), "{shown}");

    let requests = server.received_requests().await.unwrap();
    let assertions: Vec<String> = requests.iter().map(|r| form(r)["client_assertion"].clone()).collect();
    let token_url = format!("{}{}", server.uri(), token_path());
    for a in &assertions {
        check_assertion(a, &token_url);
    }
    let jti = |a: &str| b64json(a.split('.').nth(1).unwrap())["jti"].clone();
    assert_ne!(jti(&assertions[0]), jti(&assertions[1]), "each assertion has its own jti");
}

#[tokio::test]
async fn certificate_grant_with_a_pkcs8_key() {
    certificate_grant(&test_certs().pkcs8).await;
}

#[tokio::test]
async fn certificate_grant_with_a_pkcs1_key() {
    certificate_grant(&test_certs().pkcs1).await;
}

#[tokio::test]
async fn certificate_grant_picks_the_certificate_of_the_key_in_a_chain() {
    certificate_grant(&test_certs().chain).await;
}

#[test]
fn unusable_certificate_files_are_invalid_input() {
    let certs = test_certs();
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-cert.pem");
    let cases: [(&Path, &str); 5] = [
        (&missing, "cannot read"),
        (&certs.cert_only, "no private key"),
        (&certs.key_only, "no certificate"),
        (&certs.mismatched, "belongs to none of its certificates"),
        (&certs.encrypted, "encrypted"),
    ];
    for (file, why) in cases {
        let e = ClientCertificateCredential::from_pem_file(
            "https://login.microsoftonline.com",
            TENANT,
            CLIENT,
            file,
            GRAPH,
            http(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        let text = e.to_string();
        assert!(text.contains(&file.display().to_string()), "names the file: {text}");
        assert!(text.contains(why), "{text}");
        assert!(!text.contains(&certs.key_line) && !format!("{e:?}").contains(&certs.key_line), "{text}");
    }
    let e = ClientCertificateCredential::from_pem(
        "https://login.microsoftonline.com",
        TENANT,
        CLIENT,
        b"\x30\x82binary pfx",
        GRAPH,
        http(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not a PEM file"), "{e}");
}

// ---- against the simulated tenant ----

mod sim {
    use entra_backup_sim::{SimConfig, SimServer};

    use super::*;

    async fn sim() -> SimServer {
        SimServer::start(SimConfig {
            users: 5,
            groups: 2,
            credentials: Some((CLIENT.into(), SECRET.into())),
            ..SimConfig::default()
        })
        .await
        .unwrap()
    }

    async fn organization(sim: &SimServer, token: &AccessToken) -> u16 {
        http()
            .get(format!("{}/v1.0/organization", sim.url()))
            .header(reqwest::header::AUTHORIZATION, token.header_value().unwrap())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn a_secret_token_is_accepted_by_graph() {
        let sim = sim().await;
        let cred =
            ClientSecretCredential::new(sim.url(), &sim.tenant_id(), CLIENT, SECRET, &sim.graph_url(), http()).unwrap();
        let token = cred.token().await.unwrap();
        assert_eq!(organization(&sim, &token).await, 200);
        // After Graph refuses a token (401), invalidate() gets a working one.
        sim.state().expire_access_tokens();
        assert_eq!(organization(&sim, &token).await, 401);
        cred.invalidate();
        assert_eq!(organization(&sim, &cred.token().await.unwrap()).await, 200);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_wrong_secret_is_refused_with_aadsts7000215() {
        let sim = sim().await;
        let tenant = sim.tenant_id();
        let wrong = format!("{SECRET}-wrong");
        let cred = ClientSecretCredential::new(sim.url(), &tenant, CLIENT, wrong.as_str(), GRAPH, http()).unwrap();
        let err = cred.token().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.graph_code(), Some("AADSTS7000215"));
        let text = err.to_string();
        assert!(text.contains(&format!("at {} for tenant {tenant}", sim.url())), "{text}");
        assert!(!text.contains(&wrong) && !format!("{err:?}").contains(&wrong), "{text}");
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn an_unknown_tenant_is_refused_with_aadsts90002() {
        let sim = sim().await;
        let cred = ClientSecretCredential::new(sim.url(), TENANT, CLIENT, SECRET, GRAPH, http()).unwrap();
        let err = cred.token().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.graph_code(), Some("AADSTS90002"));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_certificate_token_is_accepted_by_graph() {
        let sim = sim().await;
        let cred = ClientCertificateCredential::from_pem_file(
            sim.url(),
            &sim.tenant_id(),
            CLIENT,
            &test_certs().pkcs8,
            &sim.graph_url(),
            http(),
        )
        .unwrap();
        let token = cred.token().await.unwrap();
        assert_eq!(organization(&sim, &token).await, 200);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn credentials_from_variables_work_against_the_simulator() {
        let sim = sim().await;
        let tenant = sim.tenant_id();
        let c = Credentials::from_lookup(vars(&[
            ("AZURE_TENANT_ID", tenant.as_str()),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_SECRET", SECRET),
            ("AZURE_AUTHORITY_HOST", sim.url()),
        ]))
        .unwrap();
        let source = c.token_source(http(), None, Some(&sim.graph_url())).unwrap();
        assert_eq!(organization(&sim, &source.token().await.unwrap()).await, 200);
        sim.shutdown().await;
    }
}
