//! Credentials and tokens against the identity platform: wiremock replaying responses recorded
//! from the shapes in Microsoft's docs (`tests/resources/auth/`), and the simulated tenant.
//!
//! The certificate tests make a throwaway RSA key and self-signed certificate with the `openssl`
//! CLI at test time (in Cargo's per-test temp dir), so no private key is committed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_backup::graph::auth::{
    AccessToken, ClientAuth, ClientCertificateCredential, ClientSecretCredential, Credentials, StaticToken, TokenSource,
};
use entra_backup::{ErrorKind, Secret};
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TENANT: &str = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
const CLIENT: &str = "00001111-aaaa-2222-bbbb-3333cccc4444";
/// Distinctive, so a leak anywhere is found by a plain substring search.
const SECRET: &str = "Qx8~LEAK-CANARY-secret.value_7e21f";
const FIXTURE_TOKEN: &str = "RECORDED-FIXTURE-TOKEN-4b1d";
const GRAPH: &str = "https://graph.microsoft.com";

fn http() -> reqwest::Client {
    entra_backup::init_crypto();
    reqwest::Client::new()
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/resources/auth").join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn token_path() -> String {
    format!("/{TENANT}/oauth2/v2.0/token")
}

fn form(req: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

/// A wiremock matcher on one form field.
fn field(name: &'static str, value: impl Into<String>) -> impl Fn(&Request) -> bool + Send + Sync {
    let value = value.into();
    move |req: &Request| form(req).get(name) == Some(&value)
}

fn ok(expires_in: u64) -> ResponseTemplate {
    let mut body = fixture("token_ok.json");
    body["expires_in"] = expires_in.into();
    ResponseTemplate::new(200).set_body_json(body)
}

fn secret_credential(server: &MockServer) -> ClientSecretCredential {
    ClientSecretCredential::new(&server.uri(), TENANT, CLIENT, SECRET, GRAPH, http())
        .unwrap()
        .with_retries(2, Duration::from_millis(10))
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the client secret: {text}");
    assert!(!text.contains(FIXTURE_TOKEN), "{what} shows the access token: {text}");
}

#[tokio::test]
async fn secret_grant_sends_the_form_and_caches_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(field("grant_type", "client_credentials"))
        .and(field("client_id", CLIENT))
        .and(field("client_secret", SECRET))
        .and(field("scope", "https://graph.microsoft.com/.default"))
        .respond_with(ok(3599))
        .expect(1)
        .mount(&server)
        .await;
    let cred = secret_credential(&server);
    let first = cred.token().await.unwrap();
    let second = cred.token().await.unwrap();
    assert!(first.secret().ends_with(FIXTURE_TOKEN));
    assert_eq!(first.secret(), second.secret());
    let left = first.expires_in();
    assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3599), "{left:?}");
    let header = first.header_value().unwrap();
    assert!(header.is_sensitive());
    assert_eq!(header.to_str().unwrap(), format!("Bearer {}", first.secret()));
    assert_no_secret("AccessToken Debug", &format!("{first:?}"));
    assert_no_secret("credential Debug", &format!("{cred:?}"));
}

#[tokio::test]
async fn scope_is_the_origin_of_the_graph_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .and(field("scope", "https://graph.microsoft.us/.default"))
        .respond_with(ok(3599))
        .expect(1)
        .mount(&server)
        .await;
    let cred = ClientSecretCredential::new(
        &format!("{}/", server.uri()),
        TENANT,
        CLIENT,
        SECRET,
        "https://graph.microsoft.us/v1.0/",
        http(),
    )
    .unwrap();
    cred.token().await.unwrap();
}

#[tokio::test]
async fn concurrent_callers_share_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ok(3599).set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let cred: Arc<dyn TokenSource> = Arc::new(secret_credential(&server));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let cred = cred.clone();
            tokio::spawn(async move { cred.token().await })
        })
        .collect();
    for t in futures::future::join_all(tasks).await {
        assert!(t.unwrap().unwrap().secret().ends_with(FIXTURE_TOKEN));
    }
}

#[tokio::test]
async fn concurrent_callers_share_a_short_lived_token_too() {
    // A token with less than the refresh margin is refreshed on the next call, but the tasks
    // that waited for it take it rather than each asking again.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ok(60).set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let cred = Arc::new(secret_credential(&server));
    let results = futures::future::join_all((0..10).map(|_| cred.token())).await;
    assert!(results.into_iter().all(|r| r.is_ok()));
}

#[tokio::test]
async fn a_token_close_to_expiry_is_refreshed() {
    let server = MockServer::start().await;
    // 60 s is under the 5-minute margin: every call asks again.
    Mock::given(method("POST")).and(path(token_path())).respond_with(ok(60)).expect(2).mount(&server).await;
    let cred = secret_credential(&server);
    let t = cred.token().await.unwrap();
    assert!(t.expires_in() <= Duration::from_secs(60));
    cred.token().await.unwrap();
}

