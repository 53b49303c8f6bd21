//! Credentials and access tokens for Microsoft Graph, from the Microsoft identity platform's
//! client-credentials grant.
//!
//! Every credential is a [`TokenSource`]: [`TokenSource::token`] hands out a cached token and
//! refreshes it when it has under five minutes left, so a long backup never sends one that expires
//! in flight, and [`TokenSource::invalidate`] drops it after Graph answers 401. However many tasks
//! ask at once, one request goes to the identity platform.
//!
//! Errors name the authority, the tenant and the `AADSTS` code, and never carry the client secret,
//! the signed assertion or a token.
//!
//! ```no_run
//! # async fn demo() -> entra_backup::Result<()> {
//! use entra_backup::graph::auth::{Credentials, TokenSource};
//!
//! entra_backup::init_crypto();
//! // AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH.
//! let credentials = Credentials::from_env()?;
//! let tokens = credentials.token_source(reqwest::Client::new(), None, None)?;
//! let token = tokens.token().await?;
//! let _ = reqwest::Client::new()
//!     .get("https://graph.microsoft.com/v1.0/organization")
//!     .header(reqwest::header::AUTHORIZATION, token.header_value()?);
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::{Error, ErrorKind, Result};

/// The public cloud's identity platform.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The public cloud's Graph: its origin is the resource tokens are requested for.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
/// A token with less than this left is refreshed before use: a Graph request (or a page of a
/// long listing) started with it must not outlive it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// After a failed refresh, a cached token with at least this left is still handed out, so a
/// short identity platform outage does not stop a backup whose token is still good.
const STILL_USABLE: Duration = Duration::from_secs(30);
/// Lifetime of a certificate client assertion: the docs ask for 5 to 10 minutes.
const ASSERTION_LIFETIME_SECS: i64 = 10 * 60;
/// How long before "now" an assertion becomes valid (`nbf`), so that an identity platform whose
/// clock is behind ours accepts it: the usual allowance for clock skew.
const CLOCK_SKEW_SECS: i64 = 5 * 60;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A string that must not be shown: client secrets and tokens. `Debug` and `Display` print `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl Drop for Secret {
    /// Wipe the secret's bytes, so that a passphrase or token does not outlive its use in memory.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A bearer token for Graph and when it stops working.
#[derive(Clone)]
pub struct AccessToken {
    secret: Secret,
    pub expires_at: Instant,
}

impl AccessToken {
    pub fn new(token: impl Into<Secret>, expires_at: Instant) -> Self {
        AccessToken { secret: token.into(), expires_at }
    }

    /// The token, to send as `Authorization: Bearer {token}`.
    pub fn secret(&self) -> &str {
        self.secret.expose()
    }

    /// `Bearer {token}` as a header value marked sensitive, so HTTP logging leaves it out.
    pub fn header_value(&self) -> Result<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.secret())).map_err(|_| {
            Error::new(ErrorKind::Protocol, "the access token holds characters not allowed in a header")
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Time left before it expires (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.expires_at.saturating_duration_since(Instant::now())
    }

    /// Still good for at least `margin`.
    fn valid_for(&self, margin: Duration) -> bool {
        self.expires_at > Instant::now() + margin
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("token", &self.secret).field("expires_in", &self.expires_in()).finish()
    }
}

/// Where Graph requests get their bearer token.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token with at least [`REFRESH_MARGIN`] left when one is cached, otherwise a fresh one.
    async fn token(&self) -> Result<AccessToken>;

    /// Forget the cached token: Graph refused it (401), so the next [`token`](Self::token) asks the
    /// identity platform again.
    fn invalidate(&self) {}
}

/// A token the caller brought (`az account get-access-token`, a managed identity outside this
/// crate). It is never refreshed; when Graph refuses it, the caller must bring another.
#[derive(Debug, Clone)]
pub struct StaticToken {
    token: AccessToken,
}

impl StaticToken {
    pub fn new(token: impl Into<Secret>) -> Self {
        let far = Instant::now()
            .checked_add(Duration::from_secs(100 * 365 * 24 * 3600))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
        StaticToken { token: AccessToken::new(token, far) }
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<AccessToken> {
        Ok(self.token.clone())
    }
}

/// The client-credentials grant with a client secret.
pub struct ClientSecretCredential {
    endpoint: Endpoint,
    secret: Secret,
    cache: TokenCache,
}

impl ClientSecretCredential {
    /// `authority_url` is the identity platform (`https://login.microsoftonline.com`, a sovereign
    /// cloud's, or a simulator's); tokens are asked for `{origin of graph_url}/.default`.
    pub fn new(
        authority_url: &str,
        tenant_id: &str,
        client_id: &str,
        secret: impl Into<Secret>,
        graph_url: &str,
        http: reqwest::Client,
    ) -> Result<Self> {
        let secret = secret.into();
        if secret.expose().is_empty() {
            return Err(Error::invalid_input(format!("the client secret for client {client_id} is empty")));
        }
        Ok(ClientSecretCredential {
            endpoint: Endpoint::new(authority_url, tenant_id, client_id, graph_url, http)?,
            secret,
            cache: TokenCache::default(),
        })
    }

    /// How often and how fast to retry an unreachable or failing (5xx, 429) identity platform:
    /// by default 3 retries from 500 ms, doubling.
    pub fn with_retries(mut self, max_retries: u32, base_delay: Duration) -> Self {
        self.endpoint.retries = max_retries;
        self.endpoint.base_delay = base_delay;
        self
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("authority", &self.endpoint.authority)
            .field("tenant_id", &self.endpoint.tenant_id)
            .field("client_id", &self.endpoint.client_id)
            .field("scope", &self.endpoint.scope)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for ClientSecretCredential {
    async fn token(&self) -> Result<AccessToken> {
        self.cache
            .get(|| {
                self.endpoint.request(|| Ok(vec![("client_secret", Zeroizing::new(self.secret.expose().to_string()))]))
            })
            .await
    }

    fn invalidate(&self) {
        self.cache.clear();
    }
}

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

    /// As [`ClientSecretCredential::with_retries`].
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

/// How the app proves who it is.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    Secret(Secret),
    /// A PEM file with the certificate and its private key.
    CertificateFile(PathBuf),
}

