//! [`Connection`]: the one way the use-case functions reach a tenant's Graph.

use std::path::PathBuf;
use std::sync::Arc;

use crate::Secret;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::GraphClient;
use crate::graph::auth::{ClientAuth, Credentials, DEFAULT_GRAPH_URL};
use crate::graph::pacing::Pacer;
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
    /// More app registrations of the same tenant, writing a restore's changes beside the first.
    extra_apps: Vec<Credentials>,
    /// Pace at this many times Graph's published rates (a simulator's `--time-scale`).
    time_scale: Option<f64>,
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
            extra_apps: Vec::new(),
            time_scale: None,
        }
    }

    /// An app registration's [`Credentials`], as configuration (their `authority_host` is the
    /// authority unless [`with_authority`](Self::with_authority) names another).
    pub fn from_credentials(credentials: Credentials) -> Self {
        Connection {
            auth: Auth::App(credentials),
            endpoints: Endpoints::default(),
            extra_apps: Vec::new(),
            time_scale: None,
        }
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

    /// Another app registration of the same tenant (its `tenant_id` spelled as this connection's)
    /// for a restore's writes. Microsoft Graph limits identity writes per app and tenant (3,000 per
    /// 150 s) and per tenant (18,000 per 5 min): a restore through three apps writes three times
    /// as fast as through one, up to the tenant's limit. Each app is paced to its own quota and
    /// all of them together to the tenant's, so none draws a 429; reads stay on the first app.
    /// Every app signs in before the first write: one that cannot is an
    /// [`ErrorKind::Authentication`] error naming its client id. Backups and diffs use the first
    /// app only.
    #[must_use]
    pub fn with_extra_app(mut self, credentials: Credentials) -> Self {
        self.extra_apps.push(credentials);
        self
    }

    /// The extra app registrations of [`with_extra_app`](Self::with_extra_app).
    pub fn extra_apps(&self) -> &[Credentials] {
        &self.extra_apps
    }

    /// **For tests and benchmarks against a simulated tenant only**, started with the same
    /// `entra-backup sim serve --time-scale K`: pace at `time_scale` times every rate Microsoft
    /// publishes (see [`Pacer::scaled`]), so that a long run takes minutes. Against Microsoft Graph
    /// this draws 429s and slows everything down. A scale that is not a positive finite number is an
    /// [`ErrorKind::InvalidInput`] error when a source is opened.
    #[must_use]
    pub fn with_time_scale_for_simulator(mut self, time_scale: f64) -> Self {
        self.time_scale = Some(time_scale);
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
        if let Some(k) = self.time_scale {
            if !(k.is_finite() && k > 0.0) {
                return Err(Error::invalid_input(format!("the time scale must be a positive number, not {k}")));
            }
            if let Auth::App(c) = &self.auth {
                let client = self.client(c, Pacer::scaled(0, k))?;
                return Ok(GraphSource::new(client, options).with_tenant_id(c.tenant_id.clone()));
            }
        }
        match &self.auth {
            Auth::App(c) => GraphSource::connect(c, &self.endpoints, options),
            Auth::Token { token, tenant_id } => {
                super::connect_with_token(token.clone(), tenant_id, self.endpoints.graph_url.as_deref(), options)
            }
        }
    }

    /// A client of its own for the app `credentials` (its tokens, its `pacer`).
    fn client(&self, credentials: &Credentials, pacer: Pacer) -> Result<Arc<GraphClient>> {
        if let Some(u) = &self.endpoints.graph_url {
            crate::net::check_url("the Graph URL", u)?;
        }
        if let Some(u) = &self.endpoints.authority_url {
            crate::net::check_url("the authority URL", u)?;
        }
        let http = crate::net::http_client()?;
        let graph_url = self.endpoints.graph_url.as_deref().unwrap_or(DEFAULT_GRAPH_URL);
        let tokens =
            credentials.token_source(http.clone(), self.endpoints.authority_url.as_deref(), Some(graph_url))?;
        Ok(Arc::new(GraphClient::new(http, graph_url, tokens, pacer)))
    }

    /// Open the tenant for a restore: a [`GraphSource`] that reads its live state and a
    /// [`GraphRestorer`] that writes into it, sharing the source's client (and its pacing), and
    /// writing through the [extra apps](Self::with_extra_app) too, each with its own pacer sharing
    /// the tenant-wide write quota. Nothing is sent here; [`check_extra_apps`](Self::check_extra_apps)
    /// signs them in.
    pub fn restorer(&self) -> Result<(GraphSource, GraphRestorer)> {
        let live = self.source(SourceOptions::default())?;
        let tenant = self.tenant_id();
        let mut writers = vec![live.client().clone()];
        for extra in &self.extra_apps {
            if !extra.tenant_id.eq_ignore_ascii_case(tenant) {
                return Err(Error::invalid_input(format!(
                    "the extra app registration {} is for tenant {}, not {tenant}: every app of a restore must \
                     be of the tenant restored into (spell the tenant the same way for all of them)",
                    extra.client_id, extra.tenant_id
                )));
            }
            writers.push(self.client(extra, live.client().pacer().another_app())?);
        }
        let restorer = GraphRestorer::with_writers(writers);
        Ok((live, restorer))
    }

    /// Sign every [extra app](Self::with_extra_app) in (fetch its first token), so that one that
    /// cannot (a wrong secret, an unreadable certificate, an app not in the tenant) is one clear
    /// [`ErrorKind::Authentication`] error, naming its client id, before anything is written.
    pub async fn check_extra_apps(&self, restorer: &GraphRestorer) -> Result<()> {
        for (extra, client) in self.extra_apps.iter().zip(restorer.writers().iter().skip(1)) {
            client.sign_in().await.map_err(|e| {
                let kind = if e.kind() == ErrorKind::InvalidInput { e.kind() } else { ErrorKind::Authentication };
                Error::new(kind, format!("the extra app registration {} cannot sign in: {e}", extra.client_id))
            })?;
        }
        Ok(())
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
