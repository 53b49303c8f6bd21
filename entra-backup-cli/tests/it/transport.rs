//! Where credentials may travel: never over plain http:// off this machine, never to another
//! origin by a redirect or a stored link. Each case has a local listener that records whatever
//! reaches it (as a logging proxy would) and asserts that nothing did.

use std::io::Read;
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use entra_backup::ErrorKind;
use entra_backup::graph::auth::{ClientSecretCredential, StaticToken, TokenSource};
use entra_backup::graph::pacing::Pacer;
use entra_backup::graph::{GraphClient, RequestMeta};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "Qx8~TRANSPORT-CANARY-secret_51c2";
const TENANT: &str = "aaaabbbb-0000-cccc-1111-dddd2222eeee";

/// A TCP listener that keeps the first bytes of every connection it gets (a proxy, a server).
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                log.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
        Recorder { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// The CLI with app credentials in the environment and every proxy variable pointing at `proxy`.
fn cli(proxy: &Recorder, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entra-backup"));
    cmd.args(args)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", "00001111-aaaa-2222-bbbb-3333cccc4444")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("ENTRA_BACKUP_PASSWORD", "a passphrase")
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        cmd.env(var, proxy.url());
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET) && !stderr.contains(SECRET), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn plain_http_off_this_machine_is_refused_before_anything_is_sent() {
    let proxy = Recorder::start();
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("export");
    let out = out.to_str().unwrap();
    for (flag, url, named) in [
        ("--authority-url", "http://login.example.invalid", "the authority URL 'http://login.example.invalid/'"),
        ("--graph-url", "http://graph.example.invalid", "the Graph URL 'http://graph.example.invalid/'"),
    ] {
        let (code, stderr) = cli(&proxy, &["export", "--out", out, "--categories", "organization", flag, url], &[]);
        assert_eq!(code, 2, "bad input exits 2: {flag}: {stderr}");
        assert!(stderr.contains(named) && stderr.contains("https://"), "{flag}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one clear message: {stderr}");
    }
    // Storage credentials from the environment, to an http:// endpoint off this machine.
    for env in [
        &[("AWS_ENDPOINT", "http://s3.example.invalid"), ("AWS_ALLOW_HTTP", "true")][..],
        &[("AWS_ENDPOINT_URL_S3", "http://s3.example.invalid:9000"), ("AWS_ALLOW_HTTP", "true")][..],
    ] {
        let mut env = env.to_vec();
        env.extend([
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
        ]);
        let (code, stderr) = cli(&proxy, &["snapshots", "--repo", "s3://bucket/prefix"], &env);
        assert_eq!(code, 2, "bad input exits 2: {env:?}: {stderr}");
        assert!(stderr.contains("s3.example.invalid") && stderr.contains("https://"), "{env:?}: {stderr}");
    }
    let azure = [
        ("AZURE_STORAGE_ACCOUNT_NAME", "acct"),
        ("AZURE_STORAGE_ACCOUNT_KEY", "a2V5"),
        ("AZURE_STORAGE_ENDPOINT", "http://blob.example.invalid"),
        ("AZURE_ALLOW_HTTP", "true"),
    ];
    let (code, stderr) = cli(&proxy, &["snapshots", "--repo", "az://container"], &azure);
    assert_eq!(code, 2, "bad input exits 2: {stderr}");
    assert!(stderr.contains("blob.example.invalid") && stderr.contains("https://"), "{stderr}");
    assert_eq!(proxy.seen(), Vec::<String>::new(), "something was sent through the proxy");
}

#[tokio::test]
async fn a_redirect_to_another_origin_carries_no_secret() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&elsewhere).await;
    let login = MockServer::start().await;
    // A 307 re-sends the body (the client secret) to wherever it points.
    let to = format!("{}/{TENANT}/oauth2/v2.0/token", elsewhere.uri());
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", to.as_str()))
        .mount(&login)
        .await;
    let http = entra_backup::net::http_client().unwrap();
    let cred = ClientSecretCredential::new(&login.uri(), TENANT, "client", SECRET, "https://graph.microsoft.com", http)
        .unwrap();
    let err = cred.token().await.unwrap_err();
    assert!(err.to_string().contains("redirected to another origin"), "{err}");
    assert!(!err.to_string().contains(SECRET), "{err}");
    assert_eq!(login.received_requests().await.unwrap().len(), 1, "refused at once, not retried");
    assert!(elsewhere.received_requests().await.unwrap().is_empty(), "the secret followed the redirect");
}

#[tokio::test]
async fn graph_sends_its_token_only_to_its_own_root() {
    let graph = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    for server in [&graph, &elsewhere] {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": []})))
            .mount(server)
            .await;
    }
    let http = entra_backup::net::http_client().unwrap();
    let tokens = Arc::new(StaticToken::new("TOKEN-CANARY-77"));
    let client = GraphClient::new(http, &graph.uri(), tokens, Pacer::unlimited());
    let meta =
        RequestMeta { family: entra_backup::catalog::ThrottleFamily::Identity, cost: 1, stats: Default::default() };
    // A link (a nextLink, a stored delta cursor) to another server is not followed with the token.
    let err = client.get_json(&format!("{}/v1.0/users", elsewhere.uri()), &meta, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    client.get_json(&format!("{}/v1.0/users", graph.uri()), &meta, &[]).await.unwrap();
    // A redirect away from the root is not followed either.
    let moved = MockServer::start().await;
    let to = format!("{}/v1.0/users", elsewhere.uri());
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", to.as_str()))
        .mount(&moved)
        .await;
    let http = entra_backup::net::http_client().unwrap();
    let client =
        GraphClient::new(http, &moved.uri(), Arc::new(StaticToken::new("TOKEN-CANARY-77")), Pacer::unlimited());
    let err = client.get_json(&format!("{}/v1.0/users", moved.uri()), &meta, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    // A Graph root over plain http:// off this machine is refused before anything is sent.
    let client = GraphClient::new(
        entra_backup::net::http_client().unwrap(),
        "http://graph.example.invalid",
        Arc::new(StaticToken::new("TOKEN-CANARY-77")),
        Pacer::unlimited(),
    );
    let err = client.get_json("http://graph.example.invalid/v1.0/users", &meta, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}
