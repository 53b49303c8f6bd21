//! [`Connection`]: the one way the use-case functions reach a tenant's Graph.

use std::path::PathBuf;

use crate::Secret;
use crate::error::Result;
use crate::graph::auth::{ClientAuth, Credentials};
use crate::restore::GraphRestorer;
use crate::source::{Endpoints, GraphSource, SourceOptions};

/// How a connection signs in.
#[derive(Debug, Clone)]
enum Auth {
    /// An app registration (client secret or certificate), signing in through the identity platform.
    App(Credentials),
    /// A bearer token used as it is (never refreshed).
    Token { token: Secret, tenant_id: String },
}

/// How to reach a tenant's Graph and sign in: an app registration's client secret or
/// certificate, or a bearer token; with the Graph and identity platform URLs (national clouds, a
/// simulated tenant). It opens a [`GraphSource`] to read the tenant and a [`GraphRestorer`] to
/// write into it.
///
/// Secrets are held as [`Secret`]s: `Debug` shows `***`, and no error carries them. Nothing is
/// checked or sent until a source is opened.
///
/// ```no_run
/// # fn demo() -> entra_backup::Result<()> {
/// use entra_backup::api::Connection;
/// use entra_backup::source::SourceOptions;
///
/// entra_backup::init_crypto();
/// // AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH,
/// // AZURE_AUTHORITY_HOST when set: as the command-line tool reads them.
/// let connection = Connection::from_env()?;
/// // Or explicitly, here for a national cloud:
/// let connection = Connection::client_secret("contoso.onmicrosoft.com", "app-id", "client-secret")
///     .with_graph_url("https://graph.microsoft.us")
///     .with_authority("https://login.microsoftonline.us");
/// let source = connection.source(SourceOptions::default())?;
/// # let _ = source; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connection {
    auth: Auth,
    endpoints: Endpoints,
}

impl Connection {
    /// An app registration signing in with a client secret (the client-credentials grant).
    pub fn client_secret(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self::from_credentials(Credentials {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            auth: ClientAuth::Secret(client_secret.into()),
            authority_host: None,
        })
    }

    /// An app registration signing in with a certificate: a PEM file holding the certificate and
    /// its private key (read when a source is opened).
    pub fn certificate(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        certificate_path: impl Into<PathBuf>,
    ) -> Self {
        Self::from_credentials(Credentials {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            auth: ClientAuth::CertificateFile(certificate_path.into()),
            authority_host: None,
        })
    }

    /// A bearer token for Graph, sent as it is (`az account get-access-token --resource-type
    /// ms-graph`, a managed identity outside this crate); `tenant_id` names the tenant it is for.
    /// The token is never refreshed: once Graph refuses it, reads fail with
    /// [`ErrorKind::Authentication`](crate::ErrorKind::Authentication). The authority is not used.
    pub fn token(tenant_id: impl Into<String>, token: impl Into<Secret>) -> Self {
        Connection {
            auth: Auth::Token { token: token.into(), tenant_id: tenant_id.into() },
            endpoints: Endpoints::default(),
        }
    }

    /// An app registration's [`Credentials`], as configuration (their `authority_host` is the
    /// authority unless [`with_authority`](Self::with_authority) names another).
    pub fn from_credentials(credentials: Credentials) -> Self {
        Connection { auth: Auth::App(credentials), endpoints: Endpoints::default() }
    }

    /// The Azure SDK's variables, as the command-line tool reads them: `AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`, and `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH` (the secret
    /// wins when both are set), and `AZURE_AUTHORITY_HOST` when set. A missing variable is an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error that names it.
    pub fn from_env() -> Result<Self> {
        Credentials::from_env().map(Self::from_credentials)
    }

    /// Graph's root URL: a national cloud, or a simulated tenant (default: the public cloud,
    /// [`DEFAULT_GRAPH_URL`](crate::graph::auth::DEFAULT_GRAPH_URL)).
    #[must_use]
    pub fn with_graph_url(mut self, graph_url: impl Into<String>) -> Self {
        self.endpoints.graph_url = Some(graph_url.into());
        self
    }

    /// The identity platform's URL (default: `AZURE_AUTHORITY_HOST` when read from the
    /// environment, else [`DEFAULT_AUTHORITY`](crate::graph::auth::DEFAULT_AUTHORITY)).
    #[must_use]
    pub fn with_authority(mut self, authority_url: impl Into<String>) -> Self {
        self.endpoints.authority_url = Some(authority_url.into());
        self
    }

    /// The tenant this connection reads and writes.
    pub fn tenant_id(&self) -> &str {
        match &self.auth {
            Auth::App(c) => &c.tenant_id,
            Auth::Token { tenant_id, .. } => tenant_id,
        }
    }

    /// Open a [`GraphSource`] reading the tenant with `options`. URLs, ids and a certificate file
    /// are checked here; nothing is sent until the source reads.
    pub fn source(&self, options: SourceOptions) -> Result<GraphSource> {
        match &self.auth {
            Auth::App(c) => GraphSource::connect(c, &self.endpoints, options),
            Auth::Token { token, tenant_id } => {
                super::connect_with_token(token.clone(), tenant_id, self.endpoints.graph_url.as_deref(), options)
            }
        }
    }

    /// Open the tenant for a restore: a [`GraphSource`] that reads its live state and a
    /// [`GraphRestorer`] that writes into it, sharing one client (and its pacing).
    pub fn restorer(&self) -> Result<(GraphSource, GraphRestorer)> {
        let live = self.source(SourceOptions::default())?;
        let restorer = GraphRestorer::new(live.client().clone());
        Ok((live, restorer))
    }
}

impl From<Credentials> for Connection {
    fn from(credentials: Credentials) -> Self {
        Self::from_credentials(credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let c = Connection::client_secret("t", "c", "very-secret-value").with_graph_url("http://127.0.0.1:1");
        assert!(!format!("{c:?}").contains("very-secret-value"), "{c:?}");
        let t = Connection::token("t", "bearer-token-value");
        assert!(!format!("{t:?}").contains("bearer-token-value"), "{t:?}");
        assert_eq!(t.tenant_id(), "t");
    }

    #[test]
    fn a_token_connection_checks_its_input() {
        crate::init_crypto();
        let err = Connection::token(" ", "x").source(SourceOptions::default()).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        let err = Connection::token("t", "secret-token").with_graph_url("ftp://x").source(SourceOptions::default());
        let err = err.unwrap_err().to_string();
        assert!(!err.contains("secret-token"), "{err}");
    }
}