/// An app registration's credentials, as configuration.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub tenant_id: String,
    pub client_id: String,
    pub auth: ClientAuth,
    /// The identity platform to use when the caller names none (`AZURE_AUTHORITY_HOST`).
    pub authority_host: Option<String>,
}

impl Credentials {
    /// Read the Azure SDK's variables: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, and
    /// `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH` (the secret wins when both are set,
    /// as in the Azure SDKs), and `AZURE_AUTHORITY_HOST` when set.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), with the variables from `lookup` (tests, config files).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let tenant_id = get("AZURE_TENANT_ID");
        let client_id = get("AZURE_CLIENT_ID");
        let auth = match (get("AZURE_CLIENT_SECRET"), get("AZURE_CLIENT_CERTIFICATE_PATH")) {
            (Some(secret), _) => Some(ClientAuth::Secret(Secret(secret))),
            (None, Some(path)) => Some(ClientAuth::CertificateFile(PathBuf::from(path))),
            (None, None) => None,
        };
        let authority_host = get("AZURE_AUTHORITY_HOST");
        match (tenant_id, client_id, auth) {
            (Some(tenant_id), Some(client_id), Some(auth)) => {
                Ok(Credentials { tenant_id, client_id, auth, authority_host })
            }
            (tenant_id, client_id, auth) => {
                let mut missing = Vec::new();
                if tenant_id.is_none() {
                    missing.push("AZURE_TENANT_ID");
                }
                if client_id.is_none() {
                    missing.push("AZURE_CLIENT_ID");
                }
                if auth.is_none() {
                    missing.push("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH");
                }
                Err(Error::invalid_input(format!(
                    "missing credentials: set {} (the app registration's tenant, client id and secret or \
                     certificate)",
                    missing.join(", ")
                )))
            }
        }
    }

    /// The token source for these credentials. The authority is `authority_url`, else
    /// [`authority_host`](Self::authority_host), else [`DEFAULT_AUTHORITY`]; the token's resource
    /// is `graph_url`'s origin, by default [`DEFAULT_GRAPH_URL`].
    pub fn token_source(
        &self,
        http: reqwest::Client,
        authority_url: Option<&str>,
        graph_url: Option<&str>,
    ) -> Result<Arc<dyn TokenSource>> {
        let authority = authority_url.or(self.authority_host.as_deref()).unwrap_or(DEFAULT_AUTHORITY);
        let graph = graph_url.unwrap_or(DEFAULT_GRAPH_URL);
        Ok(match &self.auth {
            ClientAuth::Secret(secret) => Arc::new(ClientSecretCredential::new(
                authority,
                &self.tenant_id,
                &self.client_id,
                secret.clone(),
                graph,
                http,
            )?),
            ClientAuth::CertificateFile(path) => Arc::new(ClientCertificateCredential::from_pem_file(
                authority,
                &self.tenant_id,
                &self.client_id,
                path,
                graph,
                http,
            )?),
        })
    }
}