#[tokio::test]
async fn a_failed_refresh_falls_back_to_a_still_valid_token() {
    // The identity platform is down when the token has 2 minutes left: keep using it.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ok(120))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(503))
        .expect(6)
        .mount(&server)
        .await;
    let cred = secret_credential(&server);
    let first = cred.token().await.unwrap();
    let second = cred.token().await.unwrap();
    assert_eq!(first.secret(), second.secret());
    // Once invalidated (Graph refused it), there is nothing to fall back to.
    cred.invalidate();
    assert_eq!(cred.token().await.unwrap_err().kind(), ErrorKind::Network);
}

#[tokio::test]
async fn invalidate_forces_a_new_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(token_path())).respond_with(ok(3599)).expect(2).mount(&server).await;
    let cred = secret_credential(&server);
    cred.token().await.unwrap();
    cred.token().await.unwrap();
    cred.invalidate();
    cred.token().await.unwrap();
    cred.token().await.unwrap();
}

async fn refused(status: u16, fixture_name: &str) -> entra_backup::Error {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(status).set_body_json(fixture(fixture_name)))
        .expect(1)
        .mount(&server)
        .await;
    let cred = secret_credential(&server);
    let err = cred.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
    assert_eq!(err.status(), Some(status));
    let text = err.to_string();
    assert!(text.starts_with(&format!("authentication failed at {} for tenant {TENANT}", server.uri())), "{text}");
    assert!(!text.contains("Trace ID:") && !text.contains('\n'), "only the description's first line: {text}");
    assert_no_secret("error Display", &text);
    assert_no_secret("error Debug", &format!("{err:?}"));
    err
}

#[tokio::test]
async fn invalid_secret_names_authority_tenant_and_code() {
    let err = refused(401, "invalid_client.json").await;
    assert_eq!(err.graph_code(), Some("AADSTS7000215"));
    let text = err.to_string();
    assert!(text.contains(": AADSTS7000215: Invalid client secret provided. Ensure the secret"), "{text}");
    assert!(text.contains("correlation id aaaa0000-bb11-2222-33cc-444444dddddd"), "{text}");
}

#[tokio::test]
async fn unknown_application_is_an_authentication_error() {
    let err = refused(400, "unauthorized_client.json").await;
    assert_eq!(err.graph_code(), Some("AADSTS700016"));
    assert!(err.to_string().contains(&format!("AADSTS700016: Application with identifier '{CLIENT}' was not found")));
}

#[tokio::test]
async fn unknown_tenant_is_an_authentication_error() {
    let err = refused(400, "tenant_not_found.json").await;
    assert_eq!(err.graph_code(), Some("AADSTS90002"));
    assert!(err.to_string().contains(&format!("AADSTS90002: Tenant '{TENANT}' not found.")));
}

#[tokio::test]
async fn an_error_without_codes_uses_the_error_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "invalid_scope"})))
        .mount(&server)
        .await;
    let err = secret_credential(&server).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.graph_code(), Some("invalid_scope"));
    assert!(err.to_string().ends_with(": invalid_scope"), "{err}");
}

#[tokio::test]
async fn callers_waiting_on_a_failed_refresh_share_its_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(fixture("invalid_client.json"))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let cred = Arc::new(secret_credential(&server));
    let results = futures::future::join_all((0..10).map(|_| cred.token())).await;
    for r in results {
        assert_eq!(r.unwrap_err().graph_code(), Some("AADSTS7000215"));
    }
}

#[tokio::test]
async fn an_echoed_secret_is_scrubbed_from_errors() {
    // A misconfigured authority (a proxy, an echo server) must not make the secret show up in logs.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("AADSTS900000: bad body client_secret={SECRET}"),
            "error_codes": [900000],
        })))
        .mount(&server)
        .await;
    let err = secret_credential(&server).token().await.unwrap_err();
    assert_no_secret("error Display", &err.to_string());
    assert!(err.to_string().contains("client_secret=***"), "{err}");
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ok(3599))
        .with_priority(3)
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    secret_credential(&server).token().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
}

#[tokio::test]
async fn persistent_server_errors_become_a_network_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let err = secret_credential(&server).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(err.status(), Some(503));
    let text = err.to_string();
    assert!(text.contains(&server.uri()) && text.contains(TENANT) && text.contains("after 3 attempts"), "{text}");
}

#[tokio::test]
async fn an_unreachable_authority_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let authority = format!("http://127.0.0.1:{port}");
    let cred = ClientSecretCredential::new(&authority, TENANT, CLIENT, SECRET, GRAPH, http())
        .unwrap()
        .with_retries(1, Duration::from_millis(10));
    let err = cred.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    let text = err.to_string();
    assert!(text.contains(&format!("identity platform at {authority} for tenant {TENANT}")), "{text}");
    assert!(text.contains("after 2 attempts"), "{text}");
    assert_no_secret("error Display", &text);
}

