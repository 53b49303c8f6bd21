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
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

use crate::secret::Secret;
use crate::{Error, ErrorKind, Result};

mod cache;
mod certificate;
mod endpoint;

use cache::TokenCache;
pub use certificate::ClientCertificateCredential;
use endpoint::Endpoint;

/// The public cloud's identity platform.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The public cloud's Graph: its origin is the resource tokens are requested for.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
/// A token with less than this left is refreshed before use: a Graph request (or a page of a
/// long listing) started with it must not outlive it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A bearer token for Graph and when it stops working.
#[derive(Clone)]
pub struct AccessToken {
    secret: Secret,
    /// When the identity platform says it expires.
    pub expires_at: Instant,
}

impl AccessToken {
    /// A token that expires at `expires_at`.
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
    /// A token taken as valid for good (it is never refreshed).
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

/// How the app proves who it is.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A client secret.
    Secret(Secret),
    /// A PEM file with the certificate and its private key.
    CertificateFile(PathBuf),
}

/// An app registration's credentials, as configuration.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The tenant's id (a GUID) or one of its domains.
    pub tenant_id: String,
    /// The app registration's application (client) id.
    pub client_id: String,
    /// How the app proves who it is.
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
            (Some(secret), _) => Some(ClientAuth::Secret(Secret::new(secret))),
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