/// The token endpoint of one tenant for one app, and how a request to it is sent and retried.
#[derive(Debug)]
struct Endpoint {
    http: reqwest::Client,
    authority: String,
    tenant_id: String,
    client_id: String,
    token_url: String,
    scope: String,
    retries: u32,
    base_delay: Duration,
}

impl Endpoint {
    fn new(
        authority_url: &str,
        tenant_id: &str,
        client_id: &str,
        graph_url: &str,
        http: reqwest::Client,
    ) -> Result<Self> {
        let authority = normalize_authority(authority_url)?;
        let tenant_id = tenant_id.trim();
        if tenant_id.is_empty() || !tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(Error::invalid_input(format!(
                "bad tenant '{tenant_id}': expected the tenant id (a GUID) or a domain such as contoso.onmicrosoft.com"
            )));
        }
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(Error::invalid_input("the client id (the app registration's application id) is empty"));
        }
        let graph = crate::net::check_url("the Graph URL", graph_url)?;
        Ok(Endpoint {
            http,
            token_url: format!("{authority}/{tenant_id}/oauth2/v2.0/token"),
            // The resource is Graph's origin: `https://graph.microsoft.com/v1.0` asks for
            // `https://graph.microsoft.com/.default`, the only form Entra accepts.
            scope: format!("{}/.default", graph.origin().ascii_serialization()),
            authority,
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            retries: 3,
            base_delay: Duration::from_millis(500),
        })
    }

    /// POST the client-credentials grant; `credential` gives the secret or a fresh assertion for
    /// each attempt (an assertion's `jti` must not be replayed). Our copies of them are wiped when
    /// dropped (the request body reqwest builds is its own).
    async fn request(&self, credential: impl Fn() -> Result<Sent>) -> Result<AccessToken> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let sent = credential()?;
            let mut form: Vec<(&str, &str)> =
                vec![("grant_type", "client_credentials"), ("client_id", &self.client_id), ("scope", &self.scope)];
            form.extend(sent.iter().map(|(k, v)| (*k, v.as_str())));
            let started = Instant::now();
            let response = self
                .http
                .post(&self.token_url)
                .timeout(REQUEST_TIMEOUT)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
                .send()
                .await;
            let failure = match response {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response.headers().get(RETRY_AFTER).and_then(parse_retry_after);
                    let content_type = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("no content type")
                        .to_string();
                    match response.bytes().await {
                        Ok(body) if status.is_success() => return self.parse_token(&body, &content_type, started),
                        Ok(body) if status.as_u16() == 429 || status.is_server_error() => {
                            if attempt > self.retries {
                                return Err(redact(self.unavailable(status.as_u16(), &body, attempt), &sent));
                            }
                            Failure {
                                delay: retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
                                why: format!("HTTP {status}"),
                            }
                        }
                        Ok(body) => return Err(redact(self.refused(status.as_u16(), &body, &content_type), &sent)),
                        Err(e) => {
                            if attempt > self.retries {
                                return Err(redact(self.unreachable(e, attempt), &sent));
                            }
                            Failure { delay: None, why: error_chain(&e) }
                        }
                    }
                }
                Err(e) => {
                    if attempt > self.retries || e.is_builder() || e.is_redirect() {
                        return Err(redact(self.unreachable(e, attempt), &sent));
                    }
                    Failure { delay: None, why: error_chain(&e) }
                }
            };
            let delay = failure.delay.unwrap_or_else(|| backoff(self.base_delay, attempt));
            tracing::warn!(
                authority = %self.authority,
                tenant = %self.tenant_id,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "token request failed ({}); retrying",
                failure.why
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn parse_token(&self, body: &[u8], content_type: &str, started: Instant) -> Result<AccessToken> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: Option<String>,
            token_type: Option<String>,
            expires_in: Option<serde_json::Value>,
        }
        let not_a_token = |what: &str| {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "the identity platform at {} answered the token request for tenant {} with {what} ({content_type}, \
                     {} bytes)",
                    self.authority,
                    self.tenant_id,
                    body.len()
                ),
            )
        };
        let parsed: TokenResponse =
            serde_json::from_slice(body).map_err(|_| not_a_token("a body that is not a token response"))?;
        let token = parsed.access_token.filter(|t| !t.is_empty()).ok_or_else(|| not_a_token("no access_token"))?;
        if let Some(kind) = parsed.token_type.as_deref()
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(not_a_token(&format!("token_type '{kind}' instead of Bearer")));
        }
        // v2.0 sends a number; v1.0 endpoints and ADFS send a string.
        let secs = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| not_a_token("no valid expires_in"))?;
        if HeaderValue::from_str(&token).is_err() {
            return Err(not_a_token("an access token holding characters not allowed in a header"));
        }
        Ok(AccessToken::new(token, started + Duration::from_secs(secs)))
    }

    /// A 4xx: the identity platform refused the request (bad secret, unknown app or tenant).
    fn refused(&self, status: u16, body: &[u8], content_type: &str) -> Error {
        match AadError::parse(body) {
            Some(aad) => Error::graph(
                ErrorKind::Authentication,
                status,
                Some(aad.code.clone()),
                format!(
                    "authentication failed at {} for tenant {} (client {}): {}",
                    self.authority,
                    self.tenant_id,
                    self.client_id,
                    aad.summary()
                ),
            ),
            None => Error::graph(
                ErrorKind::Protocol,
                status,
                None,
                format!(
                    "the identity platform at {} answered HTTP {status} for tenant {} with a body that is not an \
                     OAuth error ({content_type}, {} bytes); is the authority URL right?",
                    self.authority,
                    self.tenant_id,
                    body.len()
                ),
            ),
        }
    }

    /// 5xx or 429 past the retry budget.
    fn unavailable(&self, status: u16, body: &[u8], attempts: u32) -> Error {
        let aad = AadError::parse(body);
        let detail = aad.as_ref().map(|a| format!(": {}", a.summary())).unwrap_or_default();
        Error::graph(
            ErrorKind::Network,
            status,
            aad.map(|a| a.code),
            format!(
                "the identity platform at {} kept failing for tenant {}: HTTP {status} after {attempts} attempts{detail}",
                self.authority, self.tenant_id
            ),
        )
    }

    fn unreachable(&self, e: reqwest::Error, attempts: u32) -> Error {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_redirect() {
            "was redirected to another origin and stopped (nothing was sent there)"
        } else {
            "failed"
        };
        Error::new(
            ErrorKind::Network,
            format!(
                "could not reach the identity platform at {} for tenant {}: the token request {what} after \
                 {attempts} attempts: {}",
                self.authority,
                self.tenant_id,
                error_chain(&e)
            ),
        )
        .with_source(e)
    }
}