#[tokio::test]
async fn a_page_that_is_not_the_identity_platform_is_a_protocol_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(404).set_body_raw("<html>Not here</html>", "text/html"))
        .mount(&server)
        .await;
    let err = secret_credential(&server).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("is the authority URL right?"), "{err}");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token_type": "Bearer"})))
        .mount(&server)
        .await;
    let err = secret_credential(&server).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("no access_token"), "{err}");
}

#[tokio::test]
async fn string_expires_in_is_accepted() {
    let server = MockServer::start().await;
    let mut body = fixture("token_ok.json");
    body["expires_in"] = "3599".into();
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let t = secret_credential(&server).token().await.unwrap();
    assert!(t.expires_in() > Duration::from_secs(3500));
}

#[test]
fn bad_configuration_is_invalid_input() {
    let e = ClientSecretCredential::new("https://login.microsoftonline.com", "a/b", CLIENT, SECRET, GRAPH, http())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = ClientSecretCredential::new("https://login.microsoftonline.com", TENANT, CLIENT, "", GRAPH, http())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = ClientSecretCredential::new("ftp://x", TENANT, CLIENT, SECRET, GRAPH, http()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_no_secret("error", &e.to_string());
}

#[tokio::test]
async fn static_token_never_refreshes() {
    let source = StaticToken::new("my-own-token");
    let t = source.token().await.unwrap();
    assert_eq!(t.secret(), "my-own-token");
    assert!(t.expires_in() > Duration::from_secs(365 * 24 * 3600));
    source.invalidate();
    assert_eq!(source.token().await.unwrap().secret(), "my-own-token");
    assert!(!format!("{source:?}").contains("my-own-token"));
}

#[test]
fn secrets_and_tokens_print_as_stars() {
    let s = Secret::new(SECRET);
    assert_eq!(format!("{s}"), "***");
    assert_eq!(format!("{s:?}"), "***");
    let t = AccessToken::new(FIXTURE_TOKEN, Instant::now());
    assert_no_secret("AccessToken Debug", &format!("{t:?}"));
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn credentials_from_azure_sdk_variables() {
    let c = Credentials::from_lookup(vars(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_CLIENT_SECRET", SECRET),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/nowhere.pem"),
        ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
    ]))
    .unwrap();
    assert_eq!((c.tenant_id.as_str(), c.client_id.as_str()), (TENANT, CLIENT));
    assert!(matches!(&c.auth, ClientAuth::Secret(s) if s.expose() == SECRET), "the secret wins, as in the Azure SDKs");
    assert_eq!(c.authority_host.as_deref(), Some("login.microsoftonline.us"));
    assert_no_secret("Credentials Debug", &format!("{c:?}"));
    let source = c.token_source(http(), None, None).unwrap();
    let shown = format!("{source:?}");
    assert!(shown.contains("https://login.microsoftonline.us"), "{shown}");
    assert_no_secret("token source Debug", &shown);

    let c = Credentials::from_lookup(vars(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/nowhere.pem"),
    ]))
    .unwrap();
    assert!(matches!(&c.auth, ClientAuth::CertificateFile(p) if p == Path::new("/nowhere.pem")));
    let e = c.token_source(http(), None, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("/nowhere.pem"), "{e}");
}

#[test]
fn missing_variables_are_listed() {
    let e = Credentials::from_lookup(vars(&[("AZURE_CLIENT_ID", CLIENT), ("AZURE_TENANT_ID", "")])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let text = e.to_string();
    assert!(text.contains("AZURE_TENANT_ID"), "{text}");
    assert!(!text.contains("AZURE_CLIENT_ID,"), "{text}");
    assert!(text.contains("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"), "{text}");

    let e = Credentials::from_lookup(vars(&[("AZURE_CLIENT_SECRET", SECRET)])).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("AZURE_TENANT_ID, AZURE_CLIENT_ID"), "{text}");
    assert!(!text.contains("AZURE_CLIENT_SECRET or"), "{text}");
    assert_no_secret("error", &text);
}

#[tokio::test]
async fn token_source_prefers_the_explicit_authority() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path(token_path())).respond_with(ok(3599)).expect(1).mount(&server).await;
    let c = Credentials {
        tenant_id: TENANT.into(),
        client_id: CLIENT.into(),
        auth: ClientAuth::Secret(SECRET.into()),
        authority_host: Some("https://login.invalid".into()),
    };
    let source = c.token_source(http(), Some(&server.uri()), Some(GRAPH)).unwrap();
    source.token().await.unwrap();
}

mod certificates;
