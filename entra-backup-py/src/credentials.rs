//! `Credentials`: how to reach and sign in to a tenant's Graph; and the catalog functions.

use std::path::PathBuf;

use entra_backup::Secret;
use entra_backup::api::Connection;
use entra_backup::catalog;
use entra_backup::graph::auth::{ClientAuth, Credentials as CoreCredentials};
use entra_backup::source::{Endpoints, GraphSource, SourceOptions};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::repr;
use crate::errors::IntoPy;

/// What the Python getters and `repr` show: how the credentials were given. The core's
/// [`Connection`] does the work (it keeps its own fields private).
#[derive(Clone)]
enum Kind {
    App { client_id: String, certificate_path: Option<PathBuf>, authority_host: Option<String> },
    Token,
}

/// How to reach a tenant's Graph and sign in: an app registration's client secret or certificate,
/// or a bearer token; with the Graph and identity platform URLs (national clouds, a simulated
/// tenant). Secrets are never shown.
#[pyclass(module = "entra_backup", frozen)]
#[derive(Clone)]
pub struct Credentials {
    connection: Connection,
    kind: Kind,
    endpoints: Endpoints,
}

impl Credentials {
    /// A Graph source reading with these credentials.
    pub fn source(&self, options: SourceOptions) -> entra_backup::Result<GraphSource> {
        self.connection.source(options)
    }

    /// The core's connection these credentials stand for.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    fn new(
        py: Python<'_>,
        connection: Connection,
        kind: Kind,
        graph_url: Option<String>,
        authority_url: Option<String>,
    ) -> PyResult<Self> {
        let mut connection = connection;
        if let Some(g) = &graph_url {
            connection = connection.with_graph_url(g.clone());
        }
        if let Some(a) = &authority_url {
            connection = connection.with_authority(a.clone());
        }
        let creds = Credentials { connection, kind, endpoints: Endpoints { graph_url, authority_url } };
        // Check everything now (URLs, ids, the certificate file), so that bad input fails here.
        creds.source(SourceOptions::default()).py_err(py)?;
        Ok(creds)
    }

    /// Credentials of an app registration (its secret or certificate).
    fn from_core(
        py: Python<'_>,
        core: CoreCredentials,
        graph_url: Option<String>,
        authority_url: Option<String>,
    ) -> PyResult<Self> {
        let kind = Kind::App {
            client_id: core.client_id.clone(),
            certificate_path: match &core.auth {
                ClientAuth::CertificateFile(p) => Some(p.clone()),
                ClientAuth::Secret(_) => None,
            },
            authority_host: core.authority_host.clone(),
        };
        Self::new(py, Connection::from_credentials(core), kind, graph_url, authority_url)
    }

    pub fn app(py: Python<'_>, core: CoreCredentials, graph_url: String, authority_url: String) -> PyResult<Self> {
        Self::from_core(py, core, Some(graph_url), Some(authority_url))
    }
}

#[pymethods]
impl Credentials {
    /// An app registration's client secret (the client-credentials grant).
    #[staticmethod]
    #[pyo3(signature = (tenant_id, client_id, client_secret, *, graph_url=None, authority_url=None))]
    fn client_secret(
        py: Python<'_>,
        tenant_id: String,
        client_id: String,
        client_secret: String,
        graph_url: Option<String>,
        authority_url: Option<String>,
    ) -> PyResult<Self> {
        let core = CoreCredentials {
            tenant_id,
            client_id,
            auth: ClientAuth::Secret(Secret::new(client_secret)),
            authority_host: None,
        };
        Self::from_core(py, core, graph_url, authority_url)
    }

    /// An app registration's certificate: a PEM file with the certificate and its unencrypted RSA
    /// private key (`openssl pkcs12 -nodes` writes one).
    #[staticmethod]
    #[pyo3(signature = (tenant_id, client_id, certificate_path, *, graph_url=None, authority_url=None))]
    fn certificate(
        py: Python<'_>,
        tenant_id: String,
        client_id: String,
        certificate_path: PathBuf,
        graph_url: Option<String>,
        authority_url: Option<String>,
    ) -> PyResult<Self> {
        let core = CoreCredentials {
            tenant_id,
            client_id,
            auth: ClientAuth::CertificateFile(certificate_path),
            authority_host: None,
        };
        Self::from_core(py, core, graph_url, authority_url)
    }

    /// A bearer token for Graph, used as it is and never refreshed
    /// (`az account get-access-token --resource-type ms-graph`).
    #[staticmethod]
    #[pyo3(signature = (token, *, tenant_id, graph_url=None))]
    fn token(py: Python<'_>, token: String, tenant_id: String, graph_url: Option<String>) -> PyResult<Self> {
        Self::new(py, Connection::token(tenant_id, Secret::new(token)), Kind::Token, graph_url, None)
    }