struct Failure {
    delay: Option<Duration>,
    why: String,
}

/// The identity platform's error body: `{"error", "error_description", "error_codes", ...}`.
#[derive(Debug, Deserialize)]
struct AadError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(skip)]
    code: String,
}

impl AadError {
    fn parse(body: &[u8]) -> Option<AadError> {
        let mut e: AadError = serde_json::from_slice(body).ok()?;
        e.code = match e.error_codes.first() {
            Some(n) => format!("AADSTS{n}"),
            None => e.error.clone(),
        };
        Some(e)
    }

    /// `AADSTS7000215: Invalid client secret provided. ...`: the description's first line (the
    /// rest is trace ids and a timestamp), led by the code, with the correlation id support asks for.
    fn summary(&self) -> String {
        let first = self
            .error_description
            .as_deref()
            .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or(&self.error);
        let mut s = if first.contains(&self.code) { first.to_string() } else { format!("{}: {first}", self.code) };
        if let Some(id) = self.correlation_id.as_deref().filter(|id| !id.is_empty()) {
            s.push_str(&format!(" (correlation id {id})"));
        }
        s
    }
}

/// The credential fields of a token request, wiped when dropped.
type Sent = Vec<(&'static str, Zeroizing<String>)>;

/// Scrub what was sent from an error message, should a server echo the request back.
fn redact(error: Error, sent: &[(&'static str, Zeroizing<String>)]) -> Error {
    let leaked = |m: &str| sent.iter().any(|(_, v)| v.len() >= 4 && m.contains(v.as_str()));
    if !leaked(error.message()) {
        return error;
    }
    let mut message = error.message().to_string();
    for (_, v) in sent.iter().filter(|(_, v)| v.len() >= 4) {
        message = message.replace(v.as_str(), "***");
    }
    match error.status() {
        Some(status) => Error::graph(error.kind(), status, error.graph_code().map(String::from), message),
        None => Error::new(error.kind(), message),
    }
}

/// The cached token, and the lock that lets one task at a time refresh it.
#[derive(Default)]
struct TokenCache {
    current: std::sync::Mutex<Option<AccessToken>>,
    refresh: tokio::sync::Mutex<Option<ErrorCopy>>,
    /// Refresh attempts finished so far: a task that waited on the lock while an attempt ran takes
    /// that attempt's outcome instead of asking again.
    attempts: AtomicU64,
}

/// An error of the last refresh, to hand to the tasks that waited for it.
struct ErrorCopy {
    kind: ErrorKind,
    status: Option<u16>,
    code: Option<String>,
    message: String,
}

impl ErrorCopy {
    fn of(e: &Error) -> Self {
        ErrorCopy {
            kind: e.kind(),
            status: e.status(),
            code: e.graph_code().map(String::from),
            message: e.message().into(),
        }
    }

    fn to_error(&self) -> Error {
        match self.status {
            Some(status) => Error::graph(self.kind, status, self.code.clone(), self.message.clone()),
            None => Error::new(self.kind, self.message.clone()),
        }
    }
}

impl TokenCache {
    fn cached(&self, margin: Duration) -> Option<AccessToken> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref().filter(|t| t.valid_for(margin)).cloned()
    }

    fn clear(&self) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<AccessToken>>,
    {
        if let Some(token) = self.cached(REFRESH_MARGIN) {
            return Ok(token);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let mut last_error = self.refresh.lock().await;
        if let Some(token) = self.cached(REFRESH_MARGIN) {
            return Ok(token);
        }
        if self.attempts.load(Ordering::Acquire) != seen {
            // Another task refreshed while this one waited: share its outcome, even a token with
            // less than the margin left (a short-lived one) or its error, rather than ask again.
            match &*last_error {
                None => {
                    if let Some(token) = self.cached(Duration::ZERO) {
                        return Ok(token);
                    }
                }
                Some(e) => return self.still_usable_or(e.to_error()),
            }
        }
        let outcome = fetch().await;
        match &outcome {
            Ok(token) => {
                *last_error = None;
                *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
            }
            Err(e) => *last_error = Some(ErrorCopy::of(e)),
        }
        // Counted once finished, under the lock: tasks that arrived while it ran see the change.
        self.attempts.fetch_add(1, Ordering::AcqRel);
        outcome.or_else(|e| self.still_usable_or(e))
    }

    fn still_usable_or(&self, e: Error) -> Result<AccessToken> {
        match self.cached(STILL_USABLE) {
            Some(token) => {
                tracing::warn!(
                    expires_in_secs = token.expires_in().as_secs(),
                    "token refresh failed; using the cached token: {e}"
                );
                Ok(token)
            }
            None => Err(e),
        }
    }
}

fn normalize_authority(authority_url: &str) -> Result<String> {
    let raw = authority_url.trim();
    // AZURE_AUTHORITY_HOST is often a bare host (`login.microsoftonline.us`), as the Azure SDKs allow.
    let with_scheme = if raw.contains("://") { raw.to_string() } else { format!("https://{raw}") };
    let trimmed = with_scheme.trim_end_matches('/').to_string();
    let parsed = crate::net::check_url("the authority URL", &trimmed)?;
    if parsed.query().is_some() {
        return Err(Error::invalid_input(format!(
            "bad authority URL '{}': expected https://HOST, such as {DEFAULT_AUTHORITY}",
            parsed.origin().ascii_serialization()
        )));
    }
    Ok(trimmed)
}

/// Exponential backoff from `base`, capped, with jitter so many clients do not retry in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let jitter = if SystemRandom::new().fill(&mut byte).is_ok() { f64::from(byte[0]) / 255.0 } else { 0.5 };
    exp.mul_f64(0.5 + jitter / 2.0)
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let s = value.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(s).ok()?.timestamp();
    let secs = at.as_second() - jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(secs.max(0) as u64))
}

/// A reqwest error with its causes (`error sending request: ... : Connection refused`).
fn error_chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
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
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("7")), Some(Duration::from_secs(7)));
        let soon = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(20)).unwrap();
        let date = jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&soon).unwrap();
        let parsed = parse_retry_after(&HeaderValue::from_str(&date).unwrap()).unwrap();
        assert!(parsed > Duration::from_secs(15) && parsed <= Duration::from_secs(20), "{date}: {parsed:?}");
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 1..5 {
            let full = base * (1 << (attempt - 1));
            let d = backoff(base, attempt);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }

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

    #[test]
    fn authorities_are_normalized() {
        assert_eq!(normalize_authority("login.microsoftonline.us/").unwrap(), "https://login.microsoftonline.us");
        assert_eq!(normalize_authority(" http://127.0.0.1:8080 ").unwrap(), "http://127.0.0.1:8080");
        assert!(normalize_authority("https://").is_err());
        assert!(normalize_authority("https://login.microsoftonline.com/?x=1").is_err());
        assert!(normalize_authority("http://login.example.invalid").is_err());
        assert!(normalize_authority("http://localhost:8080/").is_ok());
    }
}