    /// The Azure SDKs' environment variables: AZURE_TENANT_ID, AZURE_CLIENT_ID, and
    /// AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (the secret wins when both are set), and
    /// AZURE_AUTHORITY_HOST. `tenant_id` and `client_id` override the variables.
    #[staticmethod]
    #[pyo3(signature = (*, tenant_id=None, client_id=None, graph_url=None, authority_url=None))]
    fn from_env(
        py: Python<'_>,
        tenant_id: Option<String>,
        client_id: Option<String>,
        graph_url: Option<String>,
        authority_url: Option<String>,
    ) -> PyResult<Self> {
        let env = |k: &str| std::env::var(k).ok();
        let core = CoreCredentials::from_lookup(|k| match k {
            "AZURE_TENANT_ID" => tenant_id.clone().or_else(|| env(k)),
            "AZURE_CLIENT_ID" => client_id.clone().or_else(|| env(k)),
            _ => env(k),
        })
        .py_err(py)?;
        Self::from_core(py, core, graph_url, authority_url)
    }

    /// `client_secret`, `certificate` or `token`.
    #[getter]
    fn kind(&self) -> &'static str {
        match &self.kind {
            Kind::App { certificate_path: None, .. } => "client_secret",
            Kind::App { certificate_path: Some(_), .. } => "certificate",
            Kind::Token => "token",
        }
    }

    #[getter]
    fn tenant_id(&self) -> String {
        self.connection.tenant_id().to_string()
    }

    /// The app registration's client id (None for a token).
    #[getter]
    fn client_id(&self) -> Option<String> {
        match &self.kind {
            Kind::App { client_id, .. } => Some(client_id.clone()),
            Kind::Token => None,
        }
    }

    /// Graph's root URL (None: the public cloud, https://graph.microsoft.com).
    #[getter]
    fn graph_url(&self) -> Option<String> {
        self.endpoints.graph_url.clone()
    }

    /// The identity platform's URL (None: AZURE_AUTHORITY_HOST or https://login.microsoftonline.com).
    #[getter]
    fn authority_url(&self) -> Option<String> {
        match &self.kind {
            Kind::App { authority_host, .. } => self.endpoints.authority_url.clone().or_else(|| authority_host.clone()),
            Kind::Token => None,
        }
    }

    fn __repr__(&self) -> String {
        let mut s = format!("Credentials(kind={}, tenant_id={}", repr(self.kind()), repr(&self.tenant_id()));
        if let Some(c) = self.client_id() {
            s += &format!(", client_id={}", repr(&c));
        }
        if let Kind::App { certificate_path: Some(p), .. } = &self.kind {
            s += &format!(", certificate_path={}", repr(&p.display().to_string()));
        }
        if let Some(g) = &self.endpoints.graph_url {
            s += &format!(", graph_url={}", repr(g));
        }
        if let Some(a) = self.authority_url() {
            s += &format!(", authority_url={}", repr(&a));
        }
        s + ")"
    }
}

/// Every category of a tenant the catalog knows, as dicts (name, path, delta, relationships,
/// permissions, restore strategy...), in restore order.
#[pyfunction]
pub fn categories(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for c in catalog::all() {
        list.append(crate::convert::serialized(py, c)?)?;
    }
    Ok(list)
}

/// One category of the catalog by name (an `InvalidInputError` for an unknown one).
#[pyfunction]
pub fn category<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let c = resolve(py, "name", Some(vec![name.to_string()]))?;
    crate::convert::serialized(py, c[0])
}

/// The least-privilege application permissions to back up `categories` (default: every
/// category), and with `restore` to restore them too.
#[pyfunction]
#[pyo3(signature = (categories=None, *, restore=false))]
pub fn permissions(py: Python<'_>, categories: Option<Bound<'_, PyAny>>, restore: bool) -> PyResult<Vec<&'static str>> {
    let categories = crate::args::strings(py, "categories", categories.as_ref())?;
    if let Some(names) = &categories {
        resolve(py, "categories", Some(names.clone()))?;
    }
    let names: Vec<&str> = match &categories {
        Some(c) => c.iter().map(String::as_str).collect(),
        None => catalog::all().iter().map(|c| c.name).collect(),
    };
    catalog::permissions(&names, restore).map_err(entra_backup::Error::from).py_err(py)
}

/// Category names to catalog entries (None: every category); an unknown name is an
/// `InvalidInputError` naming the argument `arg`, with the catalog's "did you mean".
pub fn resolve(py: Python<'_>, arg: &str, names: Option<Vec<String>>) -> PyResult<Vec<&'static catalog::Category>> {
    match names {
        None => Ok(catalog::all().iter().collect()),
        Some(n) if n.is_empty() => {
            Err(crate::errors::invalid(py, format!("{arg}: no categories given (None means every category)")))
        }
        Some(n) => catalog::resolve(&n).map_err(|e| crate::errors::invalid(py, format!("{arg}: {e}"))),
    }
}
